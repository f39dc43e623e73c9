package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/proc"
)

const expelUsage = `Usage: picogo expel [flags] INSTANCE_ID

Expels the instance named INSTANCE_ID (its instance_id, e.g. storage_1_2 —
see 'picogo status') from the cluster, for good: the leader sets its target
grade Expelled, the governor removes it from Raft and sets its current grade
Expelled. A running expelled instance stops by itself; its data directory
can never run again, and its raft id is never given to another instance.
The last instance of a cluster cannot be expelled.

The command calls .proc_expel_redirect on --peer (any instance of the
cluster: it forwards to the leader) and waits until the instance is
Expelled, at most --timeout. It logs in as pico_service with the service
password as 'picogo run' finds it: --service-password-file, else
--service-password, else the 'cookie' file of --data-dir, else the
development default. It exits with 0 once the instance is Expelled, with 1
on an error (printed), with 2 on bad arguments.

Flags:
`

// runExpel is `picogo expel`.
func runExpel(args []string, env func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("expel", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, expelUsage); fs.PrintDefaults() }
	var peers []string
	fs.Func("peer", "address of an instance of the cluster; repeat it or separate by commas to try several in turn (default 127.0.0.1:3301)", func(v string) error {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" && !slices.Contains(peers, p) {
				peers = append(peers, p)
			}
		}
		return nil
	})
	clusterID := fs.String("cluster-id", "demo", "the cluster's id; the instance refuses another")
	password := fs.String("service-password", "", "pico_service's password (see above)")
	passwordFile := fs.String("service-password-file", "", "a file holding pico_service's password (see above)")
	dataDir := fs.String("data-dir", "./picogo-data", "a data directory whose cookie holds the service password (see above)")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait until the instance is Expelled")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	// Flags not given come from the variables `picogo run` uses.
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, name := range []string{"peer", "cluster-id", "service-password", "service-password-file", "data-dir"} {
		v := env("PICOGO_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")))
		if !given[name] && v != "" {
			if err := fs.Set(name, v); err != nil {
				fmt.Fprintf(stderr, "picogo expel: PICOGO_%s: %v\n", strings.ToUpper(strings.ReplaceAll(name, "-", "_")), err)
				return 2
			}
		}
	}
	if fs.NArg() != 1 || strings.TrimSpace(fs.Arg(0)) == "" {
		fmt.Fprintln(stderr, "picogo expel: name one instance to expel (picogo expel --help)")
		return 2
	}
	if *timeout <= 0 {
		fmt.Fprintln(stderr, "picogo expel: --timeout must be positive")
		return 2
	}
	if len(peers) == 0 {
		peers = []string{"127.0.0.1:3301"}
	}
	id := fs.Arg(0)
	pw, _, err := serviceSecret(*passwordFile, *password, *dataDir)
	if err != nil {
		fmt.Fprintln(stderr, "picogo expel:", err)
		return 2
	}
	c := newClient(proc.PicoService, pw)
	defer c.close()
	for k, addr := range peers {
		var done bool
		if done, err = expel(c, addr, *clusterID, id, *timeout, stdout); done {
			return 0
		}
		if !unreachable(err) {
			break
		}
		if k+1 < len(peers) {
			fmt.Fprintf(stderr, "picogo expel: %s: %v; trying %s\n", addr, err, peers[k+1])
		}
	}
	fmt.Fprintf(stderr, "picogo expel: %s is not expelled: %v\n", id, err)
	return 1
}

// unreachable: the call did not get an answer from the instance (another
// peer may do better).
func unreachable(err error) bool {
	var re *remoteError
	var ref refusal
	return err != nil && !errors.As(err, &re) && !errors.As(err, &ref)
}

// refusal is an answer this command refuses to act on.
type refusal struct{ error }

// expel expels id through the instance at addr and waits until it is
// Expelled there.
func expel(c *client, addr, clusterID, id string, timeout time.Duration, out io.Writer) (bool, error) {
	deadline := time.Now().Add(timeout)
	var before api.InstanceInfoResult
	if err := c.callInto(addr, ".proc_instance_info", &before, min(timeout, 5*time.Second), id); err != nil {
		return false, err
	}
	if before.ClusterID != "" && before.ClusterID != clusterID {
		return false, refusal{fmt.Errorf("%s belongs to cluster %q, not --cluster-id %q", addr, before.ClusterID, clusterID)}
	}
	if before.CurrentGrade.Variant == tables.GradeExpelled {
		fmt.Fprintf(out, "%s (raft id %d) is already expelled\n", id, before.RaftID)
		return true, nil
	}
	fmt.Fprintf(out, "expelling %s (raft id %d, %s, replicaset %s, %s/%s) through %s\n", id, before.RaftID,
		orDash(before.AdvertiseAddress), before.ReplicasetID, gradeString(before.CurrentGrade), gradeString(before.TargetGrade), addr)
	for {
		err := c.callInto(addr, ".proc_expel_redirect", nil, time.Until(deadline), clusterID, id)
		var re *remoteError
		if err == nil || errors.As(err, &re) && re.Code == api.CodeTimeout {
			break
		}
		// No leader right now (an election): ask again.
		if !errors.As(err, &re) || !api.Retriable(re.Code) || time.Now().After(deadline) {
			return false, err
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Expelled, or asked for and not done yet: the governor removes the
	// instance from Raft first. Watch its row until it is Expelled.
	for {
		var now api.InstanceInfoResult
		if err := c.callInto(addr, ".proc_instance_info", &now, min(time.Until(deadline), 5*time.Second)+time.Millisecond, id); err == nil &&
			now.CurrentGrade.Variant == tables.GradeExpelled {
			fmt.Fprintf(out, "%s (raft id %d) is expelled: %s/%s\n", id, now.RaftID, gradeString(now.CurrentGrade), gradeString(now.TargetGrade))
			return true, nil
		} else if err == nil {
			before = now
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("still %s/%s after %v (the governor's status is in 'picogo status')",
				gradeString(before.CurrentGrade), gradeString(before.TargetGrade), timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func gradeString(g api.GradeResult) string { return fmt.Sprintf("%s(%d)", g.Variant, g.Incarnation) }
