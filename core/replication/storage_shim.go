package replication

// TEMPORARY: storage.Op, Engine.Exec, EncodeChange/DecodeChange,
// Engine.Snapshot and storage.Restore are being added to core/storage on
// branch h-storops. Until they land, this file stands in for them with the
// agreed shapes; once they do, this file goes and the callers below call
// core/storage directly.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/storage"
	"github.com/picogo/picogo/core/tuple"
)

// OpKind is the kind of a DML request (TEMPORARY: storage.OpKind), numbered
// as IPROTO's request types.
type OpKind uint8

// Kinds of Op (TEMPORARY: storage's).
const (
	OpInsert  OpKind = 2
	OpReplace OpKind = 3
	OpUpdate  OpKind = 4
	OpDelete  OpKind = 5
	OpUpsert  OpKind = 9
)

// Op is one DML request (TEMPORARY: storage.Op).
type Op struct {
	Kind  OpKind
	Table uint32
	Index uint32
	Key   []any
	Tuple []any
	Ops   [][]any
}

// execOp runs op on e: the change it made and what Tarantool returns (the
// new tuple of an insert, replace or update, the old one of a delete,
// nothing for an upsert).
func execOp(e *storage.Engine, op Op) (storage.Change, tuple.Tuple, *tuple.Error) {
	var (
		ch  storage.Change
		err *tuple.Error
	)
	switch op.Kind {
	case OpInsert, OpReplace, OpUpsert:
		raw, merr := tuple.Marshal(op.Tuple)
		if merr != nil {
			return ch, tuple.Tuple{}, tuple.Errorf(tuple.CodeIllegalParams, "tuple does not encode: %v", merr)
		}
		t, terr := tuple.New(raw)
		if terr != nil {
			return ch, tuple.Tuple{}, tuple.Errorf(tuple.CodeIllegalParams, "%v", terr)
		}
		switch op.Kind {
		case OpInsert:
			ch, err = e.Insert(op.Table, t)
		case OpReplace:
			ch, err = e.Replace(op.Table, t)
		default:
			ch, err = e.Upsert(op.Table, t, op.Ops)
			return ch, tuple.Tuple{}, err
		}
		return ch, ch.New, err
	case OpUpdate:
		ch, err = e.Update(op.Table, op.Index, op.Key, op.Ops)
		return ch, ch.New, err
	case OpDelete:
		ch, err = e.Delete(op.Table, op.Index, op.Key)
		return ch, ch.Old, err
	}
	return ch, tuple.Tuple{}, tuple.Errorf(tuple.CodeIllegalParams, "unknown operation kind %d", op.Kind)
}

// encodeChange: table, then the old and the new tuple's raw msgpack, each
// length-prefixed (0: absent; a msgpack array is never empty).
func encodeChange(c storage.Change) []byte {
	b := binary.AppendUvarint(nil, uint64(c.Table))
	b = appendBytes(b, c.Old.Raw())
	return appendBytes(b, c.New.Raw())
}

func decodeChange(b []byte) (storage.Change, error) {
	r := reader{b: b}
	c := storage.Change{Table: uint32(r.uvarint())}
	old, nw := r.bytes(), r.bytes()
	if r.err != nil {
		return c, r.err
	}
	var err error
	if len(old) > 0 {
		if c.Old, err = tuple.New(bytes.Clone(old)); err != nil {
			return c, err
		}
	}
	if len(nw) > 0 {
		if c.New, err = tuple.New(bytes.Clone(nw)); err != nil {
			return c, err
		}
	}
	return c, nil
}

// engineSnapshot is deterministic: the tables in id order, each with its
// definition, its secondary indexes and its rows in primary key order.
func engineSnapshot(e *storage.Engine) []byte {
	var b []byte
	ids := e.Tables()
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		def, _ := e.Table(id)
		b = appendBytes(b, marshalSorted(def))
		idx, _ := e.Indexes(id)
		b = binary.AppendUvarint(b, uint64(len(idx)-1))
		for _, x := range idx[1:] {
			b = appendBytes(b, marshalSorted(x))
		}
		rows, _ := e.Select(id, 0, nil, storage.IterALL, 0, math.MaxUint32)
		b = binary.AppendUvarint(b, uint64(len(rows)))
		for _, t := range rows {
			b = appendBytes(b, t.Raw())
		}
	}
	return b
}

func restoreEngine(b []byte) (*storage.Engine, error) {
	e := storage.New()
	r := reader{b: b}
	n := r.uvarint()
	for range n {
		var def schema.TableDef
		if err := msgpack.Unmarshal(r.bytes(), &def); err != nil && r.err == nil {
			return nil, err
		}
		var idx []schema.IndexDef
		for range r.uvarint() {
			var x schema.IndexDef
			if err := msgpack.Unmarshal(r.bytes(), &x); err != nil && r.err == nil {
				return nil, err
			}
			idx = append(idx, x)
		}
		if r.err != nil {
			return nil, r.err
		}
		if err := e.CreateTable(def); err != nil {
			return nil, err
		}
		for range r.uvarint() {
			raw := r.bytes()
			if r.err != nil {
				return nil, r.err
			}
			t, err := tuple.New(bytes.Clone(raw))
			if err != nil {
				return nil, err
			}
			if err := e.Apply(storage.Change{Table: def.ID, New: t}); err != nil {
				return nil, err
			}
		}
		for _, x := range idx {
			if err := e.CreateIndex(x); err != nil {
				return nil, err
			}
		}
	}
	if r.err == nil && len(r.b) > 0 {
		return nil, errors.New("replication: trailing bytes after an engine snapshot")
	}
	return e, r.err
}

// marshalSorted is msgpack with map keys sorted: deterministic bytes.
func marshalSorted(v any) []byte {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("replication: %T does not encode: %v", v, err))
	}
	return buf.Bytes()
}
