package governor

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/vclock"
)

// The master switchover, part of step 5, as Picodata's governor does it.
//
// A replicaset whose current master is set and differs from its target
// master does not go through ConfigureReplication (which would tell the
// new master is_master while the old one still accepts writes): it gets a
// Switchover, in one of two ways.
//
//   - Consistent switchover: the old master is reachable (it has an address
//     and its RPCs have not failed lately — whatever its grades: an
//     instance bound for Offline or Expelled may still be running, and
//     demoting it is the only way to be sure it stops accepting writes).
//     .proc_replication_demote on it (read-only at once; it answers its
//     vclock), then .proc_replication_promote(that vclock) on the target
//     master (it waits until it has applied everything the old one wrote,
//     then accepts writes), then the CaS. The target master must be
//     reachable too, else the replicaset waits (the old one keeps
//     writing).
//   - Failover: the old master is not reachable (no address, RPCs failing
//     — a failed demote backs it off, so the next plan comes here), or it
//     never started (tables.Instance.Started: it was made master when its
//     replicaset was created and never came up, so it wrote nothing and
//     is not asked anything: its address may be another process's). The
//     governor cannot know what the old one wrote last; it asks every
//     reachable member bound for Online .proc_get_vclock, and the most
//     advanced one (the most of the old master's writes, then
//     vclock.Compare, ties to the first by instance name: see rank)
//     becomes master: if it is not the target master, this step's CaS
//     makes it the target master (as step 4 would, config version bumped)
//     and the next plan does the failover again towards it; if it is,
//     .proc_replication_promote(its own vclock) on it, then the CaS. For
//     a tier with synchronous replication (tierIsSync) the failover waits
//     until a majority of the replicaset's members that are not expelled
//     and started answer — one of any majority holds every write the synchronous quorum
//     acknowledged, so the most advanced of them loses none.
//
// The CaS records current_master_id = target_master_id and
// promotion_vclock = the vclock the master was promoted with (its keys the
// raft ids in decimal); if the replicaset's config version had caught up
// it bumps the target config version, so that step 5 then tells every
// member its new master with .proc_replication (which also records the
// config version, the grades and readiness as before). The first master of
// a new replicaset (current_master_id empty) needs none of this:
// ConfigureReplication gives it is_master.
//
// Invariant: at most one writable master per replicaset. The new master is
// never promoted before the old one answered its demote in the same step,
// or is known unreachable (no address, or its RPCs failing). An RPC that
// fails ends the step; the governor plans again from the tables, and a
// demoted old master that is still the current master is demoted again
// (demote is idempotent) before any promote.
//
// What is left open: a CaS that fails after a promote (the tables moved
// while it waited) leaves the promoted member writable and not recorded;
// the next plan demotes the old master again and promotes the target
// again, which is harmless unless the target moved meanwhile (a failover
// elsewhere) — that member is then made read-only only when step 5 sends
// it .proc_replication(is_master=false).
type Switchover struct {
	Replicaset string
	// From is the current (old) master, To the target master.
	From, To string
	// Demote is .proc_replication_demote on the old master (consistent
	// switchover); nil for a failover.
	Demote *RPC
	// Promote is .proc_replication_promote on the target master, its
	// vclock filled in by AfterDemote (consistent switchover only).
	Promote RPC
	// Survey is .proc_get_vclock on every reachable member bound for
	// Online, by instance id (failover only).
	Survey []RPC
	// Sync is the tier's synchronous replication; Quorum is how many
	// answers the failover needs: a majority of the members not
	// expelled when Sync, else 1.
	Sync   bool
	Quorum int

	rs    tables.Replicaset // the row as planned
	reads []rowKey          // the rows read, for the CaS predicate
	// fromRaftID is the old master's raft id (0 if its row is gone).
	fromRaftID uint64
	// followed says, per Survey RPC, whether that member's current grade
	// is Replicated or above: it has followed a master.
	followed []bool
	// fromGone: the old master is expelled (or its row is gone): what only
	// it had, the operator gave up; or it never started, and had nothing.
	fromGone bool
}

// Promotion is how a Switchover goes on once its first RPCs answered:
// Promote on Master (if not nil), then CaS.
type Promotion struct {
	// Master is the member promoted, or, when Promote is nil, the one
	// that CaS makes the target master (a failover to another member).
	Master string
	// VClock is what Master is promoted with: the demoted master's, or
	// in a failover Master's own.
	VClock  vclock.VClock
	Promote *RPC
	CaS     CaS
}

func (Switchover) Step() string { return StepSwitchover }
func (Switchover) isAction()    {}
func (a Switchover) Detail() string {
	if a.Demote != nil {
		return fmt.Sprintf("%s: master %s -> %s: demote %s, promote %s", a.Replicaset, a.From, a.To, a.From, a.To)
	}
	return fmt.Sprintf("%s: master %s -> %s: %s unreachable, ask vclocks of %v (need %d)", a.Replicaset, a.From,
		a.To, a.From, rpcTargets(a.Survey), a.Quorum)
}

func (p Promotion) Detail() string {
	if p.Promote == nil {
		return fmt.Sprintf("%s has the greatest vclock %s: it becomes the target master", p.Master, p.VClock)
	}
	return fmt.Sprintf("promote %s with vclock %s", p.Master, p.VClock)
}

func rpcTargets(rpcs []RPC) []string {
	out := make([]string, len(rpcs))
	for k, r := range rpcs {
		out[k] = r.InstanceID
	}
	return out
}

// tierIsSync reports whether a tier replicates synchronously (_pico_tier
// is_sync).
func (p *planner) tierIsSync(name string) bool {
	t, ok := p.tier(name)
	return ok && t.IsSync
}

// needsSwitchover reports a replicaset whose current master is set and is
// not its target master.
func needsSwitchover(rs tables.Replicaset) bool {
	return rs.CurrentMasterID != "" && rs.CurrentMasterID != rs.TargetMasterID
}

// switchover plans step 5 for a replicaset that needsSwitchover; false:
// it waits (the target master is not reachable for a consistent
// switchover, or too few members are for a failover).
func (p *planner) switchover(rs tables.Replicaset) (Action, bool) {
	var r rows
	members := p.members(rs.ReplicasetID)
	a := Switchover{Replicaset: rs.ReplicasetID, From: rs.CurrentMasterID, To: rs.TargetMasterID,
		Sync: p.tierIsSync(rs.Tier), rs: rs}

	a.fromGone = true
	if old, ok := p.instance(rs.CurrentMasterID); ok {
		a.fromRaftID, a.fromGone = old.RaftID, old.Expelled() || !old.Started()
		r.readInstance(old)
		r.readAddress(old.RaftID)
		if oldAddr, ok := p.address(old); ok && old.Started() {
			// Reachable: it must be demoted first, always.
			target, ok := p.validMaster(rs, rs.TargetMasterID)
			if !ok {
				return nil, false
			}
			tAddr, ok := p.address(target)
			if !ok {
				return nil, false
			}
			r.readInstance(target)
			r.readAddress(target.RaftID)
			a.Demote = &RPC{InstanceID: old.InstanceID, RaftID: old.RaftID, Address: oldAddr, Call: api.ReplicationDemote{}}
			a.Promote = RPC{InstanceID: target.InstanceID, RaftID: target.RaftID, Address: tAddr, Call: api.ReplicationPromote{}}
			a.Quorum = 1
			a.reads = r.read
			return a, true
		}
	}

	// Failover.
	n := 0
	for _, m := range members {
		if m.Expelled() || !m.Started() {
			continue
		}
		n++
		r.readInstance(m)
		r.readAddress(m.RaftID)
		if !onlineBound(m) {
			continue
		}
		if addr, ok := p.address(m); ok {
			a.Survey = append(a.Survey, RPC{InstanceID: m.InstanceID, RaftID: m.RaftID, Address: addr, Call: api.GetVClock{Fence: true}})
			a.followed = append(a.followed, rank(m.Current.Variant) >= rank(tables.GradeReplicated))
		}
	}
	a.Quorum = 1
	if a.Sync {
		a.Quorum = n/2 + 1
	}
	if len(a.Survey) == 0 || len(a.Survey) < a.Quorum {
		return nil, false
	}
	a.reads = r.read
	return a, true
}

// AfterDemote is a consistent switchover's next stage, given the answer of
// the demote (the old master's vclock): promote the target master with it,
// then the CaS.
func (a Switchover) AfterDemote(answer any) (Promotion, error) {
	if a.Demote == nil {
		return Promotion{}, fmt.Errorf("%s: no demote in a failover", a.Replicaset)
	}
	vc, err := VClockFrom(answer)
	if err != nil {
		return Promotion{}, fmt.Errorf("%s: demote of %s: %w", a.Replicaset, a.From, err)
	}
	return a.promote(a.Promote, vc), nil
}

// AfterSurvey is a failover's next stage, given the answers of the Survey
// RPCs (in their order; nil for a member that did not answer): the member
// with the greatest vclock (ties to the first by instance id) is promoted
// with its own vclock if it is the target master, else made the target
// master. Fewer answers than Quorum is an error: the failover waits.
func (a Switchover) AfterSurvey(answers []any) (Promotion, error) {
	if len(answers) != len(a.Survey) {
		return Promotion{}, fmt.Errorf("%s: %d answers to %d vclock requests", a.Replicaset, len(answers), len(a.Survey))
	}
	best, heard := -1, 0
	var bestVC vclock.VClock
	for k, ans := range answers {
		if ans == nil {
			continue
		}
		vc, err := VClockFrom(ans)
		if err != nil {
			return Promotion{}, fmt.Errorf("%s: vclock of %s: %w", a.Replicaset, a.Survey[k].InstanceID, err)
		}
		if a.Sync && !a.fromGone && len(vc) == 0 && (k >= len(a.followed) || !a.followed[k]) {
			// In a synchronous tier a member that never followed a
			// master and holds nothing (one that joined while the master
			// was down) neither counts towards the quorum nor may become
			// master: a majority of such members would "elect" an empty
			// replicaset and lose every write a quorum of the old members
			// acknowledged. (An asynchronous tier promotes it when nobody
			// else answers, as it promotes any lagging replica: its
			// failovers may lose writes, and it must not stay without a
			// master. So does a synchronous one whose old master the
			// operator expelled — what only it had went with it — or that
			// never started.)
			continue
		}
		heard++
		if c := a.rank(vc, bestVC); best < 0 || c > 0 ||
			c == 0 && cmp.Less(a.Survey[k].InstanceID, a.Survey[best].InstanceID) {
			best, bestVC = k, vc
		}
	}
	if best < 0 || heard < a.Quorum {
		return Promotion{}, fmt.Errorf("%s: %d of %d members answered their vclock, need %d", a.Replicaset, heard,
			len(a.Survey), a.Quorum)
	}
	elected := a.Survey[best]
	if elected.InstanceID != a.rs.TargetMasterID {
		rs := a.rs
		rs.TargetMasterID = elected.InstanceID
		rs.TargetConfigVersion++
		r := rows{read: a.reads}
		r.putReplicaset(rs)
		return Promotion{Master: elected.InstanceID, VClock: bestVC, CaS: r.cas()}, nil
	}
	return a.promote(elected, bestVC), nil
}

// rank orders two members' vclocks for a failover: first by how much of
// the old master's writes each has applied — the old master is the one
// whose writes a synchronous quorum may have acknowledged — then by
// vclock.Compare. Sum alone could prefer a member that an even older
// master, cut off, kept writing to: it would be "ahead" by writes nobody
// acknowledged and behind by ones a quorum did.
func (a Switchover) rank(v, w vclock.VClock) int {
	if x, y := v.Get(a.fromRaftID), w.Get(a.fromRaftID); x != y {
		return cmp.Compare(x, y)
	}
	return vclock.Compare(v, w)
}

// promote is the promote of to with vc, then the CaS recording the master.
func (a Switchover) promote(to RPC, vc vclock.VClock) Promotion {
	rs := a.rs
	rs.CurrentMasterID = rs.TargetMasterID
	rs.PromotionVclock = map[string]any{}
	for _, id := range vc.IDs() {
		rs.PromotionVclock[strconv.FormatUint(id, 10)] = vc[id]
	}
	if rs.CurrentConfigVersion >= rs.TargetConfigVersion {
		rs.TargetConfigVersion = rs.CurrentConfigVersion + 1
	}
	r := rows{read: a.reads}
	r.putReplicaset(rs)
	to.Call = api.ReplicationPromote{VClock: vc.Clone()}
	return Promotion{Master: to.InstanceID, VClock: vc, Promote: &to, CaS: r.cas()}
}

// VClockFrom reads a vclock as a procedure's result arrives: a
// vclock.VClock or any map from integers to integers (map[uint64]uint64,
// or map[any]any as msgpack decodes one; numeric strings are accepted as
// keys, as Lua's box.info.vclock may send them), possibly as the only
// value of the result's array ([]any of length 1). nil is the empty clock.
// A negative or non-integer key or LSN is an error.
func VClockFrom(v any) (vclock.VClock, error) {
	switch x := v.(type) {
	case nil:
		return vclock.VClock{}, nil
	case vclock.VClock:
		return x.Clone(), nil
	case map[uint64]uint64:
		return vclock.VClock(x).Clone(), nil
	case []any:
		if len(x) != 1 {
			return nil, fmt.Errorf("vclock: a result of %d values, want 1", len(x))
		}
		return VClockFrom(x[0])
	case map[any]any:
		return vclockFromMap(x)
	case map[string]any:
		return vclockFromMap(x)
	case map[uint64]any:
		return vclockFromMap(x)
	case map[int64]any:
		return vclockFromMap(x)
	}
	return nil, fmt.Errorf("vclock: a %T, want a map", v)
}

// vclockFromMap converts every component; of several bad ones, the error
// reported is the first in sorted order, so that map order never shows.
func vclockFromMap[K comparable](m map[K]any) (vclock.VClock, error) {
	out := vclock.VClock{}
	seen := map[uint64]bool{}
	var errs []string
	for k, lsn := range m {
		id, n, err := component(k, lsn)
		switch {
		case err != nil:
			errs = append(errs, err.Error())
		case seen[id]:
			errs = append(errs, fmt.Sprintf("vclock: key %d appears twice", id))
		default:
			seen[id] = true
			if n > 0 {
				out[id] = n
			}
		}
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		return nil, errors.New(errs[0])
	}
	return out, nil
}

func component(k, lsn any) (id, n uint64, err error) {
	if id, err = asUint(k, true); err != nil {
		return 0, 0, fmt.Errorf("vclock: key %v: %w", k, err)
	}
	if n, err = asUint(lsn, false); err != nil {
		return 0, 0, fmt.Errorf("vclock: lsn of %d: %w", id, err)
	}
	return id, n, nil
}

// asUint is a non-negative integer of any Go integer type msgpack decodes
// to (or a decimal string, if str).
func asUint(v any, str bool) (uint64, error) {
	var i int64
	switch x := v.(type) {
	case uint64:
		return x, nil
	case uint32:
		return uint64(x), nil
	case uint16:
		return uint64(x), nil
	case uint8:
		return uint64(x), nil
	case uint:
		return uint64(x), nil
	case int64:
		i = x
	case int32:
		i = int64(x)
	case int16:
		i = int64(x)
	case int8:
		i = int64(x)
	case int:
		i = int64(x)
	case float64:
		if x < 0 || x != math.Trunc(x) || x > math.MaxInt64 {
			return 0, fmt.Errorf("%v is not a non-negative integer", x)
		}
		return uint64(x), nil
	case string:
		if !str {
			return 0, fmt.Errorf("a string")
		}
		return strconv.ParseUint(x, 10, 64)
	default:
		return 0, fmt.Errorf("a %T", v)
	}
	if i < 0 {
		return 0, fmt.Errorf("%d is negative", i)
	}
	return uint64(i), nil
}
