package node

import (
	"fmt"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/mutant"
	"github.com/picogo/picogo/core/replication"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/storage"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
)

// buckets is the module of the storage side of bucket moves, called by the
// governor (governor_buckets.go, core/governor/rebalance.go): a sending
// range's rows read page by page on its owner's master
// (`.proc_bucket_export`), written on its destination's master
// (`.proc_bucket_import`), and deleted on the replicaset that keeps them
// as garbage once the range has moved (`.proc_bucket_delete`).
//
// Each first applies the governor's (term, index), then checks that
// _pico_bucket, as applied here, still has the range in the state the
// governor planned on, and that this instance is its replicaset's writable
// master: a stale plan (a range flipped or rolled back since, a master
// changed) moves nothing. Rows written here bypass the storages' bucket
// fencing: the destination does not own the buckets yet; reads filter by
// ownership, so the rows stay invisible to clients until the flip.
type buckets struct{ *Node }

func (m *buckets) register(r *registry) {
	serve(r, running, m.export)
	serve(r, running, m.importRows)
	serve(r, running, m.deleteRows)
}

// exportPageBytes is about how much a page of `.proc_bucket_export`
// holds: whole buckets, so a page may exceed it by one bucket's rows.
const exportPageBytes = 64 << 10

func (m *buckets) export(_ string, r api.BucketExport, respond responder) {
	m.atGovernorIndex(r.Proc(), r.Term, r.Index, r.Timeout, respond, func(respond responder) {
		rg, e := m.bucketRange(r.Proc(), r.Tier, r.First, r.Last)
		if e == nil {
			e = m.sendingFrom(r.Proc(), rg)
		}
		if e != nil {
			respond(nil, e)
			return
		}
		from := r.First
		if r.After >= r.First {
			from = r.After + 1
		}
		if from > r.Last {
			respond(nil, api.Errorf(api.CodeIllegalParams, "%s: after %d is past bucket %d", r.Proc(), r.After, r.Last))
			return
		}
		page, e := m.page(r.Proc(), r.Tier, from, r.Last)
		if e != nil {
			respond(nil, e)
			return
		}
		if m.cfg.mutants.Has(mutant.DeleteSourceBeforeFlip) && len(page.Rows) > 0 {
			m.writeAll(r.Proc(), m.deleteOps(page.Rows), func(_ []any, e *api.Error) {
				if e != nil {
					respond(nil, e)
					return
				}
				respond([]any{page}, nil)
			})
			return
		}
		respond([]any{page}, nil)
	})
}

// page reads the rows of buckets from..last of the tier's sharded tables
// (in table id order within a bucket) until they exceed exportPageBytes.
func (m *buckets) page(proc, tier string, from, last uint64) (api.BucketPage, *api.Error) {
	var page api.BucketPage
	defs := m.tierTables(tier)
	size := 0
	for b := from; b <= last; b++ {
		for _, def := range defs {
			rows, err := m.data.member.Engine().Select(def.ID, schema.BucketIDIndexID, []any{b}, storage.IterEQ, 0, storage.NoLimit)
			if err != nil {
				return api.BucketPage{}, &api.Error{Code: err.Code, Message: fmt.Sprintf("%s: table %s: %s", proc, def.Name, err.Message)}
			}
			for _, t := range rows {
				page.Rows = append(page.Rows, api.BucketRow{Table: def.ID, Tuple: t.Values()})
				size += len(t.Raw())
			}
		}
		if size > exportPageBytes && b < last {
			page.Next = b
			break
		}
	}
	return page, nil
}

func (m *buckets) importRows(_ string, r api.BucketImport, respond responder) {
	m.atGovernorIndex(r.Proc(), r.Term, r.Index, r.Timeout, respond, func(respond responder) {
		rg, e := m.bucketRange(r.Proc(), r.Tier, r.First, r.Last)
		if e == nil {
			e = m.sendingTo(r.Proc(), rg)
		}
		var ops []storage.Op
		for _, row := range r.Rows {
			if e != nil {
				break
			}
			e = m.rowInRange(r.Proc(), rg, row)
			ops = append(ops, storage.Op{Kind: storage.OpReplace, Table: row.Table, Tuple: row.Tuple})
		}
		if e != nil {
			respond(nil, e)
			return
		}
		m.writeAll(r.Proc(), ops, respond)
	})
}

func (m *buckets) deleteRows(_ string, r api.BucketDelete, respond responder) {
	m.atGovernorIndex(r.Proc(), r.Term, r.Index, r.Timeout, respond, func(respond responder) {
		rg, e := m.bucketRange(r.Proc(), r.Tier, r.First, r.Last)
		if e == nil {
			e = m.garbageHere(r.Proc(), rg)
		}
		if e != nil {
			respond(nil, e)
			return
		}
		var ops []storage.Op
		for _, def := range m.tierTables(r.Tier) {
			for b := r.First; b <= r.Last; b++ {
				rows, err := m.data.member.Engine().Select(def.ID, schema.BucketIDIndexID, []any{b}, storage.IterEQ, 0, storage.NoLimit)
				if err != nil {
					respond(nil, &api.Error{Code: err.Code, Message: fmt.Sprintf("%s: table %s: %s", r.Proc(), def.Name, err.Message)})
					return
				}
				for _, t := range rows {
					ops = append(ops, storage.Op{Kind: storage.OpDelete, Table: def.ID, Key: def.KeyValues(t.Values())})
				}
			}
		}
		m.writeAll(r.Proc(), ops, respond)
	})
}

// writeAll writes ops through the replicaset member, all at once (they
// touch distinct rows), and answers once all are done, or with the first
// error.
func (m *buckets) writeAll(proc string, ops []storage.Op, respond responder) {
	if len(ops) == 0 {
		respond(nil, nil)
		return
	}
	pending, failed := len(ops), false
	version := m.tables.SchemaVersion()
	for _, op := range ops {
		id := m.data.request(func(d replication.Done) {
			if failed {
				return
			}
			if d.Err != nil {
				failed = true
				e := boxError(d.Err)
				e.Message = fmt.Sprintf("%s: %s of a row of table %d: %s", proc, op.Kind, op.Table, e.Message)
				respond(nil, e)
				return
			}
			if pending--; pending == 0 {
				respond(nil, nil)
			}
		})
		m.data.member.Write(id, version, op)
	}
}

// bucketRange is the tier's _pico_bucket row of exactly buckets
// first..last, as applied here.
func (m *buckets) bucketRange(proc, tier string, first, last uint64) (tables.BucketRange, *api.Error) {
	rg, ok := m.placement.Map().Find(tier, first)
	if !ok || rg.First != first || rg.Last != last {
		return tables.BucketRange{}, api.Errorf(api.CodeProcLua, "%s: buckets %d-%d of tier %s are not one range here (stale plan?)",
			proc, first, last, tier)
	}
	return rg, nil
}

// master is this instance's replicaset, if this instance is its writable
// master.
func (m *buckets) master(proc string) (string, *api.Error) {
	rs := ""
	if self, ok := m.selfRow(); ok {
		rs = self.ReplicasetID
	}
	if rs == "" || m.data.member == nil || !m.data.member.Role().Writable {
		return "", api.Errorf(api.CodeReadonly, "%s: this instance is not its replicaset's writable master", proc)
	}
	return rs, nil
}

// sendingFrom: rg is sending from this replicaset, whose master this is.
func (m *buckets) sendingFrom(proc string, rg tables.BucketRange) *api.Error {
	rs, e := m.master(proc)
	if e != nil {
		return e
	}
	if rg.State != tables.BucketSending || rg.ReplicasetID != rs {
		return api.Errorf(api.CodeProcLua, "%s: %s is not being sent from %s (stale plan?)", proc, rg, rs)
	}
	return nil
}

// sendingTo: rg is sending to this replicaset, whose master this is.
func (m *buckets) sendingTo(proc string, rg tables.BucketRange) *api.Error {
	rs, e := m.master(proc)
	if e != nil {
		return e
	}
	if rg.State != tables.BucketSending || rg.Destination != rs {
		return api.Errorf(api.CodeProcLua, "%s: %s is not being sent to %s (stale plan?)", proc, rg, rs)
	}
	return nil
}

// garbageHere: rg's rows here are garbage (this replicaset does not own
// it), and this is its master.
func (m *buckets) garbageHere(proc string, rg tables.BucketRange) *api.Error {
	rs, e := m.master(proc)
	if e != nil {
		return e
	}
	if rg.Garbage != rs || rg.ReplicasetID == rs {
		return api.Errorf(api.CodeProcLua, "%s: %s is not garbage on %s (stale plan?)", proc, rg, rs)
	}
	return nil
}

// rowInRange: an imported row is of a sharded table of the range's tier
// that this engine holds, and its bucket is one of the range's.
func (m *buckets) rowInRange(proc string, rg tables.BucketRange, row api.BucketRow) *api.Error {
	def, ok := m.data.userTable(row.Table)
	if !ok || def.Tier != rg.Tier {
		return api.Errorf(api.CodeNoSuchSpace, "%s: table %d is not a sharded table of tier %s here", proc, row.Table, rg.Tier)
	}
	pos, ok := def.FieldIndex(schema.BucketIDField)
	var b uint64
	if ok && pos < len(row.Tuple) {
		b, ok = tuple.AsUint64(row.Tuple[pos])
	}
	if !ok || b < rg.First || b > rg.Last {
		return api.Errorf(api.CodeIllegalParams, "%s: a row of table %s outside buckets %d-%d", proc, def.Name, rg.First, rg.Last)
	}
	return nil
}

// tierTables are the sharded tables of tier this engine holds, by id.
func (m *buckets) tierTables(tier string) []schema.TableDef {
	var out []schema.TableDef
	if m.data.member == nil {
		return nil
	}
	for _, id := range m.data.member.Engine().Tables() {
		if def, ok := m.data.userTable(id); ok && def.IsSharded() && def.Tier == tier {
			out = append(out, def)
		}
	}
	return out
}

// sweepStray deletes, on a member just become writable master, the rows of buckets
// its replicaset neither owns nor is receiving. Such rows are garbage a
// move left here whose deletion the promotion lost: a failover in an
// asynchronous replicaset promotes a replica that may lack the old master's
// last writes, among them a collect's deletes, while _pico_bucket already
// says the garbage is gone. Invisible to clients (reads filter by
// ownership), they would come back to life if the bucket moved here again;
// swept now, in the log before any later import.
func (m *buckets) sweepStray() {
	tier := m.data.tier()
	bm := m.data.bucketMap()
	if !bm.Bootstrapped(tier) {
		return
	}
	rs := m.identity.ReplicasetID
	var ops []storage.Op
	for _, def := range m.tierTables(tier) {
		pos, ok := def.FieldIndex(schema.BucketIDField)
		if !ok {
			continue
		}
		// Each, not a Select of every row: a promotion runs this on the
		// loop, and copying a large table into one slice first was most
		// of a restarted master's way to Online (docs/BENCHMARKS.md).
		m.data.member.Engine().Each(def.ID, func(t tuple.Tuple) bool {
			b, _ := tuple.AsUint64(t.Field(pos))
			if r, ok := bm.Find(tier, b); !ok || (r.ReplicasetID != rs && r.Destination != rs) {
				ops = append(ops, storage.Op{Kind: storage.OpDelete, Table: def.ID, Key: def.KeyValues(t.Values())})
			}
			return true
		})
	}
	if len(ops) == 0 {
		return
	}
	m.emit(Note{Event: "buckets", Detail: fmt.Sprintf("new master: deleting %d rows of buckets replicaset %s neither owns nor receives", len(ops), rs)})
	m.writeAll("sweep", ops, func(_ []any, err *api.Error) {
		if err != nil {
			m.emit(Note{Event: "buckets", Detail: "sweep failed: " + err.Message})
		}
	})
}

// deleteOps deletes exported rows by primary key (DeleteSourceBeforeFlip).
func (m *buckets) deleteOps(rows []api.BucketRow) []storage.Op {
	var ops []storage.Op
	for _, row := range rows {
		def, ok := m.data.userTable(row.Table)
		if !ok {
			continue
		}
		ops = append(ops, storage.Op{Kind: storage.OpDelete, Table: def.ID, Key: def.KeyValues(row.Tuple)})
	}
	return ops
}
