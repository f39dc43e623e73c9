package tables

import (
	"errors"
	"math"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/net/iproto"
)

// A DML op and a batch of them — what almost every CaS write is — are
// encoded and decoded here by hand: msgpack's reflection cost a few percent
// of a loaded leader's CPU at propose (Encode) and again on every instance at
// apply (DecodeOp), and of the simulator's. The bytes are exactly
// reflection's (TestOpCodecMatchesReflection), and anything but the
// canonical form of such an op goes the reflective way, so the accepted
// inputs and the errors are unchanged. Update operations ([op, field, arg]
// of any values) are the one part still left to msgpack, inside the hand
// codec.

// appendOp appends op's encoding if op is a plain OpDml or OpBatch; ok is
// false otherwise (nothing appended).
func appendOp(b []byte, op *Op) (_ []byte, ok bool) {
	if op.Ddl != nil || op.ChangeAuth != nil || op.Acl != nil || op.SchemaVersion != 0 {
		return b, false
	}
	switch {
	case op.Kind == OpDml && op.Dml != nil && len(op.Ops) == 0:
		b = append(b, 0x82)
		b = iproto.AppendStr(b, "kind")
		b = iproto.AppendStr(b, string(OpDml))
		b = iproto.AppendStr(b, "dml")
		return appendDml(b, op.Dml), true
	case op.Kind == OpBatch && op.Dml == nil:
		if len(op.Ops) == 0 { // omitted, as reflection's omitempty does
			b = append(b, 0x81)
			b = iproto.AppendStr(b, "kind")
			return iproto.AppendStr(b, string(OpBatch)), true
		}
		b = append(b, 0x82)
		b = iproto.AppendStr(b, "kind")
		b = iproto.AppendStr(b, string(OpBatch))
		b = iproto.AppendStr(b, "ops")
		b = iproto.AppendArrayLen(b, len(op.Ops))
		for i := range op.Ops {
			b = appendDml(b, &op.Ops[i])
		}
		return b, true
	}
	return b, false
}

func appendDml(b []byte, d *Dml) []byte {
	fields := 2
	if len(d.Tuple) > 0 {
		fields++
	}
	if len(d.Key) > 0 {
		fields++
	}
	if len(d.Ops) > 0 {
		fields++
	}
	b = append(b, 0x80|byte(fields))
	b = iproto.AppendStr(b, "kind")
	b = iproto.AppendStr(b, string(d.Kind))
	b = iproto.AppendStr(b, "table")
	b = iproto.AppendUint(b, uint64(d.Table))
	if len(d.Tuple) > 0 {
		b = iproto.AppendStr(b, "tuple")
		b = append(b, d.Tuple...)
	}
	if len(d.Key) > 0 {
		b = iproto.AppendStr(b, "key")
		b = append(b, d.Key...)
	}
	if len(d.Ops) > 0 {
		b = iproto.AppendStr(b, "ops")
		b = append(b, tuple.MustMarshal(d.Ops)...)
	}
	return b
}

var errNotCanonical = errors.New("not a canonical dml or batch op")

// decodeOpFast reads what appendOp writes, the whole of data, with table
// ids in any unsigned width up to 32 bits and array headers in any width;
// any other input is errNotCanonical (and is left to reflection).
func decodeOpFast(data []byte) (Op, error) {
	r := opReader{b: data}
	n := r.byte()
	if n != 0x81 && n != 0x82 {
		return Op{}, errNotCanonical
	}
	r.key("kind")
	var op Op
	switch kind := r.str(); {
	case r.bad:
	case string(kind) == string(OpDml) && n == 0x82:
		r.key("dml")
		op = Op{Kind: OpDml, Dml: new(Dml)}
		r.dml(op.Dml)
	case string(kind) == string(OpBatch) && n == 0x81:
		op = Op{Kind: OpBatch}
	case string(kind) == string(OpBatch):
		r.key("ops")
		count := r.arrayLen()
		if r.bad {
			return Op{}, errNotCanonical
		}
		op = Op{Kind: OpBatch, Ops: make([]Dml, count)}
		for i := range op.Ops {
			r.dml(&op.Ops[i])
		}
	default:
		r.bad = true
	}
	if r.bad || len(r.b) != 0 {
		return Op{}, errNotCanonical
	}
	return op, nil
}

// dml reads a Dml's map: kind and table, then tuple, key and update ops,
// each optional, in that order.
func (r *opReader) dml(d *Dml) {
	n := r.byte()
	if n < 0x82 || n > 0x85 {
		r.bad = true
		return
	}
	r.key("kind")
	kind := r.str()
	r.key("table")
	table, ok := r.uint32()
	if !ok || r.bad {
		r.bad = true
		return
	}
	d.Kind, d.Table = dmlKind(kind), table
	for f, seen := 2, 0; f < int(n&0x0f) && !r.bad; f++ {
		// seen is the last optional field read: 1 tuple, 2 key, 3 ops.
		switch string(r.str()) {
		case "tuple":
			if seen >= 1 {
				r.bad = true
			}
			d.Tuple, seen = r.raw(), 1
		case "key":
			if seen >= 2 {
				r.bad = true
			}
			d.Key, seen = r.raw(), 2
		case "ops":
			if seen >= 3 {
				r.bad = true
			}
			d.Ops, seen = r.updateOps(), 3
		default:
			r.bad = true
		}
	}
}

// opReader reads decodeOpFast's input; bad sticks at the first surprise.
type opReader struct {
	b   []byte
	bad bool
}

func (r *opReader) byte() byte {
	if r.bad || len(r.b) == 0 {
		r.bad = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// str reads a str; the bytes are the input's.
func (r *opReader) str() []byte {
	if r.bad {
		return nil
	}
	s, rest, err := iproto.ReadStr(r.b)
	if err != nil {
		r.bad = true
		return nil
	}
	r.b = rest
	return s
}

func (r *opReader) key(want string) {
	if string(r.str()) != want {
		r.bad = true
	}
}

// dmlKind is the DML kind read, a constant's string for the known ones.
func dmlKind(b []byte) DmlKind {
	for _, k := range []DmlKind{DmlInsert, DmlReplace, DmlUpdate, DmlDelete} {
		if string(b) == string(k) {
			return k
		}
	}
	return DmlKind(b)
}

// uint32 reads a non-negative integer of up to 32 bits, in any width: a
// client's struct with a uint32 field (go-msgpack's default, as the bench's)
// sends 0xce and five bytes, and it decodes to the same table id as the
// compact form. The op is re-encoded canonically when proposed.
func (r *opReader) uint32() (uint32, bool) {
	if r.bad {
		return 0, false
	}
	v, rest, err := iproto.ReadUint(r.b)
	if err != nil || v > math.MaxUint32 {
		r.bad = true
		return 0, false
	}
	r.b = rest
	return uint32(v), true
}

// raw reads one msgpack array (a tuple or a key), copied: the op outlives
// the buffer it came in (entries share a message's).
func (r *opReader) raw() []byte {
	if r.bad || len(r.b) == 0 {
		r.bad = true
		return nil
	}
	rest, err := iproto.SkipValue(r.b)
	if err != nil || !isArrayHeader(r.b[0]) {
		r.bad = true
		return nil
	}
	v := append([]byte(nil), r.b[:len(r.b)-len(rest)]...)
	r.b = rest
	return v
}

// arrayLen reads an array header of any width.
func (r *opReader) arrayLen() int {
	if r.bad {
		return 0
	}
	n, rest, err := iproto.ReadArrayLen(r.b)
	if err != nil || n > uint64(len(rest)) { // each element takes a byte at least
		r.bad = true
		return 0
	}
	r.b = rest
	return int(n)
}

// updateOps reads a Dml's update operations with msgpack, as reflection
// would decode the field: they hold values of any type.
func (r *opReader) updateOps() [][]any {
	if r.bad || len(r.b) == 0 || !isArrayHeader(r.b[0]) {
		r.bad = true
		return nil
	}
	rest, err := iproto.SkipValue(r.b)
	if err != nil {
		r.bad = true
		return nil
	}
	var ops [][]any
	if err := msgpack.Unmarshal(r.b[:len(r.b)-len(rest)], &ops); err != nil {
		r.bad = true
		return nil
	}
	r.b = rest
	return ops
}

func isArrayHeader(c byte) bool { return c&0xf0 == 0x90 || c == 0xdc || c == 0xdd }

// opSize is about the bytes appendOp writes for op.
func opSize(op *Op) int {
	n := 24
	if op.Dml != nil {
		n += dmlSize(op.Dml)
	}
	for i := range op.Ops {
		n += dmlSize(&op.Ops[i])
	}
	return n
}

func dmlSize(d *Dml) int { return 32 + len(d.Kind) + len(d.Tuple) + len(d.Key) + 16*len(d.Ops) }
