//go:build linux

package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads url's metric families.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing %s: %v", url, err)
	}
	return fams
}

// sum adds up a family's values (counter, gauge or histogram count) of the
// series whose labels include every name=value in match.
func sum(fams map[string]*dto.MetricFamily, name string, match ...string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
	total := 0.0
series:
	for _, m := range f.Metric {
		for _, kv := range match {
			k, v, _ := strings.Cut(kv, "=")
			found := false
			for _, l := range m.Label {
				found = found || l.GetName() == k && l.GetValue() == v
			}
			if !found {
				continue series
			}
		}
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Histogram != nil:
			total += float64(m.Histogram.GetSampleCount())
		}
	}
	return total
}

func httpGet(url string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// TestIntegrationMetrics: after a load, the metric families an operator
// looks for exist and moved; /health and /ready answer as documented.
func TestIntegrationMetrics(t *testing.T) {
	skipIfShort(t)
	addrs := freeAddrs(t, 3)
	https := freeAddrs(t, 4)
	var ins []*instance
	for i, addr := range addrs {
		ins = append(ins, newInstance(t, fmt.Sprintf("i%d", i+1), addr, addrs, "--http-listen", https[i]))
	}
	for _, in := range ins {
		in.start()
	}
	waitSettled(t, ins...)
	leader, _ := waitLeader(t, ins...)
	waitAdminPassword(t, leader)
	url := map[*instance]string{}
	for i, in := range ins {
		url[in] = "http://" + https[i]
	}

	before := scrape(t, url[leader]+"/metrics")
	conn := adminConn(t, leader)
	const writes = 200
	for i := range writes {
		casInsert(t, conn, spaceProperty, fmt.Sprintf("metrics-%d", i), i)
	}
	for range 5 {
		if _, err := call(conn, ".proc_no_such_procedure"); err == nil {
			t.Fatal("an unknown procedure answered")
		}
	}
	for range 3 {
		if c, err := tryConnect(t, leader, "admin", "wrong"); err == nil {
			c.Close()
			t.Fatal("a wrong password was accepted")
		}
	}
	after := scrape(t, url[leader]+"/metrics")

	moved := func(name string, atLeast float64, match ...string) {
		t.Helper()
		b, a := sum(before, name, match...), sum(after, name, match...)
		if a < 0 {
			t.Errorf("%s%v: no such family", name, match)
			return
		}
		if a-max(b, 0) < atLeast {
			t.Errorf("%s%v moved from %v to %v; want at least +%v", name, match, b, a, atLeast)
		}
	}
	moved("picogo_requests_total", writes, "proc=.proc_cas")
	moved("picogo_request_duration_seconds", writes, "proc=.proc_cas")
	moved("picogo_requests_total", 5, "proc=other")
	moved("picogo_request_errors_total", 5, "proc=other", "code=33")
	moved("picogo_logins_total", 3, "result=failed")
	moved("picogo_logins_total", 1, "result=ok")
	moved("picogo_connections_accepted_total", 4)
	moved("picogo_raft_proposals_total", writes)
	moved("picogo_raft_applied_index", writes)
	moved("picogo_raft_commit_index", writes)
	moved("picogo_disk_write_duration_seconds", writes, "sync=true")
	moved("picogo_disk_written_bytes_total", writes*10)
	for _, name := range []string{"picogo_raft_leader_changes_total", "picogo_governor_steps_total", "picogo_raft_term"} {
		if sum(after, name) < 1 {
			t.Errorf("%s = %v; want >= 1 on a leader that brought three instances Online", name, sum(after, name))
		}
	}
	for _, name := range []string{"picogo_raft_snapshot_chunks_sent_total", "picogo_governor_step_failures_total",
		"picogo_sentinel_offlines_total", "picogo_raft_proposals_refused_total", "picogo_connections_open"} {
		if sum(after, name) < 0 {
			t.Errorf("%s: no such family", name)
		}
	}
	if got := sum(after, "picogo_raft_is_leader"); got != 1 {
		t.Errorf("picogo_raft_is_leader = %v on the leader", got)
	}
	if got := sum(after, "picogo_instances", "grade=Online"); got != 3 {
		t.Errorf(`picogo_instances{grade="Online"} = %v; want 3`, got)
	}
	if got := sum(after, "picogo_governor_step", "step=idle"); got != 1 {
		t.Errorf(`picogo_governor_step{step="idle"} = %v; want 1 once settled`, got)
	}

	if got := sum(after, "picogo_buckets", "tier=storage", "state=active"); got != 3000 {
		t.Errorf(`picogo_buckets{tier="storage",state="active"} = %v; want all 3000`, got)
	}

	// A drain moves a replicaset's 1000 buckets away: the leader's
	// governor counts them, and the gauges follow.
	counts := waitBuckets(t, ins, 30*time.Second, 1000, 1000, 1000)
	var drained string
	for rs := range counts {
		drained = max(drained, rs)
	}
	if out, errOut, code := runCLI(t, 60*time.Second, nil, "drain", "--peer", leader.addr,
		"--service-password", itServicePassword, "--timeout", "50s", drained); code != 0 {
		t.Fatalf("picogo drain %s: exit %d\n%s%s", drained, code, out, errOut)
	}
	waitBuckets(t, ins, 30*time.Second, 1500, 1500)
	drainedMetrics := scrape(t, url[leader]+"/metrics")
	if got := sum(drainedMetrics, "picogo_bucket_moves_total") - sum(after, "picogo_bucket_moves_total"); got != 1000 {
		t.Errorf("picogo_bucket_moves_total moved by %v during the drain; want 1000", got)
	}
	if got := sum(drainedMetrics, "picogo_bucket_move_failures_total"); got != 0 {
		t.Errorf("picogo_bucket_move_failures_total = %v; want 0 on a quiet cluster", got)
	}
	if got := sum(drainedMetrics, "picogo_buckets", "replicaset="+drained); got != 0 {
		t.Errorf("picogo_buckets{replicaset=%q} = %v after its drain; want 0", drained, got)
	}
	if got := sum(drainedMetrics, "picogo_buckets", "state=active"); got != 3000 {
		t.Errorf(`picogo_buckets{state="active"} = %v after the drain; want 3000`, got)
	}

	for _, in := range ins {
		for _, path := range []string{"/health", "/ready"} {
			code, body, err := httpGet(url[in] + path)
			if err != nil || code != http.StatusOK {
				t.Errorf("%s %s: %d %q %v; want 200", in.name, path, code, body, err)
			}
		}
	}

	// An instance that cannot join (its only peer is dead) is alive but not
	// ready.
	dead := freeAddrs(t, 1)[0]
	lonely := newInstance(t, "lonely", freeAddrs(t, 1)[0], []string{dead}, "--http-listen", https[3])
	lonely.start()
	eventually(t, 10*time.Second, "lonely's /health", []*instance{lonely}, func() error {
		code, body, err := httpGet("http://" + https[3] + "/health")
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("%d %q %v", code, body, err)
		}
		return nil
	})
	code, body, err := httpGet("http://" + https[3] + "/ready")
	if err != nil || code != http.StatusServiceUnavailable || !strings.Contains(body, "not ready") {
		t.Errorf("/ready of an instance that has not joined: %d %q %v; want 503 with the reason", code, body, err)
	}
}
