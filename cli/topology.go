package cli

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/picogo/picogo/core/tables"
)

// The cluster's topology as operators see it — `picogo status` (text and
// --json) and the HTTP page and /api/cluster — built from the topology
// tables (_pico_tier, _pico_replicaset, _pico_instance,
// _pico_peer_address) one instance has applied.

type topologyView struct {
	Tiers       []tierView       `json:"tiers"`
	Replicasets []replicasetView `json:"replicasets"`
	Instances   []instanceView   `json:"instances"`
	// Moves are the bucket ranges being sent, or with rows left to
	// delete somewhere (_pico_bucket rows not at rest).
	Moves []string `json:"moves,omitempty"`
	// Roles are the roles the cluster knows (_pico_role, _pico_role_tier)
	// and RoleStates where they run, or failed (_pico_role_state).
	Roles      []roleView      `json:"roles,omitempty"`
	RoleStates []roleStateView `json:"role_states,omitempty"`
}

type roleView struct {
	Name         string   `json:"name"`
	Version      string   `json:"version"`
	Dependencies []string `json:"dependencies"`
	// Tiers it is enabled on.
	Tiers []string `json:"tiers"`
	// DDLApplied of DDL: its once-per-cluster statements applied.
	DDL        int    `json:"ddl"`
	DDLApplied uint64 `json:"ddl_applied"`
}

type roleStateView struct {
	Instance string `json:"instance"`
	Role     string `json:"role"`
	State    string `json:"state"`
	Version  string `json:"version"`
	Error    string `json:"error,omitempty"`
}

type tierView struct {
	Name               string `json:"name"`
	ReplicationFactor  uint64 `json:"replication_factor"`
	CanVote            bool   `json:"can_vote"`
	BucketCount        uint64 `json:"bucket_count"`
	VshardBootstrapped bool   `json:"vshard_bootstrapped"`
	Replicasets        int    `json:"replicasets"`
}

type replicasetView struct {
	Name          string  `json:"name"`
	Tier          string  `json:"tier"`
	CurrentMaster string  `json:"current_master"`
	TargetMaster  string  `json:"target_master"`
	State         string  `json:"state"`
	Weight        float64 `json:"weight"`
	// Instances: the members that are not expelled; ReplicationFactor:
	// their tier's.
	Instances         int    `json:"instances"`
	ReplicationFactor uint64 `json:"replication_factor"`
	// Buckets: how many buckets of its tier it owns (_pico_bucket).
	Buckets uint64 `json:"buckets"`
}

type gradeView struct {
	Variant     string `json:"variant"`
	Incarnation uint64 `json:"incarnation"`
}

func (g gradeView) String() string { return fmt.Sprintf("%s(%d)", g.Variant, g.Incarnation) }

type instanceView struct {
	Name          string            `json:"name"`
	RaftID        uint64            `json:"raft_id"`
	Address       string            `json:"address"`
	Replicaset    string            `json:"replicaset"`
	Tier          string            `json:"tier"`
	CurrentGrade  gradeView         `json:"current_grade"`
	TargetGrade   gradeView         `json:"target_grade"`
	FailureDomain map[string]string `json:"failure_domain,omitempty"`
	// Leader: the Raft leader (as the instance read knows it).
	Leader bool `json:"leader"`
	// Voter: "voter" or "learner" when the Raft configuration is known,
	// else empty.
	Voter string `json:"voter,omitempty"`
	// Raft is what the instance itself answers to .proc_raft_info
	// (`picogo status` only).
	Raft *memberRaft `json:"raft,omitempty"`
}

// memberRaft is one instance's own Raft state, or why it is not known.
type memberRaft struct {
	State    string `json:"state,omitempty"`
	Term     uint64 `json:"term,omitempty"`
	Applied  uint64 `json:"applied,omitempty"`
	LeaderID uint64 `json:"leader_id,omitempty"`
	Error    string `json:"error,omitempty"`
}

// raftConf is the Raft configuration, when known.
type raftConf struct {
	Voters, Learners []uint64
}

// buildTopology makes the view of top; leader is the leader's raft id (0:
// none known), conf the voters and learners (nil: unknown).
func buildTopology(top tables.Topology, leader uint64, conf *raftConf) topologyView {
	var v topologyView
	rf := map[string]uint64{}
	for _, t := range top.Tiers {
		rf[t.Name] = t.ReplicationFactor
	}
	members := map[string]int{}
	for _, i := range top.Instances {
		if !i.Expelled() {
			members[i.ReplicasetID]++
		}
	}
	owned := map[string]uint64{}
	for _, b := range top.Buckets {
		owned[b.ReplicasetID] += b.Count()
	}
	perTier := map[string]int{}
	for _, r := range top.Replicasets {
		perTier[r.Tier]++
		v.Replicasets = append(v.Replicasets, replicasetView{Name: r.ReplicasetID, Tier: r.Tier,
			CurrentMaster: r.CurrentMasterID, TargetMaster: r.TargetMasterID, State: r.State, Weight: r.Weight,
			Instances: members[r.ReplicasetID], ReplicationFactor: rf[r.Tier], Buckets: owned[r.ReplicasetID]})
	}
	for _, b := range top.Buckets {
		if b.State != tables.BucketActive || b.Garbage != "" {
			v.Moves = append(v.Moves, b.String())
		}
	}
	for _, t := range top.Tiers {
		v.Tiers = append(v.Tiers, tierView{Name: t.Name, ReplicationFactor: t.ReplicationFactor, CanVote: t.CanVote,
			BucketCount: t.BucketCount, VshardBootstrapped: t.VshardBootstrapped, Replicasets: perTier[t.Name]})
	}
	for _, i := range top.Instances {
		iv := instanceView{Name: i.InstanceID, RaftID: i.RaftID, Address: top.Addresses[i.RaftID],
			Replicaset: i.ReplicasetID, Tier: i.Tier,
			CurrentGrade:  gradeView{Variant: i.Current.Variant, Incarnation: i.Current.Incarnation},
			TargetGrade:   gradeView{Variant: i.Target.Variant, Incarnation: i.Target.Incarnation},
			FailureDomain: i.FailureDomain, Leader: leader != 0 && i.RaftID == leader}
		if len(iv.FailureDomain) == 0 {
			iv.FailureDomain = nil
		}
		if conf != nil {
			switch {
			case slices.Contains(conf.Voters, i.RaftID):
				iv.Voter = "voter"
			case slices.Contains(conf.Learners, i.RaftID):
				iv.Voter = "learner"
			}
		}
		v.Instances = append(v.Instances, iv)
	}
	// By raft id: the order instances joined in.
	slices.SortFunc(v.Instances, func(a, b instanceView) int { return cmp.Compare(a.RaftID, b.RaftID) })
	for _, r := range top.Roles {
		rv := roleView{Name: r.Name, Version: r.Version, Dependencies: r.Dependencies, Tiers: []string{},
			DDL: len(r.OnceDDL), DDLApplied: r.DDLApplied}
		for _, rt := range top.RoleTiers {
			if rt.Role == r.Name {
				rv.Tiers = append(rv.Tiers, rt.Tier)
			}
		}
		v.Roles = append(v.Roles, rv)
	}
	for _, st := range top.RoleStates {
		v.RoleStates = append(v.RoleStates, roleStateView{Instance: st.InstanceID, Role: st.Role, State: st.State,
			Version: st.Version, Error: st.Error})
	}
	return v
}

// print writes the three tables, aligned.
func (v topologyView) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIER\tRF\tCAN_VOTE\tBUCKETS\tREPLICASETS")
	for _, t := range v.Tiers {
		fmt.Fprintf(tw, "%s\t%d\t%v\t%d\t%d\n", t.Name, t.ReplicationFactor, t.CanVote, t.BucketCount, t.Replicasets)
	}
	tw.Flush()
	fmt.Fprintln(w)

	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REPLICASET\tTIER\tMASTER\tSTATE\tINSTANCES\tWEIGHT\tBUCKETS")
	for _, r := range v.Replicasets {
		master := orDash(r.CurrentMaster)
		if r.TargetMaster != r.CurrentMaster && r.TargetMaster != "" {
			master += " -> " + r.TargetMaster
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%g\t%d\n", r.Name, r.Tier, master, r.State, r.Instances, r.ReplicationFactor,
			r.Weight, r.Buckets)
	}
	tw.Flush()
	for _, m := range v.Moves {
		fmt.Fprintln(w, "  moving:", m)
	}
	fmt.Fprintln(w)

	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tRAFT_ID\tADDRESS\tREPLICASET\tTIER\tCURRENT\tTARGET\tRAFT\tAPPLIED")
	var problems []string
	for _, i := range v.Instances {
		raft, applied := i.RaftColumn(), "-"
		if i.Raft != nil && i.Raft.Error == "" {
			applied = fmt.Sprint(i.Raft.Applied)
		}
		if i.Raft != nil && i.Raft.Error != "" {
			problems = append(problems, fmt.Sprintf("%s (%s): %s", i.Name, orDash(i.Address), i.Raft.Error))
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", i.Name, i.RaftID, orDash(i.Address), i.Replicaset, i.Tier,
			i.CurrentGrade, i.TargetGrade, raft, applied)
	}
	tw.Flush()
	for _, p := range problems {
		fmt.Fprintln(w, "  unreachable:", p)
	}
	if len(v.Roles) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROLE\tVERSION\tNEEDS\tTIERS\tDDL")
	for _, r := range v.Roles {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\n", r.Name, r.Version, orDash(strings.Join(r.Dependencies, ",")),
			orDash(strings.Join(r.Tiers, ",")), r.DDLApplied, r.DDL)
	}
	tw.Flush()
	if len(v.RoleStates) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tROLE\tSTATE\tVERSION\tERROR")
	for _, st := range v.RoleStates {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", st.Instance, st.Role, st.State, st.Version, orDash(st.Error))
	}
	tw.Flush()
}

// RaftColumn says how the instance takes part in Raft: leader, voter or
// learner, and its own state when it is not what the leader thinks.
func (i instanceView) RaftColumn() string {
	var parts []string
	if i.Leader {
		parts = append(parts, "leader")
	}
	if i.Voter != "" {
		parts = append(parts, i.Voter)
	}
	if r := i.Raft; r != nil {
		switch {
		case r.Error != "":
			parts = append(parts, "unreachable")
		case r.State == "Leader" && !i.Leader:
			parts = append(parts, "leader (own view, term "+fmt.Sprint(r.Term)+")")
		case r.State != "Leader" && r.State != "Follower":
			parts = append(parts, strings.ToLower(r.State))
		case len(parts) == 0:
			parts = append(parts, strings.ToLower(r.State))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
