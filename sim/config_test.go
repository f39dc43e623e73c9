package sim

import (
	"math/rand/v2"
	"testing"

	"github.com/picogo/picogo/runtime"
	"github.com/stretchr/testify/require"
)

// TestWorldsRunProductionsConfig: every seed starts its instances with the
// configuration `picogo run` uses (runtime.NodeConfig): Raft's timing and
// switches are production's; only the limits vary, and only between
// production's and the small ones the params line names.
func TestWorldsRunProductionsConfig(t *testing.T) {
	small := 0
	for seed := uint64(1); seed <= 300; seed++ {
		p := drawParams(rand.New(rand.NewPCG(seed, 1)))
		w := &World{seed: seed, params: p}
		got := runtime.NodeConfig((&instance{w: w, id: 1, addr: "i1"}).runtimeInstance())
		want := runtime.NodeConfig(runtime.Instance{Tick: p.Tick, Limits: runtime.ProductionLimits})

		require.Equal(t, want.Raft.ElectionTick, got.Raft.ElectionTick)
		require.Equal(t, want.Raft.HeartbeatTick, got.Raft.HeartbeatTick)
		require.Equal(t, want.Raft.PreVote, got.Raft.PreVote)
		require.Equal(t, want.Raft.CheckQuorum, got.Raft.CheckQuorum)
		require.NotNil(t, got.Raft.Rand)

		limits := p.Limits
		limits.SnapshotEvery = runtime.SnapshotEvery
		if limits == runtime.ProductionLimits {
			continue
		}
		small++
		require.Equal(t, [3]uint64{64 << 10, 64, 32},
			[3]uint64{limits.MaxMsgBytes, uint64(limits.MaxMsgEntries), uint64(limits.MaxInflightMsgs)}, "seed %d", seed)
		require.Equal(t, 512, limits.SnapshotChunkBytes, "seed %d", seed)
		require.Contains(t, p.String(), "limits=msg 65536B/64 entries", "the params line says so")
	}
	require.Greater(t, small, 150, "most seeds exercise the small limits")
	require.Less(t, small, 300, "some seeds run production's limits")
}
