package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
)

const drainUsage = `Usage: picogo drain [flags] REPLICASET

Drains the replicaset named REPLICASET (e.g. storage_2 — see 'picogo
status'): its weight becomes 0 and the governor moves every bucket it owns
to the other replicasets of its tier, a bounded number at a time, with
reads and writes going on. Once it holds no buckets, its instances can be
expelled ('picogo expel'); until then picogo refuses to expel its last one.

--weight sets another weight instead: a replicaset's share of its tier's
buckets is its weight over the sum of the ready replicasets' weights (1 is
the default; --weight 1 undoes a drain). The call is
.proc_replicaset_weight(cluster_id, replicaset_id, weight) on --peer (any
instance: it forwards to the leader).

With weight 0 the command waits until the replicaset holds no buckets, at
most --timeout, printing its count as it falls; with another weight it
returns once the weight is set. Login and exit codes as 'picogo expel': it
exits with 0 once done, 1 on an error (printed), 2 on bad arguments.

Flags:
`

// runDrain is `picogo drain`.
func runDrain(args []string, env func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("drain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, drainUsage); fs.PrintDefaults() }
	o := addOperatorFlags(fs, 10*time.Minute, "how long to wait until a drained replicaset holds no buckets")
	weight := fs.Float64("weight", 0, "the replicaset's new weight (0: drain it)")
	if code, ok := o.parse("drain", fs, args, env, stderr); !ok {
		return code
	}
	if fs.NArg() != 1 || strings.TrimSpace(fs.Arg(0)) == "" {
		fmt.Fprintln(stderr, "picogo drain: name one replicaset (picogo drain --help)")
		return 2
	}
	if *weight < 0 {
		fmt.Fprintln(stderr, "picogo drain: --weight must be 0 or more")
		return 2
	}
	rs := fs.Arg(0)
	c, code, ok := o.client("drain", stderr)
	if !ok {
		return code
	}
	defer c.close()
	err := o.eachPeer("drain", stderr, func(addr string) (bool, error) {
		return drain(c, addr, o.clusterID, rs, *weight, o.timeout, stdout)
	})
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "picogo drain: %s: %v\n", rs, err)
	return 1
}

// drain sets rs's weight through addr and, for 0, waits until rs holds no
// buckets there.
func drain(c *client, addr, clusterID, rs string, weight float64, timeout time.Duration, out io.Writer) (bool, error) {
	deadline := time.Now().Add(timeout)
	for {
		err := c.callInto(addr, ".proc_replicaset_weight", nil, min(time.Until(deadline), 10*time.Second), clusterID, rs, weight)
		if err == nil {
			break
		}
		var re *remoteError
		if !errors.As(err, &re) || !api.Retriable(re.Code) && re.Code != api.CodeNotReady || time.Now().After(deadline) {
			return false, err
		}
		time.Sleep(200 * time.Millisecond) // an election: ask again
	}
	fmt.Fprintf(out, "replicaset %s: weight %s\n", rs, strconv.FormatFloat(weight, 'g', -1, 64))
	if weight > 0 {
		return true, nil
	}
	last := ""
	for {
		held, err := heldBuckets(c, addr, rs)
		if err == nil && held == "" {
			fmt.Fprintf(out, "replicaset %s holds no buckets: its instances may be expelled\n", rs)
			return true, nil
		}
		if err == nil && held != last {
			fmt.Fprintf(out, "replicaset %s %s\n", rs, held)
			last = held
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New(held)
			}
			return false, fmt.Errorf("still not drained after %v: %w (the governor's status is in 'picogo status')", timeout, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// heldBuckets says how rs still holds buckets in _pico_bucket as addr has
// it ("" if it does not).
func heldBuckets(c *client, addr, rs string) (string, error) {
	rows, err := c.rows(addr, tables.TablePicoBucket)
	if err != nil {
		return "", err
	}
	var owned uint64
	moving := ""
	for _, r := range rows {
		b, err := tables.BucketRangeFrom(r)
		if err != nil {
			return "", err
		}
		switch {
		case b.ReplicasetID == rs:
			owned += b.Count()
		case b.Destination == rs || b.Garbage == rs:
			moving = fmt.Sprintf(", and buckets %d-%d are moving", b.First, b.Last)
		}
	}
	if owned == 0 && moving == "" {
		return "", nil
	}
	return fmt.Sprintf("owns %d buckets%s", owned, moving), nil
}
