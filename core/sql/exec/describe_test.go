package exec_test

import (
	"testing"

	"github.com/picogo/picogo/core/sql/exec"
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/sql/plan"
	"github.com/picogo/picogo/core/tuple"
	"github.com/stretchr/testify/require"
)

func TestDescribe(t *testing.T) {
	cat := exec.Tables{
		"t": exec.RowsTable("t", []exec.Column{
			{Name: "id", Type: tuple.TypeInteger},
			{Name: "name", Type: tuple.TypeString, Nullable: true},
			{Name: "price", Type: tuple.TypeDecimal, Nullable: true},
			{Name: "bucket_id", Type: tuple.TypeUnsigned, Hidden: true},
		}, nil),
	}
	for _, c := range []struct {
		sql    string
		params []tuple.FieldType
		cols   []string // name:type; nil for a statement that returns no rows
	}{
		{"SELECT id, name FROM t WHERE id = $1", []tuple.FieldType{"integer"}, []string{"id:integer", "name:string"}},
		{"SELECT price * 2 AS p FROM t WHERE $1 < price AND name IN ($2, 'x') LIMIT $3", []tuple.FieldType{"decimal", "string", "integer"}, []string{"p:decimal"}},
		{"SELECT $1", []tuple.FieldType{"any"}, []string{"col_1:any"}},
		{"SELECT id FROM t WHERE id BETWEEN ? AND ?", []tuple.FieldType{"integer", "integer"}, []string{"id:integer"}},
		{"INSERT INTO t VALUES ($1, $2, $3)", []tuple.FieldType{"integer", "string", "decimal"}, nil},
		{"INSERT INTO t (name, id) VALUES ($1, $2), ($3, 7)", []tuple.FieldType{"string", "integer", "string"}, nil},
		{"UPDATE t SET name = $1, price = price + $2 WHERE id = $3", []tuple.FieldType{"string", "decimal", "integer"}, nil},
		{"DELETE FROM t WHERE name = $1", []tuple.FieldType{"string"}, nil},
		{"CREATE TABLE u (a INT PRIMARY KEY)", []tuple.FieldType{}, nil},
	} {
		stmt, err := parse.ParseOne(c.sql)
		require.NoError(t, err, c.sql)
		plan.NumberParams(stmt)
		d, e := exec.Describe(cat, stmt, plan.ParamCount(stmt))
		require.Nil(t, e, "%s: %v", c.sql, e)
		require.Equal(t, c.params, d.Params, c.sql)
		require.Equal(t, c.cols != nil, d.Query, c.sql)
		var cols []string
		for _, col := range d.Columns {
			cols = append(cols, col.Name+":"+string(col.Type))
		}
		require.Equal(t, c.cols, cols, c.sql)
	}
	for _, bad := range []string{"SELECT nope FROM t", "SELECT * FROM nowhere", "INSERT INTO nowhere VALUES (1)", "UPDATE t SET name = nope", "DELETE FROM nowhere"} {
		stmt, err := parse.ParseOne(bad)
		require.NoError(t, err, bad)
		_, e := exec.Describe(cat, stmt, plan.ParamCount(stmt))
		require.NotNil(t, e, bad)
	}
}
