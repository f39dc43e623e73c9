package iproto

import (
	"crypto/sha1"
	"crypto/subtle"
)

// ScrambleSize is the size of a chap-sha1 scramble, and of the part of the
// greeting's salt it uses.
const ScrambleSize = sha1.Size

// chap-sha1, as Tarantool does it:
//
//	scramble = sha1(pw) XOR sha1(salt[:20] ++ sha1(sha1(pw)))
//
// The server stores only hash2 = sha1(sha1(pw)) and checks
//
//	sha1(scramble XOR sha1(salt[:20] ++ hash2)) == hash2.

// Hash2 is sha1(sha1(password)), what a server stores for a password.
func Hash2(password string) [20]byte {
	h1 := sha1.Sum([]byte(password))
	return sha1.Sum(h1[:])
}

// saltHash is sha1(salt[:20] ++ hash2); a shorter salt is used whole.
func saltHash(salt []byte, hash2 [20]byte) [20]byte {
	h := sha1.New()
	h.Write(salt[:min(len(salt), ScrambleSize)])
	h.Write(hash2[:])
	var out [20]byte
	h.Sum(out[:0])
	return out
}

// Scramble is the client's chap-sha1 proof of password for the greeting's
// salt (only its first 20 bytes count).
func Scramble(salt []byte, password string) []byte {
	h1 := sha1.Sum([]byte(password))
	h2 := sha1.Sum(h1[:])
	s := saltHash(salt, h2)
	out := make([]byte, ScrambleSize)
	for i := range out {
		out[i] = h1[i] ^ s[i]
	}
	return out
}

// CheckScramble reports whether scramble proves knowledge of the password
// whose Hash2 is hash2, for salt. A scramble of the wrong length is false.
// The comparison takes constant time.
func CheckScramble(salt []byte, scramble []byte, hash2 [20]byte) bool {
	if len(scramble) != ScrambleSize {
		return false
	}
	s := saltHash(salt, hash2)
	var h1 [20]byte
	for i := range h1 {
		h1[i] = scramble[i] ^ s[i]
	}
	got := sha1.Sum(h1[:])
	return subtle.ConstantTimeCompare(got[:], hash2[:]) == 1
}
