package realclock

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAfterFuncPostsToTheLoop(t *testing.T) {
	loop := make(chan func(), 1)
	c := New(func(f func()) { loop <- f })
	ran := false
	start := c.Now()
	c.AfterFunc(5*time.Millisecond, func() { ran = true })
	f := <-loop
	require.False(t, ran, "the callback runs on the loop, not on the timer's goroutine")
	f()
	require.True(t, ran)
	require.GreaterOrEqual(t, c.Now().Sub(start), 5*time.Millisecond)

	stopped := c.AfterFunc(time.Hour, func() {})
	require.True(t, stopped.Stop(), "a pending timer stops")
	require.False(t, stopped.Stop(), "and only once")
}
