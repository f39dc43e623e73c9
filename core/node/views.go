package node

import "github.com/picogo/picogo/core/tuple"

// Tarantool's schema views, which clients read on connect: net.box selects
// _vspace, _vindex and _vcollation (and _vspace_sequence from 2.10.5) and
// builds conn.space.<name> from them. They are computed from the global
// tables' definitions.
const (
	ViewVCollation     uint32 = 277
	ViewVSpace         uint32 = 281
	ViewVIndex         uint32 = 289
	ViewVSpaceSequence uint32 = 341
)

// IsSchemaView reports whether id is one of the views above; anyone with a
// session may read them.
func IsSchemaView(id uint32) bool {
	switch id {
	case ViewVCollation, ViewVSpace, ViewVIndex, ViewVSpaceSequence:
		return true
	}
	return false
}

// viewRows computes a schema view's rows; a key selects by the first field
// (the space id).
func (m *reads) viewRows(view uint32, key []any) []any {
	var want *uint64
	if len(key) > 0 {
		if id, ok := tuple.AsUint64(key[0]); ok {
			want = &id
		}
	}
	var rows []any
	for _, def := range m.tables.Tables() {
		if want != nil && uint64(def.ID) != *want {
			continue
		}
		switch view {
		case ViewVSpace:
			format := make([]any, len(def.Format))
			for i, f := range def.Format {
				format[i] = map[string]any{"name": f.Name, "type": string(f.Type), "is_nullable": f.Nullable}
			}
			rows = append(rows, []any{def.ID, def.Owner, def.Name, def.Engine, len(def.Format), map[string]any{}, format})
		case ViewVIndex:
			parts := make([]any, len(def.PrimaryKey))
			for i, p := range def.PrimaryKey {
				parts[i] = []any{p, string(def.Format[p].Type)}
			}
			rows = append(rows, []any{def.ID, 0, def.PkName(), "TREE", map[string]any{"unique": true}, parts})
		}
	}
	return rows
}
