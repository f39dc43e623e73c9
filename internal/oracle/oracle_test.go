package oracle

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/storage"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/internal/testbin"
)

// val is a tagged value, as testdata/oracle.lua reads it.
type val map[string]any

func u(n uint64) val     { return val{"u": strconv.FormatUint(n, 10)} }
func i(n int64) val      { return val{"i": strconv.FormatInt(n, 10)} }
func d(f float64) val    { return val{"d": f} }
func s(x string) val     { return val{"s": x} }
func null() val          { return val{"n": true} }
func boolean(b bool) val { return val{"b": b} }
func dec(x string) val   { return val{"dec": x} }
func uid(x string) val   { return val{"uuid": x} }

// ints is an integer as Lua would encode it: unsigned if non-negative.
func ints(n int64) val {
	if n >= 0 {
		return u(uint64(n))
	}
	return i(n)
}

func goValue(v val) any {
	switch {
	case v["u"] != nil:
		n, _ := strconv.ParseUint(v["u"].(string), 10, 64)
		return n
	case v["i"] != nil:
		n, _ := strconv.ParseInt(v["i"].(string), 10, 64)
		return n
	case v["d"] != nil:
		return v["d"].(float64)
	case v["s"] != nil:
		return v["s"].(string)
	case v["n"] != nil:
		return nil
	case v["b"] != nil:
		return v["b"].(bool)
	case v["dec"] != nil:
		return tuple.MustDecimal(v["dec"].(string))
	case v["uuid"] != nil:
		return uuid.MustParse(v["uuid"].(string))
	}
	panic(fmt.Sprintf("bad value %v", v))
}

func goValues(vs []val) []any {
	out := make([]any, len(vs))
	for j, v := range vs {
		out[j] = goValue(v)
	}
	return out
}

// op is one operation, as testdata/oracle.lua reads it.
type op struct {
	Op       string  `json:"op"`
	Space    string  `json:"space"`
	Index    string  `json:"index,omitempty"`
	Tuple    []val   `json:"tuple,omitempty"`
	Key      []val   `json:"key,omitempty"`
	Ops      [][]any `json:"ops,omitempty"` // [op, field (0-based number or name), val]
	Iterator string  `json:"iterator,omitempty"`
	Offset   uint32  `json:"offset"`
	Limit    uint32  `json:"limit"`
	// try_index: build a secondary index over the rows, then drop it.
	Unique bool        `json:"unique"`
	Parts  []indexPart `json:"parts,omitempty"`
}

type indexPart struct {
	Field    int    `json:"field"`
	Type     string `json:"type"`
	Nullable bool   `json:"nullable"`
}

// result is one operation's outcome: tuples rendered with their types, or
// an error code.
type result struct {
	Tuples []string
	Code   uint32
	Msg    string
}

func render(t tuple.Tuple) string {
	parts := make([]string, t.Len())
	for j, v := range t.Values() {
		parts[j] = tuple.TypeName(v) + ":" + tuple.FromValues([]any{v}).String()
	}
	return strings.Join(parts, " ")
}

// The spaces, as testdata/oracle.lua creates them; index names map to ids.
var indexIDs = map[string]map[string]uint32{
	"a": {"pk": 0, "name": 1, "cs": 2},
	"b": {"pk": 0, "d": 1, "u": 2},
	"c": {"pk": 0, "v": 1},
}

var spaceIDs = map[string]uint32{"a": 1, "b": 2, "c": 3}

func newEngine(t *testing.T) *storage.Engine {
	e := storage.New()
	f := func(name string, typ tuple.FieldType, nullable bool) schema.Field {
		return schema.Field{Name: name, Type: typ, Nullable: nullable}
	}
	p := func(field string, nullable bool) schema.IndexPart {
		return schema.IndexPart{Field: field, Nullable: nullable}
	}
	nonUnique := map[string]any{"unique": false}
	require.Nil(t, e.CreateTable(schema.TableDef{ID: 1, Name: "a", Distribution: schema.DistributionGlobal, PrimaryKey: []uint32{0},
		Format: []schema.Field{f("id", tuple.TypeUnsigned, false), f("name", tuple.TypeString, false),
			f("city", tuple.TypeString, true), f("score", tuple.TypeNumber, true)}}))
	require.Nil(t, e.CreateIndex(schema.IndexDef{TableID: 1, ID: 1, Name: "name", Parts: []schema.IndexPart{p("name", false)}}))
	require.Nil(t, e.CreateIndex(schema.IndexDef{TableID: 1, ID: 2, Name: "cs", Opts: nonUnique,
		Parts: []schema.IndexPart{p("city", true), p("score", true)}}))
	require.Nil(t, e.CreateTable(schema.TableDef{ID: 2, Name: "b", Distribution: schema.DistributionGlobal, PrimaryKey: []uint32{0, 1},
		Format: []schema.Field{f("k1", tuple.TypeInteger, false), f("k2", tuple.TypeString, false),
			f("d", tuple.TypeDecimal, true), f("u", tuple.TypeUUID, true)}}))
	require.Nil(t, e.CreateIndex(schema.IndexDef{TableID: 2, ID: 1, Name: "d", Opts: nonUnique, Parts: []schema.IndexPart{p("d", true)}}))
	require.Nil(t, e.CreateIndex(schema.IndexDef{TableID: 2, ID: 2, Name: "u", Parts: []schema.IndexPart{p("u", true)}}))
	require.Nil(t, e.CreateTable(schema.TableDef{ID: 3, Name: "c", Distribution: schema.DistributionGlobal, PrimaryKey: []uint32{0},
		Format: []schema.Field{f("k", tuple.TypeScalar, false), f("v", tuple.TypeUnsigned, true)}}))
	require.Nil(t, e.CreateIndex(schema.IndexDef{TableID: 3, ID: 1, Name: "v", Opts: nonUnique, Parts: []schema.IndexPart{p("v", true)}}))
	return e
}

// runEngine runs an operation on picogo's engine.
func runEngine(e *storage.Engine, o op) result {
	sp := spaceIDs[o.Space]
	idx := indexIDs[o.Space][o.Index]
	one := func(t tuple.Tuple, err *tuple.Error) result {
		if err != nil {
			return result{Code: err.Code, Msg: err.Message}
		}
		if t.Raw() == nil {
			return result{}
		}
		return result{Tuples: []string{render(t)}}
	}
	var ops [][]any
	for _, x := range o.Ops {
		ops = append(ops, []any{x[0], x[1], goValue(x[2].(val))})
	}
	switch o.Op {
	case "insert":
		c, err := e.Insert(sp, tuple.FromValues(goValues(o.Tuple)))
		return one(c.New, err)
	case "replace":
		c, err := e.Replace(sp, tuple.FromValues(goValues(o.Tuple)))
		return one(c.New, err)
	case "delete":
		c, err := e.Delete(sp, idx, goValues(o.Key))
		return one(c.Old, err)
	case "update":
		c, err := e.Update(sp, idx, goValues(o.Key), ops)
		return one(c.New, err)
	case "upsert":
		_, err := e.Upsert(sp, tuple.FromValues(goValues(o.Tuple)), ops)
		return one(tuple.Tuple{}, err)
	case "get":
		t, _, err := e.Get(sp, idx, goValues(o.Key))
		return one(t, err)
	case "select":
		it, err := storage.ParseIterator(o.Iterator)
		if err != nil {
			return result{Code: err.Code}
		}
		ts, err := e.Select(sp, idx, goValues(o.Key), it, o.Offset, o.Limit)
		if err != nil {
			return result{Code: err.Code, Msg: err.Message}
		}
		r := result{}
		for _, t := range ts {
			r.Tuples = append(r.Tuples, render(t))
		}
		return r
	case "try_index":
		def := schema.IndexDef{TableID: sp, ID: 9, Name: "tmp", Opts: map[string]any{"unique": o.Unique}}
		tdef, _ := e.Table(sp)
		for _, p := range o.Parts {
			def.Parts = append(def.Parts, schema.IndexPart{Field: tdef.Format[p.Field].Name, Type: tuple.FieldType(p.Type), Nullable: p.Nullable})
		}
		if err := e.CreateIndex(def); err != nil {
			return result{Code: err.Code, Msg: err.Message}
		}
		if err := e.DropIndex(sp, 9); err != nil {
			return result{Code: err.Code, Msg: err.Message}
		}
		return result{}
	case "count":
		it, _ := storage.ParseIterator(o.Iterator)
		n, err := e.Count(sp, idx, goValues(o.Key), it)
		if err != nil {
			return result{Code: err.Code, Msg: err.Message}
		}
		return result{Tuples: []string{render(tuple.FromValues([]any{n}))}}
	}
	panic(o.Op)
}

// gen draws operations over the three spaces, biased toward collisions
// and edge cases.
type gen struct{ rng *rand.Rand }

func (g gen) pick(vs ...val) val    { return vs[g.rng.IntN(len(vs))] }
func (g gen) chance(p float64) bool { return g.rng.Float64() < p }

var uuids = []string{"00000000-0000-0000-0000-000000000001", "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "f0000000-0000-4000-8000-000000000000"}

func (g gen) field(space string, pos int) val {
	bad := g.chance(0.04)
	switch space {
	case "a":
		switch pos {
		case 0:
			if bad {
				return g.pick(i(-1), s("x"), d(1.5), null())
			}
			return u(uint64(g.rng.IntN(12)))
		case 1:
			if bad {
				return g.pick(null(), u(1))
			}
			return s(fmt.Sprintf("n%d", g.rng.IntN(8)))
		case 2:
			if bad {
				return u(3)
			}
			return g.pick(null(), s("x"), s("y"), s("z"))
		case 3:
			if bad {
				return s("nan")
			}
			return g.pick(null(), ints(int64(g.rng.IntN(7)-2)), d(float64(g.rng.IntN(5))+0.5), dec("1.5"), dec("2"), d(-0.25))
		}
	case "b":
		switch pos {
		case 0:
			if bad {
				return g.pick(d(0.5), s("1"), null())
			}
			return ints(int64(g.rng.IntN(7) - 3))
		case 1:
			if bad {
				return u(1)
			}
			return g.pick(s("p"), s("q"), s(""))
		case 2:
			if bad {
				return g.pick(d(1.5), u(1))
			}
			return g.pick(null(), dec("1"), dec("1.0"), dec("2.5"), dec("-0.5"), dec("10"), dec("1E+2"))
		case 3:
			if bad {
				return s("not-a-uuid")
			}
			if g.chance(0.5) {
				return null()
			}
			return uid(uuids[g.rng.IntN(len(uuids))])
		}
	case "c":
		switch pos {
		case 0:
			if bad {
				return null()
			}
			return g.pick(boolean(false), boolean(true), ints(int64(g.rng.IntN(6)-2)), d(float64(g.rng.IntN(4))+0.5),
				d(-1.25), s("a"), s("b"), s(""), dec("0.5"), dec("1"), dec("-2.5"))
		case 1:
			if bad {
				return g.pick(i(-1), s("v"))
			}
			return g.pick(null(), u(uint64(g.rng.IntN(4))))
		}
	}
	return g.pick(s("extra"), u(7), null())
}

var widths = map[string]int{"a": 4, "b": 4, "c": 2}

func (g gen) tuple(space string) []val {
	n := widths[space]
	switch {
	case g.chance(0.05):
		n -= 1 + g.rng.IntN(2)
	case g.chance(0.05):
		n++
	}
	out := make([]val, n)
	for j := range out {
		out[j] = g.field(space, j)
	}
	return out
}

var indexFields = map[string]map[string][]int{
	"a": {"pk": {0}, "name": {1}, "cs": {2, 3}},
	"b": {"pk": {0, 1}, "d": {2}, "u": {3}},
	"c": {"pk": {0}, "v": {1}},
}

var uniqueIndexes = map[string][]string{"a": {"pk", "name"}, "b": {"pk", "u"}, "c": {"pk"}}
var allIndexes = map[string][]string{"a": {"pk", "name", "cs"}, "b": {"pk", "d", "u"}, "c": {"pk", "v"}}

func (g gen) key(space, index string, full bool) []val {
	fields := indexFields[space][index]
	n := len(fields)
	if !full || g.chance(0.05) {
		n = g.rng.IntN(len(fields) + 1)
		if g.chance(0.05) {
			n = len(fields) + 1
		}
	}
	out := make([]val, n)
	for j := range out {
		pos := 0
		if j < len(fields) {
			pos = fields[j]
		}
		out[j] = g.field(space, pos)
	}
	return out
}

func (g gen) updateOps(space string) [][]any {
	n := 1 + g.rng.IntN(2)
	var out [][]any
	names := map[string][]string{"a": {"id", "name", "city", "score"}, "b": {"k1", "k2", "d", "u"}, "c": {"k", "v"}}[space]
	for range n {
		pos := g.rng.IntN(widths[space])
		var field any = pos
		switch {
		case g.chance(0.2):
			field = names[pos]
		case g.chance(0.1):
			field = -1 - g.rng.IntN(2)
		case g.chance(0.05):
			field = widths[space] + g.rng.IntN(2)
		}
		switch g.rng.IntN(9) {
		case 0, 1, 2:
			out = append(out, []any{"=", field, g.field(space, pos)})
		case 3, 4:
			out = append(out, []any{g.pick(s("+"), s("-"))["s"], field, g.pick(ints(int64(g.rng.IntN(3))), d(0.5), dec("0.25"), i(-1))})
		case 5:
			out = append(out, []any{g.pick(s("&"), s("|"), s("^"))["s"], field, g.pick(u(uint64(g.rng.IntN(4))), i(-1))})
		case 6:
			out = append(out, []any{"#", field, g.pick(u(1), u(2), u(0))})
		case 7:
			out = append(out, []any{"!", field, g.field(space, pos)})
		default:
			out = append(out, []any{"=", field, null()})
		}
	}
	return out
}

var iterators = []string{"EQ", "REQ", "ALL", "LT", "LE", "GE", "GT"}

func (g gen) op() op {
	space := []string{"a", "b", "c"}[g.rng.IntN(3)]
	uniq := uniqueIndexes[space][g.rng.IntN(len(uniqueIndexes[space]))]
	anyIdx := allIndexes[space][g.rng.IntN(len(allIndexes[space]))]
	if g.chance(0.01) { // a unique index over city, or a narrower type over score
		parts := map[bool][]indexPart{
			true:  {{Field: 2, Type: "string", Nullable: true}},
			false: {{Field: 3, Type: "integer", Nullable: true}},
		}[g.chance(0.5)]
		return op{Op: "try_index", Space: "a", Unique: g.chance(0.7), Parts: parts}
	}
	switch k := g.rng.IntN(20); {
	case k < 5:
		return op{Op: "insert", Space: space, Tuple: g.tuple(space)}
	case k < 8:
		return op{Op: "replace", Space: space, Tuple: g.tuple(space)}
	case k < 10:
		return op{Op: "delete", Space: space, Index: uniq, Key: g.key(space, uniq, true)}
	case k < 13:
		return op{Op: "update", Space: space, Index: uniq, Key: g.key(space, uniq, true), Ops: g.updateOps(space)}
	case k < 15:
		return op{Op: "upsert", Space: space, Tuple: g.tuple(space), Ops: g.updateOps(space)}
	case k < 16:
		return op{Op: "get", Space: space, Index: g.pick(val{"x": uniq}, val{"x": anyIdx})["x"].(string), Key: g.key(space, uniq, true)}
	case k < 19:
		limit := uint32(g.rng.IntN(6))
		if g.chance(0.5) {
			limit = storage.NoLimit
		}
		return op{Op: "select", Space: space, Index: anyIdx, Key: g.key(space, anyIdx, false),
			Iterator: iterators[g.rng.IntN(len(iterators))], Offset: uint32(g.rng.IntN(3)), Limit: limit}
	}
	return op{Op: "count", Space: space, Index: anyIdx, Key: g.key(space, anyIdx, false), Iterator: iterators[g.rng.IntN(len(iterators))]}
}

// runTarantool runs the operations on a real Tarantool, one result each.
func runTarantool(t *testing.T, bin string, ops []op) []result {
	var in bytes.Buffer
	for _, o := range ops {
		b, err := json.Marshal(o)
		require.NoError(t, err)
		in.Write(b)
		in.WriteByte('\n')
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	script, err := filepath.Abs("testdata/oracle.lua")
	require.NoError(t, err)
	cmd := exec.CommandContext(ctx, bin, script, dir)
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "tarantool.log"))
		t.Fatalf("tarantool: %v\n%s\n%s", err, stderr.String(), log)
	}
	var res []result
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var r struct {
			OK  []string `json:"ok"`
			Err *int64   `json:"err"`
			Msg string   `json:"msg"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r), sc.Text())
		if r.Err != nil {
			res = append(res, result{Code: uint32(*r.Err), Msg: r.Msg})
			continue
		}
		var rr result
		for _, h := range r.OK {
			raw, err := hex.DecodeString(h)
			require.NoError(t, err)
			tup, err := tuple.New(raw)
			require.NoError(t, err, h)
			rr.Tuples = append(rr.Tuples, render(tup))
		}
		res = append(res, rr)
	}
	require.Len(t, res, len(ops), "one result per operation")
	return res
}

// TestAgainstTarantool runs seeded random operations on a real Tarantool
// (memtx) and on picogo's engine and compares every result: the tuples
// returned, in order, with their msgpack types, or the error code.
func TestAgainstTarantool(t *testing.T) {
	// Skipped without tarantool on a developer's machine; under CI, where
	// .ci/run installs it, a missing one fails the test.
	bin := testbin.Tarantool(t)
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			g := gen{rng: rand.New(rand.NewPCG(seed, 99))}
			ops := make([]op, 2500)
			for j := range ops {
				ops[j] = g.op()
				// JSON round trip: the engine sees what Tarantool sees.
				b, _ := json.Marshal(ops[j])
				var back op
				require.NoError(t, json.Unmarshal(b, &back))
				for k := range back.Ops {
					back.Ops[k][2] = val(back.Ops[k][2].(map[string]any))
					if f, ok := back.Ops[k][1].(float64); ok {
						back.Ops[k][1] = int64(f)
					}
				}
				ops[j] = back
			}
			want := runTarantool(t, bin, ops)
			e := newEngine(t)
			mismatches := 0
			codes := map[uint32]int{}
			for j, o := range ops {
				got := runEngine(e, o)
				codes[got.Code]++
				if got.Code != want[j].Code || !slicesEqual(got.Tuples, want[j].Tuples) {
					mismatches++
					b, _ := json.Marshal(o)
					t.Errorf("op #%d %s\n tarantool: %+v\n picogo:    %+v", j, b, want[j], got)
					if mismatches > 10 {
						t.FailNow()
					}
				}
			}
			t.Logf("%d operations agree; results by error code (0: success): %v", len(ops), codes)
		})
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for j := range a {
		if a[j] != b[j] {
			return false
		}
	}
	return true
}
