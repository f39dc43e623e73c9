// Package realclock is the wall clock behind clock.Clock, for production:
// time passes as the machine says, and a timer's callback is posted to the
// driver's loop rather than run on the timer's goroutine.
package realclock

import (
	"time"

	"github.com/picogo/picogo/clock"
)

// Clock is the real clock; post runs a callback on the driver's loop.
type Clock struct{ post func(func()) }

// New is the real clock of a loop that runs callbacks through post.
func New(post func(func())) *Clock { return &Clock{post: post} }

// Now is the wall clock.
func (c *Clock) Now() time.Time { return time.Now() }

// AfterFunc posts f to the loop once d has passed.
func (c *Clock) AfterFunc(d time.Duration, f func()) clock.Timer {
	return time.AfterFunc(d, func() { c.post(f) })
}

var _ clock.Clock = (*Clock)(nil)
