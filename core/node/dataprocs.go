package node

import (
	"fmt"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/replication"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/sharding"
	"github.com/picogo/picogo/core/storage"
	"github.com/picogo/picogo/core/tuple"
)

// The data module's procedures: the vclock (`.proc_get_vclock`,
// `.proc_wait_vclock`), the switchover (`.proc_replication_demote`,
// `.proc_replication_promote`), shipping (`.proc_replicaset_ship`), and
// Tarantool's requests on the sharded tables this instance holds.

func (m *data) getVClock(_ string, r api.GetVClock, respond responder) {
	if r.Fence {
		m.member.Fence()
	}
	respond([]any{m.member.VClock()}, nil)
}

func (m *data) waitVClock(_ string, r api.WaitVClock, respond responder) {
	id := m.request(func(d replication.Done) {
		if d.Err != nil {
			respond(nil, &api.Error{Code: d.Err.Code, Message: r.Proc() + ": " + d.Err.Message})
			return
		}
		respond([]any{d.VClock}, nil)
	})
	m.member.WaitVClock(id, r.Target, m.cfg.ticks(r.Timeout))
}

// demote: read-only at once; the vclock covers every write accepted.
func (m *data) demote(_ string, _ api.ReplicationDemote, respond responder) {
	m.master = false
	v := m.member.Demote()
	m.configure()
	m.emit(Note{Event: "replication", Detail: "demoted at vclock " + v.String()})
	respond([]any{v}, nil)
}

// promote: writable once this instance's vclock reaches the old master's
// (and, as always, while the tables name it master).
func (m *data) promote(_ string, r api.ReplicationPromote, respond responder) {
	id := m.request(func(d replication.Done) {
		if d.Err != nil {
			respond(nil, &api.Error{Code: d.Err.Code, Message: r.Proc() + ": " + d.Err.Message})
			return
		}
		m.master = true
		m.configure()
		m.emit(Note{Event: "replication", Detail: "promoted at vclock " + d.VClock.String()})
		respond(nil, nil)
	})
	m.member.Promote(id, r.VClock, m.cfg.ticks(r.Timeout))
}

// ship hands a shipment to the member; the member's Answer effect, under
// the same request id, is the reply.
func (m *data) ship(_ string, r api.ReplicasetShip, respond responder) {
	m.next++
	m.answers[m.next] = respond
	m.member.Receive(m.next, r.From, r.Payload)
}

func (m *data) insert(_ string, r api.Insert, respond responder) {
	m.write(r.Table, storage.Op{Kind: storage.OpInsert, Table: r.Table, Tuple: r.Tuple}, respond)
}

func (m *data) replace(_ string, r api.Replace, respond responder) {
	m.write(r.Table, storage.Op{Kind: storage.OpReplace, Table: r.Table, Tuple: r.Tuple}, respond)
}

func (m *data) update(_ string, r api.Update, respond responder) {
	m.write(r.Table, storage.Op{Kind: storage.OpUpdate, Table: r.Table, Index: r.Index, Key: r.Key, Ops: r.Ops}, respond)
}

func (m *data) upsert(_ string, r api.Upsert, respond responder) {
	m.write(r.Table, storage.Op{Kind: storage.OpUpsert, Table: r.Table, Tuple: r.Tuple, Ops: r.Ops}, respond)
}

func (m *data) delete(_ string, r api.Delete, respond responder) {
	m.write(r.Table, storage.Op{Kind: storage.OpDelete, Table: r.Table, Index: r.Index, Key: r.Key}, respond)
}

// write runs op on a sharded table of this instance's replicaset: on its
// master, answered once durable (in a synchronous tier: once a majority of
// the replicaset has it); a replica refuses, naming the master.
func (m *data) write(table uint32, op storage.Op, respond responder) {
	def, e := m.writableTable(table)
	if e != nil {
		respond(nil, e)
		return
	}
	if e := m.checkWrite(def, op); e != nil {
		respond(nil, e)
		return
	}
	m.writeOp(op, respond, func(d replication.Done) ([]any, *api.Error) {
		if d.Result.Raw() != nil {
			return []any{d.Result.Values()}, nil
		}
		return nil, nil
	})
}

// checkWrite is what a write of op on sharded table def must pass before
// the member takes it: a tuple's bucket_id is a bucket of the tier and the
// bucket of its sharding key, and this replicaset serves that bucket for
// writes (the fence).
func (m *data) checkWrite(def schema.TableDef, op storage.Op) *api.Error {
	if e := m.checkBucket(def, op); e != nil {
		return e
	}
	b, ok, e := m.writeBucket(def, op)
	if e != nil || !ok {
		return e
	}
	return m.fence(def.Tier, b, true)
}

// writeOp hands op to the member and answers respond once it is done: a
// replica's refusal names the master; success is answered by ok.
func (m *data) writeOp(op storage.Op, respond responder, ok func(replication.Done) ([]any, *api.Error)) {
	id := m.request(func(d replication.Done) {
		switch {
		case d.Err != nil && d.Err.Code == replication.CodeReadonly:
			respond(nil, m.readOnly(d.Err))
		case d.Err != nil:
			respond(nil, boxError(d.Err))
		default:
			respond(ok(d))
		}
	})
	m.member.Write(id, m.tables.SchemaVersion(), op)
}

// writableTable finds the table a Tarantool write names: a sharded table
// this instance holds, whose schema is not changing.
func (m *data) writableTable(id uint32) (schema.TableDef, *api.Error) {
	def, ok := m.userTable(id)
	if !ok {
		if g, ok := m.tables.Table(id); ok {
			return schema.TableDef{}, api.Errorf(api.CodeTableNotAllowed,
				"table %s is global: it is written through the Raft log (.proc_cas), not by a Tarantool request", g.Name)
		}
		return schema.TableDef{}, api.Errorf(api.CodeNoSuchSpace, "Space '%d' does not exist", id)
	}
	if !def.Operable {
		return schema.TableDef{}, api.Errorf(api.CodeTableNotOper,
			"TableNotOperable: table %s is not operable: a schema change on it is pending", def.Name)
	}
	return def, nil
}

// checkBucket: a tuple written into a sharded table carries its bucket
// id, 1 to the tier's bucket count (a Tarantool request names it, as
// vshard's storages expect; writeBucket then checks it is the bucket of
// the row's sharding key, and the fence that this replicaset owns it).
func (m *data) checkBucket(def schema.TableDef, op storage.Op) *api.Error {
	if op.Tuple == nil {
		return nil
	}
	pos, ok := def.FieldIndex(schema.BucketIDField)
	if !ok || pos >= len(op.Tuple) {
		return nil // the engine refuses the tuple's shape
	}
	b, ok := tuple.AsUint64(op.Tuple[pos])
	if count := m.bucketCount(def.Tier); !ok || b < 1 || b > count {
		return api.Errorf(api.CodeIllegalParams, "table %s: bucket_id %v is not a bucket of tier %s (1 to %d)",
			def.Name, op.Tuple[pos], def.Tier, count)
	}
	return nil
}

func (m *data) bucketCount(tier string) uint64 { return m.placement.BucketCount(tier) }

// readOnly is a replica's refusal of a write: it names the master, so that
// the client can go there.
func (m *data) readOnly(e *tuple.Error) *api.Error {
	where := "unknown"
	if m.role.Master != 0 {
		where = fmt.Sprintf("raft id %d", m.role.Master)
		if addr, ok := m.address(m.role.Master); ok {
			where += " at " + addr
		}
	}
	return &api.Error{Code: e.Code, Message: fmt.Sprintf("%s: the master of this replicaset is %s", e.Message, where)}
}

// selectRows serves Tarantool's SELECT on a sharded table this instance
// holds: local, so a replica may lag its master (`.proc_wait_vclock`
// waits). A member that learnt it diverged from its master serves nothing
// until its full copy arrived.
func (m *data) selectRows(def schema.TableDef, r api.Select, respond responder) {
	if m.member.Stale() {
		respond(nil, api.Errorf(api.CodeNotReady, "select from %s: this instance diverged from its master and is getting a full copy", def.Name))
		return
	}
	it := storage.Iterator(r.Iterator)
	if r.Index == 0 && (it == storage.IterEQ || it == storage.IterREQ) {
		// A whole primary key fixes the bucket: a router that sent it
		// here from an old map hears so, rather than "no such row".
		if b, ok, _ := sharding.KeyBucket(def, r.Key, m.bucketCount(def.Tier)); ok {
			if e := m.fence(def.Tier, b, false); e != nil {
				respond(nil, e)
				return
			}
		}
	}
	limit := r.Limit
	if limit == 0 {
		limit = ^uint32(0)
	}
	// Rows of buckets this replicaset does not serve are invisible: the
	// offset and limit count only the others. Read in pages that double
	// (an engine's offset is skipped row by row: the total stays linear),
	// so that a small limit does not read the whole table.
	bm := m.bucketMap()
	pos, _ := def.FieldIndex(schema.BucketIDField)
	out := []any{}
	skip := r.Offset
	page := max(min(r.Offset+min(limit, 1<<20), 1024), 1)
	for from := uint32(0); uint32(len(out)) < limit; from, page = from+page, min(page*2, 1<<20) {
		rows, err := m.member.Engine().Select(def.ID, r.Index, r.Key, it, from, page)
		if err != nil {
			respond(nil, boxError(err))
			return
		}
		for _, t := range rows {
			if uint32(len(out)) == limit {
				break
			}
			if !m.readable(bm, def, pos, t) {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			out = append(out, t.Values())
		}
		if uint32(len(rows)) < page {
			break
		}
	}
	// Answered once what it read can no longer be taken back
	// (Member.ReadBarrier).
	id := m.request(func(d replication.Done) {
		if d.Err != nil {
			respond(nil, boxError(d.Err))
			return
		}
		respond(out, nil)
	})
	m.member.ReadBarrier(id)
}
