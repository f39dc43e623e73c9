package proc

import (
	"errors"

	"github.com/picogo/picogo/core/api"
	"github.com/vmihailenco/msgpack/v5"
)

// The procedures about users.
func init() {
	register(&spec{
		name: api.UnlockUser{}.Proc(), params: []string{"name"},
		decode: func(a []msgpack.RawMessage) (api.Request, error) {
			var r api.UnlockUser
			if err := arg(a, 0, "name", &r.Name); err != nil {
				return nil, err
			}
			if r.Name == "" {
				return nil, argErr(0, "name", errors.New("a user name is required"))
			}
			return r, nil
		},
		encode: func(r api.Request) []any { return []any{r.(api.UnlockUser).Name} },
	})
}
