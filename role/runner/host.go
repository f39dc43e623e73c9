package runner

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/picogo/picogo/role"
)

// HostRoles is a Runner as the daemon's host (runtime.Host) asks for role
// code: lifecycle callbacks by name, done with the role's version and the
// error; handler calls with msgpack arguments and results.
type HostRoles struct{ r *Runner }

// ForHost returns r as the host's role runner.
func (r *Runner) ForHost() *HostRoles { return &HostRoles{r: r} }

// Start is Runner.Start, done also getting the role's version ("" for no
// such role).
func (h *HostRoles) Start(name string, config map[string]any, done func(version string, err error)) {
	version := h.r.version(name)
	h.r.Start(name, configOf(config), func(err error) { done(version, err) })
}

// Stop is Runner.Stop, done also getting the role's version.
func (h *HostRoles) Stop(name string, done func(version string, err error)) {
	version := h.r.version(name)
	h.r.Stop(name, func(err error) { done(version, err) })
}

// Configure is Runner.ConfigChanged.
func (h *HostRoles) Configure(name string, config map[string]any, done func(error)) {
	h.r.ConfigChanged(name, configOf(config), done)
}

// LeaderChanged is Runner.LeaderChanged.
func (h *HostRoles) LeaderChanged(name string, leader uint64, done func(error)) {
	h.r.LeaderChanged(name, leader, done)
}

func (r *Runner) version(name string) string {
	if e, ok := r.roles[name]; ok {
		return e.version // fixed at New
	}
	return ""
}

// StopAll stops every role that is not stopped, dependents before their
// dependencies (the reverse of role.Order), one at a time, for an instance
// that shuts down gracefully; a role that fails to stop does not keep the
// others from stopping. done gets every error, joined.
func (r *Runner) StopAll(done func(error)) {
	r.mu.Lock()
	var names []string
	for _, name := range sortedNames(r.roles) {
		if r.roles[name].status != Stopped {
			names = append(names, name)
		}
	}
	r.mu.Unlock()
	// The roles passed New's validation: Order cannot fail on them.
	order, err := role.Order(r.cfg.Roles, names)
	if err != nil {
		r.fail(done, err)
		return
	}
	if len(order) == 0 {
		r.answer(func() { done(nil) })
		return
	}
	slices.Reverse(order)
	var errs []error
	var next func(i int)
	next = func(i int) {
		if i == len(order) {
			done(errors.Join(errs...))
			return
		}
		r.Stop(order[i], func(err error) {
			if err != nil {
				errs = append(errs, err)
			}
			next(i + 1)
		})
	}
	next(0)
}

// Call is Runner.Call for the host: args arrive as the caller's msgpack
// array, decoded for the handler as role.Handler says (integers as int64,
// or uint64 above math.MaxInt64; maps with string keys as map[string]any),
// and the result leaves encoded as msgpack. A result msgpack cannot encode
// is the call's error.
func (h *HostRoles) Call(name, handler string, args msgpack.RawMessage, timeout time.Duration, done func(msgpack.RawMessage, error)) {
	values, err := DecodeArgs(args)
	if err != nil {
		h.r.answer(func() { done(nil, fmt.Errorf("role %s: handler %q: arguments: %w", name, handler, err)) })
		return
	}
	h.r.Call(name, handler, values, timeout, func(res any, err error) {
		if err != nil {
			done(nil, err)
			return
		}
		b, err := msgpack.Marshal(res)
		if err != nil {
			done(nil, fmt.Errorf("role %s: handler %q returned %T, which msgpack cannot encode: %w", name, handler, res, err))
			return
		}
		done(b, nil)
	})
}

// configOf is a configuration as the tables decoded it, with its values
// of role.Handler's types (a configuration is a map with string keys: it
// normalizes without error).
func configOf(config map[string]any) map[string]any {
	if config == nil {
		return nil
	}
	v, _ := normalize(config)
	return v.(map[string]any)
}

// DecodeArgs decodes an RPC's msgpack arguments (an array) or result as
// role.Handler promises its arguments.
func DecodeArgs(b []byte) ([]any, error) {
	v, err := DecodeValue(b)
	if err != nil {
		return nil, err
	}
	args, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%T is not an array", v)
	}
	return args, nil
}

// DecodeValue decodes one msgpack value as role.Handler says arguments
// are decoded.
func DecodeValue(b []byte) (any, error) {
	d := msgpack.NewDecoder(bytes.NewReader(b))
	d.SetMapDecoder(func(d *msgpack.Decoder) (any, error) { return d.DecodeUntypedMap() })
	v, err := d.DecodeInterface()
	if err != nil {
		return nil, err
	}
	return normalize(v)
}

// normalize is what msgpack decoded (left as it is: it may be shared) in
// role.Handler's types:
// integers of every width into int64 (uint64 above math.MaxInt64),
// float32 into float64, maps into map[string]any (failing on keys that
// are not strings).
func normalize(v any) (any, error) {
	switch x := v.(type) {
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), nil
		}
		return x, nil
	case float32:
		return float64(x), nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			s, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("map key %v (%T) is not a string", k, k)
			}
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			m[s] = n
		}
		return m, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	}
	return v, nil
}
