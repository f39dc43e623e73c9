// Package proc is the Proc API on the wire: how the arguments and results
// of the procedures in api.Procedures are encoded in msgpack (shapes:
// seeds/000), and the one rule of who may call them. Each procedure's codec
// is derived from its request struct's `arg` tags (args.go); nothing here is
// written per procedure. What a procedure does is core/node's business;
// this package turns bytes into api.Requests and results back into bytes,
// for clients and instances alike, so every call between simulated
// instances goes through the same encoding as on a socket.
package proc

import (
	"fmt"
	"reflect"
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

// spec describes one procedure, derived from its entry in api.Procedures.
type spec struct {
	name   string
	typ    reflect.Type
	access api.Access
	// params are the arguments, for decoding and errors; the last
	// optional ones may be left out.
	params   []param
	optional int
}

// specs are api.Procedures by name.
var specs = map[string]*spec{}

func init() {
	for _, p := range api.Procedures {
		t := reflect.TypeOf(p.Request)
		s := &spec{name: p.Request.Proc(), typ: t, access: p.Access}
		s.params, s.optional = paramsOf(t)
		if _, dup := specs[s.name]; dup {
			panic("proc: procedure " + s.name + " listed twice")
		}
		specs[s.name] = s
	}
}

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
	if !ok || s.access == api.Public || user == Admin || user == PicoService {
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
		// The decoders allocate by the lengths the bytes claim: SplitArray
		// walks every element first, so that a claim the bytes do not back
		// is an error. Which error is told once it failed (one walk, not
		// two, for the arguments that are right).
		var err error
		if list, err = iproto.SplitArray(args); err != nil {
			if err := iproto.CheckValue(args); err != nil {
				return nil, illegal(name, "arguments are not msgpack: %v", err)
			}
			return nil, illegal(name, "arguments must be an array: %v", err)
		}
	}
	if n := len(list); n > len(s.params) || n < len(s.params)-s.optional {
		want := fmt.Sprint(len(s.params))
		if s.optional > 0 {
			want = fmt.Sprintf("%d to %d", len(s.params)-s.optional, len(s.params))
		}
		return nil, illegal(name, "expected %s arguments (%s), got %d", want, joinParams(s.paramNames()), n)
	}
	// Optional arguments left out decode from nil.
	for len(list) < len(s.params) {
		list = append(list, msgpack.RawMessage{0xc0})
	}
	req, err := s.decodeArgs(list)
	if err != nil {
		return nil, illegal(name, "%v", err)
	}
	return req, nil
}

// EncodeArgs encodes a request's arguments as the msgpack array a call
// carries.
func EncodeArgs(req api.Request) ([]byte, error) {
	args, err := argsOf(req)
	if err != nil {
		return nil, err
	}
	return appendArgs(make([]byte, 0, argsSize(args)), args)
}

// argsOf are req's arguments, as its spec derives them.
func argsOf(req api.Request) ([]any, error) {
	s, ok := specs[req.Proc()]
	if !ok {
		return nil, fmt.Errorf("proc: no procedure %s", req.Proc())
	}
	if reflect.TypeOf(req) != s.typ {
		return nil, fmt.Errorf("proc: %s takes a %s, not a %T", req.Proc(), s.typ, req)
	}
	return s.encodeArgs(req), nil
}

// appendArgs appends args as a msgpack array: by hand, so that Raft
// messages and ops, which are bytes already, are written once where they go
// (a heartbeat's or an append's call is most of what instances send; through
// msgpack they were encoded, copied into its growing buffer, then into the
// frame). The bytes are msgpack.Marshal's of the same list
// (TestRequestsRoundTrip checks every procedure).
func appendArgs(b []byte, args []any) ([]byte, error) {
	b = iproto.AppendArrayLen(b, len(args))
	for _, a := range args {
		switch a := a.(type) {
		case wireMessages:
			if a == nil {
				b = iproto.AppendNil(b) // as msgpack writes a nil slice
				continue
			}
			var err error
			if b, err = appendMessages(b, a); err != nil {
				return nil, err
			}
		case msgpack.RawMessage:
			if len(a) == 0 {
				b = iproto.AppendNil(b)
			} else {
				b = append(b, a...)
			}
		case string: // a sender's address on every Raft message
			b = iproto.AppendStr(b, a)
		case bool:
			b = iproto.AppendBool(b, a)
		case nil:
			b = iproto.AppendNil(b)
		default:
			v, err := msgpack.Marshal(a)
			if err != nil {
				return nil, err
			}
			b = append(b, v...)
		}
	}
	return b, nil
}

// argsSize is about the bytes appendArgs writes for args, so that one
// allocation holds them.
func argsSize(args []any) int {
	n := 5
	for _, a := range args {
		switch a := a.(type) {
		case wireMessages:
			n += wireSize(a)
		case msgpack.RawMessage:
			n += len(a)
		case string:
			n += 5 + len(a)
		default:
			n += 16
		}
	}
	return n
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

// Signature is how procedure name is called, for help texts:
// ".proc_wait_index(target, timeout)", optional arguments in brackets.
func Signature(name string) string {
	s, ok := specs[name]
	if !ok {
		return name
	}
	names := s.paramNames()
	required := names[:len(names)-s.optional]
	sig := name + "(" + strings.Join(required, ", ")
	if s.optional > 0 {
		rest := strings.Join(names[len(required):], ", ")
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

func (s *spec) paramNames() []string {
	names := make([]string, len(s.params))
	for i, p := range s.params {
		names[i] = p.name
	}
	return names
}
