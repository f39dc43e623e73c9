package runtime

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/net/iproto"
	"github.com/picogo/picogo/proc"
)

// The DML request types are decoded, authorized (admin and pico_service
// only) and passed to the node; each is observed under its name.
func TestHostHandlesDML(t *testing.T) {
	s := newSoloHost(t)
	type seen struct {
		what string
		code uint32
	}
	var observed []seen
	s.h.ObserveRequests(func(what string) func(uint32) {
		i := len(observed)
		observed = append(observed, seen{what: what, code: 1 << 31})
		return func(code uint32) { observed[i].code = code }
	})

	tup := args(t, 1, "a")
	key := args(t, 1)
	ops := args(t, []any{"=", 1, "b"})
	frames := []struct {
		name  string
		frame []byte
	}{
		{"insert", iproto.EncodeInsert(1, 512, tup)},
		{"replace", iproto.EncodeReplace(2, 512, tup)},
		{"update", iproto.EncodeUpdate(3, 512, 0, key, ops)},
		{"upsert", iproto.EncodeUpsert(4, 512, tup, ops)},
		{"delete", iproto.EncodeDelete(5, 512, 0, key)},
	}
	for _, user := range []string{proc.Guest, "alice"} {
		for _, f := range frames {
			observed = nil
			resp := s.call(t, user, f.frame)
			require.NotNil(t, resp.Err, "%s by %s", f.name, user)
			require.Equal(t, api.CodeAccessDenied, resp.Err.Code)
			require.Equal(t, "Write access to space '512' is denied for user '"+user+"'", resp.Err.Message)
			require.Equal(t, []seen{{f.name, api.CodeAccessDenied}}, observed)
		}
	}
	// Admin and pico_service get past the access check to the node (which
	// may not serve these requests yet: then it answers NO_SUCH_PROC).
	for _, user := range []string{proc.Admin, proc.PicoService} {
		for _, f := range frames {
			observed = nil
			resp := s.call(t, user, f.frame)
			if resp.Err != nil {
				require.NotEqual(t, api.CodeAccessDenied, resp.Err.Code, "%s by %s: %s", f.name, user, resp.Err.Message)
				if resp.Err.Code == api.CodeNoSuchProc {
					require.Equal(t, "Procedure '"+f.name+"' is not defined", resp.Err.Message)
				}
			}
			require.Len(t, observed, 1)
			require.Equal(t, f.name, observed[0].what)
		}
	}
	// A malformed request is answered with its decoding error, whoever
	// sends it.
	for _, user := range []string{proc.Admin, proc.Guest} {
		observed = nil
		// DELETE {SPACE_ID: 1}, without its KEY.
		bad := []byte{0xce, 0, 0, 0, 0x08, 0x82, 0x01, 0x07, 0x00, 0x05, 0x81, 0x10, 0x01}
		resp := s.call(t, user, bad)
		require.NotNil(t, resp.Err)
		require.Equal(t, uint32(iproto.CodeMissingRequestField), resp.Err.Code)
		require.Equal(t, "Missing mandatory field 'KEY' in request", resp.Err.Message)
		require.Equal(t, []seen{{"delete", iproto.CodeMissingRequestField}}, observed)
	}
}
