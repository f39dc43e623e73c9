package proc

import (
	"errors"

	"github.com/picogo/picogo/core/node"
	"github.com/vmihailenco/msgpack/v5"
)

// The procedures about users.
func init() {
	register(&spec{
		name: node.UnlockUser{}.Proc(), params: []string{"name"},
		decode: func(a []msgpack.RawMessage) (node.Request, error) {
			var r node.UnlockUser
			if err := arg(a, 0, "name", &r.Name); err != nil {
				return nil, err
			}
			if r.Name == "" {
				return nil, argErr(0, "name", errors.New("a user name is required"))
			}
			return r, nil
		},
		encode: func(r node.Request) []any { return []any{r.(node.UnlockUser).Name} },
	})
}
