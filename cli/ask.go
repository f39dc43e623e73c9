package cli

import (
	"context"
	"errors"
	"time"

	"github.com/picogo/picogo/runtime"
)

// errInstanceStopping is ask's answer when the instance stops first.
var errInstanceStopping = errors.New("the instance is stopping")

// ask runs a request that did not come over iproto (a PostgreSQL
// statement, a role's SQL or RPC) on the event loop: start hands it to the
// host, which answers later, on the loop. It is timed, for the request
// metrics, from now, as serve times an iproto request. ask waits for the
// answer, for ctx to end (ctx.Err()) or for the instance to stop
// (errInstanceStopping); whatever the request did meanwhile stands.
func ask[T any](d *daemon, ctx context.Context, start func(h *runtime.Host, answer func(T))) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	done := make(chan T, 1)
	arrived := time.Now()
	// Posted from a goroutine of its own: a full event queue must not
	// keep the caller from honouring ctx.
	go d.post(func() {
		d.arrived = arrived
		start(d.proc.Host(), func(v T) { done <- v })
	})
	select {
	case v := <-done:
		return v, nil
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-d.proc.Done():
		return zero, errInstanceStopping
	}
}
