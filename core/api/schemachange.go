package api

import "fmt"

// The answer of `.proc_apply_schema_change`, as seeds/000 gives it: the
// string "Ok", or {"Abort": {"reason": "..."}}.

// SchemaChangeOk is the answer of an instance that can apply the change.
const SchemaChangeOk = "Ok"

// SchemaChangeAbort is the answer of an instance that cannot apply the
// change, and why.
func SchemaChangeAbort(reason string) map[string]any {
	return map[string]any{"Abort": map[string]any{"reason": reason}}
}

// SchemaChangeResult reads an answer of `.proc_apply_schema_change`: the
// reply's values (or its one value). abort is false for "Ok"; an answer of
// another shape is an error.
func SchemaChangeResult(v any) (abort bool, reason string, err error) {
	if vs, ok := v.([]any); ok {
		if len(vs) != 1 {
			return false, "", fmt.Errorf(".proc_apply_schema_change: %d values in reply, want 1", len(vs))
		}
		v = vs[0]
	}
	get := func(m any, key string) (any, bool) {
		switch m := m.(type) {
		case map[string]any:
			x, ok := m[key]
			return x, ok && len(m) == 1
		case map[any]any:
			x, ok := m[key]
			return x, ok && len(m) == 1
		}
		return nil, false
	}
	if s, ok := v.(string); ok && s == SchemaChangeOk {
		return false, "", nil
	}
	if a, ok := get(v, "Abort"); ok {
		if r, ok := get(a, "reason"); ok {
			if s, ok := r.(string); ok {
				return true, s, nil
			}
		}
	}
	return false, "", fmt.Errorf(".proc_apply_schema_change: unexpected reply %v", v)
}
