package node

import (
	"fmt"
	"slices"
	"strings"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/governor"
	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/topology"
)

// The governor's executor and the sentinel, on the leader. governor.Plan
// decides the next step from the tables; this carries it out: RPCs to the
// instances concerned, each after the receiver has applied what the leader
// had (term, index), then one batch written like a CaS, which fails if the
// tables moved meanwhile. One step at a time; a failed RPC backs that
// instance off.

type governorState struct {
	busy        bool
	step        string
	lastErr     string
	unreachable map[string]int // instance -> tick until which it is skipped
	// lastHeard is, per raft id, the last tick the sentinel knew it alive.
	lastHeard map[uint64]int
	offlining map[string]bool // sentinel proposals in flight
	leading   bool
	// term is the leadership this state belongs to: an answer arriving
	// for an earlier one is ignored.
	term uint64
	// pauseUntil: after handing leadership over, the governor waits an
	// election timeout for the transfer to happen before trying again.
	pauseUntil int
	// backingOff are the instances the last plan skipped because their
	// RPCs failed recently: its "idle" may hide work for them.
	backingOff []string
}

// status is "idle" only once the plan said there is nothing to do.
func (g *governorState) status() string {
	switch {
	case !g.leading:
		return "not a leader"
	case g.busy:
		return "busy: " + g.step
	case g.step != governor.StepIdle && g.lastErr != "":
		return "retrying, last error: " + g.lastErr
	case g.step != governor.StepIdle:
		return "planning"
	case len(g.backingOff) > 0:
		return "idle, backing off: " + strings.Join(g.backingOff, ", ")
	}
	return "idle"
}

// GovernorStatus is `.proc_runtime_info`'s governor_loop_status: "not a
// leader", "idle", "busy: <step>", or "idle, last error: ...".
func (n *Node) GovernorStatus() string { return n.gov.status() }

// backoffTicks is how long an instance whose RPC failed is skipped.
const backoffTicks = 20

// govern runs the next governor step if none is in flight.
func (n *Node) govern() {
	st := n.ra.Status()
	if st.State != raft.StateLeader {
		n.gov = governorState{}
		return
	}
	if !n.gov.leading || n.gov.term != st.Term {
		n.gov = governorState{leading: true, term: st.Term, unreachable: map[string]int{}, lastHeard: map[uint64]int{},
			offlining: map[string]bool{}}
	}
	if n.gov.busy || n.ticks < n.gov.pauseUntil {
		return
	}
	top, err := n.tables.ReadTopology()
	if err != nil {
		n.gov.lastErr = err.Error()
		return
	}
	unreachable := map[string]bool{}
	n.gov.backingOff = n.gov.backingOff[:0]
	for id, until := range n.gov.unreachable {
		if n.ticks < until {
			unreachable[id] = true
			n.gov.backingOff = append(n.gov.backingOff, id)
		}
	}
	slices.Sort(n.gov.backingOff)
	in := governor.Input{Self: st.ID, Topology: top, Conf: st.ConfState, Unreachable: unreachable}
	n.passMutants(&in)
	act := governor.Plan(in)
	if _, idle := act.(governor.Idle); idle {
		n.gov.step = act.Step()
		return
	}
	n.gov.busy, n.gov.step = true, act.Step()
	n.emit(Note{Event: "governor", Detail: act.Step() + ": " + act.Detail()})
	n.execute(act, st)
}

func (n *Node) execute(act governor.Action, st raft.Status) {
	done := func(err *api.Error) {
		if n.gov.term != st.Term {
			return // this leadership is over
		}
		n.gov.busy, n.gov.step = false, "" // the next tick plans again
		n.stats.GovernorSteps++
		if err != nil {
			n.stats.GovernorStepFailures++
			n.gov.lastErr = act.Step() + ": " + err.Message
			n.emit(Note{Event: "governor", Detail: act.Step() + " failed: " + err.Message})
		} else {
			n.gov.lastErr = ""
		}
	}
	switch a := act.(type) {
	case governor.TransferLeadership:
		if err := n.ra.TransferLeader(a.ToRaftID); err != nil {
			done(api.Errorf(api.CodeProcLua, "%v", err))
			return
		}
		n.gov.pauseUntil = n.ticks + n.cfg.Raft.ElectionTick
		done(nil)
	case governor.ConfChange:
		req := n.await(func(_ []any, err *api.Error) { done(err) }, a.Step(), func(ra.Reply) ([]any, *api.Error) { return nil, nil })
		n.ra.ChangeConf(req, a.Change)
	case governor.Batch:
		rpcs, cas := a.Batch()
		n.rpcs(rpcs, st, func(err *api.Error) {
			if err != nil {
				done(err)
				return
			}
			// Checked against everything after the state planned on,
			// including what was applied while the RPCs ran.
			n.proposeOp(tables.BatchOp(cas.Ops...), cas.Ranges, st.Applied, a.Step(), func(_ []any, err *api.Error) { done(err) },
				func(ra.Reply) ([]any, *api.Error) { return nil, nil })
		})
	default:
		panic(fmt.Sprintf("node: unknown governor step %T", act))
	}
}

// rpcs sends a step's RPCs in parallel; then hears whether all succeeded.
func (n *Node) rpcs(rpcs []governor.RPC, st raft.Status, then func(*api.Error)) {
	if len(rpcs) == 0 {
		then(nil)
		return
	}
	pending, failed := len(rpcs), []string{}
	for _, rpc := range rpcs {
		rpc := rpc
		req := n.rpcRequest(rpc.Call, st)
		finish := func(err *api.Error) {
			if n.gov.term != st.Term {
				return
			}
			if err != nil {
				failed = append(failed, rpc.InstanceID+": "+err.Message)
				n.gov.unreachable[rpc.InstanceID] = n.ticks + backoffTicks
			}
			if pending--; pending == 0 {
				if len(failed) > 0 {
					slices.Sort(failed)
					then(api.Errorf(api.CodeProcLua, "%d of %d RPCs failed: %s", len(failed), len(rpcs), failed[0]))
					return
				}
				then(nil)
			}
		}
		if rpc.RaftID == st.ID {
			n.handle(tables.PicoServiceName, req, func(_ []any, err *api.Error) { finish(err) })
			continue
		}
		n.call(rpc.Address, req, func(_ any, err *api.Error) { finish(err) })
	}
}

// rpcRequest is the procedure call for a governor RPC, with the (term,
// index) of the entry the plan was made at where the procedure waits for
// it: the receiver applies up to index and checks the entry there has that
// term (the same history the governor saw).
func (n *Node) rpcRequest(c api.Request, st raft.Status) api.Request {
	term, _ := n.ra.Term(st.Applied)
	switch c := c.(type) {
	case api.Sharding:
		c.Term, c.Index, c.Timeout = term, st.Applied, n.cfg.CallTimeout
		return c
	case api.ShardingBootstrap:
		c.Term, c.Index, c.Timeout = term, st.Applied, n.cfg.CallTimeout
		return c
	}
	return c
}

// sentinel, on the leader: an instance with target Online that has not
// been heard from for SentinelTimeout gets target Offline.
//
// Unreachability is counted from the last contact, and only while the
// instance is wanted Online: an instance that was Offline and asks to be
// Online again has just been heard from (heardFrom), and its clock starts
// then, not at the last contact before it went away. The leader may not
// reach it back at once (its dials to a restarted process back off): that
// must not set it Offline again before SentinelTimeout has passed.
func (n *Node) sentinel() {
	if !n.gov.leading {
		return
	}
	st := n.ra.Status()
	for id, pr := range st.Progress {
		if pr.RecentActive || id == st.ID {
			n.heardFrom(id)
		} else if _, seen := n.gov.lastHeard[id]; !seen {
			n.heardFrom(id) // grace from the start of this leadership
		}
	}
	top, err := n.tables.ReadTopology()
	if err != nil {
		return
	}
	limit := n.cfg.ticks(n.cfg.SentinelTimeout)
	for _, inst := range top.Instances {
		if inst.Target.Variant != tables.GradeOnline {
			n.heardFrom(inst.RaftID) // not wanted Online: not missed
			continue
		}
		heard, ok := n.gov.lastHeard[inst.RaftID]
		if !ok || n.ticks-heard <= limit || n.gov.offlining[inst.InstanceID] {
			continue
		}
		plan, ops, err := topology.PlanUpdate(top, n.cfg.ClusterID,
			topology.UpdateRequest{InstanceID: inst.InstanceID, ClusterID: n.cfg.ClusterID, TargetGrade: tables.GradeOffline})
		if err != nil || len(ops) == 0 {
			continue
		}
		id := inst.InstanceID
		n.gov.offlining[id] = true
		n.stats.SentinelOfflines++
		n.emit(Note{Event: "sentinel", Detail: fmt.Sprintf("%s unreachable for %d ticks: target %s", id, n.ticks-heard, plan.Target)})
		term := n.gov.term
		n.proposeOp(tables.BatchOp(ops...), nil, st.Applied, "sentinel", func([]any, *api.Error) {
			if n.gov.term == term {
				delete(n.gov.offlining, id)
			}
		},
			func(ra.Reply) ([]any, *api.Error) { return nil, nil })
	}
}

// heardFrom records contact with the instance raft id — its Raft messages
// or its own requests — for the sentinel, on the leader.
func (n *Node) heardFrom(id uint64) {
	if n.gov.leading && id != raft.None {
		n.gov.lastHeard[id] = n.ticks
	}
}

// heardFromInstance records contact with the instance named id, if this
// leader knows it.
func (n *Node) heardFromInstance(id string) {
	if !n.gov.leading {
		return
	}
	row, ok, err := n.tables.Get(tables.TablePicoInstance, []any{id})
	if err != nil || !ok {
		return
	}
	if inst, err := tables.InstanceFrom(row.Values()); err == nil {
		n.heardFrom(inst.RaftID)
	}
}
