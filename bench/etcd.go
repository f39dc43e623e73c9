package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/picogo/picogo/internal/procs"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// etcdMember is one `etcd` process.
type etcdMember struct {
	name      string
	clientURL string
	proc      *procs.Process
}

// startEtcd starts an n-member etcd cluster on free loopback ports (data
// and logs under dir) with etcd's defaults otherwise — fsync on, 100 ms
// heartbeats, 1 s elections — and waits until it has a leader. It returns
// the members and the leader's client URL.
func startEtcd(ctx context.Context, ps *procs.Registry, bin, dir string, n int) ([]*etcdMember, string, error) {
	addrs, err := procs.FreeAddrs(2 * n)
	if err != nil {
		return nil, "", err
	}
	var initial []string
	for i := range n {
		initial = append(initial, fmt.Sprintf("e%d=http://%s", i+1, addrs[n+i]))
	}
	var members []*etcdMember
	var watch []*procs.Process
	for i := range n {
		name := fmt.Sprintf("e%d", i+1)
		mdir := filepath.Join(dir, "etcd-"+name)
		if err := os.MkdirAll(mdir, 0o755); err != nil {
			return nil, "", err
		}
		client, peer := "http://"+addrs[i], "http://"+addrs[n+i]
		p, err := start(ps, "etcd-"+name, filepath.Join(mdir, "etcd.log"), nil, mdir,
			bin, "--name", name, "--data-dir", filepath.Join(mdir, "data"),
			"--listen-client-urls", client, "--advertise-client-urls", client,
			"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
			"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "new",
			"--initial-cluster-token", "picogo-bench", "--logger", "zap", "--log-level", "warn")
		if err != nil {
			return nil, "", err
		}
		members = append(members, &etcdMember{name: name, clientURL: client, proc: p})
		watch = append(watch, p)
	}
	var leader string
	err = poll(ctx, readyTimeout, fmt.Sprintf("etcd: %d members elect a leader", n), watch, func() (err error) {
		leader, err = etcdLeader(ctx, members)
		return err
	})
	return members, leader, err
}

func newEtcdClient(endpoints ...string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
}

// etcdLeader returns the leader's client URL once every member names the
// same leader.
func etcdLeader(ctx context.Context, members []*etcdMember) (string, error) {
	var leaderID uint64
	var leaderURL string
	for _, m := range members {
		cli, err := newEtcdClient(m.clientURL)
		if err != nil {
			return "", err
		}
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		st, err := cli.Status(sctx, m.clientURL)
		cancel()
		cli.Close()
		if err != nil {
			return "", fmt.Errorf("%s: %w", m.name, err)
		}
		if st.Leader == 0 {
			return "", fmt.Errorf("%s knows no leader", m.name)
		}
		if leaderID != 0 && st.Leader != leaderID {
			return "", fmt.Errorf("%s sees leader %x, another member %x", m.name, st.Leader, leaderID)
		}
		leaderID = st.Leader
		if st.Header.MemberId == st.Leader {
			leaderURL = m.clientURL
		}
	}
	if leaderURL == "" {
		return "", errors.New("no member says it is the leader")
	}
	return leaderURL, nil
}

// etcdWriter does the etcd side of the writes: a put of a unique key per
// write through clients connected to the leader only (as picogo's writes
// go to its leader).
type etcdWriter struct {
	clients []*clientv3.Client
	keys    keySource
	value   string
}

func newEtcdWriter(leaderURL string, conns int, keys keySource, value string) (*etcdWriter, error) {
	clients, err := openAll(conns, func() (*clientv3.Client, error) { return newEtcdClient(leaderURL) })
	if err != nil {
		return nil, err
	}
	return &etcdWriter{clients: clients, keys: keys, value: value}, nil
}

func (w *etcdWriter) close() {
	for _, c := range w.clients {
		c.Close()
	}
}

func (w *etcdWriter) write(ctx context.Context, worker int) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	_, err := w.clients[worker%len(w.clients)].Put(ctx, w.keys.next(), w.value)
	return err
}
