//go:build mutants

package sim

import (
	"os"
	"path/filepath"
	"testing"

	lin "github.com/picogo/picogo/linearizability"
	"github.com/stretchr/testify/require"
)

// TestMutantFailingHistoryWritesHTML: a mutant that serves stale reads makes the
// history non-linearizable, and porcupine's visualization is written.
func TestMutantFailingHistoryWritesHTML(t *testing.T) {
	m, err := ParseMutant("stale-leader-reads")
	require.NoError(t, err)
	var failed *Result
	RunSeeds(1, 300, 0, m, func(r Result) bool {
		if r.Lin.Verdict == lin.VerdictIllegal {
			failed = &r
			return true
		}
		return false
	})
	require.NotNil(t, failed, "no seed showed the stale reads as non-linearizable")
	path := filepath.Join(t.TempDir(), "history.html")
	require.NoError(t, lin.WriteVisualization(failed.Lin, path))
	html, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(html), "<html")
	require.Greater(t, len(html), 1000)
}
