package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
)

const statusUsage = `Usage: picogo status [--json] [--timeout D] [user@]host:port (default admin@127.0.0.1:3301)

Shows the cluster as the instance at host:port has applied it:
  - the leader and the governor's status (idle, the step it is on, or its
    last error);
  - per tier: replication factor, whether its instances may vote, buckets;
  - per replicaset: tier, master (current -> target while it changes),
    state, members / replication factor, weight, and the buckets it owns;
    then the bucket ranges moving or with rows left to delete;
  - per instance: name, raft id, address, replicaset, tier, current and
    target grade as variant(incarnation), its part in Raft (leader, voter or
    learner when the instance reports the configuration, else its own Raft
    state) and its applied index, asked of each instance itself;
  - the roles, if any: version, the roles each needs, the tiers it is
    enabled on, its DDL applied; then per instance each role's state
    (running, failed with its error, stopped) and version.
--json prints the same as one JSON object.

The password comes from PICOGO_PASSWORD (for admin, PICOGO_ADMIN_PASSWORD).

Flags:
`

// clusterStatus is what `picogo status` shows.
type clusterStatus struct {
	Cluster string `json:"cluster"`
	// Source is the instance asked; the tables are as of its Applied
	// index.
	Source   string      `json:"source"`
	Applied  uint64      `json:"applied"`
	Leader   *leaderView `json:"leader"`
	Governor string      `json:"governor"`
	topologyView
}

type leaderView struct {
	RaftID   uint64 `json:"raft_id"`
	Instance string `json:"instance"`
	Address  string `json:"address"`
	Term     uint64 `json:"term"`
}

// runStatus is `picogo status`.
func runStatus(args []string, env func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON instead of tables")
	timeout := fs.Duration("timeout", 2*time.Second, "how long to wait for each instance's answer")
	fs.Usage = func() { fmt.Fprint(stderr, statusUsage); fs.PrintDefaults() }
	c, addr, code := parseAndDial(fs, args, env, stderr)
	if c == nil {
		return code
	}
	defer c.close()
	st, err := collectStatus(c, addr, *timeout)
	if err != nil {
		fmt.Fprintf(stderr, "picogo status: %s: %v\n", addr, err)
		return 1
	}
	if *asJSON {
		out, _ := json.MarshalIndent(st, "", "  ")
		fmt.Fprintln(stdout, string(out))
		return 0
	}
	st.print(stdout)
	return 0
}

// runtimeInfo is the part of `.proc_runtime_info` status reads.
// raft_voters and raft_learners are read when the instance reports them.
type runtimeInfo struct {
	Internal struct {
		Governor string   `msgpack:"governor_loop_status"`
		Voters   []uint64 `msgpack:"raft_voters"`
		Learners []uint64 `msgpack:"raft_learners"`
	} `msgpack:"internal"`
}

// collectStatus reads the topology from addr, then asks every instance
// that is not expelled for its Raft state, and the leader for the
// governor's status, in parallel.
func collectStatus(c *client, addr string, timeout time.Duration) (*clusterStatus, error) {
	info, err := c.raftInfo(addr)
	if err != nil {
		return nil, err
	}
	var self api.InstanceInfoResult
	if err := c.callInto(addr, ".proc_instance_info", &self, timeout); err != nil {
		return nil, err
	}
	top, err := readTopology(c, addr)
	if err != nil {
		return nil, err
	}
	st := &clusterStatus{Cluster: self.ClusterID, Source: addr, Applied: info.Applied, Governor: "unknown"}

	var wg sync.WaitGroup
	var rt runtimeInfo
	var rtErr error = errors.New("no leader known")
	if leaderAddr, ok := top.Addresses[info.LeaderID]; ok && info.LeaderID != 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rtErr = c.callInto(leaderAddr, ".proc_runtime_info", &rt, timeout)
		}()
	}
	raft := map[uint64]*memberRaft{}
	var mu sync.Mutex
	for _, i := range top.Instances {
		a, ok := top.Addresses[i.RaftID]
		if !ok || i.Expelled() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := &memberRaft{}
			if r, err := c.raftInfo(a); err != nil {
				m.Error = err.Error()
			} else {
				m.State, m.Term, m.Applied, m.LeaderID = r.State, r.Term, r.Applied, r.LeaderID
			}
			mu.Lock()
			raft[i.RaftID] = m
			mu.Unlock()
		}()
	}
	wg.Wait()

	var conf *raftConf
	if rtErr == nil {
		st.Governor = rt.Internal.Governor
		if rt.Internal.Voters != nil {
			conf = &raftConf{Voters: rt.Internal.Voters, Learners: rt.Internal.Learners}
		}
	} else if info.LeaderID != 0 {
		st.Governor = "unknown (" + rtErr.Error() + ")"
	}
	st.topologyView = buildTopology(top, info.LeaderID, conf)
	for k := range st.Instances {
		st.Instances[k].Raft = raft[st.Instances[k].RaftID]
	}
	if info.LeaderID != 0 {
		st.Leader = &leaderView{RaftID: info.LeaderID, Address: top.Addresses[info.LeaderID], Term: info.Term}
		for _, i := range top.Instances {
			if i.RaftID == info.LeaderID {
				st.Leader.Instance = i.InstanceID
			}
		}
	}
	return st, nil
}

// readTopology reads the topology tables from addr.
func readTopology(c *client, addr string) (tables.Topology, error) {
	var top tables.Topology
	read := func(table uint32, name string, each func([]any) error) error {
		rows, err := c.rows(addr, table)
		if err != nil {
			return fmt.Errorf("reading %s: %w", name, err)
		}
		for _, r := range rows {
			if err := each(r); err != nil {
				return fmt.Errorf("reading %s: %w", name, err)
			}
		}
		return nil
	}
	err := errors.Join(
		read(tables.TablePicoTier, tables.TablePicoTierName, func(r []any) error {
			t, err := tables.TierFrom(r)
			top.Tiers = append(top.Tiers, t)
			return err
		}),
		read(tables.TablePicoReplicaset, tables.TablePicoReplicasetName, func(r []any) error {
			rs, err := tables.ReplicasetFrom(r)
			top.Replicasets = append(top.Replicasets, rs)
			return err
		}),
		read(tables.TablePicoInstance, tables.TablePicoInstanceName, func(r []any) error {
			i, err := tables.InstanceFrom(r)
			top.Instances = append(top.Instances, i)
			return err
		}),
	)
	err = errors.Join(err, read(tables.TablePicoBucket, tables.TablePicoBucketName, func(r []any) error {
		b, err := tables.BucketRangeFrom(r)
		top.Buckets = append(top.Buckets, b)
		return err
	}))
	err = errors.Join(err,
		read(tables.TablePicoRole, tables.TablePicoRoleName, func(r []any) error {
			x, err := tables.RoleFrom(r)
			top.Roles = append(top.Roles, x)
			return err
		}),
		read(tables.TablePicoRoleTier, tables.TablePicoRoleTierName, func(r []any) error {
			x, err := tables.RoleTierFrom(r)
			top.RoleTiers = append(top.RoleTiers, x)
			return err
		}),
		read(tables.TablePicoRoleState, tables.TablePicoRoleStateName, func(r []any) error {
			x, err := tables.RoleStateFrom(r)
			top.RoleStates = append(top.RoleStates, x)
			return err
		}))
	top.Addresses = map[uint64]string{}
	err = errors.Join(err, read(tables.TablePicoPeerAddress, tables.TablePicoPeerAddressName, func(r []any) error {
		if len(r) < 2 {
			return fmt.Errorf("row %v", r)
		}
		id, _ := tuple.AsUint64(r[0])
		top.Addresses[id], _ = r[1].(string)
		return nil
	}))
	return top, err
}

func (st *clusterStatus) print(w io.Writer) {
	fmt.Fprintf(w, "cluster %s, as %s has applied it (index %d)\n", st.Cluster, st.Source, st.Applied)
	if l := st.Leader; l != nil {
		fmt.Fprintf(w, "leader: %s (raft id %d, %s), term %d; governor: %s\n\n", orDash(l.Instance), l.RaftID, orDash(l.Address), l.Term, st.Governor)
	} else {
		fmt.Fprintf(w, "leader: none known; governor: %s\n\n", st.Governor)
	}
	st.topologyView.print(w)
}
