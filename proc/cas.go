package proc

import (
	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/core/tables"
	"github.com/vmihailenco/msgpack/v5"
)

func init() {
	register(&spec{
		name: node.Cas{}.Proc(), params: []string{"cluster_id", "predicate", "op", "as_user"},
		decode: func(a []msgpack.RawMessage) (node.Request, error) {
			var r node.Cas
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
			err = arg(a, 3, "as_user", &r.AsUser)
			return r, err
		},
		encode: func(r node.Request) []any {
			c := r.(node.Cas)
			return []any{c.ClusterID, c.Predicate, msgpack.RawMessage(c.Op.Encode()), c.AsUser}
		},
	})
}
