package node

import (
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/sharding"
	"github.com/picogo/picogo/core/sql/exec"
	"github.com/picogo/picogo/core/sql/plan"
	"github.com/picogo/picogo/core/tuple"
)

// sqlCatalog is the tables an SQL statement reads on this instance, as
// applied here: the global tables (system ones included) from the Raft
// state machine, and this replicaset's rows of the sharded tables — only
// those of buckets it serves (rows of a bucket being received, or sent
// and not yet deleted, are not its to show).
type sqlCatalog struct{ n *Node }

func (m *sqlModule) catalog() sqlCatalog { return sqlCatalog{m.Node} }

// columns are a table's columns for SQL: bucket_id hidden.
func columns(def *schema.TableDef) []exec.Column {
	cols := make([]exec.Column, len(def.Format))
	for i, f := range def.Format {
		cols[i] = exec.Column{Name: f.Name, Type: f.Type, Nullable: f.Nullable,
			Hidden: def.IsSharded() && f.Name == schema.BucketIDField}
	}
	return cols
}

func pkPositions(def *schema.TableDef) []int {
	out := make([]int, len(def.PrimaryKey))
	for i, p := range def.PrimaryKey {
		out[i] = int(p)
	}
	return out
}

// Table implements exec.Catalog.
func (c sqlCatalog) Table(name string) (*exec.Table, bool) {
	def, ok := c.n.tables.TableByName(name)
	if !ok {
		return nil, false
	}
	d := def.Clone()
	t := &exec.Table{Name: d.Name, Columns: columns(&d), PrimaryKey: pkPositions(&d)}
	if !d.IsSharded() {
		store := c.n.tables
		t.Scan = func(yield func([]any) bool) *tuple.Error {
			rows, err := store.Scan(d.ID)
			if err != nil {
				return tuple.Errorf(tuple.CodeNoSuchSpace, "%v", err)
			}
			for _, r := range rows {
				if !yield(r.Values()) {
					break
				}
			}
			return nil
		}
		t.Get = func(key []any) ([]any, bool, *tuple.Error) {
			r, ok, err := store.Get(d.ID, key)
			if err != nil || !ok {
				return nil, false, nil
			}
			return r.Values(), true, nil
		}
		return t, true
	}
	m := c.n.data
	pos, _ := d.FieldIndex(schema.BucketIDField)
	held := func() bool {
		if m.member == nil {
			return false
		}
		_, ok := m.member.Engine().Table(d.ID)
		return ok
	}
	t.Scan = func(yield func([]any) bool) *tuple.Error {
		if !held() {
			return nil // another tier's table: none of its rows are here
		}
		bm := m.bucketMap()
		return m.member.Engine().Each(d.ID, func(r tuple.Tuple) bool {
			return !m.readable(bm, d, pos, r) || yield(r.Values())
		})
	}
	t.Get = func(key []any) ([]any, bool, *tuple.Error) {
		if !held() {
			return nil, false, nil
		}
		r, ok, err := m.member.Engine().Get(d.ID, 0, key)
		if err != nil || !ok || !m.readable(m.bucketMap(), d, pos, r) {
			return nil, false, err
		}
		return r.Values(), true, nil
	}
	return t, true
}

// planCatalog is the catalog as the planner sees it.
type planCatalog struct{ n *Node }

// Table implements plan.Catalog.
func (c planCatalog) Table(name string) (plan.Table, bool) {
	def, ok := c.n.tables.TableByName(name)
	if !ok {
		return plan.Table{}, false
	}
	return plan.Table{Name: def.Name, Columns: columns(def), PrimaryKey: pkPositions(def), Sharded: def.IsSharded(), Tier: def.Tier,
		ShardingKey: def.ShardingKey}, true
}

// bucketOf is the bucket of a sharding key in a tier, for the planner.
func (m *sqlModule) bucketOf(tier string, key []any) (uint64, error) {
	count := m.placement.BucketCount(tier)
	return sharding.BucketID(key, count)
}
