package runner

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"
)

// invoke runs fn, a callback of e's role, on a goroutine of its own with a
// context that derives from base and ends after timeout. report gets,
// exactly once, either fn's result (returned true) or, if fn has not
// returned by the deadline, a deadline error (returned false); a panic in
// fn is an error. late gets called when fn returns after the deadline. So
// report knows whether the callback is over, and can say so in the same
// breath as it reports: a caller told the result never finds the callback
// still counted as running.
//
// The errors of lifecycle callbacks are wrapped with the role and the
// callback; a handler's ("handler ..." in what) reach report unchanged, as
// they are the application's answer to its caller.
func (r *Runner) invoke(e *entry, what string, base context.Context, timeout time.Duration,
	fn func(context.Context) (any, error), report func(res any, err error, returned bool), late func(err error)) {
	name := e.name
	start := time.Now()
	ctx, cancel := context.WithTimeout(base, timeout)
	var reported atomic.Bool
	timer := time.AfterFunc(timeout, func() {
		if reported.CompareAndSwap(false, true) {
			e.log.Error("role callback abandoned at its deadline", "callback", what, "timeout", timeout)
			err := &DeadlineError{Role: name, Callback: what, Timeout: timeout}
			r.count(e, what, err)
			report(nil, err, false)
		}
	})
	go func() {
		defer cancel()
		res, err := protect(e, what, ctx, fn)
		timer.Stop()
		if err != nil && ctx.Err() == context.DeadlineExceeded {
			// A callback that gave up at its deadline fails as one that
			// did not return: the same error whichever came first.
			err = &DeadlineError{Role: name, Callback: what, Timeout: timeout}
		}
		var panicked *PanicError
		var deadline *DeadlineError
		if err != nil && !errors.As(err, &panicked) && !errors.As(err, &deadline) && !strings.HasPrefix(what, "handler ") {
			err = fmt.Errorf("role %s: %s: %w", name, what, err)
		}
		if reported.CompareAndSwap(false, true) {
			r.count(e, what, err)
			report(res, err, true)
			return
		}
		e.log.Warn("abandoned role callback returned", "callback", what,
			"after", time.Since(start).Round(time.Millisecond), "err", err)
		late(err)
	}()
}

// protect runs fn, turning a panic into an error; the panic value and a
// short stack (the frames from the panicking one on) go to the log.
func protect(e *entry, what string, ctx context.Context, fn func(context.Context) (any, error)) (res any, err error) {
	defer func() {
		if p := recover(); p != nil {
			e.log.Error("role callback panicked", "callback", what, "panic", p, "stack", shortStack(debug.Stack()))
			res, err = nil, &PanicError{Role: e.name, Callback: what, Value: p}
		}
	}()
	return fn(ctx)
}

// PanicError is the error of a callback that panicked.
type PanicError struct {
	Role, Callback string
	Value          any
}

func (p *PanicError) Error() string {
	return fmt.Sprintf("role %s: %s panicked: %v", p.Role, p.Callback, p.Value)
}

// DeadlineError is the error of a callback that did not return within its
// deadline, or gave up at it. It is a context.DeadlineExceeded.
type DeadlineError struct {
	Role, Callback string
	Timeout        time.Duration
}

func (d *DeadlineError) Error() string {
	return fmt.Sprintf("role %s: %s did not return within %v", d.Role, d.Callback, d.Timeout)
}

func (d *DeadlineError) Unwrap() error { return context.DeadlineExceeded }

// shortStack keeps the frames of stack (debug.Stack's text) below the
// runtime's panic, at most 6: where the role panicked and what called it.
func shortStack(stack []byte) string {
	lines := strings.Split(strings.TrimSpace(string(stack)), "\n")
	// Frames are a function line and a tab-indented file:line line; the
	// first is the goroutine header.
	from := 1
	for i := 1; i+1 < len(lines); i += 2 {
		if strings.HasPrefix(lines[i], "panic(") {
			from = i + 2
			break
		}
	}
	to := min(len(lines), from+2*6)
	return strings.Join(lines[from:to], "\n")
}
