package main

import (
	"errors"
	stdnet "net"
	"time"

	"github.com/picogo/picogo/core/auth"
	"github.com/picogo/picogo/net/iproto"
	"github.com/picogo/picogo/net/tcp"
)

// authenticator checks AUTH with the node's login rules (core/auth) on the
// event loop, where the tables live, and holds a refusal back for as long
// as the rules say on the connection's goroutine, never on the loop.
type authenticator struct{ d *daemon }

// Authenticate implements tcp.Authenticator.
func (a authenticator) Authenticate(s *tcp.Session, user string, salt, scramble []byte) error {
	attempt := auth.Attempt{User: user, Address: clientHost(s.RemoteAddr), Proof: auth.ChapSha1{Salt: salt, Scramble: scramble}}
	v, err := a.login(attempt, s.Done())
	if err != nil {
		return err
	}
	if v.Err != nil {
		return v.Err
	}
	return nil
}

// login checks a login of either protocol on the loop, counts it, and
// holds a refusal back for its delay (or until closed closes: the client
// went away). err: the instance stopped first.
func (a authenticator) login(attempt auth.Attempt, closed <-chan struct{}) (auth.Verdict, error) {
	res := make(chan auth.Verdict, 1)
	a.d.post(func() { res <- a.d.proc.Host().Login(attempt) })
	var v auth.Verdict
	select {
	case v = <-res:
	case <-a.d.proc.Done():
		return v, errors.New("the instance is stopping")
	}
	switch {
	case v.Err == nil:
		a.d.metrics.logins.WithLabelValues("ok").Inc()
		return v, nil
	case v.Err.Code == iproto.CodeAccessDenied:
		a.d.metrics.logins.WithLabelValues("refused").Inc()
	default:
		a.d.metrics.logins.WithLabelValues("failed").Inc()
	}
	if v.Locked {
		a.d.log.Warn("user locked after failed logins in a row", "user", attempt.User, "failures", auth.MaxFailures,
			"for", auth.LockDuration, "client", attempt.Address)
	}
	delay := time.NewTimer(v.Delay)
	defer delay.Stop()
	select {
	case <-delay.C:
	case <-closed:
	}
	return v, nil
}

// clientHost is the host of a client's address: failed logins are
// throttled per host, whatever port a connection comes from.
func clientHost(addr string) string {
	if host, _, err := stdnet.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}
