package tables

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/picogo/picogo/core/tuple"
)

// reflectDecodeOp is DecodeOp's reflective decoding (no shape check).
func reflectDecodeOp(data []byte) (Op, error) {
	var op Op
	if err := unmarshalStrict(data, &op); err != nil {
		return Op{}, err
	}
	return op, nil
}

func randomDmlOp(r *rand.Rand) Op {
	arr := func() msgpack.RawMessage {
		n := r.IntN(4)
		if r.IntN(40) == 0 {
			n = 20 + r.IntN(70000) // array16 and array32 headers
		}
		vals := make([]any, n)
		for i := range vals {
			switch r.IntN(3) {
			case 0:
				vals[i] = r.Uint64N(1 << (r.IntN(8) * 8))
			case 1:
				vals[i] = string(make([]byte, r.IntN(300)))
			default:
				vals[i] = nil
			}
		}
		return tuple.MustMarshal(vals)
	}
	tables := []uint32{0, 1, 127, 128, 255, 256, 1024, 65535, 65536, 1 << 31, r.Uint32()}
	dml := func() Dml {
		d := Dml{Kind: []DmlKind{DmlInsert, DmlReplace, DmlDelete, DmlUpdate, "bogus", DmlKind(strings.Repeat("k", 40))}[r.IntN(6)],
			Table: tables[r.IntN(len(tables))]}
		switch r.IntN(4) {
		case 0:
			d.Tuple = arr()
		case 1:
			d.Key = arr()
		case 2:
			d.Tuple, d.Key = arr(), arr()
		}
		if r.IntN(3) == 0 {
			args := []any{int64(-5), uint64(7), "x", 1.5, nil, true, []any{"nested"}}
			for range 1 + r.IntN(3) {
				d.Ops = append(d.Ops, []any{[]string{"=", "+", "-"}[r.IntN(3)], r.IntN(5), args[r.IntN(len(args))]})
			}
		}
		return d
	}
	if r.IntN(2) == 0 {
		d := dml()
		return Op{Kind: OpDml, Dml: &d}
	}
	var ops []Dml
	n := r.IntN(5)
	if r.IntN(20) == 0 {
		n = 16 + r.IntN(40) // an array16 header
	}
	for range n {
		ops = append(ops, dml())
	}
	return Op{Kind: OpBatch, Ops: ops}
}

// The hand-written codec of a DML op and a batch writes reflection's bytes
// and reads them back as reflection does.
func TestOpCodecMatchesReflection(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		op := randomDmlOp(r)
		hand := op.Encode()
		require.Equal(t, tuple.MustMarshal(op), hand)
		fast, err := decodeOpFast(hand)
		require.NoError(t, err, "%x", hand)
		slow, err := reflectDecodeOp(hand)
		require.NoError(t, err)
		require.Equal(t, slow, fast)
		got, err := DecodeOp(hand)
		if e := slow.checkShape(); e != nil {
			require.Equal(t, e, err)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, slow, got)
	}
}

// A client's op with the table id in a wider encoding than the compact
// one (a Go struct's uint32 field: 0xce) decodes by hand, to what
// reflection decodes.
func TestDmlOpCodecReadsWideTableIDs(t *testing.T) {
	type dml struct {
		Kind  string   `msgpack:"kind"`
		Table uint32   `msgpack:"table"`
		Tuple []string `msgpack:"tuple"`
	}
	type op struct {
		Kind string `msgpack:"kind"`
		Dml  dml    `msgpack:"dml"`
	}
	for _, table := range []uint32{0, 1, 127, 128, 300, 70000, 1 << 31} {
		data, err := msgpack.Marshal(op{Kind: "dml", Dml: dml{Kind: "insert", Table: table, Tuple: []string{"k", "v"}}})
		require.NoError(t, err)
		fast, err := decodeOpFast(data)
		require.NoError(t, err, "%x", data)
		slow, err := reflectDecodeOp(data)
		require.NoError(t, err)
		require.Equal(t, slow, fast)
		require.Equal(t, table, fast.Dml.Table)
	}
}

// What is not the canonical form of a DML op or a batch — other kinds,
// other key orders, unknown keys, truncations, trailing bytes — is left to
// reflection, so DecodeOp answers exactly as before.
func TestOpCodecLeavesTheRestToReflection(t *testing.T) {
	key := tuple.MustMarshal([]any{1})
	others := [][]byte{
		tuple.MustMarshal(Op{Kind: OpDml, Dml: &Dml{Kind: DmlUpdate, Table: 1, Key: key}, Ops: []Dml{{Kind: DmlInsert, Table: 1, Tuple: key}}}),
		tuple.MustMarshal(Op{Kind: OpBatch, Dml: &Dml{Kind: DmlUpdate, Table: 1, Key: key}}),
		tuple.MustMarshal(map[string]any{"kind": "batch", "ops": []any{}}),
		tuple.MustMarshal(map[string]any{"kind": "batch", "ops": []any{map[string]any{"kind": "insert", "table": 1, "tuple": []any{1}, "extra": 1}}}),
		tuple.MustMarshal(map[string]any{"kind": "batch", "ops": []any{map[string]any{"kind": "insert", "table": 1, "tuple": []any{1}}, nil}}),
		tuple.MustMarshal(map[string]any{"kind": "dml", "dml": map[string]any{"kind": "update", "table": 1, "key": []any{1}, "ops": []any{}}}),
		tuple.MustMarshal(map[string]any{"kind": "dml", "dml": map[string]any{"kind": "update", "table": 1, "key": []any{1}, "ops": "x"}}),
		tuple.MustMarshal(map[string]any{"kind": "dml", "dml": map[string]any{"kind": "update", "table": 1, "key": []any{1}, "ops": []any{"not an op"}}}),
		append([]byte{0x82, 0xa4, 'k', 'i', 'n', 'd', 0xa5, 'b', 'a', 't', 'c', 'h', 0xa3, 'o', 'p', 's', 0xdc, 0x01, 0x00}, key...),
		tuple.MustMarshal(Op{Kind: OpDml, Dml: &Dml{Kind: DmlInsert, Table: 1, Tuple: key}, SchemaVersion: 3}),
		tuple.MustMarshal(Op{Kind: OpNop}),
		tuple.MustMarshal(map[string]any{"dml": map[string]any{"kind": "insert", "table": 1, "tuple": []any{1}}, "kind": "dml"}),
		tuple.MustMarshal(map[string]any{"kind": "dml", "dml": map[string]any{"kind": "insert", "table": 1, "tuple": []any{1}, "extra": 1}}),
		tuple.MustMarshal(map[string]any{"kind": "dml", "dml": map[string]any{"kind": "insert", "table": 1, "tuple": "not an array"}}),
		tuple.MustMarshal(map[string]any{"kind": "dml", "dml": map[string]any{"kind": "insert", "table": -1, "tuple": []any{1}}}),
		tuple.MustMarshal(map[string]any{"kind": "dml", "dml": nil}),
	}
	for _, good := range [][]byte{
		tuple.MustMarshal(Op{Kind: OpDml, Dml: &Dml{Kind: DmlInsert, Table: 300, Tuple: key}}),
		tuple.MustMarshal(Op{Kind: OpBatch, Ops: []Dml{{Kind: DmlInsert, Table: 1, Tuple: key}, {Kind: DmlUpdate, Table: 2, Key: key, Ops: [][]any{{"=", 1, "x"}}}}}),
	} {
		for i := range good {
			others = append(others, good[:i])
		}
		others = append(others, append(append([]byte(nil), good...), 0xc0))
	}
	for _, data := range others {
		_, err := decodeOpFast(data)
		if err == nil {
			// Canonical after all (the map's keys sorted as ours): the
			// same answer either way.
			fast, _ := decodeOpFast(data)
			slow, serr := reflectDecodeOp(data)
			require.NoError(t, serr)
			require.Equal(t, slow, fast)
			continue
		}
		got, gerr := DecodeOp(data)
		want, werr := reflectDecodeOp(data)
		if werr == nil {
			if e := want.checkShape(); e != nil {
				require.Equal(t, e, gerr)
				continue
			}
		}
		if werr != nil {
			require.Error(t, gerr, "%x", data)
			continue
		}
		require.NoError(t, gerr)
		require.Equal(t, want, got)
	}
}

func BenchmarkDmlOpCodec(b *testing.B) {
	op := Op{Kind: OpDml, Dml: &Dml{Kind: DmlInsert, Table: 1024, Tuple: tuple.MustMarshal([]any{"0123456789abcdef", string(make([]byte, 100))})}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeOp(op.Encode()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDmlOpReflection(b *testing.B) {
	op := Op{Kind: OpDml, Dml: &Dml{Kind: DmlInsert, Table: 1024, Tuple: tuple.MustMarshal([]any{"0123456789abcdef", string(make([]byte, 100))})}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reflectDecodeOp(tuple.MustMarshal(op)); err != nil {
			b.Fatal(err)
		}
	}
}
