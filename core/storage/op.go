package storage

import (
	"errors"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/picogo/picogo/core/tuple"
)

// OpKind is the kind of a DML request, numbered as IPROTO's request types
// (IPROTO_INSERT 2, IPROTO_REPLACE 3, IPROTO_UPDATE 4, IPROTO_DELETE 5,
// IPROTO_UPSERT 9); OpBatch, several requests as one, is no IPROTO type.
// The zero OpKind is no operation.
type OpKind uint8

const (
	OpInsert  OpKind = 2
	OpReplace OpKind = 3
	OpUpdate  OpKind = 4
	OpDelete  OpKind = 5
	OpUpsert  OpKind = 9
	OpBatch   OpKind = 128
)

// MaxBatchOps is the most ops one batch may hold: Exec refuses a bigger
// one with ILLEGAL_PARAMS, changing nothing. It bounds what one batch's
// change — one write-ahead log record, one replicated entry — holds.
const MaxBatchOps = 10000

func (k OpKind) String() string {
	switch k {
	case OpInsert:
		return "insert"
	case OpReplace:
		return "replace"
	case OpUpdate:
		return "update"
	case OpDelete:
		return "delete"
	case OpUpsert:
		return "upsert"
	case OpBatch:
		return "batch"
	}
	return fmt.Sprintf("OpKind(%d)", uint8(k))
}

// Op is one Tarantool DML request on a table: Insert, Replace and Upsert
// carry Tuple, Update and Upsert carry Ops (tuple.ParseUpdate's
// operations), Update and Delete carry Index and Key. The fields a kind
// does not use are ignored.
//
// An OpBatch carries Batch: single ops (no batch inside a batch), at most
// MaxBatchOps, run in order as one write that is all or nothing (Exec);
// its other fields are ignored.
//
// An Op encodes as a msgpack map with the keys of its tags; its values
// (Key, Tuple, Ops) encode as tuple.Marshal does, so that Tarantool's
// decimal, uuid and datetime survive the round trip (see EncodeMsgpack).
type Op struct {
	Kind  OpKind  `msgpack:"kind"`
	Table uint32  `msgpack:"table"`
	Index uint32  `msgpack:"index"`
	Key   []any   `msgpack:"key"`
	Tuple []any   `msgpack:"tuple"`
	Ops   [][]any `msgpack:"ops"`
	Batch []Op    `msgpack:"batch"`
}

var (
	_ msgpack.CustomEncoder = Op{}
	_ msgpack.CustomDecoder = (*Op)(nil)
)

// EncodeMsgpack writes the op as a map {kind, table, index, key, tuple,
// ops}, in that order; a nil slice is nil, an empty one an empty array. An
// op with Batch set (or of kind OpBatch) has a seventh key, batch: the
// array of its ops, each encoded so.
func (o Op) EncodeMsgpack(enc *msgpack.Encoder) error {
	batch := o.Batch != nil || o.Kind == OpBatch
	n := 6
	if batch {
		n = 7
	}
	if err := enc.EncodeMapLen(n); err != nil {
		return err
	}
	var ops any
	if o.Ops != nil {
		l := make([]any, len(o.Ops))
		for i, op := range o.Ops {
			if op == nil {
				op = []any{}
			}
			l[i] = op
		}
		ops = l
	}
	for _, f := range []struct {
		name string
		v    any
	}{
		{"kind", uint64(o.Kind)}, {"table", uint64(o.Table)}, {"index", uint64(o.Index)},
		{"key", nilSlice(o.Key)}, {"tuple", nilSlice(o.Tuple)}, {"ops", ops},
	} {
		if err := enc.EncodeString(f.name); err != nil {
			return err
		}
		b, err := tuple.Marshal(f.v)
		if err != nil {
			return fmt.Errorf("op %s: %w", f.name, err)
		}
		if err := enc.Encode(msgpack.RawMessage(b)); err != nil {
			return err
		}
	}
	if !batch {
		return nil
	}
	if err := enc.EncodeString("batch"); err != nil {
		return err
	}
	if o.Batch == nil {
		return enc.EncodeNil()
	}
	if err := enc.EncodeArrayLen(len(o.Batch)); err != nil {
		return err
	}
	for i, op := range o.Batch {
		if err := op.EncodeMsgpack(enc); err != nil {
			return fmt.Errorf("op batch: #%d: %w", i+1, err)
		}
	}
	return nil
}

// nilSlice keeps a nil slice nil inside an interface.
func nilSlice(s []any) any {
	if s == nil {
		return nil
	}
	return s
}

// DecodeMsgpack reads what EncodeMsgpack writes; keys may come in any
// order, unknown keys are skipped. A batch's ops may not have a batch key
// themselves (an error: no batch inside a batch).
func (o *Op) DecodeMsgpack(dec *msgpack.Decoder) error {
	return o.decode(dec, false)
}

func (o *Op) decode(dec *msgpack.Decoder, inBatch bool) error {
	n, err := dec.DecodeMapLen()
	if err != nil {
		return err
	}
	*o = Op{}
	for range n {
		k, err := dec.DecodeString()
		if err != nil {
			return err
		}
		switch k {
		case "kind":
			v, err := dec.DecodeUint8()
			if err != nil {
				return fmt.Errorf("op kind: %w", err)
			}
			o.Kind = OpKind(v)
		case "table":
			if o.Table, err = dec.DecodeUint32(); err != nil {
				return fmt.Errorf("op table: %w", err)
			}
		case "index":
			if o.Index, err = dec.DecodeUint32(); err != nil {
				return fmt.Errorf("op index: %w", err)
			}
		case "key", "tuple", "ops":
			raw, err := dec.DecodeRaw()
			if err != nil {
				return fmt.Errorf("op %s: %w", k, err)
			}
			if isNil(raw) {
				continue
			}
			vals, terr := tuple.DecodeArray(raw)
			if terr != nil {
				return fmt.Errorf("op %s: %w", k, terr)
			}
			switch k {
			case "key":
				o.Key = vals
			case "tuple":
				o.Tuple = vals
			default:
				o.Ops = make([][]any, len(vals))
				for i, v := range vals {
					op, ok := v.([]any)
					if !ok {
						return fmt.Errorf("op ops: operation #%d is %s, not an array", i+1, tuple.TypeName(v))
					}
					o.Ops[i] = op
				}
			}
		case "batch":
			if inBatch {
				return errors.New("op batch: a batch inside a batch")
			}
			l, err := dec.DecodeArrayLen()
			if err != nil {
				return fmt.Errorf("op batch: %w", err)
			}
			if l < 0 { // nil
				o.Batch = nil
				continue
			}
			// Not preallocated beyond a little: the length may be garbage.
			o.Batch = make([]Op, 0, min(l, 64))
			for i := range l {
				var op Op
				if err := op.decode(dec, true); err != nil {
					return fmt.Errorf("op batch: #%d: %w", i+1, err)
				}
				o.Batch = append(o.Batch, op)
			}
		default:
			if err := dec.Skip(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Exec runs one DML request and returns its Change and what Tarantool
// returns to the client: the stored tuple for insert, replace and update
// (the zero Tuple when update found nothing), the deleted one for delete
// (the zero Tuple when there was none), and the zero Tuple for upsert.
// The Change names op.Table even when it is empty (a delete or update of a
// missing key); on an error it is the zero Change.
// Errors: those of Insert, Replace, Update, Upsert and Delete;
// ILLEGAL_PARAMS for an unknown kind, INVALID_MSGPACK for a tuple whose
// values cannot be encoded.
//
// An OpBatch runs its ops in order, all or nothing. It returns a batch's
// Change (Batch: the row change of every op that changed a row, in order;
// Rows() counts them) and the zero Tuple; a batch that changed nothing
// (no ops, or only deletes and updates of missing keys) returns the empty
// zero Change. If an op fails, the changes of the ops before it are
// undone — the engine is as it was — and its error is returned with its
// code and its position in the batch (from 1): "row 3: Duplicate key
// exists ...". ILLEGAL_PARAMS, before anything runs, for more than
// MaxBatchOps ops or a batch inside the batch. Upserts report their
// skipped operations to OnUpsertError as they run, even in a batch that
// fails later.
func (e *Engine) Exec(op Op) (Change, tuple.Tuple, *tuple.Error) {
	if op.Kind == OpBatch {
		c, err := e.execBatch(op.Batch)
		return c, tuple.Tuple{}, err
	}
	var t tuple.Tuple
	switch op.Kind {
	case OpInsert, OpReplace, OpUpsert:
		var err *tuple.Error
		if t, err = tupleOf(op.Tuple); err != nil {
			return Change{}, tuple.Tuple{}, err
		}
	}
	c, ret, err := e.exec(op, t)
	if err != nil {
		return Change{}, tuple.Tuple{}, err
	}
	c.Table = op.Table // an empty change too names its table
	return c, ret, nil
}

func (e *Engine) execBatch(ops []Op) (Change, *tuple.Error) {
	if len(ops) > MaxBatchOps {
		return Change{}, tuple.Errorf(tuple.CodeIllegalParams, "A batch of %d ops is more than the %d one batch may hold", len(ops), MaxBatchOps)
	}
	for i, op := range ops {
		if op.Kind == OpBatch {
			return Change{}, rowError(i, tuple.Errorf(tuple.CodeIllegalParams, "a batch inside a batch"))
		}
	}
	var rows []Change
	for i, op := range ops {
		c, _, err := e.Exec(op)
		if err != nil {
			e.undoRows(rows)
			return Change{}, rowError(i, err)
		}
		if !c.Empty() {
			rows = append(rows, c)
		}
	}
	if len(rows) == 0 {
		return Change{}, nil
	}
	return Change{Batch: rows}, nil
}

func (e *Engine) exec(op Op, t tuple.Tuple) (Change, tuple.Tuple, *tuple.Error) {
	var c Change
	var err *tuple.Error
	switch op.Kind {
	case OpInsert:
		c, err = e.Insert(op.Table, t)
	case OpReplace:
		c, err = e.Replace(op.Table, t)
	case OpUpdate:
		c, err = e.Update(op.Table, op.Index, op.Key, op.Ops)
	case OpUpsert:
		c, err = e.Upsert(op.Table, t, op.Ops)
		return c, tuple.Tuple{}, err
	case OpDelete:
		c, err = e.Delete(op.Table, op.Index, op.Key)
		return c, c.Old, err
	default:
		return Change{}, tuple.Tuple{}, tuple.Errorf(tuple.CodeIllegalParams, "Unknown request type %d", uint8(op.Kind))
	}
	return c, c.New, err
}

// tupleOf encodes a request's tuple; nil is the empty tuple.
func tupleOf(vals []any) (tuple.Tuple, *tuple.Error) {
	if vals == nil {
		vals = []any{}
	}
	b, err := tuple.Marshal(vals)
	if err != nil {
		return tuple.Tuple{}, tuple.Errorf(tuple.CodeInvalidMsgpack, "Invalid MsgPack - %v", err)
	}
	t, err := tuple.New(b)
	if err != nil {
		if te, ok := err.(*tuple.Error); ok {
			return tuple.Tuple{}, te
		}
		return tuple.Tuple{}, tuple.Errorf(tuple.CodeInvalidMsgpack, "Invalid MsgPack - %v", err)
	}
	return t, nil
}
