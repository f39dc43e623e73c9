package api

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

func TestSchemaChangeResult(t *testing.T) {
	abort, _, err := SchemaChangeResult([]any{SchemaChangeOk})
	require.NoError(t, err)
	require.False(t, abort)

	// As it arrives over the wire.
	raw, err := msgpack.Marshal(SchemaChangeAbort("no"))
	require.NoError(t, err)
	var v any
	require.NoError(t, msgpack.Unmarshal(raw, &v))
	abort, reason, err := SchemaChangeResult([]any{v})
	require.NoError(t, err)
	require.True(t, abort)
	require.Equal(t, "no", reason)

	for _, bad := range []any{[]any{}, "ok", map[string]any{"Abort": "x"}, []any{"Ok", "Ok"}} {
		_, _, err := SchemaChangeResult(bad)
		require.Error(t, err, "%v", bad)
	}
}
