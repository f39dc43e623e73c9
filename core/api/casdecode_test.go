package api

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
)

// TestPlainCasMatchesReflection: for every argument shape below, DecodeArgs
// answers what reflection alone answers (the same request or the same
// error), and the hand decoder takes the usual shapes.
func TestPlainCasMatchesReflection(t *testing.T) {
	enc := func(v any) msgpack.RawMessage {
		b, err := msgpack.Marshal(v)
		require.NoError(t, err)
		return b
	}
	type pred struct {
		Index  uint64 `msgpack:"index"`
		Term   uint64 `msgpack:"term"`
		Ranges []any  `msgpack:"ranges"`
	}
	clusters := []msgpack.RawMessage{enc("c"), enc(strings.Repeat("c", 40)), enc(""), enc(nil), enc(7)}
	preds := []msgpack.RawMessage{
		enc(pred{Index: 5, Term: 2}),
		enc(pred{Index: math.MaxUint64, Term: 300, Ranges: []any{}}),
		enc(map[string]any{"term": 1, "index": 2}),
		enc(map[string]any{}),
		enc(map[string]any{"index": 1, "term": 1, "ranges": []any{map[string]any{"table": 1}}}),
		enc(map[string]any{"index": 1, "extra": 1}),
		enc(map[string]any{"index": -1}),
		enc([]any{1, 2, nil}),
		enc(nil),
		{0x82, 0xa5, 'i', 'n', 'd', 'e', 'x', 0x01, 0xa5, 'i', 'n', 'd', 'e', 'x', 0x02}, // a repeated key
		{0x81, 0xa5, 'i', 'n', 'd', 'e', 'x'},                                            // truncated
	}
	users := []msgpack.RawMessage{enc(uint32(1)), enc(0), enc(300), enc(uint64(math.MaxUint32)),
		enc(uint64(math.MaxUint32) + 1), enc("admin"), enc(""), enc(-1), enc(nil), enc(1.5)}
	op := msgpack.RawMessage(tables.Op{Kind: tables.OpDml, Dml: &tables.Dml{Kind: tables.DmlInsert, Table: 512,
		Tuple: tuple.MustMarshal([]any{"k", "v"})}}.Encode())
	plain := 0
	for _, cl := range clusters {
		for _, p := range preds {
			for _, u := range users {
				args := []msgpack.RawMessage{cl, p, op, u}
				var got, want Cas
				gerr := got.DecodeArgs(args)
				werr := want.decodeArgsReflect(args)
				if werr != nil {
					require.Error(t, gerr, "%x %x %x", cl, p, u)
					require.Equal(t, werr.Error(), gerr.Error())
					continue
				}
				require.NoError(t, gerr)
				require.True(t, reflect.DeepEqual(want, got), "%x %x %x:\n%#v\n%#v", cl, p, u, want, got)
				if _, ok := decodePlainCas(args); ok {
					plain++
				}
			}
		}
	}
	require.Greater(t, plain, 20, "the usual shapes are decoded by hand")
}
