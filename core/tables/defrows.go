package tables

import (
	"fmt"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
)

// The rows that define the tables: a schema.TableDef as its _pico_table
// row, its indexes as _pico_index rows.

// TableRow is the table's _pico_table row: id, name, distribution, format,
// schema_version, operable, engine, owner, description. The format is an
// array of maps {name, type, is_nullable}. The distribution is a map of one
// key, as Picodata encodes its Distribution: {"Global": nil} or
// {"ShardedImplicitly": [sharding_key, sharding_fn, tier]}.
func TableRow(d *schema.TableDef) []any {
	format := make([]any, len(d.Format))
	for i, f := range d.Format {
		format[i] = map[string]any{"name": f.Name, "type": string(f.Type), "is_nullable": f.Nullable}
	}
	return []any{uint64(d.ID), d.Name, DistributionValue(d), format, d.SchemaVersion,
		d.Operable, d.Engine, uint64(d.Owner), d.Description}
}

// Keys of the distribution column's map (Picodata's Distribution variants).
const (
	distGlobal            = "Global"
	distShardedImplicitly = "ShardedImplicitly"
)

// DistributionValue is the value of the table's _pico_table.distribution
// column (see TableRow).
func DistributionValue(d *schema.TableDef) map[string]any {
	if !d.IsSharded() {
		return map[string]any{distGlobal: nil}
	}
	key := make([]any, len(d.ShardingKey))
	for i, k := range d.ShardingKey {
		key[i] = k
	}
	return map[string]any{distShardedImplicitly: []any{key, d.ShardingFn, d.Tier}}
}

// parseDistribution reads a distribution column into d. Besides the map it
// accepts the plain string "global" that picogo wrote before.
func parseDistribution(v any, d *schema.TableDef) bool {
	if s, ok := v.(string); ok {
		d.Distribution = s
		return s == schema.DistributionGlobal
	}
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false
	}
	if g, ok := m[distGlobal]; ok {
		d.Distribution = schema.DistributionGlobal
		return g == nil
	}
	arr, ok := m[distShardedImplicitly].([]any)
	if !ok || len(arr) != 3 {
		return false
	}
	keys, ok1 := arr[0].([]any)
	fn, ok2 := arr[1].(string)
	tier, ok3 := arr[2].(string)
	if !ok1 || !ok2 || !ok3 {
		return false
	}
	d.ShardingKey = make([]string, len(keys))
	for i, k := range keys {
		if d.ShardingKey[i], ok = k.(string); !ok {
			return false
		}
	}
	d.Distribution, d.ShardingFn, d.Tier = schema.DistributionSharded, fn, tier
	return true
}

// TableDefFrom parses a _pico_table row. PrimaryKey is left empty: it
// comes from the table's _pico_index row (see schema.IndexDef.PrimaryKeyOf).
func TableDefFrom(v []any) (schema.TableDef, error) {
	var d schema.TableDef
	if len(v) != 9 {
		return d, fmt.Errorf("_pico_table row has %d fields, want 9", len(v))
	}
	p := fieldParser{row: v, table: TablePicoTableName}
	d.ID = p.uint32(0)
	d.Name = p.string(1)
	if !parseDistribution(v[2], &d) {
		p.fail(2, `{"Global": nil} or {"ShardedImplicitly": [sharding_key, sharding_fn, tier]}`)
	}
	d.Format = p.format(3)
	d.SchemaVersion = p.uint64(4)
	d.Operable = p.bool(5)
	d.Engine = p.string(6)
	d.Owner = p.uint32(7)
	d.Description = p.string(8)
	return d, p.err
}

// IndexRow is the index's _pico_index row: table_id, id, name, type, opts,
// parts, operable, schema_version; parts are [[field_name, type,
// is_nullable], ...].
func IndexRow(x *schema.IndexDef) []any {
	parts := make([]any, len(x.Parts))
	for i, p := range x.Parts {
		parts[i] = []any{p.Field, string(p.Type), p.Nullable}
	}
	opts := x.Opts
	if opts == nil {
		opts = map[string]any{}
	}
	return []any{uint64(x.TableID), uint64(x.ID), x.Name, x.Type, opts, parts, x.Operable, x.SchemaVersion}
}

// IndexDefFrom parses a _pico_index row.
func IndexDefFrom(v []any) (schema.IndexDef, error) {
	var x schema.IndexDef
	if len(v) != 8 {
		return x, fmt.Errorf("_pico_index row has %d fields, want 8", len(v))
	}
	p := fieldParser{row: v, table: TablePicoIndexName}
	x.TableID = p.uint32(0)
	x.ID = p.uint32(1)
	x.Name = p.string(2)
	x.Type = p.string(3)
	if m, ok := v[4].(map[string]any); ok {
		x.Opts = m
	} else {
		p.fail(4, "a map")
	}
	x.Parts = p.parts(5)
	x.Operable = p.bool(6)
	x.SchemaVersion = p.uint64(7)
	return x, p.err
}

// fieldParser reads typed fields of a system row, keeping the first error.
type fieldParser struct {
	row   []any
	table string
	err   error
}

func (p *fieldParser) fail(i int, want string) {
	if p.err == nil {
		p.err = fmt.Errorf("%s row: field %d is %s, want %s", p.table, i+1, tuple.TypeName(p.row[i]), want)
	}
}

func (p *fieldParser) uint64(i int) uint64 {
	u, ok := tuple.AsUint64(p.row[i])
	if !ok {
		p.fail(i, "unsigned")
	}
	return u
}

func (p *fieldParser) uint32(i int) uint32 {
	u := p.uint64(i)
	if u > 1<<32-1 {
		p.fail(i, "a 32-bit unsigned")
	}
	return uint32(u)
}

func (p *fieldParser) string(i int) string {
	s, ok := p.row[i].(string)
	if !ok {
		p.fail(i, "string")
	}
	return s
}

func (p *fieldParser) bool(i int) bool {
	b, ok := p.row[i].(bool)
	if !ok {
		p.fail(i, "boolean")
	}
	return b
}

func (p *fieldParser) format(i int) []schema.Field {
	arr, ok := p.row[i].([]any)
	if !ok {
		p.fail(i, "array")
		return nil
	}
	out := make([]schema.Field, len(arr))
	for j, e := range arr {
		m, ok := e.(map[string]any)
		name, ok1 := m["name"].(string)
		typ, ok2 := m["type"].(string)
		nullable, ok3 := m["is_nullable"].(bool)
		if !ok || !ok1 || !ok2 || !ok3 {
			p.fail(i, "an array of {name, type, is_nullable}")
			return nil
		}
		out[j] = schema.Field{Name: name, Type: tuple.FieldType(typ), Nullable: nullable}
	}
	return out
}

func (p *fieldParser) parts(i int) []schema.IndexPart {
	arr, ok := p.row[i].([]any)
	if !ok {
		p.fail(i, "array")
		return nil
	}
	out := make([]schema.IndexPart, len(arr))
	for j, e := range arr {
		part, ok := e.([]any)
		if !ok || len(part) != 3 {
			p.fail(i, "an array of [field, type, is_nullable]")
			return nil
		}
		name, ok1 := part[0].(string)
		typ, ok2 := part[1].(string)
		nullable, ok3 := part[2].(bool)
		if !ok1 || !ok2 || !ok3 {
			p.fail(i, "an array of [field, type, is_nullable]")
			return nil
		}
		out[j] = schema.IndexPart{Field: name, Type: tuple.FieldType(typ), Nullable: nullable}
	}
	return out
}
