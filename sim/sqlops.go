package sim

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/tuple"
	lin "github.com/picogo/picogo/linearizability"
)

// SQL in a seed's world (docs/simulator.md, "User data", "SQL"): a share
// of the data operations go through `.proc_sql` on a random running
// instance, which plans the statement and routes it through its own router
// as `.proc_router_replace` does. Writes by key join the data history;
// reads are checked against what clients wrote; at rest, the whole table
// and an aggregate over it, read through SQL, must be what the direct
// reads of every replicaset's master found.

// sqlText are the statements the SQL clients run on the data table, its
// columns named as its definition has them.
type sqlText struct {
	insert, update, point, scan, agg, all string
}

// sqlStatements are the statements on def: its key column is the primary
// key's, its value column the other one (bucket_id is the cluster's).
func sqlStatements(def schema.TableDef) sqlText {
	t := parse.Ident(def.Name)
	idName := def.Format[def.PrimaryKey[0]].Name
	var valName string
	for _, f := range def.Format {
		if f.Name != idName && f.Name != schema.BucketIDField {
			valName = f.Name
		}
	}
	id, val := parse.Ident(idName), parse.Ident(valName)
	return sqlText{
		insert: fmt.Sprintf("INSERT INTO %s (%s, %s) VALUES ($1, $2) ON CONFLICT DO REPLACE", t, id, val),
		update: fmt.Sprintf("UPDATE %s SET %s = $2 WHERE %s = $1", t, val, id),
		point:  fmt.Sprintf("SELECT %s FROM %s WHERE %s = $1", val, t, id),
		scan:   fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s BETWEEN $1 AND $2", id, val, t, id),
		agg:    fmt.Sprintf("SELECT COUNT(*), MIN(%s), MAX(%s) FROM %s", id, id, t),
		all:    fmt.Sprintf("SELECT %s, %s FROM %s", id, val, t),
	}
}

// sqlOp is an SQL statement through `.proc_sql` on a random running
// instance (of any tier: its router finds the owners):
//
//   - an INSERT ... ON CONFLICT DO REPLACE of (k, a unique value): a blind
//     write, recorded in the data history as a Put exactly like a routed
//     replace (an error is an unknown outcome: an attempt may have landed);
//   - an UPDATE of the value of a key (half the time one some client's
//     write of was acknowledged): row_count 1 is an acknowledged Put; an
//     error an unknown one (it may have found the row and changed it, or
//     not); row_count 0 changed nothing and found the row absent: a read
//     of the key that found nothing, judged like the final reads, but
//     only for keys whose bucket never lived on a replicaset where the
//     governor began a failover (an old master cut off may not know it was
//     replaced and answer from what it has: routedOp's stale get);
//   - a point SELECT of a key: not recorded (routedOp's get: the master it
//     reaches may have been replaced without knowing it), but a row it
//     returns must hold a value some client wrote for that key;
//   - a range SELECT (BETWEEN): every row's key within the range and its
//     value one written for that key; a key seen twice only if its bucket
//     lived on two replicasets (a scan is not a snapshot across
//     replicasets: a bucket moving during it may be seen on both, or on
//     neither — so no completeness check);
//   - an aggregate COUNT(*), MIN(id), MAX(id): the count at most the keys
//     ever written, plus, for each key whose bucket lived on several
//     replicasets, one per further replicaset (a moving bucket may be
//     counted on each); MIN and MAX keys some client wrote (NULL for an
//     empty table).
//
// Like routedOp it does not write while the owner's master is known down
// (each such write would be an unknown outcome).
func (c *client) sqlOp(k uint64) {
	w := c.w
	if !c.connectToLive() {
		c.finish()
		return
	}
	switch x := c.rng.IntN(20); {
	case x < 7:
		c.sqlWrite(k, false)
	case x < 11:
		c.sqlWrite(c.writtenKey(k), true)
	case x < 15:
		c.sqlPoint(c.writtenKey(k))
	case x < 18:
		lo := uint64(c.rng.IntN(w.params.Keys))
		if c.rng.IntN(2) == 0 {
			lo = uint64(1000 + c.rng.IntN(w.data.fresh+1))
		}
		c.sqlScan(lo, lo+uint64(c.rng.IntN(40)))
	default:
		c.sqlAggregate()
	}
}

// writtenKey is, half the time, a key some client's write of was
// acknowledged (if any), else k.
func (c *client) writtenKey(k uint64) uint64 {
	d := &c.w.data
	if len(d.acked) > 0 && c.rng.IntN(2) == 0 {
		return d.acked[c.rng.IntN(len(d.acked))]
	}
	return k
}

// sqlWrite is an INSERT ... ON CONFLICT DO REPLACE of k, or an UPDATE of
// its value.
func (c *client) sqlWrite(k uint64, update bool) {
	w := c.w
	b := bucketOf(k, w.dataTier().BucketCount)
	key := fmt.Sprintf("k%d", k)
	via := c.target + 1
	rs, master, ok := w.ownerOf(b)
	if !ok || !w.instances[master].up() {
		c.finish()
		return
	}
	val := c.value()
	w.data.keys[key] = b
	w.data.valueOf[val] = key
	w.data.visit(b, rs)
	id := w.data.call(c.id, lin.Put(key, val), c.now())
	query, what := w.data.sql.insert, "insert"
	if update {
		query, what = w.data.sql.update, "update"
	}
	c.call(api.SQL{Query: query, Params: []any{k, val}}, func(res any, e *api.Error) {
		if rs, _, ok := w.ownerOf(b); ok {
			w.data.visit(b, rs)
		}
		out := lin.Outcome{Kind: lin.Ok}
		msg := "ok"
		r, _ := res.(api.SQLResult)
		switch {
		case e != nil:
			out.Kind, msg = lin.Unknown, e.Message
		case r.Query || r.RowCount > 1 || !update && r.RowCount != 1:
			w.fail(fmt.Errorf("c%d sql %s %s=%s via i%d answered %+v: one row by its key", c.id, what, key, val, via, r))
			return
		case r.RowCount == 0:
			// The UPDATE found no row and changed nothing: a read of the
			// key that found it absent.
			w.data.ops[id].op = lin.Get(key)
			w.data.ops[id].read = true
			msg = "no row"
		}
		w.data.ret(id, out, c.now())
		w.trace.printf("c%d sql %s %s=%s (bucket %d) via i%d → %s: %s", c.id, what, key, val, b, via, out.Kind, msg)
		c.finish()
	})
}

// sqlPoint selects the value of k.
func (c *client) sqlPoint(k uint64) {
	w := c.w
	key := fmt.Sprintf("k%d", k)
	via := c.target + 1
	c.call(api.SQL{Query: w.data.sql.point, Params: []any{k}}, func(res any, e *api.Error) {
		var rows [][]any
		if e == nil {
			r, _ := res.(api.SQLResult)
			if err := w.sqlPointRead(key, r); err != nil {
				w.fail(fmt.Errorf("c%d sql select %s via i%d: %w", c.id, key, via, err))
				return
			}
			rows = r.Rows
		}
		w.trace.printf("c%d sql select %s via i%d: %v %v", c.id, key, via, rows, e)
		c.finish()
	})
}

// sqlPointRead checks a point select's answer: no row, or one whose value
// some client wrote for key.
func (w *World) sqlPointRead(key string, r api.SQLResult) error {
	if !r.Query || len(r.Rows) > 1 {
		return fmt.Errorf("answered %+v: not at most one row", r)
	}
	for _, row := range r.Rows {
		v, _ := row[0].(string)
		if len(row) != 1 || w.data.valueOf[v] != key {
			return fmt.Errorf("answered %v: value %q was never written for %s", row, v, key)
		}
	}
	return nil
}

// sqlScan selects the rows with keys from lo to hi.
func (c *client) sqlScan(lo, hi uint64) {
	w := c.w
	via := c.target + 1
	c.call(api.SQL{Query: w.data.sql.scan, Params: []any{lo, hi}}, func(res any, e *api.Error) {
		n := 0
		if e == nil {
			r, _ := res.(api.SQLResult)
			if err := w.sqlScanRead(lo, hi, r); err != nil {
				w.fail(fmt.Errorf("c%d sql select %d..%d via i%d: %w", c.id, lo, hi, via, err))
				return
			}
			n = len(r.Rows)
		}
		w.trace.printf("c%d sql select %d..%d via i%d: %d rows %v", c.id, lo, hi, via, n, e)
		c.finish()
	})
}

// sqlScanRead checks a range select's rows: keys within the range, values
// written for their keys, a key twice only if its bucket lived on two
// replicasets (it may have moved during the scan).
func (w *World) sqlScanRead(lo, hi uint64, r api.SQLResult) error {
	if !r.Query {
		return fmt.Errorf("answered %+v: not rows", r)
	}
	seen := map[uint64]int{}
	for _, row := range r.Rows {
		if len(row) != 2 {
			return fmt.Errorf("row %v: not (id, value)", row)
		}
		id, ok := tuple.AsUint64(row[0])
		v, _ := row[1].(string)
		key := fmt.Sprintf("k%d", id)
		switch {
		case !ok || id < lo || id > hi:
			return fmt.Errorf("row %v: key outside %d..%d", row, lo, hi)
		case w.data.valueOf[v] != key:
			return fmt.Errorf("row %v: value %q was never written for %s", row, v, key)
		}
		seen[id]++
		if places := len(w.data.visited[bucketOf(id, w.dataTier().BucketCount)]); seen[id] > max(places, 1) {
			return fmt.Errorf("row %v seen %d times, its bucket lived on %d replicaset(s)", row, seen[id], places)
		}
	}
	return nil
}

// sqlAggregate counts the rows and takes their smallest and largest key.
func (c *client) sqlAggregate() {
	w := c.w
	via := c.target + 1
	c.call(api.SQL{Query: w.data.sql.agg}, func(res any, e *api.Error) {
		var rows [][]any
		if e == nil {
			r, _ := res.(api.SQLResult)
			if err := w.sqlAggregateRead(r); err != nil {
				w.fail(fmt.Errorf("c%d sql aggregate via i%d: %w", c.id, via, err))
				return
			}
			rows = r.Rows
		}
		w.trace.printf("c%d sql count/min/max via i%d: %v %v", c.id, via, rows, e)
		c.finish()
	})
}

// sqlAggregateRead checks COUNT(*), MIN(id), MAX(id) during the run: the
// count within what was written (a key whose bucket lived on n
// replicasets may be counted n times), MIN and MAX keys written.
func (w *World) sqlAggregateRead(r api.SQLResult) error {
	if !r.Query || len(r.Rows) != 1 || len(r.Rows[0]) != 3 {
		return fmt.Errorf("answered %+v: not one row of three", r)
	}
	row := r.Rows[0]
	count, ok := tuple.AsUint64(row[0])
	if !ok {
		return fmt.Errorf("count %v: not a number", row[0])
	}
	bound := uint64(0)
	for _, key := range slices.Sorted(maps.Keys(w.data.keys)) {
		bound += uint64(max(len(w.data.visited[w.data.keys[key]]), 1))
	}
	if count > bound {
		return fmt.Errorf("count %d: only %d keys were written (counting each moved bucket's on every replicaset)", count, len(w.data.keys))
	}
	if count == 0 {
		if row[1] != nil || row[2] != nil {
			return fmt.Errorf("row %v: no rows, but a MIN or MAX", row)
		}
		return nil
	}
	lo, ok1 := tuple.AsUint64(row[1])
	hi, ok2 := tuple.AsUint64(row[2])
	_, w1 := w.data.keys[fmt.Sprintf("k%d", lo)]
	_, w2 := w.data.keys[fmt.Sprintf("k%d", hi)]
	if !ok1 || !ok2 || !w1 || !w2 || lo > hi {
		return fmt.Errorf("row %v: MIN and MAX not keys written, in order", row)
	}
	return nil
}

// ack notes key's acknowledged write (keys in the order of their first).
func (d *dataPlane) ack(key string) {
	k, err := strconv.ParseUint(key[1:], 10, 64)
	if err != nil || d.ackedSet[k] {
		return
	}
	d.ackedSet[k] = true
	d.acked = append(d.acked, k)
}

// finalSQL reads the quiesced table through `.proc_sql` on a random
// running instance — every row, and COUNT(*), MIN(id), MAX(id) — and
// compares with rows, what the direct reads of every replicaset's master
// found (those are judged by the data history): the same rows, the count
// and the extremes of their keys.
func (w *World) finalSQL(rows map[uint64]string) {
	c := w.clients[0]
	// Through an instance that has applied as much of the Raft log as any:
	// one that lags (it was cut off until just now) routes by an old
	// bucket map and to old masters, whose rows may be stale — which is
	// what its router would read, not what the cluster holds.
	var up []int
	var best uint64
	for i, in := range w.instances {
		if !in.up() {
			continue
		}
		switch a := in.node().Status().Applied; {
		case a > best:
			best, up = a, []int{i}
		case a == best:
			up = append(up, i)
		}
	}
	if len(up) == 0 {
		return
	}
	c.target = up[c.rng.IntN(len(up))]
	opts := map[string]any{"sql_motion_row_max": int64(1 << 30)}
	run := func(query string) (api.SQLResult, bool) {
		var got api.SQLResult
		var last *api.Error
		for attempt := 0; attempt < 5 && w.failure == nil; attempt++ {
			c.connect()
			done, ok := false, false
			c.call(api.SQL{Query: query, Options: opts}, func(res any, e *api.Error) {
				done, last = true, e
				got, ok = res.(api.SQLResult)
				ok = ok && e == nil
			})
			deadline := w.sched.now + int64(2*w.params.OpTimeout)
			for !done && w.failure == nil && w.sched.step(deadline) {
			}
			if ok {
				return got, true
			}
		}
		if w.failure == nil {
			w.fail(fmt.Errorf("at rest, %q via i%d failed five times (last: %v)", query, c.target+1, last))
		}
		return got, false
	}
	all, ok := run(w.data.sql.all)
	if !ok {
		return
	}
	seen := map[uint64]string{}
	for _, row := range all.Rows {
		var id uint64
		var v string
		if len(row) == 2 {
			id, ok = tuple.AsUint64(row[0])
			v, _ = row[1].(string)
		}
		if len(row) != 2 || !ok {
			w.fail(fmt.Errorf("at rest, %q via i%d: row %v is not (id, value)", w.data.sql.all, c.target+1, row))
			return
		}
		if _, dup := seen[id]; dup {
			w.fail(fmt.Errorf("at rest, %q via i%d: key %d twice", w.data.sql.all, c.target+1, id))
			return
		}
		seen[id] = v
		if want, found := rows[id]; !found || want != v {
			w.fail(fmt.Errorf("at rest, %q via i%d: row (%d, %q), the masters hold %q (found %v)", w.data.sql.all, c.target+1, id, v, want, found))
			return
		}
	}
	if len(seen) != len(rows) {
		for _, id := range slices.Sorted(maps.Keys(rows)) {
			if _, found := seen[id]; !found {
				w.fail(fmt.Errorf("at rest, %q via i%d: %d rows, the masters hold %d: (%d, %q) missing", w.data.sql.all, c.target+1,
					len(seen), len(rows), id, rows[id]))
				return
			}
		}
	}
	agg, ok := run(w.data.sql.agg)
	if !ok {
		return
	}
	want := []any{uint64(len(rows)), nil, nil}
	if len(rows) > 0 {
		ids := slices.Sorted(maps.Keys(rows))
		want[1], want[2] = ids[0], ids[len(ids)-1]
	}
	good := len(agg.Rows) == 1 && len(agg.Rows[0]) == 3
	for i := 0; good && i < 3; i++ {
		got := agg.Rows[0][i]
		if want[i] == nil {
			good = got == nil
			continue
		}
		n, ok := tuple.AsUint64(got)
		good = ok && n == want[i]
	}
	if !good {
		w.fail(fmt.Errorf("at rest, %q via i%d answered %v, the masters hold %d rows, keys %v to %v", w.data.sql.agg, c.target+1,
			agg.Rows, len(rows), want[1], want[2]))
		return
	}
	w.trace.printf("final sql via i%d: %d rows, count/min/max %v", c.target+1, len(all.Rows), agg.Rows[0])
}
