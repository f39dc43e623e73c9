package chaos

import (
	"context"
	"errors"
	"fmt"
	"github.com/picogo/picogo/net/iproto"
	"github.com/vmihailenco/msgpack/v5"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/proc"
)

// probeTimeout bounds each of the harness's own calls.
const probeTimeout = time.Second

// cluster is the run's instances and the harness's connections to them
// (as pico_service: its probes do not depend on admin's password).
type cluster struct {
	// all is every instance the run prepared, started or not: killAll
	// kills them all.
	all   []*instance
	probe *rpc

	closeOnce sync.Once

	mu       sync.Mutex
	byID     map[uint64]*instance
	ins      []*instance // the members: started, part of the cluster (members())
	problems []string    // things that must fail the run: an instance exiting by itself, ...
}

func newCluster(ins, extra []*instance, servicePassword string) *cluster {
	c := &cluster{all: append(slices.Clone(ins), extra...), ins: slices.Clone(ins), probe: newRPC(proc.PicoService, servicePassword), byID: map[uint64]*instance{}}
	for _, in := range c.all {
		in.exitedByItself = func(in *instance, how string) {
			c.problem("%s exited by itself (%s); its log: %s", in.name, how, in.logPath)
		}
	}
	return c
}

func (c *cluster) problem(format string, a ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.problems = append(c.problems, fmt.Sprintf(format, a...))
}

func (c *cluster) takeProblems() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.problems)
}

// byRaftID is the instance with raft id id, if known.
func (c *cluster) byRaftID(id uint64) *instance {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byID[id]
}

// members is the cluster's instances: those it started with and those
// added since (addMembers).
func (c *cluster) members() []*instance {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.ins)
}

// addMembers makes ins members: clients, faults and checks see them.
func (c *cluster) addMembers(ins ...*instance) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ins = append(c.ins, ins...)
}

// random is a member chosen by rng.
func (c *cluster) random(rng *rand.Rand) *instance {
	ins := c.members()
	return ins[rng.IntN(len(ins))]
}

// learnIDs records each instance's raft id (they never change).
func (c *cluster) learnIDs(infos map[*instance]api.RaftInfoResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for in, info := range infos {
		in.raftID = info.ID
		c.byID[info.ID] = in
	}
}

// killAll kills every process and closes the harness's connections.
func (c *cluster) killAll() {
	for _, in := range c.all {
		if err := in.kill(); err != nil {
			c.problem("%v", err)
		}
	}
	c.closeOnce.Do(c.probe.close)
}

// infos asks every running, unpaused instance for its raft info, in
// parallel.
func (c *cluster) infos(ins []*instance) (map[*instance]api.RaftInfoResult, map[*instance]error) {
	var mu sync.Mutex
	infos, errs := map[*instance]api.RaftInfoResult{}, map[*instance]error{}
	var wg sync.WaitGroup
	for _, in := range ins {
		wg.Go(func() {
			info, err := c.probe.raftInfo(in.addr, probeTimeout)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[in] = err
			} else {
				infos[in] = info
			}
		})
	}
	wg.Wait()
	return infos, errs
}

// leader is the instance that says it is Leader in the highest term, among
// those that answer; nil if none does.
func (c *cluster) leader() *instance {
	infos, _ := c.infos(c.up())
	var best *instance
	var term uint64
	for in, info := range infos {
		if info.State == "Leader" && info.Term >= term {
			best, term = in, info.Term
		}
	}
	return best
}

// up is the instances running and not paused.
func (c *cluster) up() []*instance {
	var out []*instance
	for _, in := range c.members() {
		if in.running() && !in.isPaused() {
			out = append(out, in)
		}
	}
	return out
}

// agreedLeader checks that exactly one of ins is Leader and every one of
// them follows it in the same term.
func (c *cluster) agreedLeader(ins []*instance) (*instance, map[*instance]api.RaftInfoResult, error) {
	infos, errs := c.infos(ins)
	for _, in := range ins {
		if err := errs[in]; err != nil {
			return nil, nil, fmt.Errorf("%s: %v", in.name, err)
		}
	}
	var leader *instance
	for _, in := range ins {
		if infos[in].State == "Leader" {
			if leader != nil {
				return nil, nil, fmt.Errorf("two leaders: %s and %s", leader.name, in.name)
			}
			leader = in
		}
	}
	if leader == nil {
		return nil, nil, fmt.Errorf("no leader yet: %s", describe(ins, infos))
	}
	want := infos[leader]
	for _, in := range ins {
		if info := infos[in]; info.LeaderID != want.ID || info.Term != want.Term {
			return nil, nil, fmt.Errorf("%s sees leader %d in term %d, %s leads term %d: %s",
				in.name, info.LeaderID, info.Term, leader.name, want.Term, describe(ins, infos))
		}
	}
	return leader, infos, nil
}

func describe(ins []*instance, infos map[*instance]api.RaftInfoResult) string {
	var b strings.Builder
	for _, in := range ins {
		info := infos[in]
		fmt.Fprintf(&b, "[%s id=%d %s term=%d leader=%d applied=%d] ", in.name, info.ID, info.State, info.Term, info.LeaderID, info.Applied)
	}
	return strings.TrimSpace(b.String())
}

// grades is an instance's own current and target grade variants.
func (c *cluster) grades(in *instance) (current, target string, err error) {
	res, e, err := c.probe.call(in.addr, api.InstanceInfo{}, probeTimeout)
	if err == nil && e != nil {
		err = e
	}
	if err != nil {
		return "", "", err
	}
	info, ok := res.(api.InstanceInfoResult)
	if !ok {
		return "", "", fmt.Errorf(".proc_instance_info returned %T", res)
	}
	return info.CurrentGrade.Variant, info.TargetGrade.Variant, nil
}

// governor is the status of the governor loop on in. The reply is
// decoded into just the field it needs: proc.DecodeResult's generic
// decoding (into map[string]any) refuses a map with integer keys, which
// .proc_runtime_info holds once a replicaset has replicas (vclocks).
func (c *cluster) governor(in *instance) (string, error) {
	frame, err := proc.EncodeCall(c.probe.sync.Add(1), api.RuntimeInfo{})
	if err != nil {
		return "", err
	}
	packet, err := c.probe.roundtrip(in.addr, frame, probeTimeout)
	if err != nil {
		return "", err
	}
	resp, err := iproto.DecodeResponse(packet)
	if err != nil {
		return "", err
	}
	if resp.Err != nil {
		return "", fmt.Errorf(".proc_runtime_info: %s", resp.Err.Message)
	}
	var vals []struct {
		Internal struct {
			Status *string `msgpack:"governor_loop_status"`
		} `msgpack:"internal"`
	}
	if err := msgpack.Unmarshal(resp.Data, &vals); err != nil {
		return "", fmt.Errorf(".proc_runtime_info: %v", err)
	}
	if len(vals) != 1 || vals[0].Internal.Status == nil {
		return "", fmt.Errorf(".proc_runtime_info returned no internal.governor_loop_status")
	}
	return *vals[0].Internal.Status, nil
}

// settled checks that one leader is agreed on by every instance, every
// instance is current and target Online, and the leader's governor is idle.
func (c *cluster) settled() (*instance, map[*instance]api.RaftInfoResult, error) {
	leader, infos, err := c.agreedLeader(c.members())
	if err != nil {
		return nil, nil, err
	}
	for _, in := range c.members() {
		cur, target, err := c.grades(in)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", in.name, err)
		}
		if cur != "Online" || target != "Online" {
			return nil, nil, fmt.Errorf("%s is %s, target %s", in.name, cur, target)
		}
	}
	status, err := c.governor(leader)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", leader.name, err)
	}
	if status != "idle" {
		return nil, nil, fmt.Errorf("the governor on %s is %q", leader.name, status)
	}
	return leader, infos, nil
}

// adminPasswordApplied checks that in has applied a chap-sha1 password for
// admin in _pico_user (until then admin logins are checked against the
// password the instance started with).
func (c *cluster) adminPasswordApplied(in *instance) error {
	rows, e, err := c.probe.rows(in.addr, tables.TablePicoUser, []any{uint64(tables.AdminID)}, probeTimeout)
	if err == nil && e != nil {
		err = e
	}
	if err != nil {
		return err
	}
	if len(rows) != 1 || len(rows[0]) < 4 {
		return fmt.Errorf("_pico_user row of admin: %v", rows)
	}
	auth, _ := rows[0][3].([]any)
	if len(auth) < 2 || auth[0] != "chap-sha1" {
		return errors.New("admin has no password yet")
	}
	return nil
}

// errStopped: the run was cancelled.
var errStopped = errors.New("chaos: stopped")

// eventually polls check every 50 ms until it returns nil, timeout passes
// or ctx ends; it returns the last error.
func eventually(ctx context.Context, timeout time.Duration, what string, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return errStopped
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %v: %v", what, timeout, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}
