package proc

import (
	"errors"
	"fmt"
	"math"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	"github.com/vmihailenco/msgpack/v5"
)

func init() {
	register(&spec{
		name: api.Cas{}.Proc(), params: []string{"cluster_id", "predicate", "op", "as_user"},
		decode: func(a []msgpack.RawMessage) (api.Request, error) {
			var r api.Cas
			if err := arg(a, 0, "cluster_id", &r.ClusterID); err != nil {
				return nil, err
			}
			if err := arg(a, 1, "predicate", &r.Predicate); err != nil {
				return nil, err
			}
			op, err := tables.DecodeOp(a[2])
			if err != nil {
				return nil, argErr(2, "op", err)
			}
			r.Op = op
			var user any
			if err := arg(a, 3, "as_user", &user); err != nil {
				return nil, err
			}
			r.AsUser, r.AsUserName, err = asUser(user)
			if err != nil {
				return nil, argErr(3, "as_user", err)
			}
			return r, nil
		},
		encode: func(r api.Request) []any {
			c := r.(api.Cas)
			var user any = c.AsUser
			if c.AsUserName != "" {
				user = c.AsUserName
			}
			return []any{c.ClusterID, c.Predicate, msgpack.RawMessage(c.Op.Encode()), user}
		},
	})
}

// asUser reads .proc_cas's as_user: a user id, or a user name (the node
// resolves it against _pico_user).
func asUser(v any) (id uint32, name string, err error) {
	if s, ok := v.(string); ok {
		if s == "" {
			return 0, "", errors.New("empty user name; want a user id or name")
		}
		return 0, s, nil
	}
	if u, ok := tuple.AsUint64(v); ok && u <= math.MaxUint32 {
		return uint32(u), "", nil
	}
	return 0, "", fmt.Errorf("%v is not a user id or name", v)
}
