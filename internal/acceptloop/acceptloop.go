// Package acceptloop is the accept loop both protocol servers (net/tcp's
// iproto, net/pgwire's PostgreSQL) run: connections handed on as they come,
// a failed Accept retried after a growing delay rather than ending the
// server (a process out of file descriptors recovers when some close), and
// the loop's end when the server closes.
package acceptloop

import (
	"errors"
	"log/slog"
	"net"
	"time"
)

// Run accepts connections from l and hands each to handle, until closed
// reports the server closed (then it returns nil) or l fails for good
// (net.ErrClosed while the server is not closed: that error). Other Accept
// errors are logged as "<what> accept failed" and retried after 5 ms,
// doubling to at most a second, or until done closes.
func Run(l net.Listener, closed func() bool, done <-chan struct{}, log *slog.Logger, what string, handle func(net.Conn)) error {
	var delay time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if closed() {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			log.Warn(what+" accept failed", "err", err, "retry_in", delay)
			select {
			case <-time.After(delay):
			case <-done:
				return nil
			}
			continue
		}
		delay = 0
		handle(nc)
	}
}
