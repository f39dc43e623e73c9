package cli

import (
	"fmt"
	"net/http"
	"time"

	"github.com/picogo/picogo/core/raft"
	"github.com/picogo/picogo/core/tables"
)

// loopTimeout bounds how long an HTTP handler waits for the event loop.
const loopTimeout = time.Second

// onLoop runs fn on the event loop and returns its result; ok is false if
// the loop did not run it within loopTimeout (stuck, or stopping).
func (d *daemon) onLoop(fn func() any) (any, bool) {
	res := make(chan any, 1)
	go d.post(func() { res <- fn() })
	timer := time.NewTimer(loopTimeout)
	defer timer.Stop()
	select {
	case v := <-res:
		return v, true
	case <-d.proc.Done():
	case <-timer.C:
	}
	return nil, false
}

// health is /health: 200 while the process runs and its event loop
// answers within a second, else 503. For a liveness probe: a 503 means
// restart it.
func (d *daemon) health(w http.ResponseWriter, _ *http.Request) {
	if _, ok := d.onLoop(func() any { return nil }); !ok {
		http.Error(w, "the event loop does not answer", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

// ready is /ready: 200 when this instance can serve — its current grade is
// Online, it knows a leader, and it has applied everything it knows to be
// committed — else 503 with the reason. For a load balancer or a readiness
// probe.
func (d *daemon) ready(w http.ResponseWriter, _ *http.Request) {
	v, ok := d.onLoop(func() any { return d.readiness() })
	if !ok {
		http.Error(w, "not ready: the event loop does not answer", http.StatusServiceUnavailable)
		return
	}
	if reason := v.(string); reason != "" {
		http.Error(w, "not ready: "+reason, http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

// readiness is why the instance is not ready ("" when it is); on the loop.
func (d *daemon) readiness() string {
	n := d.proc.Host().Node()
	id, ok := n.Identity()
	if !ok {
		return "the instance has not joined a cluster yet (" + n.Phase().String() + ")"
	}
	st := n.Status()
	if st.Lead == raft.None {
		return "no leader known"
	}
	if st.Applied < st.Commit {
		return fmt.Sprintf("applied %d of %d committed entries", st.Applied, st.Commit)
	}
	top, err := n.Tables().ReadTopology()
	if err != nil {
		return err.Error()
	}
	for _, i := range top.Instances {
		if i.RaftID == id.RaftID {
			if i.Current.Variant != tables.GradeOnline {
				return "current grade " + i.Current.String()
			}
			return ""
		}
	}
	return "its row is not applied yet"
}
