//go:build linux

package cli

import (
	"fmt"
	"testing"

	"github.com/tarantool/go-iproto"
)

// TestIntegrationNotALeaderNamesTheLeader: a follower refuses .proc_cas
// with NotALeader naming the leader's raft id and address, so that a client
// can redirect.
func TestIntegrationNotALeaderNamesTheLeader(t *testing.T) {
	skipIfShort(t)
	ins := startCluster(t, 3)
	leader, infos := waitLeader(t, ins...)
	waitAdminPassword(t, leader)
	follower := others(ins, leader)[0]
	conn := adminConn(t, follower)
	info, err := raftInfoOf(conn)
	if err != nil {
		t.Fatalf(".proc_raft_info on %s: %v", follower.name, err)
	}
	_, err = call(conn, ".proc_cas", itClusterID, casPredicate(info), insertOp(515, "k", "v"), 1)
	requireCode(t, err, iproto.Error(10001), "NotALeader: not a leader",
		fmt.Sprintf("the leader is raft id %d at %s", infos[leader].ID, leader.addr))
}
