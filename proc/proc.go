// Package proc is the Proc API on the wire: which procedures an instance
// serves, who may call them, and how their arguments and results are
// encoded in msgpack (shapes: seeds/000). What a procedure does is
// core/node's business; this package turns bytes into api.Requests and
// results back into bytes, for clients and instances alike, so every call
// between simulated instances goes through the same encoding as on a socket.
package proc

import (
	"fmt"
	"slices"
	"strings"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/net/iproto"
	"github.com/vmihailenco/msgpack/v5"
)

// Users with a fixed role.
const (
	Guest       = tables.GuestName
	Admin       = tables.AdminName
	PicoService = tables.PicoServiceName
)

// spec describes one procedure.
type spec struct {
	name string
	// public procedures need only a session; the others need admin or
	// pico_service.
	public bool
	// params names the arguments, for errors; the last optional ones may
	// be left out.
	params   []string
	optional int
	decode   func(args []msgpack.RawMessage) (api.Request, error)
	encode   func(req api.Request) []any
}

var specs = map[string]*spec{}

func register(s *spec) { specs[s.name] = s }

// Names lists the procedures, sorted.
func Names() []string {
	names := make([]string, 0, len(specs))
	for n := range specs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Authorize checks that user may call procedure name: one place for the
// rule. Unknown procedures are reported by Decode.
func Authorize(user, name string) *api.Error {
	s, ok := specs[name]
	if !ok || s.public || user == Admin || user == PicoService {
		return nil
	}
	return &api.Error{Code: api.CodeAccessDenied,
		Message: fmt.Sprintf("Execute access to function '%s' is denied for user '%s'", name, user)}
}

// Decode turns a call of procedure name with its msgpack argument array into
// an api.Request, or an error naming the procedure and the argument at
// fault.
func Decode(name string, args []byte) (api.Request, *api.Error) {
	s, ok := specs[name]
	if !ok {
		return nil, &api.Error{Code: api.CodeNoSuchProc, Message: fmt.Sprintf("Procedure '%s' is not defined", name)}
	}
	var list []msgpack.RawMessage
	if len(args) > 0 {
		// The decoders allocate by the lengths the bytes claim: walk them
		// first, so that a claim the bytes do not back is an error.
		if err := iproto.CheckValue(args); err != nil {
			return nil, illegal(name, "arguments are not msgpack: %v", err)
		}
		elems, err := iproto.SplitArray(args)
		if err != nil {
			return nil, illegal(name, "arguments must be an array: %v", err)
		}
		list = make([]msgpack.RawMessage, len(elems))
		for i, e := range elems {
			list[i] = e
		}
	}
	if n := len(list); n > len(s.params) || n < len(s.params)-s.optional {
		want := fmt.Sprint(len(s.params))
		if s.optional > 0 {
			want = fmt.Sprintf("%d to %d", len(s.params)-s.optional, len(s.params))
		}
		return nil, illegal(name, "expected %s arguments (%s), got %d", want, joinParams(s.params), n)
	}
	// Optional arguments left out decode from nil.
	for len(list) < len(s.params) {
		list = append(list, msgpack.RawMessage{0xc0})
	}
	req, err := s.decode(list)
	if err != nil {
		return nil, illegal(name, "%v", err)
	}
	return req, nil
}

// EncodeArgs encodes a request's arguments as the msgpack array a call
// carries.
func EncodeArgs(req api.Request) ([]byte, error) {
	s, ok := specs[req.Proc()]
	if !ok {
		return nil, fmt.Errorf("proc: no procedure %s", req.Proc())
	}
	return msgpack.Marshal(s.encode(req))
}

func illegal(name, format string, a ...any) *api.Error {
	return &api.Error{Code: api.CodeIllegalParams, Message: name + ": " + fmt.Sprintf(format, a...)}
}

func joinParams(p []string) string {
	if len(p) == 0 {
		return "none"
	}
	return strings.Join(p, ", ")
}

// arg decodes argument i into v, naming it in the error.
func arg(args []msgpack.RawMessage, i int, name string, v any) error {
	if err := msgpack.Unmarshal(args[i], v); err != nil {
		return argErr(i, name, err)
	}
	return nil
}

func argErr(i int, name string, err error) error {
	return fmt.Errorf("argument %d (%s): %v", i+1, name, err)
}

// Signature is how procedure name is called, for help texts:
// ".proc_wait_index(target, timeout)", optional arguments in brackets.
func Signature(name string) string {
	s, ok := specs[name]
	if !ok {
		return name
	}
	required := s.params[:len(s.params)-s.optional]
	sig := name + "(" + strings.Join(required, ", ")
	if s.optional > 0 {
		rest := strings.Join(s.params[len(required):], ", ")
		if len(required) > 0 {
			rest = ", " + rest
		}
		sig += "[" + rest + "]"
	}
	return sig + ")"
}

// Callable lists the procedures user may call, sorted.
func Callable(user string) []string {
	var out []string
	for _, name := range Names() {
		if Authorize(user, name) == nil {
			out = append(out, name)
		}
	}
	return out
}
