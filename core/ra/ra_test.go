package ra_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/ra/ratest"
	"github.com/picogo/picogo/core/raft"
	"github.com/stretchr/testify/require"
)

// cluster3 starts servers 1–3 and waits for a leader.
func cluster3(t *testing.T) (*ratest.Cluster, uint64) {
	t.Helper()
	return configuredCluster3(t, 7, nil)
}

// configuredCluster3 is cluster3 from another seed, with configure applied
// to every server's configuration.
func configuredCluster3(t *testing.T, seed uint64, configure func(*ra.Config)) (*ratest.Cluster, uint64) {
	t.Helper()
	c := ratest.New(seed)
	c.Configure = configure
	started, notStarted, err := c.StartCluster(1, 2, 3)
	require.NoError(t, err)
	require.Equal(t, []uint64{1, 2, 3}, started)
	require.Empty(t, notStarted)
	require.NoError(t, c.Stabilize())
	lead, err := c.WaitLeader(50)
	require.NoError(t, err)
	return c, lead
}

func follower(c *ratest.Cluster, lead uint64) uint64 {
	for _, id := range []uint64{1, 2, 3} {
		if id != lead && c.Server(id) != nil {
			return id
		}
	}
	return 0
}

// process runs ProcessCommand on server id and settles the cluster.
func process(t *testing.T, c *ratest.Cluster, id uint64, cmd string) ra.Reply {
	t.Helper()
	req := c.Call(id, func(s *ra.Server, r ra.ReqID) { s.ProcessCommand(r, []byte(cmd)) })
	require.NoError(t, c.Stabilize())
	rep, ok := c.Reply(req)
	require.True(t, ok, "no reply to %q on %d", cmd, id)
	return rep
}

func TestStartClusterFormsWithAMajority(t *testing.T) {
	c := ratest.New(1)
	c.Member(3).Unavailable = true
	started, notStarted, err := c.StartCluster(1, 2, 3)
	require.NoError(t, err)
	require.Equal(t, []uint64{1, 2}, started)
	require.Equal(t, []uint64{3}, notStarted)
	require.NoError(t, c.Stabilize())
	// start_cluster triggered an election on the first started server.
	require.Equal(t, uint64(1), c.Leader())
}

func TestStartClusterWithoutAMajorityIsNotFormed(t *testing.T) {
	c := ratest.New(1)
	c.Member(2).Unavailable = true
	c.Member(3).Unavailable = true
	started, _, err := c.StartCluster(1, 2, 3)
	require.ErrorIs(t, err, ratest.ErrClusterNotFormed)
	require.Equal(t, []uint64{1}, started)
	require.False(t, c.Member(1).HasDisk, "a cluster that did not form leaves no data behind")
}

func TestProcessCommandOnLeaderAndFollower(t *testing.T) {
	c, lead := cluster3(t)
	rep := process(t, c, lead, "a")
	require.NoError(t, rep.Err)
	require.Equal(t, 1, rep.Result)
	require.Equal(t, lead, rep.Leader)

	// A follower forwards the command and answers once it applies it.
	f := follower(c, lead)
	rep = process(t, c, f, "b")
	require.NoError(t, rep.Err)
	require.Equal(t, 2, rep.Result)
	require.Equal(t, lead, rep.Leader)
	for _, id := range []uint64{1, 2, 3} {
		require.Equal(t, []string{"a", "b"}, c.Member(id).SM.Items, "server %d", id)
	}
}

func TestProcessCommandWaitsForALeader(t *testing.T) {
	c, lead := cluster3(t)
	f := follower(c, lead)
	require.NoError(t, c.StopServer(f))
	require.NoError(t, c.RestartServer(f))
	// Just restarted, f knows no leader: the command is held, not refused.
	req := c.Call(f, func(s *ra.Server, r ra.ReqID) { s.ProcessCommand(r, []byte("held")) })
	_, answered := c.Reply(req)
	require.False(t, answered)
	require.NoError(t, c.Tick(2)) // a heartbeat names the leader
	rep, ok := c.Reply(req)
	require.True(t, ok)
	require.NoError(t, rep.Err)
	require.Equal(t, lead, rep.Leader)
	require.Equal(t, []string{"held"}, c.Member(lead).SM.Items)
}

func TestForwardedCommandLostWithItsLeaderTimesOut(t *testing.T) {
	c, lead := cluster3(t)
	require.NoError(t, c.StopServer(lead))
	f := follower(c, lead)
	// f still believes in the stopped leader: the forwarded command is lost
	// with it, and the caller learns only by a timeout (the outcome is
	// unknown to it).
	req := c.Call(f, func(s *ra.Server, r ra.ReqID) { s.ProcessCommand(r, []byte("x")) })
	newLead, err := c.WaitLeader(100)
	require.NoError(t, err)
	require.NotEqual(t, lead, newLead)
	require.NoError(t, c.Tick(40))
	rep, ok := c.Reply(req)
	require.True(t, ok)
	require.ErrorIs(t, rep.Err, ra.ErrTimeout)
	// With the new leader known the same call succeeds.
	rep = process(t, c, f, "y")
	require.NoError(t, rep.Err)
	require.Equal(t, newLead, rep.Leader)
}

func TestProcessCommandOnIsolatedLeaderTimesOut(t *testing.T) {
	c, lead := cluster3(t)
	c.Isolate(lead)
	req := c.Call(lead, func(s *ra.Server, r ra.ReqID) { s.ProcessCommand(r, []byte("lost")) })
	require.NoError(t, c.Tick(35))
	rep, ok := c.Reply(req)
	require.True(t, ok, "a request never hangs")
	require.ErrorIs(t, rep.Err, ra.ErrTimeout)
}

func TestPipelineCommandNotifiesInBatches(t *testing.T) {
	c, lead := cluster3(t)
	require.NoError(t, c.Do(lead, func(s *ra.Server) error {
		s.PipelineCommand(11, []byte("a"), ra.Normal)
		s.PipelineCommand(0, []byte("b"), ra.Normal) // no correlation: no notification
		s.PipelineCommand(13, []byte("c"), ra.Normal)
		return nil
	}))
	require.NoError(t, c.Stabilize())
	require.Equal(t, []ra.CorrelatedReply{{Corr: 11, Reply: 1}, {Corr: 13, Reply: 3}}, c.Member(lead).Applied)

	f := follower(c, lead)
	require.NoError(t, c.Do(f, func(s *ra.Server) error { s.PipelineCommand(21, []byte("d"), ra.Normal); return nil }))
	require.Equal(t, []ra.Rejected{{Leader: lead, Corr: 21}}, c.Member(f).Rejected)
}

func TestLowPriorityCommandsAreBatched(t *testing.T) {
	c, lead := configuredCluster3(t, 3, func(cfg *ra.Config) { cfg.LowPriorityBatch = 3 })
	last := c.Server(lead).Overview().LastIndex
	require.NoError(t, c.Do(lead, func(s *ra.Server) error {
		s.PipelineCommand(1, []byte("l1"), ra.Low)
		s.PipelineCommand(2, []byte("l2"), ra.Low)
		return nil
	}))
	require.Equal(t, last, c.Server(lead).Overview().LastIndex, "low priority commands are held")
	// A normal command overtakes them.
	require.NoError(t, c.Do(lead, func(s *ra.Server) error { s.PipelineCommand(3, []byte("n"), ra.Normal); return nil }))
	require.NoError(t, c.Stabilize())
	require.Equal(t, []string{"n"}, c.Member(lead).SM.Items)
	// The third low command completes the batch: appended together.
	require.NoError(t, c.Do(lead, func(s *ra.Server) error { s.PipelineCommand(4, []byte("l3"), ra.Low); return nil }))
	require.NoError(t, c.Stabilize())
	require.Equal(t, []string{"n", "l1", "l2", "l3"}, c.Member(lead).SM.Items)
	// A single held command goes at the next tick.
	require.NoError(t, c.Do(lead, func(s *ra.Server) error { s.PipelineCommand(5, []byte("l4"), ra.Low); return nil }))
	require.NoError(t, c.Tick(1))
	require.Equal(t, []string{"n", "l1", "l2", "l3", "l4"}, c.Member(lead).SM.Items)
	require.Len(t, c.Member(lead).Applied, 5)
}

func items(sm ra.StateMachine) any { return append([]string(nil), sm.(*ratest.LogSM).Items...) }

func TestQueries(t *testing.T) {
	c, lead := cluster3(t)
	f := follower(c, lead)
	process(t, c, lead, "a")

	// local_query: any server, immediately.
	req := c.Call(f, func(s *ra.Server, r ra.ReqID) { s.LocalQuery(r, items) })
	rep, _ := c.Reply(req)
	require.NoError(t, rep.Err)
	require.Equal(t, []string{"a"}, rep.Result.(ra.QueryResult).Value)

	// leader_query on a follower redirects.
	req = c.Call(f, func(s *ra.Server, r ra.ReqID) { s.LeaderQuery(r, items) })
	rep, _ = c.Reply(req)
	var nl *ra.NotLeaderError
	require.ErrorAs(t, rep.Err, &nl)
	require.Equal(t, lead, nl.Leader)
	req = c.Call(lead, func(s *ra.Server, r ra.ReqID) { s.LeaderQuery(r, items) })
	rep, _ = c.Reply(req)
	require.NoError(t, rep.Err)

	// consistent_query: on the leader and on a follower, after a heartbeat
	// round, reflecting every committed command.
	for _, id := range []uint64{lead, f} {
		req = c.Call(id, func(s *ra.Server, r ra.ReqID) { s.ConsistentQuery(r, items) })
		_, answered := c.Reply(req)
		require.False(t, answered, "a consistent query waits for the heartbeat round")
		require.NoError(t, c.Stabilize())
		rep, ok := c.Reply(req)
		require.True(t, ok)
		require.NoError(t, rep.Err)
		require.Equal(t, []string{"a"}, rep.Result.(ra.QueryResult).Value)
	}
}

func TestConsistentQueryOnDeposedLeaderNeverAnswersStale(t *testing.T) {
	c, lead := cluster3(t)
	process(t, c, lead, "a")
	c.Isolate(lead)
	// The others elect a new leader and commit more.
	f := follower(c, lead)
	require.NoError(t, c.Do(f, func(s *ra.Server) error { return s.Elect() }))
	require.NoError(t, c.Tick(25))
	newLead := c.Leader()
	require.NotEqual(t, lead, newLead)
	process(t, c, newLead, "b")
	// The old leader still thinks it leads (or has just stepped down); its
	// consistent query must not return the stale ["a"].
	req := c.Call(lead, func(s *ra.Server, r ra.ReqID) { s.ConsistentQuery(r, items) })
	require.NoError(t, c.Tick(35))
	rep, ok := c.Reply(req)
	require.True(t, ok)
	require.ErrorIs(t, rep.Err, ra.ErrTimeout)
}

func TestMembership(t *testing.T) {
	c, lead := cluster3(t)
	f := follower(c, lead)
	process(t, c, lead, "a")

	require.Equal(t, ra.Members{Voters: []uint64{1, 2, 3}, Leader: lead}, c.Server(f).Members())

	// add_member on a follower redirects.
	req := c.Call(f, func(s *ra.Server, r ra.ReqID) { s.AddMember(r, 4, ra.Learner) })
	rep, _ := c.Reply(req)
	var nl *ra.NotLeaderError
	require.ErrorAs(t, rep.Err, &nl)

	// A new server joins as a learner, then is promoted.
	require.NoError(t, c.StartServer(4))
	req = c.Call(lead, func(s *ra.Server, r ra.ReqID) { s.AddMember(r, 4, ra.Learner) })
	// A second change while the first is in flight is refused.
	busy := c.Call(lead, func(s *ra.Server, r ra.ReqID) { s.AddMember(r, 5, ra.Voter) })
	rep, _ = c.Reply(busy)
	require.ErrorIs(t, rep.Err, ra.ErrBusy)
	require.NoError(t, c.Stabilize())
	rep, ok := c.Reply(req)
	require.True(t, ok)
	require.NoError(t, rep.Err)
	require.Equal(t, []uint64{4}, rep.Result.(ra.Members).Learners)
	require.Equal(t, []string{"a"}, c.Member(4).SM.Items, "the learner caught up")

	req = c.Call(lead, func(s *ra.Server, r ra.ReqID) { s.AddMember(r, 4, ra.Voter) })
	require.NoError(t, c.Stabilize())
	rep, _ = c.Reply(req)
	require.NoError(t, rep.Err)
	require.Equal(t, []uint64{1, 2, 3, 4}, rep.Result.(ra.Members).Voters)

	// remove_member of a stranger is refused; of a member works.
	req = c.Call(lead, func(s *ra.Server, r ra.ReqID) { s.RemoveMember(r, 9) })
	rep, _ = c.Reply(req)
	require.ErrorContains(t, rep.Err, "not a member")
	req = c.Call(lead, func(s *ra.Server, r ra.ReqID) { s.RemoveMember(r, 4) })
	require.NoError(t, c.Stabilize())
	rep, _ = c.Reply(req)
	require.NoError(t, rep.Err)
	require.Equal(t, []uint64{1, 2, 3}, rep.Result.(ra.Members).Voters)
	require.Equal(t, []uint64{1, 2, 3}, c.Server(lead).Members().Voters)
}

func TestLeaveAndTerminateAndDelete(t *testing.T) {
	c, lead := cluster3(t)
	f := follower(c, lead)
	req := c.Call(lead, func(s *ra.Server, r ra.ReqID) { s.LeaveAndTerminate(r, f) })
	require.NoError(t, c.Stabilize())
	rep, _ := c.Reply(req)
	require.NoError(t, rep.Err)
	require.Nil(t, c.Server(f), "the member that left was stopped")
	require.True(t, c.Member(f).HasDisk, "leave_and_terminate keeps its data")

	other := uint64(6) - lead - f
	req = c.Call(lead, func(s *ra.Server, r ra.ReqID) { s.LeaveAndDeleteServer(r, other) })
	require.NoError(t, c.Stabilize())
	rep, _ = c.Reply(req)
	require.NoError(t, rep.Err)
	require.Nil(t, c.Server(other))
	require.False(t, c.Member(other).HasDisk, "leave_and_delete_server deletes its data")
	require.Equal(t, []uint64{lead}, c.Server(lead).Members().Voters)
	// The single remaining voter still commits.
	require.NoError(t, process(t, c, lead, "solo").Err)
}

func TestLeaveAndTerminateSelf(t *testing.T) {
	c, lead := cluster3(t)
	f := follower(c, lead)
	// A member asking the leader to remove itself: here the leader removes
	// itself; it hands over leadership and stops.
	req := c.Call(lead, func(s *ra.Server, r ra.ReqID) { s.LeaveAndTerminate(r, lead) })
	require.NoError(t, c.Stabilize())
	rep, ok := c.Reply(req)
	require.True(t, ok)
	require.NoError(t, rep.Err)
	require.NotNil(t, c.Member(lead).Terminated)
	newLead, err := c.WaitLeader(60)
	require.NoError(t, err)
	require.NotEqual(t, lead, newLead)
	require.Equal(t, 2, len(c.Server(f).Members().Voters))
}

func TestDeleteCluster(t *testing.T) {
	c, lead := cluster3(t)
	process(t, c, lead, "a")
	f := follower(c, lead)
	req := c.Call(f, func(s *ra.Server, r ra.ReqID) { s.DeleteCluster(r) })
	rep, _ := c.Reply(req)
	var nl *ra.NotLeaderError
	require.ErrorAs(t, rep.Err, &nl)

	req = c.Call(lead, func(s *ra.Server, r ra.ReqID) { s.DeleteCluster(r) })
	require.NoError(t, c.Stabilize())
	rep, _ = c.Reply(req)
	require.NoError(t, rep.Err)
	require.Equal(t, "ok", rep.Result)
	for _, id := range []uint64{1, 2, 3} {
		m := c.Member(id)
		require.NotNil(t, m.Terminated, "server %d stopped", id)
		require.True(t, m.Terminated.Delete)
		require.False(t, m.HasDisk, "server %d deleted its data", id)
	}
}

func TestDeleteClusterLeaderWaitsForEveryMember(t *testing.T) {
	c, lead := cluster3(t)
	f := follower(c, lead)
	require.NoError(t, c.StopServer(f))
	req := c.Call(lead, func(s *ra.Server, r ra.ReqID) { s.DeleteCluster(r) })
	require.NoError(t, c.Stabilize())
	rep, _ := c.Reply(req)
	require.NoError(t, rep.Err)
	require.Nil(t, c.Member(lead).Terminated, "the leader stays until every member has the end of life")
	// Commands after the end of life are refused.
	rep = process(t, c, lead, "late")
	require.ErrorIs(t, rep.Err, ra.ErrClusterDeleted)
	require.NoError(t, c.RestartServer(f))
	require.NoError(t, c.Tick(3))
	require.NotNil(t, c.Member(f).Terminated)
	require.NotNil(t, c.Member(lead).Terminated)
}

func TestRestartServerReplaysItsDisk(t *testing.T) {
	c, lead := cluster3(t)
	f := follower(c, lead)
	for i := range 5 {
		require.NoError(t, process(t, c, lead, fmt.Sprint(i)).Err)
	}
	require.NoError(t, c.StopServer(f))
	require.Error(t, c.RestartServer(99), "a server never started is not found")
	require.NoError(t, process(t, c, lead, "while-down").Err)
	require.NoError(t, c.RestartServer(f))
	require.NoError(t, c.Tick(3))
	require.Equal(t, c.Member(lead).SM.Items, c.Member(f).SM.Items)

	// The whole cluster stopped and started again comes back.
	for _, id := range []uint64{1, 2, 3} {
		require.NoError(t, c.StopServer(id))
	}
	started, _, err := c.StartOrRestartCluster(1, 2, 3)
	require.NoError(t, err)
	require.Len(t, started, 3)
	_, err = c.WaitLeader(100)
	require.NoError(t, err)
	require.NoError(t, c.Tick(2))
	for _, id := range []uint64{1, 2, 3} {
		require.Equal(t, []string{"0", "1", "2", "3", "4", "while-down"}, c.Member(id).SM.Items)
	}
}

func TestARestartedServerDoesNotConfuseOldCommands(t *testing.T) {
	c, lead := cluster3(t)
	f := follower(c, lead)
	// A command from f reaches the leader but f stops before applying it.
	c.Call(f, func(s *ra.Server, r ra.ReqID) { s.ProcessCommand(r, []byte("old")) })
	require.NoError(t, c.StopServer(f))
	require.NoError(t, c.Stabilize())
	require.NoError(t, c.RestartServer(f))
	require.NoError(t, c.Tick(2)) // learn the leader
	// After restart f's sequence numbers start over; replaying "old" must not
	// answer this new request.
	rep := process(t, c, f, "new")
	require.NoError(t, rep.Err)
	require.Equal(t, 2, rep.Result, "the reply is for \"new\", the second command")
}

func TestTriggers(t *testing.T) {
	c, lead := cluster3(t)
	f := follower(c, lead)
	var nl *ra.NotLeaderError
	require.ErrorAs(t, c.Do(f, (*ra.Server).Heartbeat), &nl)
	require.NoError(t, c.Do(lead, (*ra.Server).Heartbeat))

	// elect while the leader is alive: the other voters still hear it, so
	// the pre-vote fails and nothing is disrupted.
	require.NoError(t, c.Do(f, (*ra.Server).Elect))
	require.NoError(t, c.Stabilize())
	require.Equal(t, lead, c.Leader())

	// transfer_leader.
	require.ErrorIs(t, c.Do(lead, func(s *ra.Server) error { return s.TransferLeader(lead) }), ra.ErrAlreadyLeader)
	var te *raft.TransferError
	require.ErrorAs(t, c.Do(lead, func(s *ra.Server) error { return s.TransferLeader(42) }), &te)
	req := c.Call(lead, func(s *ra.Server, r ra.ReqID) { s.TransferLeaderAndWait(r, f) })
	require.NoError(t, c.Tick(3))
	rep, ok := c.Reply(req)
	require.True(t, ok)
	require.NoError(t, rep.Err)
	require.Equal(t, f, c.Leader())
}

func TestElectStartsAnElectionAtOnce(t *testing.T) {
	// Without CheckQuorum's lease, a follower's pre-vote is granted as soon
	// as the leader is gone: elect does not wait for an election timeout.
	c, lead := configuredCluster3(t, 9, func(cfg *ra.Config) { cfg.Raft.CheckQuorum = false })
	require.Equal(t, uint64(1), lead)
	require.NoError(t, c.StopServer(1))
	require.NoError(t, c.Do(3, (*ra.Server).Elect))
	require.NoError(t, c.Stabilize())
	require.Equal(t, uint64(3), c.Leader())
}

func TestSnapshotPurgeAndChunkedCatchUp(t *testing.T) {
	c, lead := cluster3(t)
	for i := range 9 {
		require.NoError(t, process(t, c, lead, fmt.Sprint("c", i)).Err)
	}
	require.NoError(t, c.Do(lead, (*ra.Server).TriggerSnapshot))
	require.NoError(t, c.Do(lead, func(s *ra.Server) error { return s.PurgeLog(1000) }))
	require.NoError(t, c.Stabilize())
	o := c.Server(lead).Overview()
	require.Equal(t, o.Applied, o.Snapshot, "the snapshot is at the applied index")
	require.Equal(t, o.Snapshot+1, o.FirstIndex, "purge_log purged up to the snapshot, not beyond")

	// A new member needs purged entries: it fetches the snapshot in chunks
	// (9 items, 2 per chunk) and catches up.
	require.NoError(t, c.StartServer(4))
	req := c.Call(lead, func(s *ra.Server, r ra.ReqID) { s.AddMember(r, 4, ra.Voter) })
	require.NoError(t, c.Tick(3))
	rep, _ := c.Reply(req)
	require.NoError(t, rep.Err)
	require.Equal(t, c.Member(lead).SM.Items, c.Member(4).SM.Items)
	require.Equal(t, o.Snapshot, c.Member(4).Disk.Snapshot.Meta.Index)
	require.Len(t, c.Member(4).Disk.Snapshot.Chunks, 5)

	// It restarts from that snapshot.
	require.NoError(t, c.StopServer(4))
	require.NoError(t, c.RestartServer(4))
	require.NoError(t, c.Tick(2))
	require.Equal(t, c.Member(lead).SM.Items, c.Member(4).SM.Items)
}

func TestAutomaticCompaction(t *testing.T) {
	c, lead := configuredCluster3(t, 5, func(cfg *ra.Config) { cfg.SnapshotEvery = 5 })
	for i := range 12 {
		require.NoError(t, process(t, c, lead, fmt.Sprint(i)).Err)
	}
	require.NoError(t, c.Tick(2))
	for _, id := range []uint64{1, 2, 3} {
		o := c.Server(id).Overview()
		require.GreaterOrEqual(t, o.Snapshot, uint64(10), "server %d", id)
		require.Greater(t, o.FirstIndex, uint64(1), "server %d purged its log", id)
	}
}

func TestAllowNextRevert(t *testing.T) {
	c, lead := cluster3(t)
	f := follower(c, lead)
	for i := range 3 {
		require.NoError(t, process(t, c, lead, fmt.Sprint(i)).Err)
	}
	// f's disk is wiped and it comes back empty under the same id: without
	// permission the leader reports it (an alert: the leader goes on).
	c.ForceDeleteServer(f)
	require.NoError(t, c.StartServer(f))
	require.NoError(t, c.Tick(3))
	alerts := c.Member(lead).Alerts
	require.NotEmpty(t, alerts)
	require.Empty(t, c.Member(lead).Fatal)
	var rev *raft.LogReversionError
	require.True(t, errors.As(alerts[0], &rev))
	require.Equal(t, f, rev.Peer)
	require.Empty(t, c.Member(f).SM.Items, "nothing is replicated over a reverted log")

	// With permission, replication restarts and f catches up.
	require.NoError(t, c.Do(lead, func(s *ra.Server) error { return s.AllowNextRevert(f, true) }))
	require.NoError(t, c.Tick(3))
	require.Equal(t, c.Member(lead).SM.Items, c.Member(f).SM.Items)
	var nl *ra.NotLeaderError
	require.ErrorAs(t, c.Do(f, func(s *ra.Server) error { return s.AllowNextRevert(lead, true) }), &nl)
}

func TestOverview(t *testing.T) {
	c, lead := cluster3(t)
	process(t, c, lead, "a")
	o := c.Server(lead).Overview()
	require.Equal(t, lead, o.ID)
	require.Equal(t, raft.StateLeader, o.State)
	require.Equal(t, lead, o.Leader)
	require.Equal(t, o.Commit, o.Applied)
	require.Equal(t, o.LastIndex, o.Commit)
	require.Equal(t, []uint64{1, 2, 3}, o.Members.Voters)
	require.Zero(t, o.Waiting)
}

func TestRequestsOnATerminatedServer(t *testing.T) {
	c, lead := cluster3(t)
	req := c.Call(lead, func(s *ra.Server, r ra.ReqID) { s.DeleteCluster(r) })
	require.NoError(t, c.Stabilize())
	_, ok := c.Reply(req)
	require.True(t, ok)
	s := c.Member(lead).Server
	s.ProcessCommand(999, []byte("x"))
	effects := s.TakeEffects()
	require.Len(t, effects, 1)
	require.ErrorIs(t, effects[0].(ra.Reply).Err, ra.ErrTerminated)
	require.ErrorIs(t, s.Elect(), ra.ErrTerminated)
}

func TestProposeHereAnswersWithIndexAndTerm(t *testing.T) {
	c, lead := cluster3(t)
	f := follower(c, lead)
	var idx, term uint64
	req := c.Call(lead, func(s *ra.Server, r ra.ReqID) {
		var err error
		idx, term, err = s.ProposeHere(r, []byte("x"))
		require.NoError(t, err)
	})
	require.NoError(t, c.Stabilize())
	rep, ok := c.Reply(req)
	require.True(t, ok)
	require.NoError(t, rep.Err)
	require.Equal(t, idx, rep.Index)
	require.Equal(t, term, rep.Term)
	require.Equal(t, 1, rep.Result)

	// Only the leader appends here.
	require.NoError(t, c.Do(f, func(s *ra.Server) error {
		_, _, err := s.ProposeHere(c.NextReq(), []byte("y"))
		var nl *ra.NotLeaderError
		require.ErrorAs(t, err, &nl)
		require.Equal(t, lead, nl.Leader)
		return nil
	}))
}

func TestProposeHereDroppedWhenAnotherEntryTakesItsIndex(t *testing.T) {
	c, lead := cluster3(t)
	c.Isolate(lead)
	var idx uint64
	req := c.Call(lead, func(s *ra.Server, r ra.ReqID) {
		var err error
		idx, _, err = s.ProposeHere(r, []byte("lost"))
		require.NoError(t, err)
		s.SetDeadline(r, 500)
	})
	// The others elect a new leader, which commits its own entry at idx.
	f := follower(c, lead)
	newLead, err := c.WaitLeader(60)
	require.NoError(t, err)
	if newLead == lead {
		require.NoError(t, c.Tick(30))
		newLead = c.Leader()
	}
	require.NotEqual(t, lead, newLead)
	require.NotZero(t, f)
	require.NoError(t, process(t, c, newLead, "won").Err)
	c.Heal()
	require.NoError(t, c.Tick(3))
	rep, ok := c.Reply(req)
	require.True(t, ok)
	require.ErrorIs(t, rep.Err, ra.ErrProposalDropped, "a definite answer, not a timeout")
	require.NotContains(t, c.Member(lead).SM.Items, "lost")
	require.NotZero(t, idx)
}

func TestWaitAppliedAndDeadlines(t *testing.T) {
	c, lead := cluster3(t)
	f := follower(c, lead)
	applied := c.Server(f).Overview().Applied
	req := c.Call(f, func(s *ra.Server, r ra.ReqID) { s.WaitApplied(r, applied) })
	rep, _ := c.Reply(req)
	require.Equal(t, applied, rep.Result, "an index already applied answers at once")

	req = c.Call(f, func(s *ra.Server, r ra.ReqID) { s.WaitApplied(r, applied+1) })
	_, answered := c.Reply(req)
	require.False(t, answered)
	require.NoError(t, process(t, c, lead, "next").Err)
	rep, ok := c.Reply(req)
	require.True(t, ok)
	require.Equal(t, applied+1, rep.Result)

	// A request's own deadline: 2 ticks instead of the default.
	req = c.Call(f, func(s *ra.Server, r ra.ReqID) { s.WaitApplied(r, 1000); s.SetDeadline(r, 2) })
	require.NoError(t, c.Tick(1))
	_, answered = c.Reply(req)
	require.False(t, answered)
	require.NoError(t, c.Tick(1))
	rep, ok = c.Reply(req)
	require.True(t, ok)
	require.ErrorIs(t, rep.Err, ra.ErrTimeout)
}

func TestConsistentQueryReportsItsReadIndex(t *testing.T) {
	c, lead := cluster3(t)
	process(t, c, lead, "a")
	req := c.Call(lead, func(s *ra.Server, r ra.ReqID) { s.ConsistentQuery(r, items) })
	require.NoError(t, c.Stabilize())
	rep, _ := c.Reply(req)
	res := rep.Result.(ra.QueryResult)
	require.Equal(t, c.Server(lead).Overview().Commit, res.ReadIndex)
	require.GreaterOrEqual(t, res.Index, res.ReadIndex)
}

func TestCommandData(t *testing.T) {
	c, lead := cluster3(t)
	process(t, c, lead, "payload")
	_, ents := c.Server(lead).Log()
	var found []string
	for _, e := range ents {
		if d, ok := ra.CommandData(e); ok {
			found = append(found, string(d))
		}
	}
	require.Equal(t, []string{"payload"}, found, "only commands, not conf changes or empty entries")
}

func TestBootstrapCommandsAreAppliedEverywhere(t *testing.T) {
	disk, err := ra.Bootstrap([]uint64{1, 2}, []byte("init-a"), []byte("init-b"))
	require.NoError(t, err)
	require.Equal(t, uint64(3), disk.HardState.Commit)
	for _, id := range []uint64{1, 2} {
		sm := &ratest.LogSM{}
		cfg := ra.Config{Raft: raft.Config{ID: id, ElectionTick: 10, HeartbeatTick: 1, MaxInflightMsgs: 8, MaxMsgEntries: 8,
			Rand: rand.New(rand.NewPCG(1, id))}}
		s, err := ra.NewServer(cfg, sm, disk)
		require.NoError(t, err)
		for _, e := range s.TakeEffects() {
			if p, ok := e.(ra.Persist); ok {
				require.NoError(t, s.PersistDone(p.ID))
			}
		}
		require.Equal(t, []string{"init-a", "init-b"}, sm.Items, "server %d", id)
	}
}

func TestChangeConfSeveralAtOnce(t *testing.T) {
	c, lead := cluster3(t)
	require.NoError(t, c.StartServer(4))
	require.NoError(t, c.StartServer(5))
	req := c.Call(lead, func(s *ra.Server, r ra.ReqID) {
		s.ChangeConf(r, raft.ConfChange{Changes: []raft.ConfChangeSingle{
			{Type: raft.AddVoter, NodeID: 4}, {Type: raft.AddLearner, NodeID: 5}}})
	})
	require.NoError(t, c.Tick(5))
	rep, ok := c.Reply(req)
	require.True(t, ok)
	require.NoError(t, rep.Err)
	m := c.Server(lead).Members()
	require.Equal(t, []uint64{1, 2, 3, 4}, m.Voters)
	require.Equal(t, []uint64{5}, m.Learners)
}

// TestCompactionWaitsForTheLogToOutgrowTheSnapshot: with SnapshotEvery 5,
// a snapshot is also held back until the entries applied since the last
// one are as many bytes as it; the state grows with every command, so the
// gaps between snapshots grow too (each snapshot costs an entry O(1)).
func TestCompactionWaitsForTheLogToOutgrowTheSnapshot(t *testing.T) {
	c, lead := configuredCluster3(t, 5, func(cfg *ra.Config) { cfg.SnapshotEvery = 5 })
	var taken []uint64
	// Commands of 1 KiB: the state grows by about what the log does.
	for i := range 60 {
		require.NoError(t, process(t, c, lead, fmt.Sprintf("%d-%s", i, strings.Repeat("x", 1024))).Err)
		if s := c.Server(lead).Overview().Snapshot; len(taken) == 0 || s != taken[len(taken)-1] {
			taken = append(taken, s)
		}
	}
	require.GreaterOrEqual(t, len(taken), 4, "snapshots are still taken: %v", taken)
	first := taken[2] - taken[1]
	last := taken[len(taken)-1] - taken[len(taken)-2]
	require.Greater(t, last, first, "later snapshots are further apart: %v", taken)
	require.Greater(t, last, uint64(5), "more than SnapshotEvery entries apart: %v", taken)
}
