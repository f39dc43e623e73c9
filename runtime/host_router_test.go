package runtime

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/net/iproto"
	"github.com/picogo/picogo/net/tcp"
	"github.com/stretchr/testify/require"
)

// A call to another instance goes out as what it is: Tarantool's own
// request for a SELECT or a write (the router's calls to a storage), a
// CALL for a procedure.
func TestOutCallsOfTarantoolsRequests(t *testing.T) {
	s := newSoloHost(t)
	rec := &recordingTransport{}
	s.h.transport = rec
	for i, tt := range []struct {
		req  api.Request
		want uint64
	}{
		{api.Insert{Table: 1024, Tuple: []any{1, 1934, "x"}}, iproto.TypeInsert},
		{api.Replace{Table: 1024, Tuple: []any{1, 1934, "x"}}, iproto.TypeReplace},
		{api.Delete{Table: 1024, Key: []any{1}}, iproto.TypeDelete},
		{api.Select{Table: 1024, Key: []any{1}, Limit: 1}, iproto.TypeSelect},
		{api.GetVClock{}, iproto.TypeCall},
	} {
		s.h.carryOut(node.OutCall{ID: node.CallID(200 + i), To: "i2", Timeout: time.Second, Request: tt.req})
		require.Len(t, rec.calls, i+1, "%s: not sent", tt.req.Proc())
		req, err := iproto.DecodeRequest(rec.calls[i].frame[5:])
		require.NoError(t, err)
		require.Equal(t, tt.want, req.Type, tt.req.Proc())
	}
}

// A transport timeout, or a connection lost with the call on it, reaches
// the node as a timeout (the request may have been served: the router must
// not send a write again); a dial that failed, as no connection.
func TestTransportErrors(t *testing.T) {
	timedOut := transportError(fmt.Errorf("%w: 127.0.0.1:3302, sync 7", tcp.ErrTimeout))
	if timedOut.Code != api.CodeTimeout {
		t.Fatalf("a timeout is code %d", timedOut.Code)
	}
	lost := transportError(fmt.Errorf("%w: 127.0.0.1:3302: EOF", tcp.ErrConnLost))
	if lost.Code != api.CodeTimeout {
		t.Fatalf("a connection lost with the call on it is code %d", lost.Code)
	}
	refused := transportError(errors.New("dial tcp 127.0.0.1:3302: connection refused"))
	if refused.Code != api.CodeNoConnection {
		t.Fatalf("a refused dial is code %d", refused.Code)
	}
}
