package auth

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"

	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/net/iproto"
)

// Proof is what a client sent to prove it knows a password: an iproto
// chap-sha1 scramble, or PostgreSQL's MD5 or SCRAM-SHA-256 answer.
type Proof interface {
	// check checks the proof against the user's password as kept; ok
	// false with kept true is a wrong password, kept false means the
	// password is not kept the way this proof needs (set before picogo
	// kept PostgreSQL's secrets). serverSignature is SCRAM's proof of the
	// server back.
	check(c credentials) (ok, kept bool, serverSignature []byte)
}

// credentials are a user's password as the login rules know it.
type credentials struct {
	chapSha1 [20]byte
	md5      string              // "" if not kept
	scram    *tables.SCRAMSecret // nil if not kept
}

func credentialsOf(a tables.UserAuth, chapSha1 [20]byte) credentials {
	c := credentials{chapSha1: chapSha1, md5: a.MD5}
	if s, err := tables.ParseSCRAM(a.SCRAM); err == nil {
		c.scram = &s
	}
	return c
}

// ChapSha1 is an iproto AUTH: Salt is the connection greeting's, Scramble
// the client's answer.
type ChapSha1 struct{ Salt, Scramble []byte }

func (p ChapSha1) check(c credentials) (bool, bool, []byte) {
	return iproto.CheckScramble(p.Salt, p.Scramble, c.chapSha1), true, nil
}

// MD5 is PostgreSQL's MD5 password message: Response is "md5" +
// hex(md5(hex(md5(password + user)) + Salt)).
type MD5 struct {
	Salt     [4]byte
	Response string
}

func (p MD5) check(c credentials) (bool, bool, []byte) {
	if c.md5 == "" {
		return false, false, nil
	}
	sum := md5.Sum(append([]byte(c.md5[len("md5"):]), p.Salt[:]...))
	want := "md5" + hex.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(want), []byte(p.Response)) == 1, true, nil
}

// SCRAM is SCRAM-SHA-256's client-final message (RFC 5802): ClientProof
// (its p=, decoded) and AuthMessage (client-first-bare, server-first and
// client-final-without-proof, joined by commas).
type SCRAM struct {
	AuthMessage []byte
	ClientProof []byte
}

// check: ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage) must hash
// to StoredKey; the server signs AuthMessage with ServerKey.
func (p SCRAM) check(c credentials) (bool, bool, []byte) {
	if c.scram == nil {
		return false, false, nil
	}
	sig := hmacSHA256(c.scram.StoredKey, p.AuthMessage)
	if len(p.ClientProof) != len(sig) {
		return false, true, nil
	}
	clientKey := make([]byte, len(sig))
	subtle.XORBytes(clientKey, p.ClientProof, sig)
	stored := sha256.Sum256(clientKey)
	if subtle.ConstantTimeCompare(stored[:], c.scram.StoredKey) != 1 {
		return false, true, nil
	}
	return true, true, hmacSHA256(c.scram.ServerKey, p.AuthMessage)
}
