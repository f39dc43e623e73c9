package cli

import (
	"encoding/json"
	"errors"
	"html/template"
	stdnet "net"
	"net/http"
	"net/http/pprof"
	"slices"
	"time"

	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// view is what the HTTP side shows of this instance and its cluster.
type view struct {
	Instance string     `json:"instance"`
	Cluster  string     `json:"cluster"`
	RaftID   uint64     `json:"raft_id"`
	State    string     `json:"state"`
	Term     uint64     `json:"term"`
	Commit   uint64     `json:"commit"`
	Applied  uint64     `json:"applied"`
	LeaderID uint64     `json:"leader_id"`
	Voters   []uint64   `json:"voters"`
	Learners []uint64   `json:"learners"`
	Peers    []peerView `json:"peers"`
	Tables   []string   `json:"tables"`
	// The topology as this instance has applied it; voter/learner from
	// its Raft configuration.
	topologyView
	TopologyError string `json:"topology_error,omitempty"`
}

type peerView struct {
	RaftID  uint64 `json:"raft_id"`
	Address string `json:"address"`
}

// snapshotView reads the node on the event loop.
func (d *daemon) snapshotView() (view, error) {
	v, ok := d.onLoop(func() any {
		n := d.proc.Host().Node()
		st := n.Status()
		v := view{Instance: d.identity.InstanceID, Cluster: d.identity.ClusterID, RaftID: st.ID, State: st.State.String(),
			Term: st.Term, Commit: st.Commit, Applied: st.Applied, LeaderID: st.Lead,
			Voters: st.ConfState.Voters, Learners: st.ConfState.Learners}
		if rows, err := n.Tables().Scan(tables.TablePicoPeerAddress); err == nil {
			for _, r := range rows {
				id, _ := tuple.AsUint64(r.Values()[0])
				addr, _ := r.Values()[1].(string)
				v.Peers = append(v.Peers, peerView{RaftID: id, Address: addr})
			}
		}
		for _, t := range n.Tables().Tables() {
			v.Tables = append(v.Tables, t.Name)
		}
		if top, err := n.Tables().ReadTopology(); err != nil {
			v.TopologyError = err.Error()
		} else {
			cs := st.ConfState
			v.topologyView = buildTopology(top, st.Lead, &raftConf{
				Voters: append(slices.Clone(cs.Voters), cs.VotersOutgoing...), Learners: append(slices.Clone(cs.Learners), cs.LearnersNext...)})
		}
		return v
	})
	if !ok {
		return view{}, errors.New("the event loop does not answer")
	}
	return v.(view), nil
}

// serveHTTP serves /metrics, /api/cluster, Go's profiles under
// /debug/pprof/ (as etcd and most Go servers do: `go tool pprof
// http://ADDR/debug/pprof/profile`), and a page that shows the cluster,
// until the listener closes.
func (d *daemon) serveHTTP(ln stdnet.Listener) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(d.metrics.gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("/health", d.health)
	mux.HandleFunc("/ready", d.ready)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/api/cluster", func(w http.ResponseWriter, r *http.Request) {
		v, err := d.snapshotView()
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		v, err := d.snapshotView()
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		page.Execute(w, v)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return srv
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>picogo {{.Cluster}} — {{.Instance}}</title>
<meta http-equiv="refresh" content="2">
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .8em;text-align:left}</style>
</head><body>
<h1>picogo cluster {{.Cluster}}</h1>
<p>This is instance <b>{{.Instance}}</b> (raft id {{.RaftID}}): <b>{{.State}}</b> in term {{.Term}}, leader {{.LeaderID}},
commit {{.Commit}}, applied {{.Applied}}.</p>
<h2>Tiers</h2>
<table><tr><th>tier</th><th>replication factor</th><th>can vote</th><th>buckets</th><th>replicasets</th></tr>
{{range .Tiers}}<tr><td>{{.Name}}</td><td>{{.ReplicationFactor}}</td><td>{{.CanVote}}</td><td>{{.BucketCount}}</td><td>{{.Replicasets}}</td></tr>{{end}}
</table>
<h2>Replicasets</h2>
<table><tr><th>replicaset</th><th>tier</th><th>master</th><th>state</th><th>instances</th></tr>
{{range .Replicasets}}<tr><td>{{.Name}}</td><td>{{.Tier}}</td><td>{{.CurrentMaster}}{{if ne .TargetMaster .CurrentMaster}} → {{.TargetMaster}}{{end}}</td><td>{{.State}}</td><td>{{.Instances}}/{{.ReplicationFactor}}</td></tr>{{end}}
</table>
<h2>Instances</h2>
<table><tr><th>instance</th><th>raft id</th><th>address</th><th>replicaset</th><th>tier</th><th>current</th><th>target</th><th>raft</th></tr>
{{range .Instances}}<tr><td>{{.Name}}</td><td>{{.RaftID}}</td><td>{{.Address}}</td><td>{{.Replicaset}}</td><td>{{.Tier}}</td><td>{{.CurrentGrade}}</td><td>{{.TargetGrade}}</td><td>{{.RaftColumn}}</td></tr>{{end}}
</table>
{{with .TopologyError}}<p>The topology tables do not read: {{.}}</p>{{end}}
<h2>Tables</h2><p>{{range .Tables}}{{.}} {{end}}</p>
<p><a href="/api/cluster">JSON</a> · <a href="/metrics">metrics</a></p>
</body></html>`))
