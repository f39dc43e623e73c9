package node

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/governor"
	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/topology"
	"github.com/picogo/picogo/core/tuple"
)

// The governor's executor and the sentinel, on the leader. governor.Plan
// decides the next step from the tables; this carries it out: RPCs to the
// instances concerned, each after the receiver has applied what the leader
// had (term, index), then one batch written like a CaS, which fails if the
// tables moved meanwhile. One step at a time; a failed RPC backs that
// instance off.

// governorModule is the module of the leader's work on the cluster: the
// governor's executor and the sentinel, whose state lasts one leadership
// (governorState); and the receiving side of the governor's RPCs, which
// set this instance's replication role and bucket map (local.go).
type governorModule struct {
	*Node
	gov   governorState
	local localState
}

func (m *governorModule) register(r *registry) {
	serve(r, running, m.replication)
	serve(r, running, func(_ string, req api.Sharding, respond responder) {
		m.sharding(req.Term, req.Index, req.Timeout, req.DoReconfigure, false, respond)
	})
	serve(r, running, func(_ string, req api.ShardingBootstrap, respond responder) {
		m.sharding(req.Term, req.Index, req.Timeout, false, true, respond)
	})
	serve(r, running, m.applySchemaChange)
	r.tick(tickSentinel, running, m.sentinel)
	r.tick(tickGovern, running, m.govern)
}

type governorState struct {
	busy        bool
	step        string
	lastErr     string
	unreachable map[string]int // instance -> tick until which it is skipped
	// roleBackoff: a role whose start failed on an instance
	// (governor.RoleBackoffKey) -> the tick until which it is not retried,
	// and how many times in a row it failed (the wait doubles).
	roleBackoff  map[string]int
	roleFailures map[string]int
	// lastHeard is, per raft id, the last tick the sentinel knew it alive.
	lastHeard map[uint64]int
	offlining map[string]bool // sentinel proposals in flight
	// moveSizes: per tier, the buckets the next move may take, from the
	// rows the last one copied (governor.MoveSize).
	moveSizes map[string]uint64
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
	// idleFor is the input of the last plan, when it was Idle: Plan is a
	// pure function of its input, so the same input is idle again and is
	// not planned again (an idle leader plans on every tick).
	idleFor *idleInput
}

// idleInput is what a governor.Input was made of: the stamp of the tables
// its topology was read from, and the rest as it was.
type idleInput struct {
	at          tables.Stamp
	conf        raft.ConfState
	unreachable map[string]bool
	roleBackoff map[string]bool
	moveSizes   map[string]uint64
}

func (i *idleInput) same(at tables.Stamp, in *governor.Input) bool {
	return i != nil && i.at == at && confEqual(i.conf, in.Conf) && maps.Equal(i.unreachable, in.Unreachable) &&
		maps.Equal(i.roleBackoff, in.RoleBackoff) && maps.Equal(i.moveSizes, in.MoveSizes)
}

func confEqual(a, b raft.ConfState) bool {
	return slices.Equal(a.Voters, b.Voters) && slices.Equal(a.VotersOutgoing, b.VotersOutgoing) &&
		slices.Equal(a.Learners, b.Learners) && slices.Equal(a.LearnersNext, b.LearnersNext) && a.AutoLeave == b.AutoLeave
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

// idle: leading, with nothing to do (status "idle").
func (g *governorState) idle() bool {
	return g.leading && !g.busy && g.step == governor.StepIdle && len(g.backingOff) == 0
}

// GovernorIdle reports GovernorStatus "idle", without making the string:
// the simulator asks after every event until the cluster settles.
func (n *Node) GovernorIdle() bool { return n.governor.gov.idle() }

// GovernorStatus is `.proc_runtime_info`'s governor_loop_status: "not a
// leader", "idle", "busy: <step>", or "idle, last error: ...".
func (n *Node) GovernorStatus() string { return n.governor.gov.status() }

// backoffTicks is how long an instance whose RPC failed is skipped.
const backoffTicks = 20

// govern runs the next governor step if none is in flight.
func (m *governorModule) govern() {
	st := m.ra.BasicStatus()
	if st.State != raft.StateLeader {
		m.gov = governorState{}
		return
	}
	if !m.gov.leading || m.gov.term != st.Term {
		m.gov = governorState{leading: true, term: st.Term, unreachable: map[string]int{}, lastHeard: map[uint64]int{},
			offlining: map[string]bool{}, moveSizes: map[string]uint64{}, roleBackoff: map[string]int{}, roleFailures: map[string]int{}}
	}
	if m.gov.busy || m.ticks < m.gov.pauseUntil {
		return
	}
	at := m.tables.TopologyStamp()
	unreachable := map[string]bool{}
	m.gov.backingOff = m.gov.backingOff[:0]
	for id, until := range m.gov.unreachable {
		if m.ticks < until {
			unreachable[id] = true
			m.gov.backingOff = append(m.gov.backingOff, id)
		}
	}
	slices.Sort(m.gov.backingOff)
	roleBackoff := map[string]bool{}
	for key, until := range m.gov.roleBackoff {
		if m.ticks < until {
			roleBackoff[key] = true
		}
	}
	in := governor.Input{Self: st.ID, Conf: st.ConfState, Unreachable: unreachable, MoveSizes: m.gov.moveSizes,
		RoleBackoff: roleBackoff}
	if m.gov.idleFor.same(at, &in) {
		m.gov.step = governor.StepIdle
		return
	}
	m.gov.idleFor = nil
	top, err := m.tables.Topology() // shared: Plan writes nothing into its input
	if err != nil {
		m.gov.lastErr = err.Error()
		return
	}
	in.Topology = *top
	m.passMutants(&in)
	act := governor.Plan(in)
	if _, idle := act.(governor.Idle); idle {
		m.gov.step = act.Step()
		m.gov.idleFor = &idleInput{at: at, conf: st.ConfState, unreachable: unreachable, roleBackoff: roleBackoff,
			moveSizes: maps.Clone(m.gov.moveSizes)}
		return
	}
	m.gov.busy, m.gov.step = true, act.Step()
	m.emit(Note{Event: "governor", Detail: act.Step() + ": " + act.Detail()})
	m.execute(act, st)
}

func (m *governorModule) execute(act governor.Action, st raft.Status) {
	done := func(err *api.Error) {
		if m.gov.term != st.Term {
			return // this leadership is over
		}
		m.gov.busy, m.gov.step = false, "" // the next tick plans again
		m.stats.GovernorSteps++
		if err != nil {
			m.stats.GovernorStepFailures++
			m.gov.lastErr = act.Step() + ": " + err.Message
			m.emit(Note{Event: "governor", Detail: act.Step() + " failed: " + err.Message})
		} else {
			m.gov.lastErr = ""
		}
	}
	switch a := act.(type) {
	case governor.TransferLeadership:
		if err := m.ra.TransferLeader(a.ToRaftID); err != nil {
			done(api.Errorf(api.CodeProcLua, "%v", err))
			return
		}
		m.gov.pauseUntil = m.ticks + m.cfg.Raft.ElectionTick
		done(nil)
	case governor.ConfChange:
		req := m.await(func(_ []any, err *api.Error) { done(err) }, a.Step(), func(ra.Reply) ([]any, *api.Error) { return nil, nil })
		m.ra.ChangeConf(req, a.Change)
	case governor.Switchover:
		m.switchover(a, st, done)
	case governor.MoveBuckets:
		m.moveBuckets(a, st, done)
	case governor.Batch:
		rpcs, cas := a.Batch()
		m.rpcs(rpcs, st, func(_ []any, err *api.Error) {
			if err != nil {
				done(err)
				return
			}
			// Checked against everything after the state planned on,
			// including what was applied while the RPCs ran.
			m.cas.proposeOp(tables.BatchOp(cas.Ops...), cas.Ranges, st.Applied, a.Step(), func(_ []any, err *api.Error) { done(err) },
				func(ra.Reply) ([]any, *api.Error) { return nil, nil })
		})
	case governor.RoleDDL:
		m.roleDDL(a, st, done)
	case governor.StartRoles:
		m.roleStep(a.RPC, a.Ranges, st, a.Record, done)
	case governor.StopRoles:
		m.roleStep(a.RPC, a.Ranges, st, a.Record, done)
	case governor.ApplySchemaChange:
		m.rpcs(a.RPCs, st, func(answers []any, err *api.Error) {
			if err != nil {
				done(err)
				return
			}
			op, reason, e := a.SchemaChangeOutcome(answers)
			if e != nil {
				done(api.Errorf(api.CodeProcLua, "%v", e))
				return
			}
			detail := fmt.Sprintf("schema version %d: %s", a.SchemaVersion, op.Kind)
			if reason != "" {
				detail += ": " + reason
			}
			m.emit(Note{Event: "ddl", Detail: detail})
			m.cas.proposeOp(op, a.Ranges, st.Applied, a.Step(), func(_ []any, err *api.Error) { done(err) },
				func(ra.Reply) ([]any, *api.Error) { return nil, nil })
		})
	default:
		panic(fmt.Sprintf("node: unknown governor step %T", act))
	}
}

// Role starts that failed are retried after roleRetryTicks, doubling with
// each failure in a row up to roleRetryMaxTicks.
const (
	roleRetryTicks    = 20
	roleRetryMaxTicks = 640
)

// roleDDL runs a role's next DDL statement as admin, through SQL's
// two-phase DDL, then records it applied; an object that exists counts as
// created (an earlier try's CaS was lost). The step ends as soon as the
// statement is under way: its schema change needs the governor's next
// steps to finish. Meanwhile, and after a failure for a backoff, the
// role's DDL is not planned again.
func (m *governorModule) roleDDL(a governor.RoleDDL, st raft.Status, done func(*api.Error)) {
	key := governor.RoleDDLBackoffKey(a.Role)
	m.gov.roleBackoff[key] = math.MaxInt // in flight
	m.sql.sql(tables.AdminName, api.SQL{Query: a.Statement}, func(_ []any, err *api.Error) {
		if m.gov.term != st.Term {
			return
		}
		if err != nil && err.Code != tuple.CodeSpaceExists && err.Code != tuple.CodeIndexExists {
			m.emit(Note{Event: "roles", Detail: fmt.Sprintf("%s: DDL statement %d failed: %s", a.Role, a.Index+1, err.Message)})
			m.backOffRole(key)
			return
		}
		delete(m.gov.roleFailures, key)
		// Planned again whatever the CaS's fate: the row says what is
		// left to apply.
		m.cas.proposeOp(tables.BatchOp(a.CaS.Ops...), a.CaS.Ranges, st.Applied, a.Step(),
			func(_ []any, err *api.Error) {
				delete(m.gov.roleBackoff, key)
				if err != nil {
					m.emit(Note{Event: "roles", Detail: fmt.Sprintf("%s: recording DDL statement %d: %s", a.Role, a.Index+1, err.Message)})
				}
			}, func(ra.Reply) ([]any, *api.Error) { return nil, nil })
	})
	done(nil)
}

// backOffRole keeps key (a role on an instance, or a role's DDL) from
// being planned again for roleRetryTicks, doubling with each failure in a
// row up to roleRetryMaxTicks.
func (m *governorModule) backOffRole(key string) {
	wait := min(roleRetryTicks<<min(m.gov.roleFailures[key], 10), roleRetryMaxTicks)
	m.gov.roleFailures[key]++
	m.gov.roleBackoff[key] = m.ticks + wait
}

// roleStep starts or stops roles on an instance, then records its answer;
// a role that failed to start backs off before the next try. It asks only
// if the record's predicate holds now (ranges: the instance's role rows,
// governor.StartRoles): an entry after the plan that writes them — an
// earlier answer's record, not committed yet — would be applied after
// this call ran, and say what ran before it.
func (m *governorModule) roleStep(rpc governor.RPC, ranges []tables.Range, st raft.Status,
	record func(any) (governor.CaS, []api.RoleResult, error), done func(*api.Error)) {
	if _, err := m.cas.scanConflicts(st.Applied, ranges, tables.BatchOp(), false); err != nil {
		done(err)
		return
	}
	m.rpcs([]governor.RPC{rpc}, st, func(answers []any, err *api.Error) {
		if err != nil {
			done(err)
			return
		}
		cas, results, e := record(answers[0])
		if e != nil {
			done(api.Errorf(api.CodeProcLua, "%v", e))
			return
		}
		for _, r := range results {
			key := governor.RoleBackoffKey(rpc.InstanceID, r.Role)
			if r.Error == "" {
				delete(m.gov.roleFailures, key)
				delete(m.gov.roleBackoff, key)
				continue
			}
			m.emit(Note{Event: "roles", Detail: fmt.Sprintf("%s on %s: %s", r.Role, rpc.InstanceID, r.Error)})
			m.backOffRole(key)
		}
		m.cas.proposeOp(tables.BatchOp(cas.Ops...), cas.Ranges, st.Applied, governor.StepRoles,
			func(_ []any, err *api.Error) { done(err) }, func(ra.Reply) ([]any, *api.Error) { return nil, nil })
	})
}

// switchover carries out a master switchover in three stages, each after
// the previous one succeeded: the demote of the old master (or, it being
// unreachable, .proc_get_vclock on the members), then the promote their
// answers decide (governor.Promotion: none when the failover first makes
// another member the target master), then the CaS. A failure ends the
// step, the instance that failed backed off: the next plan starts again
// from the tables (a demote that failed sends it the failover way; a
// demoted old master still recorded as master is demoted again).
func (m *governorModule) switchover(a governor.Switchover, st raft.Status, done func(*api.Error)) {
	next := func(p governor.Promotion, err error) {
		if err != nil {
			done(api.Errorf(api.CodeProcLua, "%v", err))
			return
		}
		m.emit(Note{Event: "governor", Detail: a.Step() + ": " + a.Replicaset + ": " + p.Detail()})
		var rpcs []governor.RPC
		if p.Promote != nil {
			rpcs = []governor.RPC{*p.Promote}
		}
		m.rpcs(rpcs, st, func(_ []any, err *api.Error) {
			if err != nil {
				done(err)
				return
			}
			m.cas.proposeOp(tables.BatchOp(p.CaS.Ops...), p.CaS.Ranges, st.Applied, a.Step(),
				func(_ []any, err *api.Error) { done(err) }, func(ra.Reply) ([]any, *api.Error) { return nil, nil })
		})
	}
	if a.Demote != nil {
		m.rpcs([]governor.RPC{*a.Demote}, st, func(answers []any, err *api.Error) {
			if err != nil {
				done(err)
				return
			}
			next(a.AfterDemote(answers[0]))
		})
		return
	}
	m.rpcs(a.Survey, st, func(answers []any, err *api.Error) {
		if err != nil {
			done(err)
			return
		}
		next(a.AfterSurvey(answers))
	})
}

// rpcs sends a step's RPCs in parallel; then hears whether all succeeded,
// and their answers (in RPC order).
func (m *governorModule) rpcs(rpcs []governor.RPC, st raft.Status, then func([]any, *api.Error)) {
	if len(rpcs) == 0 {
		then(nil, nil)
		return
	}
	pending, failed := len(rpcs), []string{}
	answers := make([]any, len(rpcs))
	for k, rpc := range rpcs {
		rpc := rpc
		req := m.rpcRequest(rpc.Call, st)
		finish := func(answer any, err *api.Error) {
			if m.gov.term != st.Term {
				return
			}
			answers[k] = answer
			if err != nil {
				failed = append(failed, rpc.InstanceID+": "+err.Message)
				m.gov.unreachable[rpc.InstanceID] = m.ticks + backoffTicks
			}
			if pending--; pending == 0 {
				if len(failed) > 0 {
					slices.Sort(failed)
					then(nil, api.Errorf(api.CodeProcLua, "%d of %d RPCs failed: %s", len(failed), len(rpcs), failed[0]))
					return
				}
				then(answers, nil)
			}
		}
		if rpc.RaftID == st.ID {
			m.handle(tables.PicoServiceName, req, func(values []any, err *api.Error) { finish(values, err) })
			continue
		}
		m.call(rpc.Address, req, finish)
	}
}

// atGovernorIndex calls then once this instance has applied index and the
// entry there has term — the history the governor planned on — or answers
// the error (another term, a timeout): the receiving side of every governor
// RPC that carries (term, index) (rpcRequest).
func (n *Node) atGovernorIndex(proc string, term, index uint64, timeout time.Duration, respond responder, then func(responder)) {
	req := n.await(func(_ []any, err *api.Error) {
		if err != nil {
			respond(nil, err)
			return
		}
		then(respond)
	}, proc, func(ra.Reply) ([]any, *api.Error) {
		if t, ok := n.ra.Term(index); ok && t != term {
			return nil, api.Errorf(api.CodeEntryTermMis, "%s: entry %d has term %d, the governor saw %d", proc, index, t, term)
		}
		return nil, nil
	})
	n.ra.WaitApplied(req, index)
	n.ra.SetDeadline(req, n.cfg.ticks(timeout))
}

// rpcRequest is the procedure call for a governor RPC, with the (term,
// index) of the entry the plan was made at where the procedure waits for
// it: the receiver applies up to index and checks the entry there has that
// term (the same history the governor saw).
func (m *governorModule) rpcRequest(c api.Request, st raft.Status) api.Request {
	switch c := c.(type) {
	case api.AtGovernorIndex:
		term, _ := m.ra.Term(st.Applied)
		return c.At(term, st.Applied, m.cfg.CallTimeout)
	case api.ReplicationPromote:
		c.Timeout = m.cfg.CallTimeout
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
func (m *governorModule) sentinel() {
	if !m.gov.leading {
		return
	}
	st := m.ra.BasicStatus()
	m.ra.WithProgress(func(id uint64, pr raft.Progress) {
		if pr.RecentActive || id == st.ID {
			m.heardFrom(id)
		} else if _, seen := m.gov.lastHeard[id]; !seen {
			m.heardFrom(id) // grace from the start of this leadership
		}
	})
	shared, err := m.tables.Topology()
	if err != nil {
		return
	}
	limit := m.cfg.ticks(m.cfg.SentinelTimeout)
	// The scan reads the shared topology (a write decodes a new one, it
	// does not change this one); the planner gets its own copy, made only
	// for an instance to set Offline.
	for _, inst := range shared.Instances {
		if inst.Target.Variant != tables.GradeOnline {
			m.heardFrom(inst.RaftID) // not wanted Online: not missed
			continue
		}
		heard, ok := m.gov.lastHeard[inst.RaftID]
		if !ok || m.ticks-heard <= limit || m.gov.offlining[inst.InstanceID] {
			continue
		}
		top, err := m.tables.ReadTopology()
		if err != nil {
			return
		}
		plan, ops, err := topology.PlanUpdate(top, m.cfg.ClusterID,
			topology.UpdateRequest{InstanceID: inst.InstanceID, ClusterID: m.cfg.ClusterID, TargetGrade: tables.GradeOffline})
		if err != nil || len(ops) == 0 {
			continue
		}
		id := inst.InstanceID
		m.gov.offlining[id] = true
		m.stats.SentinelOfflines++
		m.emit(Note{Event: "sentinel", Detail: fmt.Sprintf("%s unreachable for %d ticks: target %s", id, m.ticks-heard, plan.Target)})
		term := m.gov.term
		m.cas.proposeOp(tables.BatchOp(ops...), nil, st.Applied, "sentinel", func([]any, *api.Error) {
			if m.gov.term == term {
				delete(m.gov.offlining, id)
			}
		},
			func(ra.Reply) ([]any, *api.Error) { return nil, nil })
	}
}

// heardFrom records contact with the instance raft id — its Raft messages
// or its own requests — for the sentinel, on the leader.
func (m *governorModule) heardFrom(id uint64) {
	if m.gov.leading && id != raft.None {
		m.gov.lastHeard[id] = m.ticks
	}
}

// heardFromInstance records contact with the instance named id, if this
// leader knows it.
func (m *governorModule) heardFromInstance(id string) {
	if !m.gov.leading {
		return
	}
	row, ok, err := m.tables.Get(tables.TablePicoInstance, []any{id})
	if err != nil || !ok {
		return
	}
	if inst, err := tables.InstanceFrom(row.Values()); err == nil {
		m.heardFrom(inst.RaftID)
	}
}
