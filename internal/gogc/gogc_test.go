package gogc

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

// Use sets its percent and puts the setting before back; GOGC in the
// environment decides instead when it is set.
func TestUse(t *testing.T) {
	before := debug.SetGCPercent(150)
	defer debug.SetGCPercent(before)

	t.Setenv("GOGC", "")
	setting, restore := Use(1000, "sim.GCPercent")
	require.Equal(t, "GOGC=1000, sim.GCPercent", setting)
	require.Equal(t, 1000, debug.SetGCPercent(1000), "in force")
	restore()
	require.Equal(t, 150, debug.SetGCPercent(150), "put back")

	t.Setenv("GOGC", "300")
	setting, restore = Use(1000, "sim.GCPercent")
	require.Equal(t, "GOGC=300, from the environment", setting)
	require.Equal(t, 150, debug.SetGCPercent(150), "left as it was")
	restore()
	require.Equal(t, 150, debug.SetGCPercent(150))
}
