//go:build linux

// The cluster lifecycle on real processes, as Picodata's own test suite
// checks it: joins through a follower, replicasets by replication factor,
// graceful stops (of a follower, of the leader), restarts with a new
// incarnation, expel, and a bad --init-cfg.
package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

const spaceInstance = uint32(515) // _pico_instance

// grade is a current or target grade.
type grade struct {
	Variant     string
	Incarnation uint64
}

func (g grade) String() string { return fmt.Sprintf("%s(%d)", g.Variant, g.Incarnation) }

// instanceRow is a _pico_instance row, the fields the tests read.
type instanceRow struct {
	InstanceID, Replicaset, Tier string
	RaftID                       uint64
	Current, Target              grade
}

// instanceRows reads _pico_instance as the instance has applied it, by
// instance_id.
func instanceRows(in *instance) (map[string]instanceRow, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn, err := connect(ctx, in.addr, "pico_service", itServicePassword)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	rows, err := selectRows(conn, spaceInstance)
	if err != nil {
		return nil, err
	}
	out := map[string]instanceRow{}
	for _, r := range rows {
		row, ok := r.([]any)
		if !ok || len(row) != 9 {
			return nil, fmt.Errorf("_pico_instance row %#v", r)
		}
		var i instanceRow
		var ok1, ok2, ok3 bool
		i.InstanceID, _ = row[0].(string)
		i.RaftID, ok1 = asUint(row[2])
		i.Replicaset, _ = row[3].(string)
		i.Current, ok2 = gradeOf(row[5])
		i.Target, ok3 = gradeOf(row[6])
		i.Tier, _ = row[8].(string)
		if !ok1 || !ok2 || !ok3 {
			return nil, fmt.Errorf("_pico_instance row %#v", r)
		}
		out[i.InstanceID] = i
	}
	return out, nil
}

func gradeOf(v any) (grade, bool) {
	a, ok := v.([]any)
	if !ok || len(a) != 2 {
		return grade{}, false
	}
	variant, ok1 := a[0].(string)
	inc, ok2 := asUint(a[1])
	return grade{variant, inc}, ok1 && ok2
}

// selfInfo is an instance's own `.proc_instance_info()`.
type selfInfo struct {
	InstanceID   string `msgpack:"instance_id"`
	RaftID       uint64 `msgpack:"raft_id"`
	ReplicasetID string `msgpack:"replicaset_id"`
}

func instanceInfo(t *testing.T, in *instance) selfInfo {
	t.Helper()
	var res []selfInfo
	if err := callTyped(serviceConn(t, in), &res, ".proc_instance_info"); err != nil || len(res) != 1 {
		t.Fatalf("%s: .proc_instance_info: %v (%d values)", in.name, err, len(res))
	}
	return res[0]
}

// waitRow waits until the instance has applied a _pico_instance row for
// id that satisfies ok, and returns it.
func waitRow(t *testing.T, in *instance, id string, timeout time.Duration, want string, ok func(instanceRow) bool) instanceRow {
	t.Helper()
	var row instanceRow
	eventually(t, timeout, fmt.Sprintf("%s sees %s %s", in.name, id, want), []*instance{in}, func() error {
		r, err := rowOf(in, id)
		if err != nil {
			return err
		}
		if !ok(r) {
			return fmt.Errorf("%s is %s/%s", id, r.Current, r.Target)
		}
		row = r
		return nil
	})
	return row
}

// rowOf is id's _pico_instance row as in has applied it.
func rowOf(in *instance, id string) (instanceRow, error) {
	rows, err := instanceRows(in)
	if err != nil {
		return instanceRow{}, err
	}
	r, ok := rows[id]
	if !ok {
		return instanceRow{}, fmt.Errorf("no row for %s", id)
	}
	return r, nil
}

func bothAre(variant string) func(instanceRow) bool {
	return func(r instanceRow) bool { return r.Current.Variant == variant && r.Target.Variant == variant }
}

// others is ins without the excluded instances.
func others(ins []*instance, excluded ...*instance) []*instance {
	var out []*instance
	for _, in := range ins {
		if !slices.Contains(excluded, in) {
			out = append(out, in)
		}
	}
	return out
}

// addrsOf is the instances' addresses.
func addrsOf(ins []*instance) []string {
	var out []string
	for _, in := range ins {
		out = append(out, in.addr)
	}
	return out
}

// runCLI runs the picogo binary with args (a CLI command, not an
// instance), within timeout, and returns its output and exit code.
func runCLI(t *testing.T, timeout time.Duration, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCLIWith(t, binary(t), timeout, env, args...)
}

// runCLIWith is runCLI with another picogo binary (an application's).
func runCLIWith(t *testing.T, bin string, timeout time.Duration, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PICOGO_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && ctx.Err() == nil:
		code = exit.ExitCode()
	default:
		t.Fatalf("picogo %s: %v (within %v)\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, timeout, &out, &errOut)
	}
	return out.String(), errOut.String(), code
}

// requireExit asserts how a process ended.
func requireExit(t *testing.T, in *instance, state *os.ProcessState, code int) {
	t.Helper()
	if state == nil || state.ExitCode() != code {
		t.Fatalf("%s ended with %v; want exit code %d", in.name, state, code)
	}
}

// TestIntegrationLifecycleJoinThroughFollower: a 4th instance started
// later, whose --peer names only a follower, is sent to the leader, joins
// with the next raft id and reaches Online.
func TestIntegrationLifecycleJoinThroughFollower(t *testing.T) {
	ins := startCluster(t, 3)
	leader := waitSettled(t, ins...)
	follower := others(ins, leader)[0]

	fourth := newInstance(t, "i4", freeAddrs(t, 1)[0], []string{follower.addr})
	fourth.start()
	all := append(slices.Clone(ins), fourth)
	waitSettled(t, all...)
	info := instanceInfo(t, fourth)
	if info.RaftID != 4 {
		t.Errorf("the 4th instance has raft id %d; want 4", info.RaftID)
	}
	row := waitRow(t, leader, info.InstanceID, 5*time.Second, "Online", bothAre("Online"))
	if row.RaftID != 4 || row.Tier != "storage" {
		t.Errorf("the leader's row of the 4th instance: %+v", row)
	}
}

// TestIntegrationLifecycleReplicationFactor2: with an --init-cfg tier of
// replication factor 2, three instances form two replicasets: storage_1
// with two instances, storage_2 with one. `picogo status --json` shows it.
func TestIntegrationLifecycleReplicationFactor2(t *testing.T) {
	initCfg := filepath.Join(t.TempDir(), "init.yaml")
	if err := os.WriteFile(initCfg, []byte("cluster:\n  tiers:\n    storage:\n      replication_factor: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ins := startCluster(t, 3, "--init-cfg", initCfg)
	leader := waitSettled(t, ins...)
	rows, err := instanceRows(leader)
	if err != nil {
		t.Fatal(err)
	}
	members := map[string][]string{}
	for id, r := range rows {
		members[r.Replicaset] = append(members[r.Replicaset], id)
	}
	if len(rows) != 3 || len(members["storage_1"]) != 2 || len(members["storage_2"]) != 1 {
		t.Fatalf("replicasets %v; want storage_1 with 2 instances, storage_2 with 1", members)
	}

	out, errOut, code := runCLI(t, 10*time.Second, []string{"PICOGO_PASSWORD=" + itServicePassword},
		"status", "--json", "pico_service@"+ins[1].addr)
	if code != 0 {
		t.Fatalf("picogo status: exit %d\n%s%s", code, out, errOut)
	}
	var st struct {
		Cluster  string
		Governor string
		Leader   *struct {
			RaftID uint64 `json:"raft_id"`
		}
		Tiers []struct {
			Name              string
			ReplicationFactor uint64 `json:"replication_factor"`
			CanVote           bool   `json:"can_vote"`
		}
		Replicasets []struct {
			Name, State   string
			CurrentMaster string `json:"current_master"`
			Instances     int
		}
		Instances []struct {
			Name         string
			RaftID       uint64                   `json:"raft_id"`
			CurrentGrade struct{ Variant string } `json:"current_grade"`
			Raft         *struct{ State string }
		}
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("picogo status --json: %v\n%s", err, out)
	}
	if st.Cluster != itClusterID || st.Governor != "idle" || st.Leader == nil || len(st.Instances) != 3 {
		t.Errorf("picogo status --json: cluster %q, governor %q, leader %v, %d instances\n%s", st.Cluster, st.Governor, st.Leader, len(st.Instances), out)
	}
	if len(st.Tiers) != 1 || st.Tiers[0].Name != "storage" || st.Tiers[0].ReplicationFactor != 2 || !st.Tiers[0].CanVote {
		t.Errorf("picogo status --json: tiers %+v; want storage, RF 2, can vote", st.Tiers)
	}
	if len(st.Replicasets) != 2 || st.Replicasets[0].Instances != 2 || st.Replicasets[0].State != "ready" || st.Replicasets[1].Instances != 1 {
		t.Errorf("picogo status --json: replicasets %+v", st.Replicasets)
	}
	for _, i := range st.Instances {
		if i.CurrentGrade.Variant != "Online" || i.Raft == nil || i.Raft.State == "" {
			t.Errorf("picogo status --json: instance %+v", i)
		}
	}

	text, errOut, code := runCLI(t, 10*time.Second, []string{"PICOGO_PASSWORD=" + itServicePassword},
		"status", "pico_service@"+ins[1].addr)
	if code != 0 || !strings.Contains(text, "governor: idle") || !strings.Contains(text, "storage_2") || !strings.Contains(text, "Online(1)") {
		t.Errorf("picogo status: exit %d\n%s%s", code, text, errOut)
	}
}

// TestIntegrationLifecycleGracefulStop: SIGTERM to one instance of three:
// it ends Offline/Offline in the others' _pico_instance and the process
// exits 0; restarted with the same flags it comes back Online with a new
// incarnation.
func TestIntegrationLifecycleGracefulStop(t *testing.T) {
	ins := startCluster(t, 3)
	leader := waitSettled(t, ins...)
	stopped := others(ins, leader)[0]
	id := instanceInfo(t, stopped).InstanceID

	stopped.signal(syscall.SIGTERM)
	requireExit(t, stopped, stopped.waitExit(10*time.Second), 0)
	for _, in := range others(ins, stopped) {
		waitRow(t, in, id, 5*time.Second, "Offline/Offline", bothAre("Offline"))
	}

	stopped.start()
	waitSettled(t, ins...)
	// Incarnation 2 — or more: a restarted instance asks again for Online
	// (a new incarnation) when its first request's answer is lost or late,
	// which a loaded machine makes happen.
	row := waitRow(t, leader, id, 5*time.Second, "Online(2 or more)", func(r instanceRow) bool {
		return r.Current == r.Target && r.Current.Variant == "Online" && r.Current.Incarnation >= 2
	})
	if info := instanceInfo(t, stopped); info.RaftID != row.RaftID || info.InstanceID != id {
		t.Errorf("restarted as %+v; it was %s with raft id %d", info, id, row.RaftID)
	}
}

// TestIntegrationLifecycleLeaderStop: SIGTERM to the leader of two: it
// hands its leadership over, the other becomes leader, and the old one ends
// Offline/Offline and exits 0.
func TestIntegrationLifecycleLeaderStop(t *testing.T) {
	ins := startCluster(t, 2)
	leader := waitSettled(t, ins...)
	other := others(ins, leader)[0]
	id := instanceInfo(t, leader).InstanceID

	leader.signal(syscall.SIGTERM)
	requireExit(t, leader, leader.waitExit(10*time.Second), 0)
	if now, _ := waitLeader(t, other); now != other {
		t.Fatalf("the leader is %s", now.name)
	}
	waitRow(t, other, id, 5*time.Second, "Offline/Offline", bothAre("Offline"))
}

// TestIntegrationLifecycleExpel: `picogo expel` of a follower: it ends
// Expelled/Expelled, its process exits by itself, and started again it
// refuses to run; a 4th instance joining afterwards gets raft id 4 — the
// expelled one's is never reused.
func TestIntegrationLifecycleExpel(t *testing.T) {
	ins := startCluster(t, 3)
	leader := waitSettled(t, ins...)
	victim := others(ins, leader)[0]
	survivor := others(ins, leader, victim)[0]
	info := instanceInfo(t, victim)
	svc := []string{"PICOGO_SERVICE_PASSWORD=" + itServicePassword}

	// Bad calls first: they change nothing.
	if _, errOut, code := runCLI(t, 10*time.Second, svc, "expel"); code != 2 || !strings.Contains(errOut, "name one instance") {
		t.Errorf("picogo expel without a name: exit %d, %q", code, errOut)
	}
	if _, errOut, code := runCLI(t, 10*time.Second, svc, "expel", "--peer", leader.addr, "nobody"); code != 1 || !strings.Contains(errOut, `"nobody" not found`) {
		t.Errorf("picogo expel nobody: exit %d, %q", code, errOut)
	}
	if _, errOut, code := runCLI(t, 10*time.Second, nil, "expel", "--peer", leader.addr, "--service-password", "wrong", info.InstanceID); code != 1 {
		t.Errorf("picogo expel with a wrong password: exit %d, %q", code, errOut)
	}

	// The last instance of a replicaset that owns buckets: refused until
	// `picogo drain` has moved them away.
	if _, errOut, code := runCLI(t, 20*time.Second, svc, "expel", "--peer", survivor.addr, info.InstanceID); code != 1 ||
		!strings.Contains(errOut, "drain it first (picogo drain "+info.ReplicasetID+")") {
		t.Fatalf("picogo expel of a replicaset's last instance before a drain: exit %d, %q", code, errOut)
	}
	if out, errOut, code := runCLI(t, 60*time.Second, svc, "drain", "--peer", survivor.addr, info.ReplicasetID); code != 0 ||
		!strings.Contains(out, "replicaset "+info.ReplicasetID+" holds no buckets") {
		t.Fatalf("picogo drain %s: exit %d\n%s%s", info.ReplicasetID, code, out, errOut)
	}

	// Through the other follower, which forwards to the leader.
	out, errOut, code := runCLI(t, 20*time.Second, svc, "expel", "--peer", survivor.addr, info.InstanceID)
	if code != 0 || !strings.Contains(out, info.InstanceID+" (raft id "+fmt.Sprint(info.RaftID)+") is expelled") {
		t.Fatalf("picogo expel %s: exit %d\n%s%s", info.InstanceID, code, out, errOut)
	}
	for _, in := range others(ins, victim) {
		waitRow(t, in, info.InstanceID, 5*time.Second, "Expelled/Expelled", bothAre("Expelled"))
	}
	requireExit(t, victim, victim.waitExit(10*time.Second), 0)

	// Started again, it refuses.
	mark := victim.logSize()
	victim.start()
	state := victim.waitExit(10 * time.Second)
	if state == nil || state.ExitCode() == 0 {
		t.Errorf("the expelled instance started again ended with %v; want a non-zero exit", state)
	}
	want := "instance " + info.InstanceID + " is expelled; its data dir cannot run again"
	if log := victim.logSince(mark); !strings.Contains(log, want) {
		t.Errorf("the expelled instance's log does not say %q:\n%s", want, log)
	}

	// Expelling it again is a no-op that succeeds.
	if out, errOut, code := runCLI(t, 10*time.Second, svc, "expel", "--peer", leader.addr, info.InstanceID); code != 0 || !strings.Contains(out, "already expelled") {
		t.Errorf("picogo expel of an expelled instance: exit %d\n%s%s", code, out, errOut)
	}

	// A newcomer gets the next raft id, never the expelled one's.
	live := others(ins, victim)
	fourth := newInstance(t, "i4", freeAddrs(t, 1)[0], addrsOf(live))
	fourth.start()
	waitSettled(t, append(live, fourth)...)
	if got := instanceInfo(t, fourth).RaftID; got != 4 {
		t.Errorf("the instance joining after the expel has raft id %d; want 4", got)
	}
}

// TestIntegrationLifecycleBadInitCfg: `picogo run` refuses a bad --init-cfg
// with exit code 2 and a message naming the file and the line, and an
// --init-cfg that does not configure the instance's own --tier.
func TestIntegrationLifecycleBadInitCfg(t *testing.T) {
	skipIfShort(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("cluster:\n  tiers:\n    storage:\n      replication_factor: 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddrs(t, 1)[0]
	run := func(args ...string) (string, int) {
		_, errOut, code := runCLI(t, 10*time.Second, nil, append([]string{"run", "--data-dir", filepath.Join(dir, "data"),
			"--listen", addr, "--service-password", itServicePassword}, args...)...)
		return errOut, code
	}
	errOut, code := run("--init-cfg", bad)
	if want := bad + ":4: cluster.tiers.storage.replication_factor must be an integer of at least 1, not 0"; code != 2 || !strings.Contains(errOut, want) {
		t.Errorf("picogo run --init-cfg %s: exit %d, stderr %q; want 2 and %q", bad, code, errOut, want)
	}
	errOut, code = run("--init-cfg", bad, "--tier", "router")
	if code != 2 || !strings.Contains(errOut, bad+":4:") {
		t.Errorf("picogo run --init-cfg %s --tier router: exit %d, stderr %q", bad, code, errOut)
	}
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("cluster:\n  tiers:\n    storage:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	errOut, code = run("--init-cfg", good, "--tier", "router")
	if want := `this instance's tier "router" (--tier) is not one of the tiers it configures: storage`; code != 2 || !strings.Contains(errOut, want) {
		t.Errorf("picogo run --tier router: exit %d, stderr %q; want 2 and %q", code, errOut, want)
	}
	errOut, code = run("--init-cfg", filepath.Join(dir, "missing.yaml"))
	if code != 2 || !strings.Contains(errOut, "missing.yaml: no such file") {
		t.Errorf("picogo run --init-cfg missing.yaml: exit %d, stderr %q", code, errOut)
	}
}

// gradeHistory polls id's row on in until done holds for it, and returns
// every distinct current/target pair seen on the way.
func gradeHistory(t *testing.T, in *instance, id string, timeout time.Duration, done func(instanceRow) bool) []string {
	t.Helper()
	var history []string
	eventually(t, timeout, fmt.Sprintf("%s sees %s back Online", in.name, id), []*instance{in}, func() error {
		r, err := rowOf(in, id)
		if err != nil {
			return err
		}
		if seen := r.Current.String() + "/" + r.Target.String(); len(history) == 0 || history[len(history)-1] != seen {
			history = append(history, seen)
		}
		if !done(r) {
			return fmt.Errorf("%s is %s/%s", id, r.Current, r.Target)
		}
		return nil
	})
	return history
}

// TestIntegrationLifecycleRestartIsNotFoughtBySentinel: an instance killed
// and restarted comes back Online with the next incarnation, and the
// leader's sentinel never sets it Offline again on the way — whether it was
// away long enough to be set Offline (Offline(1) -> Online(2)) or not
// (Online(2) -> Online(3)). Production's tick (100 ms): the sentinel's
// 5 s are longer than the leader's longest dial backoff (2 s) to the
// restarted process, as in production.
func TestIntegrationLifecycleRestartIsNotFoughtBySentinel(t *testing.T) {
	ins := startCluster(t, 3, "--tick", "100ms")
	leader := waitSettled(t, ins...)
	m := others(ins, leader)[0]
	id := instanceInfo(t, m).InstanceID

	m.kill()
	waitRow(t, leader, id, 20*time.Second, "Offline(1)/Offline(1)", func(r instanceRow) bool {
		return r.Current == grade{"Offline", 1} && r.Target == grade{"Offline", 1}
	})
	m.start()
	backOnline := func(after uint64) func(instanceRow) bool {
		return func(r instanceRow) bool {
			return r.Current.Variant == "Online" && r.Current == r.Target && r.Current.Incarnation > after
		}
	}
	history := gradeHistory(t, leader, id, 20*time.Second, backOnline(1))
	for _, h := range history {
		if strings.Contains(h, "/Offline(2)") || !strings.HasSuffix(history[len(history)-1], "Online(2)/Online(2)") {
			t.Fatalf("the sentinel fought the restart after it set the instance Offline: %v", history)
		}
	}
	t.Logf("after the sentinel: %v", history)

	m.kill()
	m.start()
	history = gradeHistory(t, leader, id, 20*time.Second, backOnline(2))
	for _, h := range history {
		if strings.Contains(h, "Offline") || !strings.HasSuffix(history[len(history)-1], "Online(3)/Online(3)") {
			t.Fatalf("a restart before the sentinel fired went through Offline: %v", history)
		}
	}
	t.Logf("before the sentinel: %v", history)
}
