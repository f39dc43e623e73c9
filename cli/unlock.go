package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/picogo/picogo/core/auth"
	"github.com/picogo/picogo/proc"
)

const unlockUsage = `Usage: picogo unlock [flags] [user@]host:port USER

Lifts the lock that failed logins put on USER. Four failed logins in a row
lock a user (pico_service excepted) on the instance they were tried on,
for %s; this ends it at once. The command reads the instances' addresses
(_pico_peer_address) from host:port, then calls .proc_unlock_user(USER) on
every instance and reports each. An instance that cannot be reached is
reported and the others are still done.

It logs in as user (default admin; only admin and pico_service may
unlock). admin's password comes from PICOGO_ADMIN_PASSWORD (or
PICOGO_PASSWORD); pico_service's from PICOGO_PASSWORD, else the file named
by PICOGO_SERVICE_PASSWORD_FILE, else PICOGO_SERVICE_PASSWORD, else the
cookie of PICOGO_DATA_DIR (default ./picogo-data) — what 'picogo run'
uses. A locked admin cannot log in where it is locked: to unlock admin
there, log in as pico_service.

It exits with 0 when every instance answered, 1 when one did not (or the
addresses could not be read), 2 on bad arguments.

Flags:
`

// runUnlock is `picogo unlock`.
func runUnlock(args []string, env func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("unlock", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for each instance's answer")
	fs.Usage = func() { fmt.Fprintf(stderr, unlockUsage, auth.LockDuration); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 2 || strings.TrimSpace(fs.Arg(1)) == "" {
		fmt.Fprintln(stderr, "picogo unlock: give the instance to ask and the user to unlock (picogo unlock --help)")
		return 2
	}
	user, password, addr := credentials(fs.Arg(0), proc.Admin, env)
	if user == proc.PicoService && password == "" {
		var err error
		if password, err = servicePasswordFromEnv(env); err != nil {
			fmt.Fprintln(stderr, "picogo unlock:", err)
			return 2
		}
	}
	if password == "" {
		fmt.Fprintln(stderr, "picogo unlock:", missingPassword(user))
		return 2
	}
	target := fs.Arg(1)
	c := newClient(user, password)
	defer c.close()
	byID, err := peerAddresses(c, addr)
	if err != nil {
		fmt.Fprintf(stderr, "picogo unlock: reading the instances' addresses from %s: %v\n", addr, err)
		return 1
	}
	var addrs []string
	for _, a := range byID {
		if !slices.Contains(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	slices.Sort(addrs)
	failed := 0
	for _, a := range addrs {
		var wasLocked bool
		err := c.callInto(a, ".proc_unlock_user", &wasLocked, *timeout, target)
		switch {
		case err != nil:
			failed++
			fmt.Fprintf(stdout, "%s: %v\n", a, err)
		case wasLocked:
			fmt.Fprintf(stdout, "%s: %s unlocked\n", a, target)
		default:
			fmt.Fprintf(stdout, "%s: %s was not locked\n", a, target)
		}
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "picogo unlock: %d of %d instances did not answer\n", failed, len(addrs))
		return 1
	}
	return 0
}

// servicePasswordFromEnv is the service password as 'picogo run' finds it
// through its variables (serviceSecret).
func servicePasswordFromEnv(env func(string) string) (string, error) {
	dir := env("PICOGO_DATA_DIR")
	if dir == "" {
		dir = "./picogo-data"
	}
	pw, _, err := serviceSecret(env("PICOGO_SERVICE_PASSWORD_FILE"), env("PICOGO_SERVICE_PASSWORD"), dir)
	return pw, err
}
