//go:build linux

package cli

import (
	"fmt"
	"testing"
	"time"

	"github.com/tarantool/go-tarantool/v2"
)

// peerRows reads _pico_peer_address as raft id → address.
func peerRows(t *testing.T, in *instance) map[uint64]string {
	t.Helper()
	rows, err := selectRows(serviceConn(t, in), spacePeerAddress)
	if err != nil {
		t.Fatalf("%s: SELECT _pico_peer_address: %v", in.name, err)
	}
	out := map[uint64]string{}
	for _, r := range rows {
		row, ok := r.([]any)
		if !ok || len(row) != 2 {
			t.Fatalf("%s: _pico_peer_address row %#v; want [raft_id, address]", in.name, r)
		}
		out[mustUint(t, "raft_id", row[0])] = requireString(t, "address", row[1])
	}
	return out
}

// TestIntegrationClusterElectsOneLeader: three processes started with the
// same --peer list discover each other and form one cluster: one boots it,
// the others join (raft ids 1, 2, 3 in join order), exactly one is Leader,
// and all agree on it and on the term.
func TestIntegrationClusterElectsOneLeader(t *testing.T) {
	ins := startCluster(t, 3)
	start := time.Now()
	leader, infos := waitLeader(t, ins...)
	t.Logf("%s elected in term %d, %v after start", leader.name, infos[leader].Term, time.Since(start).Round(time.Millisecond))

	ids := map[uint64]*instance{}
	for _, in := range ins {
		info := infos[in]
		if info.ID < 1 || info.ID > uint64(len(ins)) || ids[info.ID] != nil {
			t.Errorf("%s reports raft id %d; want a distinct one of 1..%d", in.name, info.ID, len(ins))
		}
		ids[info.ID] = in
		want := "Follower"
		if in == leader {
			want = "Leader"
		}
		if info.State != want {
			t.Errorf("%s is %s; want %s", in.name, info.State, want)
		}
	}

	// They agree: every instance follows one leader in one term, and that
	// leader says it leads. (Which leader, and in which term, may change
	// on a loaded machine: a new election is no fault. Disagreement that
	// persists is.)
	eventually(t, 10*time.Second, "one leader all agree on", ins, func() error {
		seen := map[*instance]raftInfo{}
		for _, in := range ins {
			info, err := probe(in)
			if err != nil {
				return fmt.Errorf("%s: %v", in.name, err)
			}
			seen[in] = info
		}
		lead := ids[seen[ins[0]].LeaderID]
		if lead == nil {
			return fmt.Errorf("%s follows leader %d, not one of the three: %s", ins[0].name, seen[ins[0]].LeaderID, describe(seen))
		}
		for _, in := range ins {
			if seen[in].LeaderID != seen[lead].ID || seen[in].Term != seen[lead].Term || seen[lead].State != "Leader" {
				return fmt.Errorf("no agreement: %s", describe(seen))
			}
		}
		return nil
	})

	// Every instance knows every member's address.
	for _, in := range ins {
		peers := peerRows(t, in)
		for _, other := range ins {
			if id := infos[other].ID; peers[id] != other.addr {
				t.Errorf("%s: _pico_peer_address = %v; want raft id %d at %s", in.name, peers, id, other.addr)
			}
		}
		if len(peers) != len(ins) {
			t.Errorf("%s: _pico_peer_address has %d rows; want %d", in.name, len(peers), len(ins))
		}
	}
}

// TestIntegrationLeaderFailover: SIGKILL the leader of three; the other two
// elect a new leader within 15 s and accept writes; the killed instance
// restarts from its data directory with the same flags, catches up and
// sees the write it missed.
func TestIntegrationLeaderFailover(t *testing.T) {
	ins := startCluster(t, 3)
	waitSettled(t, ins...) // three voters
	old, infos := waitLeader(t, ins...)
	oldInfo := infos[old]
	for _, in := range ins {
		waitAdminPassword(t, in)
	}
	before, _ := casInsert(t, adminConn(t, old), spaceProperty, "written-before-failover", "old-leader")

	// Kill the leader.
	killedAt := time.Now()
	old.kill()
	var survivors []*instance
	for _, in := range ins {
		if in != old {
			survivors = append(survivors, in)
		}
	}
	leader, infos := waitLeader(t, survivors...) // bounded: 15 s
	elapsed := time.Since(killedAt)
	newInfo := infos[leader]
	t.Logf("SIGKILL of %s (term %d): %s elected in term %d after %v", old.name, oldInfo.Term, leader.name, newInfo.Term, elapsed.Round(time.Millisecond))
	if leader == old || newInfo.Term <= oldInfo.Term {
		t.Fatalf("new leader %s in term %d; want one of the survivors in a term after %d", leader.name, newInfo.Term, oldInfo.Term)
	}
	if elapsed > 5*time.Second {
		t.Errorf("the election took %v; with --tick %s it should take well under 2 s", elapsed, itTick)
	}

	// Writes go through the new leader.
	conn := adminConn(t, leader)
	index, term := casInsert(t, conn, spaceProperty, "written-while-down", "new-leader")
	if index <= before || term != newInfo.Term {
		t.Fatalf("CaS through the new leader = [%d, %d]; want an index after %d in term %d", index, term, before, newInfo.Term)
	}

	// The other survivor reads it linearizably.
	var follower *instance
	for _, in := range survivors {
		if in != leader {
			follower = in
		}
	}
	fconn := adminConn(t, follower)
	data, err := call(fconn, ".proc_read_index", 2)
	if err != nil {
		t.Fatalf("%s: .proc_read_index: %v", follower.name, err)
	}
	if ri := mustUint(t, "read index", single(t, ".proc_read_index", data)); ri < index {
		t.Fatalf("%s: .proc_read_index = %d after a write acknowledged at %d", follower.name, ri, index)
	}
	if _, err := call(fconn, ".proc_wait_index", index, 2); err != nil {
		t.Fatalf("%s: .proc_wait_index(%d): %v", follower.name, index, err)
	}
	requireProperty(t, follower, fconn, "written-while-down", "new-leader")

	// Restart the killed instance: same flags, same data directory.
	old.restart()
	restarted := waitRunning(t, old)
	if restarted.ID != oldInfo.ID {
		t.Fatalf("%s came back as raft id %d; it was %d", old.name, restarted.ID, oldInfo.ID)
	}
	leaderNow, err := raftInfoOf(conn)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, old.name+" catches up with the leader", ins, func() error {
		info, err := probe(old)
		if err != nil {
			return err
		}
		if info.Applied < leaderNow.Applied || info.LeaderID != newInfo.ID {
			return fmt.Errorf("%s: applied %d, leader %d, term %d; the leader %d has applied %d",
				old.name, info.Applied, info.LeaderID, info.Term, newInfo.ID, leaderNow.Applied)
		}
		return nil
	})
	rconn := adminConn(t, old)
	requireProperty(t, old, rconn, "written-before-failover", "old-leader")
	requireProperty(t, old, rconn, "written-while-down", "new-leader")

	// And the three are one cluster again, the restarted one following.
	final, finals := waitLeader(t, ins...)
	if final == old {
		t.Errorf("the restarted %s took the leadership (term %d)", old.name, finals[final].Term)
	}
}

// requireProperty asserts the instance has the _pico_property row
// [key, value], read with a SELECT by key.
func requireProperty(t *testing.T, in *instance, conn tarantool.Connector, key, value string) {
	t.Helper()
	rows, err := selectRows(conn, spaceProperty, key)
	if err != nil {
		t.Fatalf("%s: SELECT _pico_property[%s]: %v", in.name, key, err)
	}
	if len(rows) != 1 || fmt.Sprint(rows[0]) != fmt.Sprint([]any{key, value}) {
		t.Fatalf("%s: _pico_property[%s] = %#v; want [[%s %s]]", in.name, key, rows, key, value)
	}
}
