package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// `picogo role config`'s KEY=VALUE pairs read each VALUE as YAML.
func TestRoleConfigPairs(t *testing.T) {
	cfg, err := roleConfig([]string{"port=8080", "tls=true", "hosts=[a, b]", "name=kv", "empty=", "odd=[unclosed"}, "")
	require.NoError(t, err)
	require.Equal(t, map[string]any{"port": 8080, "tls": true, "hosts": []any{"a", "b"}, "name": "kv", "empty": nil,
		"odd": "[unclosed"}, cfg)
	cfg, err = roleConfig(nil, "")
	require.NoError(t, err)
	require.Empty(t, cfg, "none: no configuration")

	_, err = roleConfig([]string{"port"}, "")
	require.EqualError(t, err, `"port" is not KEY=VALUE`)
	_, err = roleConfig([]string{"a=1", "a=2"}, "")
	require.EqualError(t, err, "key a given twice")

	file := filepath.Join(t.TempDir(), "cfg.yaml")
	require.NoError(t, os.WriteFile(file, []byte("listen: 127.0.0.1:8080\nlimits: {rps: 100}\n"), 0o600))
	cfg, err = roleConfig(nil, file)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"listen": "127.0.0.1:8080", "limits": map[string]any{"rps": 100}}, cfg)
	_, err = roleConfig([]string{"a=1"}, file)
	require.EqualError(t, err, "give KEY=VALUE pairs or --file, not both")
	require.NoError(t, os.WriteFile(file, []byte("- a\n"), 0o600))
	_, err = roleConfig(nil, file)
	require.ErrorContains(t, err, "not a YAML map")
}
