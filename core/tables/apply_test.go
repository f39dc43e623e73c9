package tables

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
)

// seeded returns a test store with rows kv [1,"one",10,nil],
// [2,"two",MaxUint64,["t"]] and multi ["a",1,{"x":1}].
func seeded(t *testing.T) *Store {
	s := newTestStore(t)
	mustApply(t, s, BatchOp(
		Insert(kvID, 1, "one", 10, nil),
		Insert(kvID, 2, "two", uint64(math.MaxUint64), []any{"t"}),
		Insert(multiID, "a", 1, map[string]any{"x": 1}),
	))
	return s
}

func TestApplyErrorsLeaveStoreUnchanged(t *testing.T) {
	notArray := raw(t, map[string]any{"a": 1})
	cases := []struct {
		name string
		op   Op
		code uint32
		msg  string // a substring of the message
	}{
		{"duplicate key", DmlOp(Insert(kvID, 1, "uno", 1, nil)), tuple.CodeTupleFound,
			`Duplicate key exists in unique index "kv_pkey" in space "kv" with old tuple - [1, "one", 10, null] and new tuple - [1, "uno", 1, null]`},
		{"unknown table", DmlOp(Insert(9999, 1)), tuple.CodeNoSuchSpace, "Space '9999' does not exist"},
		{"arity", DmlOp(Insert(kvID, 3, "three", 1)), tuple.CodeExactFieldCount, "Tuple field count 3 does not match space field count 4"},
		{"type", DmlOp(Insert(kvID, 3, 5, 1, nil)), tuple.CodeFieldType, "Tuple field 2 (name) type does not match one required by operation: expected string, got unsigned"},
		{"negative unsigned", DmlOp(Insert(kvID, -3, "x", 1, nil)), tuple.CodeFieldType, "field 1 (id)"},
		{"non-nullable nil", DmlOp(Insert(kvID, 3, nil, 1, nil)), tuple.CodeFieldType, "expected string, got nil"},
		{"nullable array of wrong type", DmlOp(Insert(kvID, 3, "x", 1, "tags")), tuple.CodeFieldType, "4 (tags)"},
		{"tuple not array", DmlOp(Dml{Kind: DmlInsert, Table: kvID, Tuple: notArray}), tuple.CodeTupleNotArray, "must be MsgPack array"},
		{"garbage tuple", DmlOp(Dml{Kind: DmlInsert, Table: kvID, Tuple: []byte{0x94, 0xc1}}), tuple.CodeInvalidMsgpack, "Invalid MsgPack"},
		{"trailing bytes", DmlOp(Dml{Kind: DmlReplace, Table: kvID, Tuple: append(raw(t, []any{3, "x", 1, nil}), 0x01)}), tuple.CodeInvalidMsgpack, "trailing"},
		{"insert with key", DmlOp(Dml{Kind: DmlInsert, Table: kvID, Tuple: raw(t, []any{3, "x", 1, nil}), Key: raw(t, []any{3})}), tuple.CodeIllegalParams, "takes a tuple only"},
		{"delete without key", DmlOp(Dml{Kind: DmlDelete, Table: kvID}), tuple.CodeIllegalParams, "takes a key only"},
		{"unknown dml kind", DmlOp(Dml{Kind: "upsert", Table: kvID, Key: raw(t, []any{1})}), tuple.CodeIllegalParams, `unknown dml kind "upsert"`},
		{"update changes pk", DmlOp(Update(kvID, []any{1}, []any{"=", "id", 5})), tuple.CodeCantUpdatePrimaryKey, "part of primary index in space 'kv'"},
		{"update pk arithmetic", DmlOp(Update(kvID, []any{1}, []any{"+", 0, 1})), tuple.CodeCantUpdatePrimaryKey, "primary index"},
		{"arith on string", DmlOp(Update(kvID, []any{1}, []any{"+", "name", 1})), tuple.CodeUpdateArgType, "operation '+' on field 2 (name)"},
		{"arith with string", DmlOp(Update(kvID, []any{1}, []any{"-", "score", "x"})), tuple.CodeUpdateArgType, "operation '-' on field 3 (score)"},
		{"arith on nil", DmlOp(Update(kvID, []any{1}, []any{"+", "tags", 1})), tuple.CodeUpdateArgType, "4 (tags)"},
		{"unknown update op", DmlOp(Update(kvID, []any{1}, []any{"*", 1, 1})), tuple.CodeUnknownUpdateOp, `Unknown UPDATE operation #1: "*"`},
		{"insert op breaks the field count", DmlOp(Update(kvID, []any{1}, []any{"!", 1, 1})), tuple.CodeExactFieldCount, "Tuple field count 5"},
		{"update op arity", DmlOp(Update(kvID, []any{1}, []any{"=", 1, 1}, []any{"=", 1})), tuple.CodeUnknownUpdateOp, "#2"},
		{"update field no", DmlOp(Update(kvID, []any{1}, []any{"=", 5, 1})), tuple.CodeNoSuchFieldNo, "Field 5 was not found"},
		{"update negative field no", DmlOp(Update(kvID, []any{1}, []any{"=", -5, 1})), tuple.CodeNoSuchFieldNo, "Field -5"},
		{"set one past the end appends", DmlOp(Update(kvID, []any{1}, []any{"=", 4, 1})), tuple.CodeExactFieldCount, "Tuple field count 5"},
		{"update field name", DmlOp(Update(kvID, []any{1}, []any{"=", "nope", 1})), tuple.CodeNoSuchFieldName, "Field 'nope' was not found"},
		{"update field of bad type", DmlOp(Update(kvID, []any{1}, []any{"=", true, 1})), tuple.CodeIllegalParams, "field id must be a number or a string"},
		{"update makes type mismatch", DmlOp(Update(kvID, []any{1}, []any{"=", "name", 5})), tuple.CodeFieldType, "2 (name)"},
		{"update integer overflow", DmlOp(Update(kvID, []any{2}, []any{"+", "score", 1})), tuple.CodeUpdateIntegerOverflow, "Integer overflow when performing '+' operation on field 3 (score)"},
		{"update key part count", DmlOp(Update(kvID, []any{1, 2}, []any{"=", 1, "x"})), tuple.CodeExactMatch, "expected 1, got 2"},
		{"update key type", DmlOp(Update(kvID, []any{"1"}, []any{"=", 1, "x"})), tuple.CodeKeyPartType, "expected unsigned, got string"},
		{"delete key not array", DmlOp(Dml{Kind: DmlDelete, Table: kvID, Key: raw(t, 1)}), tuple.CodeTupleNotArray, "array"},
		{"delete key type", DmlOp(Delete(multiID, "a", "1")), tuple.CodeKeyPartType, "part 1"},
		{"empty batch", BatchOp(), tuple.CodeIllegalParams, "empty batch"},
		{"dml into _pico_table", DmlOp(Delete(TablePicoTable, uint64(kvID))), tuple.CodeIllegalParams, "space '_pico_table' is changed only by DDL"},
		{"dml into _pico_index", DmlOp(Delete(TablePicoIndex, uint64(kvID), 0)), tuple.CodeIllegalParams, "_pico_index"},
		{"unknown op kind", Op{Kind: "alter"}, tuple.CodeIllegalParams, `unknown op kind "alter"`},
		{"dml op without dml", Op{Kind: OpDml}, tuple.CodeIllegalParams, "without dml"},
		{"create without def", Op{Kind: OpDdlPrepare, Ddl: &Ddl{Kind: DdlCreateTable}}, tuple.CodeIllegalParams, "without def"},
		{"prepare without ddl", Op{Kind: OpDdlPrepare}, tuple.CodeIllegalParams, "without ddl"},
		{"commit with nothing pending", DdlCommitOp(0), tuple.CodeIllegalParams, "no schema change is pending"},
		{"create existing name", prepCreate(kvDef()), tuple.CodeSpaceExists, "Space 'kv' already exists"},
		{"create system name", prepCreate(schema.TableDef{Name: "_pico_tier", Format: []schema.Field{{Name: "a", Type: tuple.TypeString}}, PrimaryKey: []uint32{0}}), tuple.CodeSpaceExists, "_pico_tier"},
		{"create existing id", prepCreate(schema.TableDef{ID: multiID, Name: "m2", Format: []schema.Field{{Name: "a", Type: tuple.TypeString}}, PrimaryKey: []uint32{0}}), tuple.CodeSpaceExists, "'multi' already exists with id 1025"},
		{"create reserved id", prepCreate(schema.TableDef{ID: 600, Name: "t", Format: []schema.Field{{Name: "a", Type: tuple.TypeString}}, PrimaryKey: []uint32{0}}), tuple.CodeCreateSpace, "reserved"},
		{"create no name", prepCreate(schema.TableDef{Format: []schema.Field{{Name: "a", Type: tuple.TypeString}}, PrimaryKey: []uint32{0}}), tuple.CodeCreateSpace, "name is empty"},
		{"create no format", prepCreate(schema.TableDef{Name: "t", PrimaryKey: []uint32{0}}), tuple.CodeCreateSpace, "no fields"},
		{"create no pk", prepCreate(schema.TableDef{Name: "t", Format: []schema.Field{{Name: "a", Type: tuple.TypeString}}}), tuple.CodeCreateSpace, "no parts"},
		{"create bad type", prepCreate(schema.TableDef{Name: "t", Format: []schema.Field{{Name: "a", Type: "text"}}, PrimaryKey: []uint32{0}}), tuple.CodeCreateSpace, `unknown type "text"`},
		{"create dup field", prepCreate(schema.TableDef{Name: "t", Format: []schema.Field{{Name: "a", Type: tuple.TypeString}, {Name: "a", Type: tuple.TypeString}}, PrimaryKey: []uint32{0}}), tuple.CodeCreateSpace, "duplicate"},
		{"create pk out of range", prepCreate(schema.TableDef{Name: "t", Format: []schema.Field{{Name: "a", Type: tuple.TypeString}}, PrimaryKey: []uint32{1}}), tuple.CodeCreateSpace, "refers to field 1"},
		{"create pk twice", prepCreate(schema.TableDef{Name: "t", Format: []schema.Field{{Name: "a", Type: tuple.TypeString}}, PrimaryKey: []uint32{0, 0}}), tuple.CodeCreateSpace, "twice"},
		{"create nullable pk", prepCreate(schema.TableDef{Name: "t", Format: []schema.Field{{Name: "a", Type: tuple.TypeString, Nullable: true}}, PrimaryKey: []uint32{0}}), tuple.CodeCreateSpace, "nullable"},
		{"create map pk", prepCreate(schema.TableDef{Name: "t", Format: []schema.Field{{Name: "a", Type: tuple.TypeMap}}, PrimaryKey: []uint32{0}}), tuple.CodeCreateSpace, "cannot be indexed"},
		{"create old schema version", Op{Kind: OpDdlPrepare, SchemaVersion: 2, Ddl: &Ddl{Kind: DdlCreateTable, Def: &schema.TableDef{Name: "t", Format: []schema.Field{{Name: "a", Type: tuple.TypeString}}, PrimaryKey: []uint32{0}}}}, tuple.CodeWrongSchemaVersion, "current: 2, in request: 2"},
		{"drop unknown", prepDrop(5000), tuple.CodeNoSuchSpace, "5000"},
		{"drop system", prepDrop(TablePicoTier), tuple.CodeDropSpace, "Can't drop space '_pico_tier'"},
		{"drop old schema version", PrepareDropTableOp(kvID, 1), tuple.CodeWrongSchemaVersion, "Wrong schema version"},
		{"batch third op fails", BatchOp(
			Insert(kvID, 10, "ten", 1, nil),
			Delete(multiID, "a", 1),
			Insert(kvID, 1, "dup", 1, nil),
			Insert(kvID, 11, "eleven", 1, nil),
		), tuple.CodeTupleFound, "batch op 2: Duplicate key"},
		{"batch into unknown table", BatchOp(Insert(kvID, 10, "ten", 1, nil), Delete(4242, 1)), tuple.CodeNoSuchSpace, "batch op 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := seeded(t)
			before := s.StateHash()
			kvBefore := scanValues(t, s, kvID)
			r := s.ApplyOp(c.op)
			require.NotNil(t, r.Err)
			assert.Equal(t, c.code, r.Err.Code, r.Err.Message)
			assert.Contains(t, r.Err.Message, c.msg)
			assert.Zero(t, r.RowCount)
			assert.Equal(t, before, s.StateHash(), "store changed")
			assert.Equal(t, kvBefore, scanValues(t, s, kvID))
			// And the same through the encoded form, as Raft applies it
			// (a tuple that is not msgpack makes the whole op undecodable).
			got := seeded(t).Apply(raCommands(c.op))
			if _, err := DecodeOp(c.op.Encode()); err == nil {
				assert.Equal(t, r, got[0])
			} else {
				assert.Equal(t, tuple.CodeIllegalParams, got[0].(Result).Err.Code)
			}
		})
	}
}

func TestApplyDml(t *testing.T) {
	s := seeded(t)
	cases := []struct {
		name string
		op   Op
		rows uint64
		kv   [][]any // kv afterwards, nil: not checked
	}{
		{"insert", DmlOp(Insert(kvID, 3, "three", -1.5, []any{})), 1, nil},
		{"replace existing", DmlOp(Replace(kvID, 3, "THREE", 3, nil)), 1, nil},
		{"replace new", DmlOp(Replace(kvID, 4, "four", 4, nil)), 1, nil},
		{"update missing", DmlOp(Update(kvID, []any{99}, []any{"=", 1, "x"})), 0, nil},
		{"delete missing", DmlOp(Delete(kvID, 99)), 0, nil},
		{"delete", DmlOp(Delete(kvID, 4)), 1, nil},
		{"update", DmlOp(Update(kvID, []any{3}, []any{"=", "name", "drei"}, []any{"+", 2, 1})), 1, [][]any{
			{int8(1), "one", int8(10), nil},
			{int8(2), "two", uint64(math.MaxUint64), []any{"t"}},
			{int8(3), "drei", int8(4), nil},
		}},
		{"batch over tables", BatchOp(
			Insert(multiID, "b", -7, "c"),
			Update(kvID, []any{1}, []any{"-", "score", 20}),
			Delete(kvID, 2),
			Insert(kvID, 2, "two again", 0.25, nil),
			Update(kvID, []any{2}, []any{"+", "score", 1}),
			Delete(kvID, 77),
		), 5, [][]any{
			{int8(1), "one", int8(-10), nil},
			{int8(2), "two again", 1.25, nil},
			{int8(3), "drei", int8(4), nil},
		}},
		{"nop", Op{Kind: OpNop}, 0, nil},
	}
	for _, c := range cases {
		r := s.ApplyOp(c.op)
		require.Nil(t, r.Err, c.name)
		require.Equal(t, c.rows, r.RowCount, c.name)
		if c.kv != nil {
			require.Equal(t, c.kv, scanValues(t, s, kvID), c.name)
		}
	}
	tup, ok, err := s.Get(multiID, []any{"b", -7})
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, []any{"b", int8(-7), "c"}, tup.Values())
	require.Equal(t, raw(t, []any{"b", -7, "c"}), tup.Raw())

	_, ok, err = s.Get(kvID, []any{4})
	require.NoError(t, err)
	require.False(t, ok)
	_, _, err = s.Get(kvID, []any{"4"})
	require.Equal(t, tuple.CodeKeyPartType, err.(*tuple.Error).Code)
	_, _, err = s.Get(777, []any{4})
	require.Equal(t, tuple.CodeNoSuchSpace, err.(*tuple.Error).Code)
}

// An update is checked as a whole (tuple.Update's own cases are in
// core/tuple): setting a primary key field to its own value is no change
// of the key, and the updated row fits the format.
func TestApplyUpdateChecksTheRow(t *testing.T) {
	s := seeded(t)
	r := s.ApplyOp(DmlOp(Update(multiID, []any{"a", 1}, []any{"=", "b", 1}, []any{"=", "c", "x"})))
	require.Nil(t, r.Err)
	require.EqualValues(t, 1, r.RowCount)
	tup, ok, err := s.Get(multiID, []any{"a", 1})
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, []any{"a", int8(1), "x"}, tup.Values())
}

func TestDDL(t *testing.T) {
	s := New()
	require.Zero(t, s.SchemaVersion())

	createTable(t, s, kvDef(), 0)
	def, ok := s.TableByName("kv")
	require.True(t, ok)
	require.Equal(t, kvID, def.ID)
	require.EqualValues(t, 1, def.SchemaVersion)
	require.True(t, def.Operable)
	require.Equal(t, schema.DistributionGlobal, def.Distribution)
	require.Equal(t, schema.EngineMemtx, def.Engine)
	require.EqualValues(t, 1, s.SchemaVersion())

	row, ok, err := s.Get(TablePicoTable, []any{kvID})
	require.NoError(t, err)
	require.True(t, ok)
	parsed, err := TableDefFrom(row.Values())
	require.NoError(t, err)
	want := def.Clone()
	want.PrimaryKey = nil
	require.Equal(t, want, parsed)

	idx, ok, err := s.Get(TablePicoIndex, []any{kvID, 0})
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, []any{uint16(kvID), int8(0), "kv_pkey", "tree", map[string]any{},
		[]any{[]any{"id", "unsigned", false}}, true, int8(1)}, idx.Values())

	// DML on the new table.
	mustApply(t, s, DmlOp(Insert(kvID, 1, "one", 1, nil)))
	require.Len(t, scanValues(t, s, kvID), 1)

	// Explicit id and schema version.
	other := multiDef()
	other.ID = 2000
	createTable(t, s, other, 10)
	require.EqualValues(t, 10, s.SchemaVersion())
	def, _ = s.Table(2000)
	require.EqualValues(t, 10, def.SchemaVersion)
	require.Equal(t, []uint32{0, 1}, def.PrimaryKey)

	// The next id follows the largest.
	third := schema.TableDef{Name: "third", Format: []schema.Field{{Name: "k", Type: tuple.TypeUUID}}, PrimaryKey: []uint32{0}}
	createTable(t, s, third, 0)
	def, _ = s.TableByName("third")
	require.EqualValues(t, 2001, def.ID)
	require.EqualValues(t, 11, s.SchemaVersion())
	r := s.ApplyOp(DmlOp(Insert(2001, "not-a-uuid")))
	require.Equal(t, tuple.CodeFieldType, r.Err.Code)
	mustApply(t, s, DmlOp(Insert(2001, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")))

	ids := func() []uint32 {
		var out []uint32
		for _, d := range s.Tables() {
			out = append(out, d.ID)
		}
		return out
	}
	require.Equal(t, []uint32{512, 513, 514, 515, 516, 517, 520, 521, 523, 540, 541, 542, 543, 544, 1024, 2000, 2001}, ids())

	// Drop.
	dropTable(t, s, kvID)
	require.EqualValues(t, 12, s.SchemaVersion())
	_, ok = s.Table(kvID)
	require.False(t, ok)
	_, ok = s.TableByName("kv")
	require.False(t, ok)
	_, ok, _ = s.Get(TablePicoTable, []any{kvID})
	require.False(t, ok)
	_, ok, _ = s.Get(TablePicoIndex, []any{kvID, 0})
	require.False(t, ok)
	_, err = s.Scan(kvID)
	require.Equal(t, tuple.CodeNoSuchSpace, err.(*tuple.Error).Code)
	r = s.ApplyOp(DmlOp(Insert(kvID, 1, "one", 1, nil)))
	require.Equal(t, tuple.CodeNoSuchSpace, r.Err.Code)
	require.Equal(t, []uint32{512, 513, 514, 515, 516, 517, 520, 521, 523, 540, 541, 542, 543, 544, 2000, 2001}, ids())

	// The name is free again; a new table starts empty.
	createTable(t, s, kvDef(), 0)
	def, _ = s.TableByName("kv")
	require.EqualValues(t, 2002, def.ID)
	require.Empty(t, scanValues(t, s, 2002))
}

func TestFreshStoreHasSystemTables(t *testing.T) {
	s := New()
	rows := scanValues(t, s, TablePicoTable)
	sys := SystemTables()
	require.Len(t, rows, len(sys))
	for i, def := range sys {
		got, err := TableDefFrom(rows[i])
		require.NoError(t, err)
		want := def.Clone()
		want.PrimaryKey = nil
		require.Equal(t, want, got)

		idx, ok, err := s.Get(TablePicoIndex, []any{def.ID, 0})
		require.NoError(t, err)
		require.True(t, ok, def.Name)
		x, err := IndexDefFrom(idx.Values())
		require.NoError(t, err)
		pk, err := x.PrimaryKeyOf(&got)
		require.NoError(t, err)
		require.Equal(t, def.PrimaryKey, pk, def.Name)

		byName, ok := s.TableByName(def.Name)
		require.True(t, ok)
		require.Equal(t, def, *byName)
	}
	priv, _ := s.Table(TablePicoPrivilege)
	var pkNames []string
	for _, p := range priv.PrimaryKey {
		pkNames = append(pkNames, priv.Format[p].Name)
	}
	require.Equal(t, []string{"grantee_id", "object_type", "object_id", "privilege"}, pkNames)

	for _, id := range []uint32{TablePicoTable, TablePicoIndex, TablePicoUser, TablePicoPrivilege} {
		require.False(t, DmlAllowed(id))
	}
	for _, id := range []uint32{TablePicoPeerAddress, TablePicoInstance, TablePicoProperty, TablePicoReplicaset, TablePicoTier, kvID} {
		require.True(t, DmlAllowed(id))
	}
}

// System tables take rows of their formats (what the node will write).
func TestSystemTableRows(t *testing.T) {
	s := New()
	r := s.ApplyOp(BatchOp(
		Insert(TablePicoPeerAddress, 1, "127.0.0.1:3301"),
		Insert(TablePicoInstance, "default_1_1", "6f3c3a70-0000-4000-8000-000000000001", 1, "default_1",
			"6f3c3a70-0000-4000-8000-000000000002", []any{"Offline", 0}, []any{"Offline", 0},
			map[string]any{"dc": "msk"}, "default"),
		Insert(TablePicoReplicaset, "default_1", "6f3c3a70-0000-4000-8000-000000000002", "default_1_1",
			"default_1_1", "default", 1.0, "not-ready", 0, 0, map[string]any{}),
		Insert(TablePicoTier, "default", 1, true, 0, 0, false, 3000, false),
		Insert(TablePicoProperty, "max_heartbeat_period", 5.0),
		Insert(TablePicoUser, 32, "pico_service", 0, nil, 1, "user"),
		Insert(TablePicoPrivilege, 1, 32, "read", "table", -1, 0),
	))
	require.Nil(t, r.Err)
	require.EqualValues(t, 7, r.RowCount)
	v, ok := s.Property("max_heartbeat_period")
	require.True(t, ok)
	require.Equal(t, 5.0, v)
}

func TestTableDefTupleRoundTrip(t *testing.T) {
	def := schema.TableDef{ID: 1234, Name: "t", Distribution: schema.DistributionGlobal, Format: []schema.Field{
		{Name: "a", Type: tuple.TypeString}, {Name: "b", Type: tuple.TypeMap, Nullable: true},
	}, SchemaVersion: 7, Operable: true, Engine: schema.EngineMemtx, Owner: 32, Description: "d"}
	tup := tuple.FromValues(TableRow(&def))
	got, err := TableDefFrom(tup.Values())
	require.NoError(t, err)
	require.Equal(t, def, got)

	def.PrimaryKey = []uint32{0}
	x := def.PkIndex()
	xt := tuple.FromValues(IndexRow(&x))
	gotX, err := IndexDefFrom(xt.Values())
	require.NoError(t, err)
	require.Equal(t, x, gotX)

	_, err = TableDefFrom([]any{1, "t"})
	require.Error(t, err)
	bad := TableRow(&def)
	bad[3] = "not a format"
	_, err = TableDefFrom(bad)
	require.ErrorContains(t, err, "field 4")
}

func prepCreate(def schema.TableDef) Op { return PrepareCreateTableOp(def, 0) }
func prepDrop(id uint32) Op             { return PrepareDropTableOp(id, 0) }
