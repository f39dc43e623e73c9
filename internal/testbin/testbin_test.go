package testbin

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// recorder is a testing.TB that records how find ended instead of ending
// the test.
type recorder struct {
	testing.TB
	failed, skipped bool
}

func (r *recorder) Helper()      {}
func (r *recorder) Fatal(...any) { r.failed = true }
func (r *recorder) Skip(...any)  { r.skipped = true }

func TestFind(t *testing.T) {
	t.Setenv("CI", "")
	r := &recorder{TB: t}
	find(r, "picogo-no-such-program", "missing")
	assert.True(t, r.skipped && !r.failed, "missing outside CI: skip")

	t.Setenv("CI", "1")
	r = &recorder{TB: t}
	find(r, "picogo-no-such-program", "missing")
	assert.True(t, r.failed, "missing under CI: fail")

	r = &recorder{TB: t}
	assert.NotEmpty(t, find(r, "sh", "missing"))
	assert.False(t, r.failed || r.skipped, "present: found")
}
