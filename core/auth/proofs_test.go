package auth

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/net/iproto"
	"github.com/stretchr/testify/require"
)

// RFC 7677's example exchange: user "user", password "pencil".
const (
	rfcSalt        = "W22ZaJ0SNY7soEsUEjb6gQ=="
	rfcAuthMessage = "n=user,r=rOprNGfwEbeRWgbNEkqO," +
		"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096," +
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	rfcClientProof     = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
	rfcServerSignature = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
)

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	require.NoError(t, err)
	return b
}

func TestSCRAMAgainstRFC7677(t *testing.T) {
	auth := Secrets("user", "pencil", b64(t, rfcSalt))
	s, err := tables.ParseSCRAM(auth.SCRAM)
	require.NoError(t, err)
	require.Equal(t, SCRAMIterations, s.Iterations)
	c := credentialsOf(auth, [20]byte{})

	ok, kept, sig := SCRAM{AuthMessage: []byte(rfcAuthMessage), ClientProof: b64(t, rfcClientProof)}.check(c)
	require.True(t, kept)
	require.True(t, ok, "the RFC's proof of \"pencil\"")
	require.Equal(t, rfcServerSignature, base64.StdEncoding.EncodeToString(sig))

	wrong := b64(t, rfcClientProof)
	wrong[0] ^= 1
	ok, _, sig = SCRAM{AuthMessage: []byte(rfcAuthMessage), ClientProof: wrong}.check(c)
	require.False(t, ok)
	require.Nil(t, sig, "no server signature for a wrong proof")
	ok, _, _ = SCRAM{AuthMessage: []byte(rfcAuthMessage + "x"), ClientProof: b64(t, rfcClientProof)}.check(c)
	require.False(t, ok, "the proof signs the exchange it was made for")
	ok, _, _ = SCRAM{AuthMessage: []byte(rfcAuthMessage), ClientProof: b64(t, rfcClientProof)[:10]}.check(c)
	require.False(t, ok)
}

// md5Response is what a PostgreSQL client answers to an MD5 challenge.
func md5Response(user, password string, salt [4]byte) string {
	inner := md5.Sum([]byte(password + user))
	outer := md5.Sum(append([]byte(hex.EncodeToString(inner[:])), salt[:]...))
	return "md5" + hex.EncodeToString(outer[:])
}

// scramProof is what a client that knows password answers for
// authMessage, given the server's salt and iteration count.
func scramProof(password string, salt []byte, iterations int, authMessage string) []byte {
	secret := scramSecret(password, salt, iterations)
	sig := hmacSHA256(secret.StoredKey, []byte(authMessage))
	// ClientKey = HMAC(SaltedPassword, "Client Key"): the secret keeps
	// only its hash; the client derives it.
	clientKey := clientKeyOf(password, salt, iterations)
	proof := make([]byte, len(sig))
	for i := range proof {
		proof[i] = clientKey[i] ^ sig[i]
	}
	return proof
}

func clientKeyOf(password string, salt []byte, iterations int) []byte {
	return hmacSHA256(saltedPassword(password, salt, iterations), []byte("Client Key"))
}

func TestPostgresLogins(t *testing.T) {
	users := cluster(t)
	bob := Secrets("bob", "bob-password", []byte("saltsaltsaltsalt"))
	require.Nil(t, users.ApplyOp(tables.AclOp(tables.Acl{Kind: tables.AclCreateUser, UserID: 41, Name: "bob", Initiator: tables.AdminID, Auth: &bob})).Err)
	l := newLogins()
	salt := [4]byte{1, 2, 3, 4}
	md5Login := func(user, pw string) Verdict {
		return l.Login(users, Attempt{User: user, Address: operator, Proof: MD5{Salt: salt, Response: md5Response(user, pw, salt)}}, 0)
	}
	require.Nil(t, md5Login("bob", "bob-password").Err)
	require.Equal(t, int(iproto.CodePasswordMismatch), code(md5Login("bob", "wrong")))
	md5Login("bob", "bob-password") // a success resets the count

	s, iter := l.SCRAMSalt(users, "bob")
	require.Equal(t, []byte("saltsaltsaltsalt"), s)
	require.Equal(t, SCRAMIterations, iter)
	msg := "n=,r=abc,r=abcdef,s=c2FsdHNhbHRzYWx0c2FsdA==,i=4096,c=biws,r=abcdef"
	v := l.Login(users, Attempt{User: "bob", Address: operator, Proof: SCRAM{AuthMessage: []byte(msg), ClientProof: scramProof("bob-password", s, iter, msg)}}, 0)
	require.Nil(t, v.Err)
	secret, _ := tables.ParseSCRAM(bob.SCRAM)
	require.Equal(t, hmacSHA256(secret.ServerKey, []byte(msg)), v.ServerSignature, "the server proves it knows the secret")
	v = l.Login(users, Attempt{User: "bob", Address: operator, Proof: SCRAM{AuthMessage: []byte(msg), ClientProof: scramProof("wrong", s, iter, msg)}}, 0)
	require.Equal(t, int(iproto.CodePasswordMismatch), code(v))
	require.Nil(t, v.ServerSignature)

	// alice's password was set with its chap-sha1 hash only: PostgreSQL's
	// logins are refused with a way out, and not counted as failures.
	for range MaxFailures + 1 {
		v = md5Login("alice", "alice-pw")
		require.Equal(t, int(iproto.CodeAccessDenied), code(v))
		require.Contains(t, v.Err.Message, "ALTER USER alice PASSWORD")
	}
	require.Nil(t, l.Login(users, attempt("alice", "alice-pw", operator), 0).Err, "not locked by logins its password could not check")

	// An unknown user's salt is made up, stable, and not another user's.
	s1, _ := l.SCRAMSalt(users, "nobody")
	s2, _ := l.SCRAMSalt(users, "nobody")
	s3, _ := l.SCRAMSalt(users, "alice")
	require.Equal(t, s1, s2)
	require.Len(t, s1, SaltSize)
	require.NotEqual(t, s1, s3)
	require.Equal(t, int(iproto.CodeNoSuchUser), code(md5Login("nobody", "x")))

	// Over iproto bob logs in with the same password.
	require.Nil(t, l.Login(users, attempt("bob", "bob-password", operator), 0).Err)
}

func TestRenameClearsTheMD5Secret(t *testing.T) {
	users := cluster(t)
	bob := Secrets("bob", "bob-password", []byte("saltsaltsaltsalt"))
	require.Nil(t, users.ApplyOp(tables.AclOp(tables.Acl{Kind: tables.AclCreateUser, UserID: 41, Name: "bob", Initiator: tables.AdminID, Auth: &bob})).Err)
	require.Nil(t, users.ApplyOp(tables.AclOp(tables.Acl{Kind: tables.AclRenameUser, UserID: 41, Name: "robert", Initiator: tables.AdminID})).Err)
	u, ok, err := users.UserByName("robert")
	require.NoError(t, err)
	require.True(t, ok)
	require.Empty(t, u.Auth.MD5, "md5(password + name) is wrong for the new name")
	require.Equal(t, bob.SCRAM, u.Auth.SCRAM)
	require.Equal(t, bob.Hash, u.Auth.Hash)
}
