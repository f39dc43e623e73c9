package proc

import (
	"testing"

	"github.com/picogo/picogo/core/api"
	"github.com/stretchr/testify/require"
)

func TestUnlockUserArguments(t *testing.T) {
	req, e := Decode(".proc_unlock_user", args(t, "admin"))
	require.Nil(t, e)
	require.Equal(t, api.UnlockUser{Name: "admin"}, req)
	for _, c := range []struct {
		args []byte
		want string
	}{
		{args(t), ".proc_unlock_user: expected 1 arguments (name), got 0"},
		{args(t, 1), ".proc_unlock_user: argument 1 (name)"},
		{args(t, ""), ".proc_unlock_user: argument 1 (name): a user name is required"},
	} {
		_, e := Decode(".proc_unlock_user", c.args)
		require.NotNil(t, e, "%x", c.args)
		require.Equal(t, api.CodeIllegalParams, e.Code)
		require.Contains(t, e.Message, c.want)
	}
	// Only admin and pico_service lift locks.
	require.Nil(t, Authorize(Admin, ".proc_unlock_user"))
	require.Nil(t, Authorize(PicoService, ".proc_unlock_user"))
	for _, u := range []string{Guest, "alice"} {
		e := Authorize(u, ".proc_unlock_user")
		require.NotNil(t, e, u)
		require.Equal(t, api.CodeAccessDenied, e.Code)
	}
}
