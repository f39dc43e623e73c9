package tables

import (
	"encoding/binary"
	"errors"

	"github.com/picogo/picogo/net/iproto"
)

// A single DML op — what almost every CaS write is — is encoded and decoded
// here by hand: msgpack's reflection cost a few percent of a loaded leader's
// CPU at propose (Encode) and again on every instance at apply (DecodeOp).
// The bytes are exactly reflection's (TestDmlOpCodecMatchesReflection), and
// anything but the canonical form of such an op goes the reflective way, so
// the accepted inputs and the errors are unchanged.

// appendDmlOp appends op's encoding if op is a plain OpDml without update
// operations; ok is false otherwise (nothing appended).
func appendDmlOp(b []byte, op *Op) (_ []byte, ok bool) {
	if op.Kind != OpDml || op.Dml == nil || op.Ops != nil || op.Ddl != nil || op.ChangeAuth != nil ||
		op.Acl != nil || op.SchemaVersion != 0 {
		return b, false
	}
	d := op.Dml
	if len(d.Ops) != 0 || len(d.Kind) > 31 {
		return b, false
	}
	fields := 2
	if len(d.Tuple) > 0 {
		fields++
	}
	if len(d.Key) > 0 {
		fields++
	}
	b = append(b, 0x82)
	b = appendFixStr(b, "kind")
	b = appendFixStr(b, string(OpDml))
	b = appendFixStr(b, "dml")
	b = append(b, 0x80|byte(fields))
	b = appendFixStr(b, "kind")
	b = appendFixStr(b, string(d.Kind))
	b = appendFixStr(b, "table")
	b = appendCompactUint(b, uint64(d.Table))
	if len(d.Tuple) > 0 {
		b = appendFixStr(b, "tuple")
		b = append(b, d.Tuple...)
	}
	if len(d.Key) > 0 {
		b = appendFixStr(b, "key")
		b = append(b, d.Key...)
	}
	return b, true
}

func appendFixStr(b []byte, s string) []byte {
	return append(append(b, 0xa0|byte(len(s))), s...)
}

func appendCompactUint(b []byte, v uint64) []byte {
	switch {
	case v < 0x80:
		return append(b, byte(v))
	case v <= 0xff:
		return append(b, 0xcc, byte(v))
	case v <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(v))
	case v <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcf), v)
}

var errNotCanonical = errors.New("not a canonical dml op")

// decodeDmlOp reads what appendDmlOp writes, the whole of data, with the
// table id in any unsigned width up to 32 bits; any other input is
// errNotCanonical (and is left to reflection).
func decodeDmlOp(data []byte) (Op, error) {
	r := opReader{b: data}
	r.expect(0x82)
	r.key("kind")
	r.key(string(OpDml))
	r.key("dml")
	n := r.byte()
	if n < 0x82 || n > 0x84 {
		return Op{}, errNotCanonical
	}
	fields := int(n & 0x0f)
	r.key("kind")
	kind := r.fixStr()
	r.key("table")
	table, ok := r.uint32()
	if !ok || r.bad {
		return Op{}, errNotCanonical
	}
	d := &Dml{Kind: dmlKind(kind), Table: table}
	for f := 2; f < fields && !r.bad; f++ {
		switch string(r.fixStr()) {
		case "tuple":
			if d.Tuple != nil || d.Key != nil {
				return Op{}, errNotCanonical
			}
			d.Tuple = r.raw()
		case "key":
			if d.Key != nil {
				return Op{}, errNotCanonical
			}
			d.Key = r.raw()
		default:
			return Op{}, errNotCanonical
		}
	}
	if r.bad || len(r.b) != 0 {
		return Op{}, errNotCanonical
	}
	return Op{Kind: OpDml, Dml: d}, nil
}

// opReader reads decodeDmlOp's input; bad sticks at the first surprise.
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

func (r *opReader) expect(c byte) {
	if r.byte() != c {
		r.bad = true
	}
}

// fixStr reads a short string; the bytes are the input's.
func (r *opReader) fixStr() []byte {
	c := r.byte()
	if c&0xe0 != 0xa0 {
		r.bad = true
		return nil
	}
	n := int(c & 0x1f)
	if r.bad || len(r.b) < n {
		r.bad = true
		return nil
	}
	s := r.b[:n:n]
	r.b = r.b[n:]
	return s
}

func (r *opReader) key(want string) {
	if string(r.fixStr()) != want {
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

// uint32 reads an unsigned integer of up to 32 bits, in any width: a
// client's struct with a uint32 field (go-msgpack's default, as the bench's)
// sends 0xce and five bytes, and it decodes to the same table id as the
// compact form. The op is re-encoded canonically when proposed.
func (r *opReader) uint32() (uint32, bool) {
	c := r.byte()
	switch {
	case r.bad:
		return 0, false
	case c < 0x80:
		return uint32(c), true
	case c == 0xcc && len(r.b) >= 1:
		v := uint32(r.b[0])
		r.b = r.b[1:]
		return v, true
	case c == 0xcd && len(r.b) >= 2:
		v := uint32(binary.BigEndian.Uint16(r.b))
		r.b = r.b[2:]
		return v, true
	case c == 0xce && len(r.b) >= 4:
		v := binary.BigEndian.Uint32(r.b)
		r.b = r.b[4:]
		return v, true
	}
	r.bad = true
	return 0, false
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

func isArrayHeader(c byte) bool { return c&0xf0 == 0x90 || c == 0xdc || c == 0xdd }

// dmlOpSize is about the bytes appendDmlOp writes for op.
func dmlOpSize(op *Op) int {
	if op.Dml == nil {
		return 0
	}
	return 48 + len(op.Dml.Kind) + len(op.Dml.Tuple) + len(op.Dml.Key)
}
