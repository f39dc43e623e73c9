package cli

import (
	"bufio"
	crand "crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/auth"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/proc"
	"github.com/vmihailenco/msgpack/v5"
)

const passwdUsage = `Usage: picogo passwd [flags] [user@]host:port USER

Sets USER's password for the whole cluster: a CaS of the ACL operation
acl_change_auth (as Picodata's ALTER USER ... PASSWORD), on the leader,
which every instance applies. The new password comes from
PICOGO_NEW_PASSWORD, else the first line of the standard input. It takes
effect for the next login on every instance that has applied it.

It logs in as user (default admin) to host:port, any instance of the
cluster: admin's password comes from PICOGO_ADMIN_PASSWORD (or
PICOGO_PASSWORD) — when changing admin's own, the old one. pico_service
has no password in the cluster (--service-password-file). It exits with 0
once the change is applied, 1 on an error (printed), 2 on bad arguments.

Flags:
`

// runPasswd is `picogo passwd`.
func runPasswd(args []string, env func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", 10*time.Second, "how long to try (a leader may be changing)")
	fs.Usage = func() { fmt.Fprint(stderr, passwdUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 2 || strings.TrimSpace(fs.Arg(1)) == "" {
		fmt.Fprintln(stderr, "picogo passwd: give an instance and the user whose password to set (picogo passwd --help)")
		return 2
	}
	target := fs.Arg(1)
	if target == proc.PicoService {
		fmt.Fprintln(stderr, "picogo passwd: pico_service logs in with the service password each instance is started with (--service-password-file), not one in the cluster")
		return 2
	}
	user, password, addr := credentials(fs.Arg(0), proc.Admin, env)
	if password == "" && user != proc.Guest {
		fmt.Fprintln(stderr, "picogo passwd:", missingPassword(user))
		return 2
	}
	newPassword := env("PICOGO_NEW_PASSWORD")
	if newPassword == "" {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintln(stderr, "picogo passwd: reading the new password:", err)
			return 1
		}
		newPassword = strings.TrimRight(line, "\r\n")
	}
	if newPassword == "" {
		fmt.Fprintln(stderr, "picogo passwd: no new password: set PICOGO_NEW_PASSWORD or give it on the standard input")
		return 2
	}
	c := newClient(user, password)
	defer c.close()
	if err := changePassword(c, addr, target, newPassword, *timeout); err != nil {
		fmt.Fprintf(stderr, "picogo passwd: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "the password of %s is changed\n", target)
	return 0
}

// changePassword proposes the change on the leader, retrying while the
// leader or its term moves, until timeout.
func changePassword(c *client, addr, name, password string, timeout time.Duration) error {
	var self api.InstanceInfoResult
	if err := c.callInto(addr, ".proc_instance_info", &self, 5*time.Second); err != nil {
		return fmt.Errorf("%s: %w", addr, err)
	}
	users, err := c.rows(addr, tables.TablePicoUser)
	if err != nil {
		return fmt.Errorf("%s: reading _pico_user: %w", addr, err)
	}
	id, found := uint32(0), false
	for _, r := range users {
		if u, err := tables.UserFrom(r); err == nil && u.Name == name {
			id, found = uint32(u.ID), true
		}
	}
	if !found {
		return fmt.Errorf("no user %q in the cluster", name)
	}
	// The password leaves this process only as what _pico_user keeps of
	// it, for iproto's logins and PostgreSQL's.
	salt := make([]byte, auth.SaltSize)
	if _, err := crand.Read(salt); err != nil {
		return fmt.Errorf("drawing a salt: %w", err)
	}
	op := tables.ChangeAuthOf(id, auth.Secrets(name, password, salt))
	deadline := time.Now().Add(timeout)
	for {
		err := casOnLeader(c, addr, self.ClusterID, op)
		var re *remoteError
		retry := errors.As(err, &re) && api.Retriable(re.Code) || err != nil && !errors.As(err, &re)
		if err == nil || !retry || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// casOnLeader makes op with a predicate read from the leader that addr
// knows.
func casOnLeader(c *client, addr, clusterID string, op tables.Op) error {
	leader, err := leaderOf(c, addr)
	if err != nil {
		return err
	}
	info, err := c.raftInfo(leader)
	if err != nil {
		return err
	}
	args, err := proc.EncodeArgs(api.Cas{ClusterID: clusterID,
		Predicate: api.Predicate{Index: info.Applied, Term: info.Term}, Op: op, AsUser: tables.AdminID})
	if err != nil {
		return err
	}
	data, err := c.call(leader, ".proc_cas", args, 5*time.Second)
	if err != nil {
		return err
	}
	var entry []uint64 // [index, term], once applied on the leader
	if err := msgpack.Unmarshal(data, &entry); err != nil || len(entry) != 2 {
		return fmt.Errorf("unexpected reply to .proc_cas: %v", err)
	}
	// addr, where the user will log in next, has it too.
	return c.callInto(addr, ".proc_wait_index", nil, 6*time.Second, entry[0], 5)
}

// leaderOf is the address of the Raft leader addr knows.
func leaderOf(c *client, addr string) (string, error) {
	info, err := c.raftInfo(addr)
	if err != nil {
		return "", err
	}
	return leaderAddress(c, addr, info.LeaderID)
}

// leaderAddress is the address of raft id leader, from addr's
// _pico_peer_address.
func leaderAddress(c *client, addr string, leader uint64) (string, error) {
	if leader == 0 {
		return "", &remoteError{Code: api.CodeLeaderUnknown, Message: "no leader known"}
	}
	byID, err := peerAddresses(c, addr)
	if err != nil {
		return "", err
	}
	if a, ok := byID[leader]; ok {
		return a, nil
	}
	return "", &remoteError{Code: api.CodeLeaderUnknown, Message: fmt.Sprintf("the address of leader %d is unknown", leader)}
}
