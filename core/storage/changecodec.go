package storage

import (
	"bytes"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"

	"github.com/picogo/picogo/core/tuple"
)

// EncodeChange encodes a change as the msgpack array [table, old, new]:
// the table id as a compact unsigned integer, each tuple as its raw
// msgpack, verbatim, or nil when that side is absent. A batch's change is
// the array of its row changes, each [table, old, new]: told apart from a
// single row's change by its first element, an array, not an integer (or
// by being empty). The same change always encodes to the same bytes.
func EncodeChange(c Change) []byte {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(true)
	if c.IsBatch() {
		size := 5
		for _, r := range c.Batch {
			size += 8 + len(r.Old.Raw()) + len(r.New.Raw())
		}
		buf.Grow(size)
		_ = enc.EncodeArrayLen(len(c.Batch))
		for _, r := range c.Batch {
			encodeRow(&buf, enc, r)
		}
		return buf.Bytes()
	}
	buf.Grow(8 + len(c.Old.Raw()) + len(c.New.Raw()))
	encodeRow(&buf, enc, c)
	return buf.Bytes()
}

// encodeRow writes a single row's change [table, old, new] (a batch's
// own rows are never batches: their Batch is not looked at).
func encodeRow(buf *bytes.Buffer, enc *msgpack.Encoder, c Change) {
	// A bytes.Buffer does not fail.
	_ = enc.EncodeArrayLen(3)
	_ = enc.EncodeUint(uint64(c.Table))
	for _, t := range []tuple.Tuple{c.Old, c.New} {
		if present(t) {
			buf.Write(t.Raw())
		} else {
			_ = enc.EncodeNil()
		}
	}
}

// DecodeChange decodes what EncodeChange encodes: the tuples keep their
// raw bytes exactly (copied, not aliasing b). Anything else, trailing
// bytes included, is an error; so is a batch's row change that is empty
// or not [table, old, new].
func DecodeChange(b []byte) (Change, error) {
	r := bytes.NewReader(b)
	d := msgpack.NewDecoder(r)
	n, err := d.DecodeArrayLen()
	if err != nil {
		return Change{}, fmt.Errorf("change: %w", err)
	}
	var c Change
	first, _ := d.PeekCode() // an error here is decodeRow's to report
	if n == 0 || n > 0 && r.Len() > 0 && isArrayCode(first) {
		// A batch: every row change takes 4 bytes at least.
		if n > r.Len()/4 {
			return Change{}, fmt.Errorf("change: a batch of %d row changes in %d bytes", n, r.Len())
		}
		c.Batch = make([]Change, 0, n)
		for i := range n {
			rn, err := d.DecodeArrayLen()
			if err != nil {
				return Change{}, fmt.Errorf("change: row %d: %w", i+1, err)
			}
			row, err := decodeRow(d, rn)
			if err != nil {
				return Change{}, fmt.Errorf("change: row %d: %w", i+1, err)
			}
			if row.Empty() {
				return Change{}, fmt.Errorf("change: row %d: an empty row change in a batch", i+1)
			}
			c.Batch = append(c.Batch, row)
		}
	} else {
		if c, err = decodeRow(d, n); err != nil {
			return Change{}, fmt.Errorf("change: %w", err)
		}
	}
	if r.Len() != 0 {
		return Change{}, fmt.Errorf("change: %d trailing bytes", r.Len())
	}
	return c, nil
}

// decodeRow reads a single row's change after its array header (of n
// elements).
func decodeRow(d *msgpack.Decoder, n int) (Change, error) {
	if n != 3 {
		return Change{}, fmt.Errorf("an array of %d elements, want [table, old, new]", n)
	}
	var c Change
	var err error
	if c.Table, err = decodeUint32(d); err != nil {
		return Change{}, fmt.Errorf("table: %w", err)
	}
	for _, side := range []struct {
		name string
		t    *tuple.Tuple
	}{{"old", &c.Old}, {"new", &c.New}} {
		raw, err := d.DecodeRaw()
		if err != nil {
			return Change{}, fmt.Errorf("%s tuple: %w", side.name, err)
		}
		if isNil(raw) {
			continue
		}
		t, err := tuple.New(raw)
		if err != nil {
			return Change{}, fmt.Errorf("%s tuple: %w", side.name, err)
		}
		*side.t = t
	}
	return c, nil
}

// isArrayCode: a msgpack array's first byte (fixarray, array16, array32).
func isArrayCode(c byte) bool {
	return msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32
}

func isNil(raw []byte) bool { return len(raw) == 1 && raw[0] == 0xc0 }

// decodeUint32 reads an unsigned integer that fits 32 bits, in any msgpack
// integer encoding; anything else is an error (and is not decoded).
func decodeUint32(d *msgpack.Decoder) (uint32, error) {
	c, err := d.PeekCode()
	if err != nil {
		return 0, err
	}
	var u uint64
	switch {
	case msgpcode.IsFixedNum(c) || c == msgpcode.Uint8 || c == msgpcode.Uint16 || c == msgpcode.Uint32 || c == msgpcode.Uint64:
		if u, err = d.DecodeUint64(); err != nil {
			return 0, err
		}
		if msgpcode.IsFixedNum(c) && int8(c) < 0 {
			return 0, fmt.Errorf("want an unsigned integer, got %d", int8(c))
		}
	case c == msgpcode.Int8 || c == msgpcode.Int16 || c == msgpcode.Int32 || c == msgpcode.Int64:
		i, err := d.DecodeInt64()
		if err != nil {
			return 0, err
		}
		if i < 0 {
			return 0, fmt.Errorf("want an unsigned integer, got %d", i)
		}
		u = uint64(i)
	default:
		return 0, fmt.Errorf("want an unsigned integer, got msgpack code 0x%02x", c)
	}
	if u > 1<<32-1 {
		return 0, fmt.Errorf("%d does not fit 32 bits", u)
	}
	return uint32(u), nil
}
