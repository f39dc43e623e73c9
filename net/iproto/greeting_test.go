package iproto

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testUUID = "3f8e0a6c-1d2b-4c5e-9f70-8a1b2c3d4e5f"

func TestGreetingLayout(t *testing.T) {
	salt := vectorSalt()
	g := Greeting("2.11.1", testUUID, salt)
	require.Len(t, g, 128)
	line1, line2 := string(g[:64]), string(g[64:])
	assert.Equal(t, "Tarantool 2.11.1 (Binary) "+testUUID, strings.TrimRight(line1, " \n"))
	assert.Equal(t, byte('\n'), g[63])
	assert.Equal(t, byte('\n'), g[127])
	assert.Equal(t, 1, strings.Count(line1, "\n"))
	assert.Equal(t, 1, strings.Count(line2, "\n"))
	assert.Equal(t, "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=", strings.TrimRight(line2, " \n"))
	assert.Equal(t, strings.Repeat(" ", 63-44)+"\n", line2[44:])
	used := len("Tarantool 2.11.1 (Binary) ") + 36
	assert.Equal(t, strings.Repeat(" ", 63-used)+"\n", line1[used:])

	version, uuid, gotSalt, err := ParseGreeting(g[:])
	require.NoError(t, err)
	assert.Equal(t, "2.11.1", version)
	assert.Equal(t, testUUID, uuid)
	assert.Equal(t, salt[:], gotSalt)
}

func TestGreetingArgs(t *testing.T) {
	for _, v := range []string{"2.11.1", "2.6.0", "10.0.0", "1.2.3-r", "2.11.10"} {
		assert.NoError(t, CheckGreetingArgs(v, testUUID), v)
	}
	for _, v := range []string{
		"", "2.11", "x.1.2", "2..1", "2.11.1 x", "2.11.1\n", "1.2.3-entrypoint",
		"12345678901234567890", "2.11.1-0-g1234567", "2.11.x",
	} {
		assert.Error(t, CheckGreetingArgs(v, testUUID), v)
	}
	assert.NoError(t, CheckGreetingArgs("2.11.1", strings.ToUpper(testUUID)))
	for _, u := range []string{"", "not-a-uuid", testUUID[:35], testUUID + "0", strings.ReplaceAll(testUUID, "-", "_")} {
		assert.Error(t, CheckGreetingArgs("2.11.1", u), u)
	}
}

func TestGreetingFallsBack(t *testing.T) {
	salt := vectorSalt()
	for _, c := range []struct{ version, uuid, wantVersion, wantUUID string }{
		{"bogus", testUUID, DefaultVersion, testUUID},
		{"2.11.1-with-a-long-suffix", testUUID, DefaultVersion, testUUID},
		{"2.6.0", "nope", "2.6.0", NilUUID},
		{"", "", DefaultVersion, NilUUID},
	} {
		g := Greeting(c.version, c.uuid, salt)
		v, u, s, err := ParseGreeting(g[:])
		require.NoError(t, err, c)
		assert.Equal(t, c.wantVersion, v)
		assert.Equal(t, c.wantUUID, u)
		assert.Equal(t, salt[:], s)
	}
}

func TestParseGreetingRejects(t *testing.T) {
	good := Greeting("2.11.1", testUUID, vectorSalt())
	line := func(s string) string { return s + strings.Repeat(" ", 63-len(s)) + "\n" }
	salt := string(good[64:])
	for name, g := range map[string]string{
		"short":         string(good[:127]),
		"empty":         "",
		"not tarantool": line("Memcached 2.11.1 (Binary) "+testUUID) + salt,
		"no newline":    strings.Repeat(" ", 64) + salt,
		"console":       line("Tarantool 2.11.1 (Lua console)") + salt,
		"no version":    line("Tarantool (Binary) "+testUUID) + salt,
		"bad version":   line("Tarantool 2.x.1 (Binary) "+testUUID) + salt,
		"no uuid":       line("Tarantool 2.11.1 (Binary)") + salt,
		"bad uuid":      line("Tarantool 2.11.1 (Binary) "+strings.Repeat("z", 36)) + salt,
		"no salt":       string(good[:64]) + line(""),
		"short salt":    string(good[:64]) + line("AQIDBAUGBwgJCgsMDQ4PEBES"),
		"bad salt":      string(good[:64]) + line("!!!!"),
	} {
		_, _, _, err := ParseGreeting([]byte(g))
		assert.Error(t, err, name)
	}
	// Longer input: only the first 128 bytes are the greeting.
	_, _, _, err := ParseGreeting(append(good[:], 0xce, 0, 0))
	assert.NoError(t, err)
}
