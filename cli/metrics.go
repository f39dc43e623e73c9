package cli

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/disk"
	"github.com/picogo/picogo/proc"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
)

// metrics are what /metrics serves (docs/operators.md, "Monitoring"): the
// driver's own measurements (requests, logins, disk writes), the node's
// counters and state, read on the event loop once per scrape, and the
// roles': the runner's picogo_role_* and what each role registers in its
// own registry, labelled role="<name>" (docs/roles.md).
type metrics struct {
	reg *prometheus.Registry
	// gatherer is what /metrics serves: reg, and the roles' registries.
	gatherer       prometheus.Gatherer
	requests       *prometheus.CounterVec
	requestErrors  *prometheus.CounterVec
	requestSeconds *prometheus.HistogramVec
	logins         *prometheus.CounterVec
	diskSeconds    *prometheus.HistogramVec
	diskBytes      prometheus.Counter
	// procs holds each proc label's series once used (a *procSeries by
	// label): a request finds them without hashing its labels again.
	procs sync.Map
}

// procSeries are the series of one proc label.
type procSeries struct {
	count   prometheus.Counter
	seconds prometheus.Observer
}

func newMetrics(d *daemon) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "picogo", Name: "requests_total",
			Help: "Requests served, by procedure (or ping, select, execute; other: a procedure that does not exist)."},
			[]string{"proc"}),
		requestErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "picogo", Name: "request_errors_total",
			Help: "Requests answered with an error, by procedure and error code."}, []string{"proc", "code"}),
		requestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "picogo", Name: "request_duration_seconds",
			Help:    "Time from a request's arrival on its connection to its answer, by procedure.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)}, []string{"proc"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "picogo", Name: "logins_total",
			Help: "AUTH requests, by result: ok, failed (a wrong password or an unknown user), refused (a locked user, or admin before it has a password)."},
			[]string{"result"}),
		diskSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "picogo", Name: "disk_write_duration_seconds",
			Help:    "Time to commit one write batch to the store, by whether it was synced (fsync).",
			Buckets: prometheus.ExponentialBuckets(0.00005, 4, 10)}, []string{"sync"}),
		diskBytes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "picogo", Name: "disk_written_bytes_total",
			Help: "Bytes of keys and values written to the store."}),
	}
	m.reg.MustRegister(m.requests, m.requestErrors, m.requestSeconds, m.logins, m.diskSeconds, m.diskBytes,
		&nodeCollector{d: d}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.gatherer = m.reg
	if d.roles != nil {
		m.reg.MustRegister(d.roles.Collector())
		m.gatherer = &withRoles{core: m.reg, roles: d.roles.Gatherer(), log: d.log.With("part", "roles")}
	}
	return m
}

// withRoles serves the instance's metrics and its roles'. What the roles
// register is theirs to get right, so their mistakes never fail a scrape:
// a role's metric that does not gather (one labelled "role" itself, two
// roles disagreeing on a metric's help or type) is left out, and so is
// one named like one of the instance's; the log says why, once per
// distinct reason.
type withRoles struct {
	core, roles prometheus.Gatherer
	log         *slog.Logger
	mu          sync.Mutex
	lastErr     string
}

func (g *withRoles) Gather() ([]*dto.MetricFamily, error) {
	families, err := g.core.Gather()
	roleFamilies, roleErr := g.roles.Gather()
	var problems []string
	if roleErr != nil {
		problems = append(problems, roleErr.Error())
	}
	names := make(map[string]bool, len(families))
	for _, f := range families {
		names[f.GetName()] = true
	}
	for _, f := range roleFamilies {
		if names[f.GetName()] {
			problems = append(problems, fmt.Sprintf("metric %s of a role: the instance has a metric of that name; left out", f.GetName()))
			continue
		}
		families = append(families, f)
	}
	slices.SortFunc(families, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	g.mu.Lock()
	if p := strings.Join(problems, "; "); p != g.lastErr {
		g.lastErr = p
		if p != "" {
			g.log.Warn("some metrics of the roles are not served", "err", p)
		}
	}
	g.mu.Unlock()
	return families, err
}

// knownProcs is the label values a request may take: anything else is
// "other", so that a client cannot grow the label set.
var knownProcs = append(proc.Names(), "ping", "select", "insert", "replace", "update", "upsert", "delete", "execute", "unknown", "malformed")

// request observes one request (runtime.RequestObserver), from arrived.
func (m *metrics) request(what string, arrived time.Time) func(code uint32) {
	series, ok := m.procs.Load(what)
	if !ok {
		if !slices.Contains(knownProcs, what) {
			what = "other"
		}
		series, _ = m.procs.LoadOrStore(what, &procSeries{count: m.requests.WithLabelValues(what),
			seconds: m.requestSeconds.WithLabelValues(what)})
	}
	ps := series.(*procSeries)
	ps.count.Inc()
	return func(code uint32) {
		ps.seconds.Observe(time.Since(arrived).Seconds())
		if code != 0 {
			m.requestErrors.WithLabelValues(what, strconv.FormatUint(uint64(code), 10)).Inc()
		}
	}
}

// diskWrite observes one store commit.
func (m *metrics) diskWrite(b *disk.Batch, sync bool, took time.Duration) {
	m.diskSeconds.WithLabelValues(strconv.FormatBool(sync)).Observe(took.Seconds())
	n := 0
	for _, op := range b.Ops {
		n += len(op.Key) + len(op.Value) + len(op.End)
	}
	m.diskBytes.Add(float64(n))
}

// nodeState is what one scrape reads of the node, on the event loop.
type nodeState struct {
	status  nodeStatus
	stats   node.Stats
	step    string
	grades  map[string]int
	buckets map[bucketSeries]uint64
	storage api.StorageInfo
}

// bucketSeries is one series of picogo_buckets.
type bucketSeries struct{ tier, replicaset, state string }

type nodeStatus struct {
	term, commit, applied, leader uint64
	leading                       bool
}

// nodeCollector reports the node's counters and state.
type nodeCollector struct{ d *daemon }

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("picogo_"+name, help, labels, nil)
}

var (
	descTerm           = desc("raft_term", "The current Raft term.")
	descCommit         = desc("raft_commit_index", "The Raft commit index this instance knows.")
	descApplied        = desc("raft_applied_index", "The Raft index applied here.")
	descLeader         = desc("raft_leader_id", "The raft id of the known leader (0: none).")
	descIsLeader       = desc("raft_is_leader", "1 if this instance leads.")
	descProposals      = desc("raft_proposals_total", "Entries this instance appended as leader.")
	descRefused        = desc("raft_proposals_refused_total", "Proposals Raft refused (not the leader, a transfer under way).")
	descLeaderChanges  = desc("raft_leader_changes_total", "Changes of the leader or of this instance's Raft state seen here.")
	descSnapshotChunks = desc("raft_snapshot_chunks_sent_total", "Snapshot chunks served to followers catching up.")
	descGovSteps       = desc("governor_steps_total", "Governor steps carried out by this instance as leader.")
	descGovFailures    = desc("governor_step_failures_total", "Governor steps that failed.")
	descGovStep        = desc("governor_step", "1 for the governor's current step (idle; not a leader).", "step")
	descSentinel       = desc("sentinel_offlines_total", "Instances the sentinel on this leader set to target Offline.")
	descInstances      = desc("instances", "Instances by current grade, as this instance has applied _pico_instance.", "grade")
	descConnsOpen      = desc("connections_open", "Open iproto connections.")
	descConnsAccepted  = desc("connections_accepted_total", "iproto connections accepted.")
	descTableRows      = desc("table_rows", "Rows of a sharded table held here.", "table")
	descTableMemory    = desc("table_memory_bytes", "Estimated memory of a sharded table held here, by kind (tuples, indexes).", "table", "kind")
	descVClock         = desc("vclock_lsn", "This instance's vclock: the last row change of each master (by raft id) applied here.", "raft_id")
	descWritable       = desc("replication_writable", "1 if this instance takes writes for its replicaset (its master, not demoted).")
	descBuckets        = desc("buckets", "Buckets by tier, replicaset and state, as this instance has applied _pico_bucket: active and sending count the owner's; garbage counts the old owner's rows of moved buckets not yet deleted.", "tier", "replicaset", "state")
	descBucketsMoved   = desc("bucket_moves_total", "Buckets whose ownership this instance's governor flipped after copying their rows.")
	descBucketRows     = desc("bucket_rows_copied_total", "Rows this instance's governor copied to the new owners of moved buckets.")
	descBucketFailures = desc("bucket_move_failures_total", "Moves of buckets this instance's governor began that failed (retried by the next plan or rolled back).")
)

var grades = []string{tables.GradeOffline, tables.GradeReplicated, tables.GradeShardingInitialized, tables.GradeOnline, tables.GradeExpelled}

func (c *nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descTerm, descCommit, descApplied, descLeader, descIsLeader, descProposals,
		descRefused, descLeaderChanges, descSnapshotChunks, descGovSteps, descGovFailures, descGovStep, descSentinel,
		descInstances, descConnsOpen, descConnsAccepted, descTableRows, descTableMemory, descVClock, descWritable,
		descBuckets, descBucketsMoved, descBucketRows, descBucketFailures} {
		ch <- d
	}
}

func (c *nodeCollector) Collect(ch chan<- prometheus.Metric) {
	s, ok := c.d.onLoop(func() any {
		n := c.d.proc.Host().Node()
		st := n.Status()
		s := nodeState{stats: n.Stats(), step: n.GovernorStep(), grades: map[string]int{}, buckets: map[bucketSeries]uint64{},
			storage: n.StorageInfo(),
			status:  nodeStatus{term: st.Term, commit: st.Commit, applied: st.Applied, leader: st.Lead, leading: st.State.String() == "Leader"}}
		if top, err := n.Tables().ReadTopology(); err == nil {
			for _, i := range top.Instances {
				s.grades[i.Current.Variant]++
			}
			for _, b := range top.Buckets {
				s.buckets[bucketSeries{b.Tier, b.ReplicasetID, b.State}] += b.Last - b.First + 1
				if b.Garbage != "" {
					s.buckets[bucketSeries{b.Tier, b.Garbage, "garbage"}] += b.Last - b.First + 1
				}
			}
		}
		return s
	})
	open, accepted := c.d.server.Connections()
	ch <- prometheus.MustNewConstMetric(descConnsOpen, prometheus.GaugeValue, float64(open))
	ch <- prometheus.MustNewConstMetric(descConnsAccepted, prometheus.CounterValue, float64(accepted))
	if !ok {
		return // the loop does not answer: /health says so
	}
	st := s.(nodeState)
	gauge := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	counter := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge(descTerm, st.status.term)
	gauge(descCommit, st.status.commit)
	gauge(descApplied, st.status.applied)
	gauge(descLeader, st.status.leader)
	gauge(descIsLeader, b2u(st.status.leading))
	counter(descProposals, st.stats.Proposals)
	counter(descRefused, st.stats.ProposalsRefused)
	counter(descLeaderChanges, st.stats.LeaderChanges)
	counter(descSnapshotChunks, st.stats.SnapshotChunksSent)
	counter(descGovSteps, st.stats.GovernorSteps)
	counter(descGovFailures, st.stats.GovernorStepFailures)
	counter(descSentinel, st.stats.SentinelOfflines)
	counter(descBucketsMoved, st.stats.BucketsMoved)
	counter(descBucketRows, st.stats.BucketRowsCopied)
	counter(descBucketFailures, st.stats.BucketMoveFailures)
	for k, v := range st.buckets {
		gauge(descBuckets, v, k.tier, k.replicaset, k.state)
	}
	gauge(descGovStep, 1, st.step)
	for _, g := range grades {
		gauge(descInstances, uint64(st.grades[g]), g)
	}
	for _, t := range st.storage.Tables {
		gauge(descTableRows, uint64(t.Rows), t.Name)
		gauge(descTableMemory, uint64(t.TupleBytes), t.Name, "tuples")
		gauge(descTableMemory, uint64(t.IndexBytes), t.Name, "indexes")
	}
	for _, id := range st.storage.VClock.IDs() {
		gauge(descVClock, st.storage.VClock[id], strconv.FormatUint(id, 10))
	}
	gauge(descWritable, b2u(st.storage.Writable))
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
