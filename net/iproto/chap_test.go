package iproto

import (
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScrambleVectors(t *testing.T) {
	salt := vectorSalt()
	require.Equal(t, "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=", base64.StdEncoding.EncodeToString(salt[:]))
	for pw, want := range map[string]string{
		"secret": "b32bb3a583e1340c0a1108d58b1be49781ad8c2f",
		"":       "60252de9f0fbe9f1526ec3ec3968223e50a072f8",
	} {
		got := Scramble(salt[:], pw)
		assert.Equal(t, want, hex.EncodeToString(got), "password %q", pw)
		assert.True(t, CheckScramble(salt[:], got, Hash2(pw)), "password %q", pw)
		// Only the first 20 bytes of the salt count.
		assert.Equal(t, got, Scramble(salt[:20], pw))
	}
}

func TestCheckScrambleRejects(t *testing.T) {
	salt := vectorSalt()
	good := Scramble(salt[:], "secret")
	h2 := Hash2("secret")
	assert.False(t, CheckScramble(salt[:], good, Hash2("")), "other password")
	other := salt
	other[0] ^= 1
	assert.False(t, CheckScramble(other[:], good, h2), "other salt")
	other = salt
	other[25] ^= 1
	assert.True(t, CheckScramble(other[:], good, h2), "bytes past 20 do not count")
	assert.False(t, CheckScramble(salt[:], good[:19], h2), "short scramble")
	assert.False(t, CheckScramble(salt[:], append(good, 0), h2), "long scramble")
	assert.False(t, CheckScramble(salt[:], nil, h2), "no scramble")
	flipped := append([]byte(nil), good...)
	flipped[7] ^= 0x40
	assert.False(t, CheckScramble(salt[:], flipped, h2), "flipped bit")
}

func TestScrambleShortSaltDoesNotPanic(t *testing.T) {
	for n := 0; n < ScrambleSize; n++ {
		s := Scramble(make([]byte, n), "pw")
		assert.Len(t, s, ScrambleSize)
		assert.True(t, CheckScramble(make([]byte, n), s, Hash2("pw")))
	}
}
