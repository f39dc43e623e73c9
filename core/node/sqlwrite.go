package node

import (
	"fmt"
	"slices"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/sharding"
	"github.com/picogo/picogo/core/sql/exec"
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/sql/plan"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
)

// target is the table a write names: it must exist and not be in the
// middle of a schema change.
func (s *statement) target(name string, n parse.Node) (*schema.TableDef, bool) {
	def, ok := s.m.tables.TableByName(name)
	if !ok {
		p := n.Position()
		s.fail(tuple.Errorf(tuple.CodeSQLUnknownTable, "table %q does not exist (line %d, column %d)", name, p.Line, p.Col))
		return nil, false
	}
	if !def.Operable {
		s.reply(nil, api.Errorf(api.CodeTableNotOper, "TableNotOperable: table %s is not operable: a schema change on it is pending", def.Name))
		return nil, false
	}
	if def.ID < tables.FirstUserTableID {
		s.reply(nil, api.Errorf(api.CodeTableNotAllowed, "table %s is a system table: SQL does not write it", def.Name))
		return nil, false
	}
	d := def.Clone()
	return &d, true
}

// insert: the source's rows (a query like any other), made into the
// table's rows; a sharded table's go to their buckets' masters, one batch
// per bucket; a global table's through the Raft log in one CaS.
func (s *statement) insert(x *parse.Insert) {
	def, ok := s.target(x.Table, x)
	if !ok {
		return
	}
	s.query(x.Source, func(src *exec.Result) {
		rows, err := exec.InsertRows(&exec.Table{Name: def.Name, Columns: columns(def)}, x.Columns, src.Rows)
		if err != nil {
			s.fail(err)
			return
		}
		if !def.IsSharded() {
			s.globalInsert(def, rows, x.OnConflict)
			return
		}
		s.shardedInsert(def, rows, x.OnConflict)
	})
}

// shardedInsert writes rows (bucket_id not set yet) of a sharded table:
// the rows of each replicaset, as this instance's bucket map has it, as
// one atomic batch on its master. A batch whose buckets turn out to be
// split between replicasets (they moved) is sent again bucket by bucket,
// each bucket's rows one batch.
func (s *statement) shardedInsert(def *schema.TableDef, rows [][]any, conflict string) {
	count := s.m.placement.BucketCount(def.Tier)
	pos, _ := def.FieldIndex(schema.BucketIDField)
	bm := s.m.placement.Map()
	type group struct {
		bucket uint64 // the first row's: where the batch is routed
		rows   [][]any
	}
	var order []string
	groups := map[string]*group{}
	for _, row := range rows {
		b, err := sharding.RowBucket(*def, row, count)
		if err != nil {
			s.reply(nil, api.Errorf(api.CodeIllegalParams, "sql: table %s: %v", def.Name, err))
			return
		}
		row[pos] = b
		owner := fmt.Sprintf("bucket %d", b) // no owner known: a batch of its own
		if r, ok := bm.Find(def.Tier, b); ok && r.ReplicasetID != "" {
			owner = r.ReplicasetID
		}
		g := groups[owner]
		if g == nil {
			g = &group{bucket: b}
			groups[owner] = g
			order = append(order, owner)
		}
		g.rows = append(g.rows, row)
	}
	if len(order) == 0 {
		s.count(0)
		return
	}
	total, left := uint64(0), len(order)
	ticks := s.m.cfg.ticks(s.timeout)
	done := func(n uint64) {
		total += n
		if left--; left == 0 {
			s.count(total)
		}
	}
	var send func(bucket uint64, rows [][]any, split bool)
	send = func(bucket uint64, rows [][]any, split bool) {
		req := sharding.Request{Tier: def.Tier, Bucket: bucket, Write: true,
			Call: api.SQLInsert{Table: def.ID, Rows: rows, OnConflict: conflict}}
		respond := func(_ []any, err *api.Error) {
			switch {
			case err == nil:
			case err.Code == api.CodeBucketsSplit && split:
				byBucket := map[uint64][][]any{}
				var buckets []uint64
				for _, row := range rows {
					b, _ := tuple.AsUint64(row[pos])
					if _, seen := byBucket[b]; !seen {
						buckets = append(buckets, b)
					}
					byBucket[b] = append(byBucket[b], row)
				}
				left += len(buckets) - 1
				for _, b := range buckets {
					send(b, byBucket[b], false)
				}
			default:
				s.reply(nil, err)
			}
		}
		s.m.router.routeWithin(req, ticks, respond, func(results []any) ([]any, *api.Error) {
			res, e := sqlResultOf(results[0])
			if e != nil {
				return nil, e
			}
			done(res.RowCount)
			return nil, nil
		})
	}
	for _, owner := range order {
		g := groups[owner]
		send(g.bucket, g.rows, true)
	}
}

// globalInsert writes a global table's rows through one CaS.
func (s *statement) globalInsert(def *schema.TableDef, rows [][]any, conflict string) {
	var ops []tables.Dml
	seen := map[string]bool{}
	for _, row := range rows {
		switch conflict {
		case "REPLACE":
			ops = append(ops, tables.Replace(def.ID, row...))
			continue
		case "NOTHING":
			key, err := def.RowKey(row)
			if err != nil {
				s.reply(nil, api.Errorf(api.CodeIllegalParams, "sql: table %s: %v", def.Name, err))
				return
			}
			_, exists, _ := s.m.tables.Get(def.ID, def.KeyValues(row))
			if exists || seen[string(key)] {
				continue
			}
			seen[string(key)] = true
		}
		ops = append(ops, tables.Insert(def.ID, row...))
	}
	s.globalWrite(def, ops, uint64(len(ops)))
}

// globalWrite proposes ops on a global table as one CaS whose predicate is
// the table as this instance has applied it, and answers once the entry is
// applied here (what the statement wrote, this instance reads).
func (s *statement) globalWrite(def *schema.TableDef, ops []tables.Dml, rows uint64) {
	if len(ops) == 0 {
		s.count(0)
		return
	}
	uid, e := s.m.userID(s.user)
	if e != nil {
		s.reply(nil, e)
		return
	}
	st := s.m.ra.BasicStatus()
	term, _ := s.m.ra.Term(st.Applied)
	req := api.Cas{ClusterID: s.m.cfg.ClusterID, AsUser: uid, Op: tables.BatchOp(ops...),
		Predicate: api.Predicate{Index: st.Applied, Term: term, Ranges: []tables.Range{{Table: def.ID}}}}
	s.m.toLeader(req, func(result any, err *api.Error) {
		if err != nil {
			s.reply(nil, err)
			return
		}
		index, _ := casIndex(result)
		s.waitApplied(index, func() { s.count(rows) })
	})
}

// casIndex reads the index of a CaS's answer [index, term].
func casIndex(result any) (uint64, bool) {
	vals, ok := result.([]any)
	if !ok || len(vals) == 0 {
		return 0, false
	}
	return tuple.AsUint64(vals[0])
}

// waitApplied calls then once this instance has applied index, or fails
// the statement at its timeout.
func (s *statement) waitApplied(index uint64, then func()) {
	req := s.m.await(func(_ []any, err *api.Error) {
		if err != nil {
			s.reply(nil, err)
			return
		}
		then()
	}, "sql", func(ra.Reply) ([]any, *api.Error) { return nil, nil })
	s.m.ra.WaitApplied(req, index)
	s.m.ra.SetDeadline(req, s.m.cfg.ticks(s.timeout))
}

// userID is the id of the user a statement runs as.
func (m *sqlModule) userID(name string) (uint32, *api.Error) {
	u, ok, err := m.tables.UserByName(name)
	if err != nil || !ok {
		return 0, api.Errorf(api.CodeNoSuchUser, "sql: user %s does not exist", name)
	}
	return uint32(u.ID), nil
}

// update: a global table's by CaS; a sharded table's where its rows are,
// or — when it sets a sharding-key column — by moving each row.
func (s *statement) update(x *parse.Update) {
	def, ok := s.target(x.Table, x)
	if !ok {
		return
	}
	if !def.IsSharded() {
		_, old, updated, err := exec.Update(s.m.catalog(), x, s.env)
		if err != nil {
			s.fail(err)
			return
		}
		var ops []tables.Dml
		for i := range old {
			ops = append(ops, replaceOps(def, old[i], updated[i],
				func(key []any) tables.Dml { return tables.Delete(def.ID, key...) },
				func(row []any) tables.Dml { return tables.Insert(def.ID, row...) },
				func(row []any) tables.Dml { return tables.Replace(def.ID, row...) })...)
		}
		s.globalWrite(def, ops, uint64(len(old)))
		return
	}
	s.shardedWrite(def, x, x.Where, x.Set)
}

// replaceOps are the writes that turn row old into row updated: a replace
// when the primary key stays, else a delete and an insert.
func replaceOps[T any](def *schema.TableDef, old, updated []any, del func([]any) T, ins, repl func([]any) T) []T {
	if tuple.CompareValues(def.KeyValues(old), def.KeyValues(updated)) == 0 {
		return []T{repl(updated)}
	}
	return []T{del(def.KeyValues(old)), ins(updated)}
}

func (s *statement) delete(x *parse.Delete) {
	def, ok := s.target(x.Table, x)
	if !ok {
		return
	}
	if !def.IsSharded() {
		_, rows, err := exec.Matching(s.m.catalog(), x.Table, x.Where, s.env)
		if err != nil {
			s.fail(err)
			return
		}
		var ops []tables.Dml
		for _, r := range rows {
			ops = append(ops, tables.Delete(def.ID, def.KeyValues(r)...))
		}
		s.globalWrite(def, ops, uint64(len(rows)))
		return
	}
	s.shardedWrite(def, x, x.Where, nil)
}

// shardedWrite runs an UPDATE or DELETE of a sharded table as planned.
func (s *statement) shardedWrite(def *schema.TableDef, stmt parse.Stmt, where parse.Expr, set []*parse.Assignment) {
	pt, _ := planCatalog{s.m.Node}.Table(def.Name)
	w, err := plan.PlanWrite(planCatalog{s.m.Node}, stmt, pt, where, set, s.planEnv())
	if err != nil {
		s.fail(err)
		return
	}
	if w.MovesRows {
		s.moveRows(def, stmt.(*parse.Update), w)
		return
	}
	req := sharding.Request{Tier: def.Tier, Bucket: w.Bucket, Scan: w.Bucket == 0, Write: true,
		Call: api.SQLLocal{Query: stmt.String(), Params: s.env.Params, Tier: def.Tier, Bucket: w.Bucket, RowMax: s.rowMax}}
	s.m.router.routeWithin(req, s.m.cfg.ticks(s.timeout), s.once(), func(results []any) ([]any, *api.Error) {
		total := uint64(0)
		for _, r := range results {
			res, e := sqlResultOf(r)
			if e != nil {
				return nil, e
			}
			total += res.RowCount
		}
		s.count(total)
		return nil, nil
	})
}

// moveRows is an UPDATE that sets a sharding-key column: the rows WHERE
// selects are read, updated here, and each is deleted from its bucket
// and inserted into its new one, one row after another. Each row's delete
// and insert are two writes: a failure between them (the statement's
// error says which row) leaves that row deleted.
func (s *statement) moveRows(def *schema.TableDef, x *parse.Update, w *plan.Write) {
	s.runPlan(w.Read, func(read *exec.Result) {
		cat := exec.Overlay{Over: exec.Tables{def.Name: exec.RowsTable(def.Name, columns(def), read.Rows)}, Under: s.m.catalog()}
		_, old, updated, err := exec.Update(cat, x, s.env)
		if err != nil {
			s.fail(err)
			return
		}
		count := s.m.placement.BucketCount(def.Tier)
		pos, _ := def.FieldIndex(schema.BucketIDField)
		ticks := s.m.cfg.ticks(s.timeout)
		var step func(i int)
		step = func(i int) {
			if i == len(old) {
				s.count(uint64(len(old)))
				return
			}
			from, _ := tuple.AsUint64(old[i][pos])
			row := slices.Clone(updated[i])
			to, err := sharding.RowBucket(*def, row, count)
			if err != nil {
				s.reply(nil, api.Errorf(api.CodeIllegalParams, "sql: table %s: %v", def.Name, err))
				return
			}
			row[pos] = to
			del := sharding.Request{Tier: def.Tier, Bucket: from, Write: true,
				Call: api.Delete{Table: def.ID, Index: 0, Key: def.KeyValues(old[i])}}
			s.m.router.routeWithin(del, ticks, s.once(), func([]any) ([]any, *api.Error) {
				ins := sharding.Request{Tier: def.Tier, Bucket: to, Write: true,
					Call: api.SQLInsert{Table: def.ID, Rows: [][]any{row}}}
				s.m.router.routeWithin(ins, ticks, s.once(), func([]any) ([]any, *api.Error) {
					step(i + 1)
					return nil, nil
				})
				return nil, nil
			})
		}
		step(0)
	})
}
