package roles

import (
	"context"
	"errors"
	"fmt"

	"github.com/picogo/picogo/role"
)

// Storage is the storage role, enabled on StorageTier. Its DDL creates the
// table kv, sharded by key over the tier's buckets; its handlers write and
// read it through the instance's SQL:
//
//	put(key, value string)   INSERT ... ON CONFLICT DO REPLACE; answers nil
//	get(key string)          the value, or nil when the key has none
//
// The api role calls them on the master of the key's bucket (OnBucket),
// so the statement's rows are local; SQL routes them right from any
// instance all the same.
type Storage struct {
	Metrics *Metrics
}

// CreateTable is storage's once-per-cluster DDL.
const CreateTable = "CREATE TABLE kv (key STRING NOT NULL, value STRING NOT NULL, PRIMARY KEY (key)) " +
	"DISTRIBUTED BY (key) IN TIER " + StorageTier

const (
	putSQL = "INSERT INTO kv (key, value) VALUES ($1, $2) ON CONFLICT DO REPLACE"
	getSQL = "SELECT value FROM kv WHERE key = $1"
)

// errNoSQL: the runtime gave the role no SQL (role.Context.SQL is nil).
var errNoSQL = errors.New("kv storage: this runtime offers roles no SQL")

func (*Storage) Name() string           { return "storage" }
func (*Storage) Version() string        { return "1.0.0" }
func (*Storage) Dependencies() []string { return []string{"metrics"} }
func (*Storage) OnceDDL() []string      { return []string{CreateTable} }

func (*Storage) Init(_ context.Context, c *role.Context) error {
	c.Log.Info("kv storage starts", "instance", c.Instance.Name, "replicaset", c.Instance.Replicaset)
	return nil
}

func (*Storage) Stop(context.Context, *role.Context) error { return nil }

func (s *Storage) Handlers() map[string]role.Handler {
	return map[string]role.Handler{"put": s.put, "get": s.get}
}

func (s *Storage) put(ctx context.Context, c *role.Context, args []any) (any, error) {
	key, value, err := twoStrings("put", args)
	if err == nil {
		err = s.write(ctx, c, key, value)
	}
	s.Metrics.Count("put", result(err, true))
	return nil, err
}

func (s *Storage) write(ctx context.Context, c *role.Context, key, value string) error {
	if c.SQL == nil {
		return errNoSQL
	}
	_, err := c.SQL.SQL(ctx, putSQL, key, value)
	return err
}

func (s *Storage) get(ctx context.Context, c *role.Context, args []any) (any, error) {
	var v any
	key, err := oneString("get", args)
	if err == nil {
		v, err = s.read(ctx, c, key)
	}
	s.Metrics.Count("get", result(err, v != nil))
	return v, err
}

// read is key's value, nil when there is none.
func (s *Storage) read(ctx context.Context, c *role.Context, key string) (any, error) {
	if c.SQL == nil {
		return nil, errNoSQL
	}
	res, err := c.SQL.SQL(ctx, getSQL, key)
	if err != nil {
		return nil, err
	}
	if len(res.Rows) == 0 || len(res.Rows[0]) == 0 {
		return nil, nil
	}
	return res.Rows[0][0], nil
}

func oneString(op string, args []any) (string, error) {
	if len(args) != 1 {
		return "", fmt.Errorf("%s: want 1 argument (key), got %d", op, len(args))
	}
	key, ok := args[0].(string)
	if !ok {
		return "", fmt.Errorf("%s: key is %T, want a string", op, args[0])
	}
	return key, nil
}

func twoStrings(op string, args []any) (string, string, error) {
	if len(args) != 2 {
		return "", "", fmt.Errorf("%s: want 2 arguments (key, value), got %d", op, len(args))
	}
	a, ok1 := args[0].(string)
	b, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return "", "", fmt.Errorf("%s: want two strings, got %T and %T", op, args[0], args[1])
	}
	return a, b, nil
}

// result is kv_requests_total's result label.
func result(err error, found bool) string {
	switch {
	case err != nil:
		return "error"
	case !found:
		return "not_found"
	}
	return "ok"
}
