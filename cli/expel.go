package cli

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
	o := addOperatorFlags(fs, 30*time.Second, "how long to wait until the instance is Expelled")
	if code, ok := o.parse("expel", fs, args, env, stderr); !ok {
		return code
	}
	if fs.NArg() != 1 || strings.TrimSpace(fs.Arg(0)) == "" {
		fmt.Fprintln(stderr, "picogo expel: name one instance to expel (picogo expel --help)")
		return 2
	}
	id := fs.Arg(0)
	c, code, ok := o.client("expel", stderr)
	if !ok {
		return code
	}
	defer c.close()
	err := o.eachPeer("expel", stderr, func(addr string) (bool, error) {
		return expel(c, addr, o.clusterID, id, o.timeout, stdout)
	})
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "picogo expel: %s is not expelled: %v\n", id, err)
	return 1
}

// operatorFlags are the flags of the commands that act on a cluster as
// pico_service (expel, drain): where to reach it and with which password.
type operatorFlags struct {
	peers                           []string
	clusterID                       string
	password, passwordFile, dataDir string
	timeout                         time.Duration
}

func addOperatorFlags(fs *flag.FlagSet, timeout time.Duration, timeoutUsage string) *operatorFlags {
	o := &operatorFlags{}
	fs.Func("peer", "address of an instance of the cluster; repeat it or separate by commas to try several in turn (default 127.0.0.1:3301)", func(v string) error {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" && !slices.Contains(o.peers, p) {
				o.peers = append(o.peers, p)
			}
		}
		return nil
	})
	fs.StringVar(&o.clusterID, "cluster-id", "demo", "the cluster's id; the instance refuses another")
	fs.StringVar(&o.password, "service-password", "", "pico_service's password (see above)")
	fs.StringVar(&o.passwordFile, "service-password-file", "", "a file holding pico_service's password (see above)")
	fs.StringVar(&o.dataDir, "data-dir", "./picogo-data", "a data directory whose cookie holds the service password (see above)")
	fs.DurationVar(&o.timeout, "timeout", timeout, timeoutUsage)
	return o
}

// parse parses args; flags not given come from the variables `picogo run`
// uses (PICOGO_PEER, PICOGO_CLUSTER_ID, ...). ok false: exit with code.
func (o *operatorFlags) parse(cmd string, fs *flag.FlagSet, args []string, env func(string) string, stderr io.Writer) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, name := range []string{"peer", "cluster-id", "service-password", "service-password-file", "data-dir"} {
		variable := "PICOGO_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		if v := env(variable); !given[name] && v != "" {
			if err := fs.Set(name, v); err != nil {
				fmt.Fprintf(stderr, "picogo %s: %s: %v\n", cmd, variable, err)
				return 2, false
			}
		}
	}
	if o.timeout <= 0 {
		fmt.Fprintf(stderr, "picogo %s: --timeout must be positive\n", cmd)
		return 2, false
	}
	if len(o.peers) == 0 {
		o.peers = []string{"127.0.0.1:3301"}
	}
	return 0, true
}

// client logs in as pico_service with the password as 'picogo run' finds
// it.
func (o *operatorFlags) client(cmd string, stderr io.Writer) (*client, int, bool) {
	pw, _, err := serviceSecret(o.passwordFile, o.password, o.dataDir)
	if err != nil {
		fmt.Fprintf(stderr, "picogo %s: %v\n", cmd, err)
		return nil, 2, false
	}
	return newClient(proc.PicoService, pw), 0, true
}

// eachPeer runs act on the peers in turn until one does it or answers
// with a refusal (another peer would answer the same).
func (o *operatorFlags) eachPeer(cmd string, stderr io.Writer, act func(addr string) (bool, error)) error {
	var err error
	for k, addr := range o.peers {
		var done bool
		if done, err = act(addr); done {
			return nil
		}
		if !unreachable(err) {
			break
		}
		if k+1 < len(o.peers) {
			fmt.Fprintf(stderr, "picogo %s: %s: %v; trying %s\n", cmd, addr, err, o.peers[k+1])
		}
	}
	return err
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
