package oracles

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/picogo/picogo/core/sql/internal/sqlgen"
)

// iterations is how many cases a test runs: def, or SQL_ORACLE_ITERATIONS.
func iterations(t *testing.T, def int) int {
	if s := os.Getenv("SQL_ORACLE_ITERATIONS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("SQL_ORACLE_ITERATIONS=%q: %v", s, err)
		}
		return n
	}
	if testing.Short() {
		return def / 4
	}
	return def
}

// seed is SQL_ORACLE_SEED (default 1): where the cases' random streams start.
func seed(t *testing.T) uint64 {
	if s := os.Getenv("SQL_ORACLE_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SQL_ORACLE_SEED=%q: %v", s, err)
		}
		return n
	}
	return 1
}

// oracleCase is one generated case: a schema and a generator over it.
type oracleCase struct {
	i int
	r *rand.Rand
	s *sqlgen.Schema
	g *sqlgen.Gen
}

// forCases runs check on n cases, each from its own stream (seed, i), so
// that a failure names the one case to rerun. It stops after a few
// failures.
func forCases(t *testing.T, def int, o sqlgen.Options, check func(c *oracleCase) error) (checked int) {
	t.Helper()
	n, sd := iterations(t, def), seed(t)
	failures := 0
	for i := range n {
		r := rand.New(rand.NewPCG(sd, uint64(i)))
		s := sqlgen.NewSchema(r, o)
		c := &oracleCase{i: i, r: r, s: s, g: sqlgen.New(r, s, o)}
		err := check(c)
		if err == errSkip {
			continue
		}
		checked++
		if err != nil {
			failures++
			t.Errorf("case %d (SQL_ORACLE_SEED=%d): %v\nschema:\n%s", i, sd, err, strings.Join(s.SQLiteDDL(), ";\n"))
			if failures >= 3 {
				t.FailNow()
			}
		}
	}
	t.Logf("%d cases, %d checked (the rest did not bind or run), seed %d", n, checked, sd)
	return checked
}

var errSkip = fmt.Errorf("skip")

// requireChecked fails a test whose cases were almost all skipped: the
// generator would be testing nothing.
func requireChecked(t *testing.T, checked, n int) {
	t.Helper()
	if n >= 20 && checked*2 < n {
		t.Errorf("only %d of %d cases ran: the generator makes too many queries that fail", checked, n)
	}
}

func diff(a, b []string) string {
	var out strings.Builder
	fmt.Fprintf(&out, "want %d rows, got %d\n", len(a), len(b))
	ca := map[string]int{}
	for _, x := range a {
		ca[x]++
	}
	for _, x := range b {
		ca[x]--
	}
	keys := make([]string, 0, len(ca))
	for k := range ca {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if v := ca[k]; v > 0 {
			fmt.Fprintf(&out, "  missing %dx: %s\n", v, k)
		} else if v < 0 {
			fmt.Fprintf(&out, "  extra %dx: %s\n", -v, k)
		}
	}
	if len(a) == len(b) && out.Len() < 40 {
		for i := range a {
			if a[i] != b[i] {
				fmt.Fprintf(&out, "  row %d: want %s, got %s\n", i, a[i], b[i])
				break
			}
		}
	}
	return out.String()
}
