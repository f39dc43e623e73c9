package governor

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
)

// keyOf writes a string key by hand: the bytes are tuple.Marshal's.
func TestKeyOfStringsIsMarshals(t *testing.T) {
	for _, n := range []int{0, 1, 31, 32, 255, 256, 65535, 65536} {
		s := strings.Repeat("k", n)
		want, err := tuple.Marshal([]any{s})
		require.NoError(t, err)
		require.Equal(t, want, keyOf(tables.TablePicoInstance, s).key, "length %d", n)
	}
}
