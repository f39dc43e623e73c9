// Package exec runs one SQL statement on one instance: it binds the
// statement's names against a Catalog (the tables this instance can read,
// and the virtual tables a distributed plan gathered into it), checks and
// infers types, and evaluates the query to rows, or an UPDATE or DELETE to
// the row changes it makes.
//
// It owns the meaning of a query on one node: name resolution (qualified
// and unqualified columns, aliases, CTEs, correlated subqueries), joins,
// filters, grouping and aggregates, DISTINCT, set operations, ORDER BY,
// LIMIT and OFFSET. It does not own where data lives: core/sql/plan splits
// a statement over a tier's replicasets and names the fragments this
// package runs on each of them and at the router. It does not own value
// semantics either: operators, casts, functions and aggregates are
// core/sql/value's.
//
// Evaluation is deterministic: rows come from the catalog in primary key
// order, every grouping and DISTINCT keeps first-seen order, and sorting is
// stable, so the same tables and statement always give the same rows in the
// same order. It is pure: no clock (NOW comes in through Env), no IO.
package exec
