package main

import (
	"testing"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/net/pgwire"
)

func TestPgErrorPosition(t *testing.T) {
	for _, c := range []struct {
		query string
		want  int // 1-based character of the error, 0: none
	}{
		{"SELEC 1", 1},
		{"SELECT 1 FROM", 14},
		{"SELECT 'é' FORM t", 17},      // FORM is an alias, so t is the error; counted in characters, not bytes
		{"SELECT 1\nFROM t WHERE", 22}, // on the second line, at the end of the input
	} {
		_, err := parse.ParseOne(c.query)
		require.Error(t, err, c.query)
		e := pgError(c.query, &api.Error{Code: tuple.CodeSQLSyntax, Message: "sql: " + err.Error()})
		require.Equal(t, "42601", e.Code, c.query)
		require.Equal(t, c.want, e.Position, "%s: %s", c.query, err)
	}
	require.Zero(t, position("SELECT 1", "no place named"))
	require.Zero(t, position("SELECT 1", "line 3, column 1"), "past the text")
}

func TestPgErrorCodes(t *testing.T) {
	for code, state := range map[uint32]string{
		tuple.CodeNoSuchSpace:       "42P01",
		tuple.CodeSQLUnknownColumn:  "42703",
		tuple.CodeTupleFound:        "23505",
		tuple.CodeAccessDenied:      "42501",
		tuple.CodeSQLDivisionByZero: "22012",
		api.CodeNotALeader:          "XX000",
	} {
		require.Equal(t, state, pgError("", &api.Error{Code: code, Message: "m"}).Code, "code %d", code)
	}
	require.Equal(t, "23502", pgError("", &api.Error{Code: tuple.CodeSQLNotNull, Message: `NULL value in column "a" violates its NOT NULL constraint`}).Code)
	require.Equal(t, "42804", pgError("", &api.Error{Code: tuple.CodeSQLTypeMismatch, Message: "m"}).Code)
}

func TestPgValues(t *testing.T) {
	at := time.Date(2026, 12, 6, 9, 30, 0, 123000, time.UTC)
	u := uuid.MustParse("6f1c4c8e-1d2a-4b3c-9d4e-5f6a7b8c9d0e")
	for _, v := range []any{int64(-3), 2.5, "x", true, []byte{1, 2}, nil, at, pgwire.UUID(u), pgwire.Numeric("-12.50")} {
		in, err := fromPG(v)
		require.NoError(t, err)
		out := toPG(in)
		if tm, ok := v.(time.Time); ok {
			require.True(t, tm.Equal(out.(time.Time)), "%v", out)
			continue
		}
		require.Equal(t, v, out)
	}
	d, err := fromPG(pgwire.Numeric("1.5"))
	require.NoError(t, err)
	require.IsType(t, &apd.Decimal{}, d)
	_, err = fromPG(pgwire.Numeric("NaN"))
	require.Error(t, err, "picogo's decimals are finite")
}
