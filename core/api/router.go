package api

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/picogo/picogo/core/tuple"
)

// The routed procedures (picogo's, issue 14): any instance takes a request
// on a sharded table, computes the bucket of its row or key, and sends it to
// the master of the replicaset that owns the bucket (core/sharding's
// Router, driven by core/node's router module), retrying redirects until
// the instance's request timeout. A table is named by its name (a string)
// or its id (an integer).
type (
	// RouterInsert: `.proc_router_insert(table, tuple)` — insert tuple, the
	// table's fields without bucket_id (its format minus bucket_id, in
	// order): the router computes bucket_id from the sharding key. Answers
	// the stored tuple (with bucket_id).
	RouterInsert struct {
		Table any   `arg:"table"`
		Tuple []any `arg:"tuple"`
	}
	// RouterReplace: `.proc_router_replace(table, tuple)` — as
	// RouterInsert, replacing a row with the same primary key.
	RouterReplace struct {
		Table any   `arg:"table"`
		Tuple []any `arg:"tuple"`
	}
	// RouterDelete: `.proc_router_delete(table, key)` — delete the row of
	// primary key key; answers the deleted tuple, or nothing. The sharding
	// key must lie within the primary key.
	RouterDelete struct {
		Table any   `arg:"table"`
		Key   []any `arg:"key"`
	}
	// RouterGet: `.proc_router_get(table, key, options?)` — the row of
	// primary key key, or nothing. The sharding key must lie within the
	// primary key. Options: {prefer_replica = true} reads from a replica
	// of the owner if it has one (which may lag its master).
	RouterGet struct {
		Table   any            `arg:"table"`
		Key     []any          `arg:"key"`
		Options map[string]any `arg:"options,optional"`
	}
	// RouterScan: `.proc_router_scan(table, limit?)` — the rows of every
	// replicaset owning buckets of the table's tier, as one array sorted by
	// primary key, at most limit of them (none or 0: all). Not a snapshot
	// across replicasets.
	RouterScan struct {
		Table any   `arg:"table"`
		Limit int64 `arg:"limit,optional,nil"`
	}
)

func (RouterInsert) Proc() string  { return ".proc_router_insert" }
func (RouterReplace) Proc() string { return ".proc_router_replace" }
func (RouterDelete) Proc() string  { return ".proc_router_delete" }
func (RouterGet) Proc() string     { return ".proc_router_get" }
func (RouterScan) Proc() string    { return ".proc_router_scan" }

// RouterOptionPreferReplica is RouterGet's option: read from a replica.
const RouterOptionPreferReplica = "prefer_replica"

// TableName reads a routed procedure's table argument: a table name, or
// else a table id.
func TableName(v any) (name string, id uint32, err error) {
	if s, ok := v.(string); ok {
		if s == "" {
			return "", 0, errors.New("empty table name; want a table name or id")
		}
		return s, 0, nil
	}
	if u, ok := tuple.AsUint64(v); ok && u <= math.MaxUint32 {
		return "", uint32(u), nil
	}
	return "", 0, fmt.Errorf("%v is not a table name or id", v)
}

func checkTable(v any) error {
	if _, _, err := TableName(v); err != nil {
		return ArgError(0, "table", err)
	}
	return nil
}

// CheckArgs: a table name or id.
func (r RouterInsert) CheckArgs() error { return checkTable(r.Table) }

// CheckArgs: a table name or id.
func (r RouterReplace) CheckArgs() error { return checkTable(r.Table) }

// CheckArgs: a table name or id.
func (r RouterDelete) CheckArgs() error { return checkTable(r.Table) }

// CheckArgs: a table name or id; options known, of their types.
func (r RouterGet) CheckArgs() error {
	if err := checkTable(r.Table); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(r.Options)) {
		v := r.Options[k]
		if k != RouterOptionPreferReplica {
			return ArgError(2, "options", fmt.Errorf("unknown option %q (known: %s)", k, RouterOptionPreferReplica))
		}
		if _, ok := v.(bool); !ok {
			return ArgError(2, "options", fmt.Errorf("option %s: %v is not a boolean", k, v))
		}
	}
	return nil
}

// PreferReplica is the prefer_replica option (false if not given).
func (r RouterGet) PreferReplica() bool {
	b, _ := r.Options[RouterOptionPreferReplica].(bool)
	return b
}

// CheckArgs: a table name or id; a limit of 0 or more.
func (r RouterScan) CheckArgs() error {
	if err := checkTable(r.Table); err != nil {
		return err
	}
	if r.Limit < 0 {
		return ArgError(1, "limit", fmt.Errorf("%d is not a limit (0 or more; 0: none)", r.Limit))
	}
	return nil
}
