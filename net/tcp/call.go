package tcp

import (
	"context"
	"fmt"
	"time"
)

// Call is a synchronous Roundtrip for command-line tools: it sends frame to
// addr and returns the response packet (decode it with
// iproto.DecodeResponse; an error reply is a packet, not an error). ctx's
// deadline becomes the call's timeout; cancelling ctx abandons the call
// (its sync stays taken until the reply comes, as after a timeout).
func Call(ctx context.Context, p *Pool, addr string, frame []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var timeout time.Duration
	if dl, ok := ctx.Deadline(); ok {
		if timeout = time.Until(dl); timeout <= 0 {
			return nil, context.DeadlineExceeded
		}
	}
	type result struct {
		packet []byte
		err    error
	}
	ch := make(chan result, 1)
	pr, c := p.roundtrip(addr, frame, timeout, func(packet []byte, err error) {
		ch <- result{packet, err}
	})
	select {
	case r := <-ch:
		return r.packet, r.err
	case <-ctx.Done():
		if c != nil {
			pr.abandon(c, fmt.Errorf("tcp: call to %s: %w", addr, ctx.Err()))
		}
		r := <-ch // done runs exactly once, and soon now
		return r.packet, r.err
	}
}
