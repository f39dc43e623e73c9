package tables

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// SCRAMSecret is a SCRAM-SHA-256 password (RFC 7677) as PostgreSQL keeps
// it: what the server needs to check a client's proof and to prove itself
// back, without the password.
type SCRAMSecret struct {
	Iterations int
	Salt       []byte
	StoredKey  []byte // H(ClientKey)
	ServerKey  []byte
}

// scramPrefix begins every SCRAM-SHA-256 secret's text.
const scramPrefix = "SCRAM-SHA-256$"

// String is the secret as _pico_user keeps it (and PostgreSQL's
// pg_authid.rolpassword):
// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>, base64.
func (s SCRAMSecret) String() string {
	b := base64.StdEncoding
	return fmt.Sprintf("%s%d:%s$%s:%s", scramPrefix, s.Iterations, b.EncodeToString(s.Salt),
		b.EncodeToString(s.StoredKey), b.EncodeToString(s.ServerKey))
}

// ParseSCRAM reads a secret String wrote.
func ParseSCRAM(text string) (SCRAMSecret, error) {
	var s SCRAMSecret
	bad := func(why string) (SCRAMSecret, error) {
		return SCRAMSecret{}, fmt.Errorf("scram secret %q: %s (want %s<iterations>:<salt>$<StoredKey>:<ServerKey>)", text, why, scramPrefix)
	}
	rest, ok := strings.CutPrefix(text, scramPrefix)
	if !ok {
		return bad("no " + scramPrefix + " prefix")
	}
	params, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return bad("no keys")
	}
	iter, salt, ok1 := strings.Cut(params, ":")
	stored, server, ok2 := strings.Cut(keys, ":")
	if !ok1 || !ok2 {
		return bad("a missing part")
	}
	n, err := strconv.Atoi(iter)
	if err != nil || n < 1 {
		return bad("iterations not a positive number")
	}
	s.Iterations = n
	b := base64.StdEncoding
	if s.Salt, err = b.DecodeString(salt); err != nil || len(s.Salt) == 0 {
		return bad("salt not base64")
	}
	if s.StoredKey, err = b.DecodeString(stored); err != nil || len(s.StoredKey) != 32 {
		return bad("StoredKey not 32 bytes of base64")
	}
	if s.ServerKey, err = b.DecodeString(server); err != nil || len(s.ServerKey) != 32 {
		return bad("ServerKey not 32 bytes of base64")
	}
	return s, nil
}
