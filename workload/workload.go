// Package workload owns the key-value workload that the simulator and the
// chaos test both drive through picogo's CaS: the GLOBAL table kv, and how
// each kind of write becomes a model operation (package linearizability),
// a DML and a predicate. One definition, so that the two checkers judge the
// same operations.
package workload

import (
	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	lin "github.com/picogo/picogo/linearizability"
	"github.com/vmihailenco/msgpack/v5"
)

// Table is the id of the kv table.
const Table uint32 = 1024

// Def is the kv table: key and value strings, GLOBAL, created through CaS
// as an application's DDL would be.
var Def = schema.TableDef{ID: Table, Name: "kv", Distribution: "global", Operable: true, Engine: "memtx",
	Format:     []schema.Field{{Name: "key", Type: "string"}, {Name: "value", Type: "string"}},
	PrimaryKey: []uint32{0}}

// WriteKind is what a client's write does.
type WriteKind uint8

const (
	// Cas writes only if the key still holds what the client read (a
	// predicate range on the key).
	Cas WriteKind = iota
	// Insert fails if the key exists.
	Insert
	// Put writes whatever is there.
	Put
)

// Key is a kv row's primary key, encoded as a CaS range wants it.
func Key(key string) msgpack.RawMessage {
	b, err := msgpack.Marshal([]any{key})
	if err != nil {
		panic(err) // a string always encodes
	}
	return b
}

// Write is one write of val to key: for Cas, expect/found are what the
// client read, and update picks an UPDATE of the row over a REPLACE (both
// change the row the client saw). It returns the model's operation, the
// DML, and the predicate ranges the CaS must carry.
func Write(kind WriteKind, key, val, expect string, found, update bool) (lin.Op, tables.Dml, []tables.Range) {
	switch kind {
	case Cas:
		ranges := []tables.Range{{Table: Table, Key: Key(key)}}
		if !found {
			return lin.CasAbsent(key, val), tables.Replace(Table, key, val), ranges
		}
		dml := tables.Replace(Table, key, val)
		if update {
			dml = tables.Update(Table, []any{key}, []any{"=", "value", val})
		}
		return lin.Cas(key, expect, val), dml, ranges
	case Insert:
		return lin.Insert(key, val), tables.Insert(Table, key, val), nil
	default:
		return lin.Put(key, val), tables.Replace(Table, key, val), nil
	}
}

// CasRequest is the `.proc_cas` that makes a write's dml as admin,
// predicated on the [index, term] the client last saw (seen) and on the
// write's ranges.
func CasRequest(clusterID string, seen api.RaftInfoResult, dml tables.Dml, ranges []tables.Range) api.Cas {
	return api.Cas{
		ClusterID: clusterID,
		Predicate: api.Predicate{Index: seen.Applied, Term: seen.Term, Ranges: ranges},
		Op:        tables.DmlOp(dml),
		AsUser:    tables.AdminID,
	}
}

// Refused is what a write's refusal e says about it: the key existed
// (Exists), the predicate found a conflict (Conflict), the call timed out
// or its connection failed — it may still happen (Unknown) — or another
// refusal: it did not happen (Failed).
func Refused(e *api.Error) lin.OutcomeKind {
	switch e.Code {
	case tuple.CodeTupleFound:
		return lin.Exists
	case api.CodeConflictFound:
		return lin.Conflict
	case api.CodeTimeout, api.CodeNoConnection:
		return lin.Unknown
	default:
		return lin.Failed
	}
}
