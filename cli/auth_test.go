package cli

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestServicePassword(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(file, []byte("from-file\n"), 0o600))

	pw, err := servicePassword(&runConfig{DataDir: dir, ServicePasswordFile: file}, log)
	require.NoError(t, err)
	require.Equal(t, "from-file", pw, "the file's content, without the newline")

	pw, err = servicePassword(&runConfig{DataDir: dir, ServicePassword: "from-flag"}, log)
	require.NoError(t, err)
	require.Equal(t, "from-flag", pw)

	_, err = servicePassword(&runConfig{DataDir: dir, ServicePasswordFile: filepath.Join(dir, "missing")}, log)
	require.ErrorContains(t, err, "--service-password-file")
	require.ErrorAs(t, err, new(usageError))
	require.NoError(t, os.WriteFile(file, []byte(" \n"), 0o600))
	_, err = servicePassword(&runConfig{DataDir: dir, ServicePasswordFile: file}, log)
	require.ErrorContains(t, err, "is empty")

	pw, err = servicePassword(&runConfig{DataDir: dir}, log)
	require.NoError(t, err)
	require.Equal(t, devCookie, pw, "nothing given: the development default, kept in the cookie")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cookie"), []byte("cookie-secret\n"), 0o600))
	pw, err = servicePassword(&runConfig{DataDir: dir}, log)
	require.NoError(t, err)
	require.Equal(t, "cookie-secret", pw)

	_, err = parseRunConfig([]string{"--service-password", "a"}, env(map[string]string{"PICOGO_SERVICE_PASSWORD_FILE": file}), io.Discard)
	require.ErrorContains(t, err, "--service-password and --service-password-file: give one")
}

func TestServicePasswordFromEnv(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(file, []byte("from-file\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cookie"), []byte("cookie-secret\n"), 0o600))
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"PICOGO_SERVICE_PASSWORD_FILE": file, "PICOGO_SERVICE_PASSWORD": "x"}, "from-file"},
		{map[string]string{"PICOGO_SERVICE_PASSWORD": "from-env", "PICOGO_DATA_DIR": dir}, "from-env"},
		{map[string]string{"PICOGO_DATA_DIR": dir}, "cookie-secret"},
		{map[string]string{"PICOGO_DATA_DIR": filepath.Join(dir, "none")}, devCookie},
	} {
		pw, err := servicePasswordFromEnv(env(c.env))
		require.NoError(t, err)
		require.Equal(t, c.want, pw, "%v", c.env)
	}
	_, err := servicePasswordFromEnv(env(map[string]string{"PICOGO_SERVICE_PASSWORD_FILE": filepath.Join(dir, "missing")}))
	require.ErrorContains(t, err, "service-password-file", "the error names what to fix (PICOGO_SERVICE_PASSWORD_FILE is the flag's variable)")
}

func TestClientHost(t *testing.T) {
	require.Equal(t, "127.0.0.1", clientHost("127.0.0.1:40000"))
	require.Equal(t, "::1", clientHost("[::1]:40000"))
	require.Equal(t, "pipe", clientHost("pipe"), "an address without a port is the host")
}

func TestUnlockArguments(t *testing.T) {
	t.Setenv("PICOGO_PASSWORD", "")
	t.Setenv("PICOGO_ADMIN_PASSWORD", "")
	noEnv := env(nil)
	var out, errOut bytes.Buffer
	require.Equal(t, 0, runUnlock([]string{"--help"}, noEnv, &out, &errOut))
	require.Contains(t, errOut.String(), "Usage: picogo unlock [flags] [user@]host:port USER")
	require.Contains(t, errOut.String(), "for 5m0s")

	errOut.Reset()
	require.Equal(t, 2, runUnlock([]string{"127.0.0.1:3301"}, noEnv, &out, &errOut))
	require.Contains(t, errOut.String(), "give the instance to ask and the user to unlock")

	errOut.Reset()
	require.Equal(t, 2, runUnlock([]string{"127.0.0.1:3301", "admin"}, noEnv, &out, &errOut))
	require.Contains(t, errOut.String(), "no password for admin: set PICOGO_ADMIN_PASSWORD")
	require.Empty(t, out.String(), "nothing is tried without a password")
}
