package node

import (
	"testing"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
	"github.com/stretchr/testify/require"
)

// The reads module: rows by key, whole tables with a limit, schema views,
// this instance's row and status.
func TestReads(t *testing.T) {
	s := newSolo(t)
	for _, k := range []string{"a", "b", "c"} {
		require.Nil(t, s.cas(s.pred(), tables.DmlOp(tables.Insert(kv, k, "v"+k))).Err)
	}
	tests := []struct {
		name string
		req  api.Request
		code uint32
		want func(t *testing.T, values []any)
	}{
		{"by key", api.Select{Table: kv, Key: []any{"b"}}, 0, func(t *testing.T, v []any) {
			require.Equal(t, []any{[]any{"b", "vb"}}, v)
		}},
		{"missing key", api.Select{Table: kv, Key: []any{"z"}}, 0, func(t *testing.T, v []any) { require.Empty(t, v) }},
		{"whole table, limited", api.Select{Table: kv, Limit: 2}, 0, func(t *testing.T, v []any) {
			require.Equal(t, []any{[]any{"a", "va"}, []any{"b", "vb"}}, v)
		}},
		{"key of the wrong type", api.Select{Table: kv, Key: []any{1}}, api.CodeKeyTypeMismatch, nil},
		{"no such table", api.Select{Table: 9999}, api.CodeNoSuchSpace, nil},
		{"_vspace by id", api.Select{Table: ViewVSpace, Key: []any{kv}}, 0, func(t *testing.T, v []any) {
			require.Len(t, v, 1)
			require.Equal(t, "kv", v[0].([]any)[2])
		}},
		{"_vindex", api.Select{Table: ViewVIndex, Key: []any{kv}}, 0, func(t *testing.T, v []any) {
			require.Equal(t, "TREE", v[0].([]any)[3])
		}},
		{"version", api.VersionInfo{}, 0, func(t *testing.T, v []any) {
			require.Equal(t, []any{api.VersionInfoResult{PicodataVersion: api.Version, ProcAPIVersion: api.ProcAPIVersion}}, v)
		}},
		{"own row", api.InstanceInfo{}, 0, func(t *testing.T, v []any) {
			info := v[0].(api.InstanceInfoResult)
			require.Equal(t, "storage_1_1", info.InstanceID)
			require.Equal(t, "i1", info.AdvertiseAddress)
			require.Equal(t, "c1", info.ClusterID)
		}},
		{"no such instance", api.InstanceInfo{InstanceID: "nobody"}, api.CodeProcLua, nil},
		{"runtime", api.RuntimeInfo{}, 0, func(t *testing.T, v []any) {
			info := v[0].(api.RuntimeInfoResult)
			require.Equal(t, "running", info.Internal.MainLoopStatus)
			require.Equal(t, []uint64{1}, info.Internal.RaftVoters)
			require.Equal(t, uint64(1), info.Raft.LeaderID)
		}},
	}
	for _, tt := range tests {
		r, ok := s.expect(t, tt.name, tt.req, tt.code)
		if !ok {
			continue
		}
		tt.want(t, r.Values)
	}
}
