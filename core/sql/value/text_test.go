package value

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/tuple"
)

func TestFromText(t *testing.T) {
	at := func(s string) tuple.Datetime {
		tm, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		return tuple.DatetimeOf(tm)
	}
	for _, c := range []struct {
		in   string
		to   tuple.FieldType
		want any
	}{
		{"t", tuple.TypeBoolean, true}, {"OFF", tuple.TypeBoolean, false}, {" yes ", tuple.TypeBoolean, true}, {"0", tuple.TypeBoolean, false},
		{"2024-02-29 13:14:15.123456+00", tuple.TypeDatetime, at("2024-02-29T13:14:15.123456Z")},
		{"2024-02-29 13:14:15+03:00", tuple.TypeDatetime, at("2024-02-29T13:14:15+03:00")},
		{"2024-01-01 00:00:00", tuple.TypeDatetime, at("2024-01-01T00:00:00Z")},
		{"2024-01-01", tuple.TypeDatetime, at("2024-01-01T00:00:00Z")},
		{"2024-02-29T13:14:15Z", tuple.TypeDatetime, at("2024-02-29T13:14:15Z")},
		{`\x00ff`, tuple.TypeVarbinary, []byte{0, 0xff}},
		{"ab", tuple.TypeVarbinary, []byte("ab")},
		{"42", tuple.TypeInteger, int64(42)},
		{"2.5", tuple.TypeDouble, 2.5},
	} {
		got, err := FromText(c.in, c.to)
		require.Nil(t, err, "%q as %s: %v", c.in, c.to, err)
		require.Equal(t, c.want, got, "%q as %s", c.in, c.to)
	}
	for _, c := range []struct {
		in string
		to tuple.FieldType
	}{{"maybe", tuple.TypeBoolean}, {"2024-13-01", tuple.TypeDatetime}, {`\xzz`, tuple.TypeVarbinary}, {"x", tuple.TypeInteger}} {
		_, err := FromText(c.in, c.to)
		require.NotNil(t, err, "%q as %s", c.in, c.to)
		require.Equal(t, tuple.CodeSQLInvalidCast, err.Code)
	}
}
