package proc

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/net/iproto"
	"github.com/vmihailenco/msgpack/v5"
)

// A procedure's arguments are derived from its request struct: one argument
// per field tagged `arg`, in field order (the tags are described at
// api.Procedures). Nothing here is written per procedure.

// param is one argument: a field of the request struct.
type param struct {
	name  string
	field int
	// optional: may be left out (trailing only); zeroNil: the zero value
	// travels as nil; emptyMap: a nil map travels as {}; index: a Raft
	// index, an integer 0 or more.
	optional, zeroNil, emptyMap, index bool
}

// argsEncoder and argsDecoder are implemented by the requests whose
// arguments are not their fields one to one (api.Cas): proc calls them
// instead of deriving.
type argsEncoder interface{ EncodeArgs() []any }
type argsDecoder interface {
	DecodeArgs(args []msgpack.RawMessage) error
}

// argsChecker is implemented by requests with a rule beyond their
// arguments' types (api.UnlockUser).
type argsChecker interface{ CheckArgs() error }

// The field types with a wire form of their own.
var (
	durationType = reflect.TypeFor[time.Duration]()
	opType       = reflect.TypeFor[tables.Op]()
	messagesType = reflect.TypeFor[[]raft.Message]()
	gradeType    = reflect.TypeFor[*tables.Grade]()
	stringType   = reflect.TypeFor[string]()
)

// paramsOf reads the arguments of request type t from its tags.
func paramsOf(t reflect.Type) (params []param, optional int) {
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("proc: request %s is not a struct", t))
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("arg")
		if !ok {
			continue
		}
		opts := strings.Split(tag, ",")
		p := param{name: opts[0], field: i}
		for _, o := range opts[1:] {
			switch o {
			case "optional":
				p.optional = true
			case "nil":
				p.zeroNil = true
			case "empty":
				p.emptyMap = f.Type.Kind() == reflect.Map
				if !p.emptyMap {
					panic(fmt.Sprintf("proc: %s.%s: option empty on a %s", t, f.Name, f.Type))
				}
			case "index":
				p.index = f.Type.Kind() == reflect.Uint64
				if !p.index {
					panic(fmt.Sprintf("proc: %s.%s: option index on a %s", t, f.Name, f.Type))
				}
			default:
				panic(fmt.Sprintf("proc: %s.%s: unknown arg option %q", t, f.Name, o))
			}
		}
		if p.name == "" || !f.IsExported() {
			panic(fmt.Sprintf("proc: %s.%s: an argument needs a name and an exported field", t, f.Name))
		}
		if optional > 0 && !p.optional {
			panic(fmt.Sprintf("proc: %s: argument %s follows an optional one", t, p.name))
		}
		if p.optional {
			optional++
		}
		params = append(params, p)
	}
	return params, optional
}

// decodeArgs decodes the argument list (optional ones filled in with nil)
// into a request of s's type.
func (s *spec) decodeArgs(args []msgpack.RawMessage) (api.Request, error) {
	v := reflect.New(s.typ)
	if d, ok := v.Interface().(argsDecoder); ok {
		if err := d.DecodeArgs(args); err != nil {
			return nil, err
		}
	} else {
		for i, p := range s.params {
			if err := p.decode(args[i], v.Elem().Field(p.field)); err != nil {
				return nil, api.ArgError(i, p.name, err)
			}
		}
	}
	req := v.Elem().Interface().(api.Request)
	if c, ok := req.(argsChecker); ok {
		if err := c.CheckArgs(); err != nil {
			return nil, err
		}
	}
	return req, nil
}

func (p param) decode(raw msgpack.RawMessage, f reflect.Value) error {
	switch {
	case f.Type() == durationType:
		// Seconds, an integer or a float, as Picodata's procedures take
		// a timeout.
		var secs float64
		if err := msgpack.Unmarshal(raw, &secs); err != nil {
			return err
		}
		if math.IsNaN(secs) || secs < 0 || secs > 1e9 {
			return fmt.Errorf("%v seconds is not a valid timeout", secs)
		}
		f.SetInt(int64(time.Duration(secs * float64(time.Second))))
	case f.Type() == opType:
		op, err := tables.DecodeOp(raw)
		if err != nil {
			return err
		}
		// Through a pointer: reflect.ValueOf would box the value, an
		// allocation per call.
		*f.Addr().Interface().(*tables.Op) = op
	case f.Type() == messagesType:
		msgs, err := decodeMessages(raw)
		if err != nil {
			return err
		}
		*f.Addr().Interface().(*[]raft.Message) = msgs
	case f.Type() == gradeType:
		var g *api.GradeResult
		if err := msgpack.Unmarshal(raw, &g); err != nil {
			return err
		}
		if g != nil {
			f.Set(reflect.ValueOf(&tables.Grade{Variant: g.Variant, Incarnation: g.Incarnation}))
		}
	case p.index:
		// msgpack would read -1 as 2^64-1, an index never reached.
		var v any
		if err := msgpack.Unmarshal(raw, &v); err != nil {
			return err
		}
		u, ok := tuple.AsUint64(v)
		if !ok {
			return fmt.Errorf("%v is not a raft index (an integer, 0 or more)", v)
		}
		f.SetUint(u)
	case f.Type() == stringType:
		// By hand when it is a str, what msgpack would read the same way:
		// Raft's sender address comes with every message.
		if s, rest, err := iproto.ReadStr(raw); err == nil && len(rest) == 0 {
			f.SetString(string(s))
			return nil
		}
		return msgpack.Unmarshal(raw, f.Addr().Interface())
	default:
		return msgpack.Unmarshal(raw, f.Addr().Interface())
	}
	return nil
}

// encodeArgs is the argument list of req, of s's type.
func (s *spec) encodeArgs(req api.Request) []any {
	if e, ok := req.(argsEncoder); ok {
		return e.EncodeArgs()
	}
	v := reflect.ValueOf(req)
	out := make([]any, len(s.params))
	for i, p := range s.params {
		out[i] = p.encode(v.Field(p.field))
	}
	return out
}

func (p param) encode(f reflect.Value) any {
	switch {
	case f.Type() == durationType:
		return time.Duration(f.Int()).Seconds()
	case f.Type() == opType:
		return msgpack.RawMessage(f.Interface().(tables.Op).Encode())
	case f.Type() == messagesType:
		return wireMessages(f.Interface().([]raft.Message))
	case f.Type() == gradeType:
		if f.IsNil() {
			return nil
		}
		g := f.Interface().(*tables.Grade)
		return api.GradeResult{Variant: g.Variant, Incarnation: g.Incarnation}
	case p.zeroNil && f.IsZero():
		return nil
	case p.emptyMap && f.IsNil():
		return reflect.MakeMap(f.Type()).Interface()
	}
	return f.Interface()
}
