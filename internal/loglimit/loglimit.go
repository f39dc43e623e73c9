// Package loglimit keeps what clients can make a server log within bounds:
// a port scan, a fuzzer or a password guesser makes a connection closed for
// a protocol violation, or a failed login, many times a second, and a line
// each would flood the log. Both protocol servers (net/tcp, net/pgwire) use
// it.
package loglimit

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// The limits the servers use: Burst lines of a kind per Interval.
const (
	Burst    = 5
	Interval = 10 * time.Second
)

// Limiter lets the first burst lines of one kind through per interval
// and holds back the rest; at the end of an interval in which some were
// held back, one line at level says how many ("N more <what> in the last
// 10s"). Safe for concurrent use.
type Limiter struct {
	log      *slog.Logger
	level    slog.Level
	what     string
	burst    int
	interval time.Duration

	mu     sync.Mutex
	start  time.Time // of the current interval
	passed int       // lines let through in it
	held   int       // lines held back in it
	timer  *time.Timer
}

// New makes a Limiter of lines about what (plural: "failed logins"),
// summarized at level.
func New(log *slog.Logger, level slog.Level, what string, burst int, interval time.Duration) *Limiter {
	return &Limiter{log: log, level: level, what: what, burst: burst, interval: interval}
}

// Allow reports whether a line may be logged now; if not, it is counted
// for the summary.
func (l *Limiter) Allow() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.held == 0 && now.Sub(l.start) >= l.interval {
		l.start, l.passed = now, 0
	}
	if l.passed < l.burst {
		l.passed++
		return true
	}
	if l.held == 0 {
		l.timer = time.AfterFunc(l.start.Add(l.interval).Sub(now), l.summarize)
	}
	l.held++
	return false
}

// summarize logs how many lines were held back and starts a new interval.
func (l *Limiter) summarize() {
	l.mu.Lock()
	n := l.held
	l.start, l.passed, l.held, l.timer = time.Now(), 0, 0, nil
	l.mu.Unlock()
	if n > 0 {
		l.log.Log(context.Background(), l.level, fmt.Sprintf("%d more %s in the last %s", n, l.what, l.interval))
	}
}

// Stop logs the summary of what is held back now, so that nothing is lost
// when the server closes.
func (l *Limiter) Stop() {
	l.mu.Lock()
	if l.timer != nil {
		l.timer.Stop()
	}
	l.mu.Unlock()
	l.summarize()
}
