// Package oracles holds only tests: the SQL oracles of issue 15 — SQLancer's
// ternary logic partitioning (TLP) and NoREC on core/sql/exec, the
// differential test against SQLite (modernc.org/sqlite, test-only), and a
// corpus of SQLite's own test cases (testdata/, see docs/sql-tests.md) —
// over schemas, rows and queries from core/sql/internal/sqlgen. The
// distributed property (plan on 1..4 replicasets against exec on all rows)
// is core/sql/plan's TestDistributedRandom.
//
// go test runs each for a bounded number of cases; SQL_ORACLE_ITERATIONS
// (cases per test) and SQL_ORACLE_SEED run them longer or elsewhere:
// `make sql-oracles`.
package oracles
