package iproto

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/picogo/picogo/core/tuple"
)

// Greeting layout: two 64-byte lines, each padded with spaces to 63 bytes
// and ended by '\n':
//
//	Tarantool <version> (Binary) <uuid>
//	<base64 of the 32-byte salt>
const (
	GreetingSize = 128
	// DefaultVersion is the version picogo's greeting announces: it decides
	// what clients do (net.box >= 2.10.0 sends ID first, >= 2.10.5 also
	// selects _vspace_sequence).
	DefaultVersion = "2.11.1"
	// NilUUID stands in for an invalid instance uuid in a greeting.
	NilUUID = "00000000-0000-0000-0000-000000000000"

	greetingLine   = GreetingSize / 2
	uuidLen        = 36
	maxVersionLen  = 19 // Tarantool's decoder wants fewer than 20 chars
	greetingPrefix = "Tarantool "
	binaryProtocol = "(Binary)"
)

// CheckGreetingArgs reports whether Greeting can announce version and uuid
// as given: version must start with "%u.%u.%u", hold no spaces, be shorter
// than 20 bytes and leave room on the 63-byte line; uuid must be a 36-char
// hyphenated uuid.
func CheckGreetingArgs(version, uuid string) error {
	if !validVersion(version) {
		return fmt.Errorf("iproto: greeting version %q must look like X.Y.Z (fewer than 20 chars, no spaces)", version)
	}
	if !tuple.IsUUID(uuid) {
		return fmt.Errorf("iproto: greeting uuid %q is not a uuid", uuid)
	}
	if len(greetingLine1(version, uuid)) > greetingLine-1 {
		return fmt.Errorf("iproto: greeting version %q too long for the greeting line", version)
	}
	return nil
}

func greetingLine1(version, uuid string) string {
	return greetingPrefix + version + " " + binaryProtocol + " " + uuid
}

// Greeting is the 128 bytes a server sends first. An invalid version (see
// CheckGreetingArgs) is replaced by DefaultVersion and an invalid uuid by
// NilUUID, so that clients can always parse it; check the arguments with
// CheckGreetingArgs at startup.
func Greeting(version string, uuid string, salt [32]byte) [GreetingSize]byte {
	if !tuple.IsUUID(uuid) {
		uuid = NilUUID
	}
	if CheckGreetingArgs(version, uuid) != nil {
		version = DefaultVersion
	}
	var g [GreetingSize]byte
	for i := range g {
		g[i] = ' '
	}
	copy(g[:greetingLine-1], greetingLine1(version, uuid))
	g[greetingLine-1] = '\n'
	base64.StdEncoding.Encode(g[greetingLine:], salt[:]) // 44 chars
	g[GreetingSize-1] = '\n'
	return g
}

// ParseGreeting reads a server's greeting (its first 128 bytes) as
// Tarantool's client does: "Tarantool ", a version token starting with
// X.Y.Z, "(Binary)", a uuid; then the base64 salt, at least 20 bytes of it.
// A greeting of another protocol (the Lua console) is an error.
func ParseGreeting(b []byte) (version, uuid string, salt []byte, err error) {
	bad := func(why string) (string, string, []byte, error) {
		return "", "", nil, errors.New("iproto: bad greeting: " + why)
	}
	if len(b) < GreetingSize {
		return bad("shorter than 128 bytes")
	}
	line1, line2 := string(b[:greetingLine]), string(b[greetingLine:GreetingSize])
	if !strings.HasPrefix(line1, greetingPrefix) || line1[greetingLine-1] != '\n' || line2[greetingLine-1] != '\n' {
		return bad("not a Tarantool greeting")
	}
	fields := strings.Fields(line1[len(greetingPrefix):])
	if len(fields) < 1 || len(fields[0]) > maxVersionLen || !versionPrefix(fields[0]) {
		return bad("no X.Y.Z version")
	}
	if len(fields) < 2 || fields[1] != binaryProtocol {
		return bad("not the binary protocol")
	}
	if len(fields) < 3 || len(fields[2]) < uuidLen || !tuple.IsUUID(fields[2][:uuidLen]) {
		return bad("no uuid")
	}
	enc := strings.TrimRight(line2, " \n")
	salt, err = base64.StdEncoding.DecodeString(enc)
	if err != nil {
		salt, err = base64.RawStdEncoding.DecodeString(enc)
	}
	if err != nil || len(salt) < ScrambleSize {
		return bad("no salt")
	}
	return fields[0], fields[2][:uuidLen], salt, nil
}

// validVersion: "%u.%u.%u" then anything but spaces, fewer than 20 chars.
func validVersion(v string) bool {
	if len(v) > maxVersionLen || !versionPrefix(v) {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] >= 0x7f {
			return false
		}
	}
	return true
}

// versionPrefix reports whether v starts with three dot-separated numbers.
func versionPrefix(v string) bool {
	for part := 0; part < 3; part++ {
		digits := 0
		for digits < len(v) && v[digits] >= '0' && v[digits] <= '9' {
			digits++
		}
		if digits == 0 {
			return false
		}
		v = v[digits:]
		if part < 2 {
			if len(v) == 0 || v[0] != '.' {
				return false
			}
			v = v[1:]
		}
	}
	return true
}
