package bench

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/picogo/picogo/internal/procs"
)

// tarantoolFunction is the Lua function the Tarantool instance serves in
// place of picogo's `.proc_version_info` (a Lua global cannot be called
// through CALL under a name starting with a dot; the name changes nothing
// else).
const tarantoolFunction = "proc_version_info"

// tarantoolScript is the instance's init script: listen on addr, let
// guest execute, define tarantoolFunction returning result (picogo's
// answer, mirrored).
func tarantoolScript(addr, dir string, result any) (string, error) {
	lit, err := luaLiteral(result)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(`-- picogo bench: a Tarantool serving the map picogo's .proc_version_info returns
box.cfg{listen = %s, work_dir = %s, log_level = 4}
box.schema.user.grant('guest', 'execute', 'universe', nil, {if_not_exists = true})
local result = %s
function %s() return result end
`, luaString(addr), luaString(dir), lit, tarantoolFunction), nil
}

// startTarantool starts a Tarantool instance serving result on a free
// loopback port and waits until guest can call the function.
func startTarantool(ctx context.Context, ps *procs.Registry, bin, dir string, result any) (string, *procs.Process, error) {
	addrs, err := procs.FreeAddrs(1)
	if err != nil {
		return "", nil, err
	}
	tdir := filepath.Join(dir, "tarantool")
	if err := os.MkdirAll(tdir, 0o755); err != nil {
		return "", nil, err
	}
	script, err := tarantoolScript(addrs[0], tdir, result)
	if err != nil {
		return "", nil, err
	}
	path := filepath.Join(tdir, "init.lua")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		return "", nil, err
	}
	p, err := start(ps, "tarantool", filepath.Join(tdir, "tarantool.log"), nil, tdir, bin, path)
	if err != nil {
		return "", nil, err
	}
	err = poll(ctx, readyTimeout, "tarantool answers "+tarantoolFunction, []*procs.Process{p}, func() error {
		c, err := newCaller(ctx, addrs[0], 1, tarantoolFunction)
		if err != nil {
			return err
		}
		defer c.close()
		return c.call(ctx, 0)
	})
	return addrs[0], p, err
}

// luaLiteral renders a decoded msgpack value as a Lua expression that
// Tarantool encodes back to the same msgpack types: strings, integers,
// floats, booleans, nil, arrays and maps (keys sorted, for a stable
// script).
func luaLiteral(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "box.NULL", nil
	case string:
		return luaString(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	case int, int8, int16, int32, int64:
		return fmt.Sprintf("%d", x), nil
	case uint, uint8, uint16, uint32, uint64:
		// Beyond 2^53 a Lua number loses digits: write it as a uint64_t.
		return fmt.Sprintf("%dULL", x), nil
	case float32:
		return luaFloat(float64(x))
	case float64:
		return luaFloat(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			s, err := luaLiteral(e)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return "setmetatable({" + strings.Join(parts, ", ") + "}, {__serialize = 'array'})", nil
	case map[string]any:
		m := make(map[any]any, len(x))
		for k, e := range x {
			m[k] = e
		}
		return luaMap(m)
	case map[any]any:
		return luaMap(x)
	}
	return "", fmt.Errorf("no Lua literal for %T", v)
}

func luaMap(m map[any]any) (string, error) {
	type kv struct{ k, v string }
	var parts []kv
	for k, v := range m {
		ks, err := luaLiteral(k)
		if err != nil {
			return "", err
		}
		vs, err := luaLiteral(v)
		if err != nil {
			return "", err
		}
		parts = append(parts, kv{ks, vs})
	}
	slices.SortFunc(parts, func(a, b kv) int { return strings.Compare(a.k, b.k) })
	var b strings.Builder
	b.WriteString("setmetatable({")
	for i, p := range parts {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "[%s] = %s", p.k, p.v)
	}
	b.WriteString("}, {__serialize = 'map'})")
	return b.String(), nil
}

func luaFloat(f float64) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("no Lua literal for %v", f)
	}
	return strconv.FormatFloat(f, 'g', -1, 64), nil
}

// luaString quotes s as a Lua string literal (decimal escapes for every
// byte outside printable ASCII, so any bytes survive).
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "\\%03d", c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
