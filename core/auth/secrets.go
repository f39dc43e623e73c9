package auth

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/picogo/picogo/core/tables"
)

// SCRAMIterations is the PBKDF2 iteration count of the SCRAM-SHA-256
// secrets picogo makes: PostgreSQL's default.
const SCRAMIterations = 4096

// SaltSize is the size of a SCRAM salt (PostgreSQL's).
const SaltSize = 16

// Secrets is how _pico_user keeps user's password: the chap-sha1 hash
// iproto checks, and the MD5 and SCRAM-SHA-256 secrets PostgreSQL's
// protocol checks (salt: SaltSize random bytes, the caller's, so that the
// same call gives the same secrets on every replica of a decision).
func Secrets(user, password string, salt []byte) tables.UserAuth {
	h1 := sha1.Sum([]byte(password))
	h2 := sha1.Sum(h1[:])
	m := md5.Sum([]byte(password + user))
	return tables.UserAuth{Method: tables.AuthChapSha1, Hash: hex.EncodeToString(h2[:]),
		MD5: "md5" + hex.EncodeToString(m[:]), SCRAM: scramSecret(password, salt, SCRAMIterations).String()}
}

// scramSecret derives a SCRAM-SHA-256 secret (RFC 5802 section 3):
// SaltedPassword = PBKDF2(password, salt, i), ClientKey = HMAC(SaltedPassword,
// "Client Key"), StoredKey = H(ClientKey), ServerKey = HMAC(SaltedPassword,
// "Server Key"). The password is used as given (PostgreSQL would SASLprep
// it first: the same for ASCII passwords).
func scramSecret(password string, salt []byte, iterations int) tables.SCRAMSecret {
	salted := saltedPassword(password, salt, iterations)
	clientKey := hmacSHA256(salted, []byte("Client Key"))
	stored := sha256.Sum256(clientKey)
	return tables.SCRAMSecret{Iterations: iterations, Salt: append([]byte(nil), salt...),
		StoredKey: stored[:], ServerKey: hmacSHA256(salted, []byte("Server Key"))}
}

// saltedPassword is SCRAM's SaltedPassword: PBKDF2 with HMAC-SHA-256.
func saltedPassword(password string, salt []byte, iterations int) []byte {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		// Only FIPS mode refuses (short salts or passwords): not a mode
		// picogo runs in.
		panic(fmt.Sprintf("auth: pbkdf2: %v", err))
	}
	return salted
}

func hmacSHA256(key, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(nil)
}
