package bench

import (
	"context"
	"errors"
	"flag"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picogo/picogo/internal/procs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exactPercentile is the nearest-rank percentile of sorted.
func exactPercentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[max(1, min(rank, len(sorted)))-1]
}

func TestBucketsCoverEveryValueInOrder(t *testing.T) {
	prevHi := uint64(0)
	for i := range histBuckets {
		lo, hi := bucketRange(i)
		require.LessOrEqual(t, lo, hi, "bucket %d", i)
		if i > 0 {
			require.Equal(t, prevHi+1, lo, "bucket %d starts right after bucket %d", i, i-1)
		}
		require.Equal(t, i, bucketOf(lo), "lower bound of bucket %d", i)
		require.Equal(t, i, bucketOf(hi), "upper bound of bucket %d", i)
		if lo >= histSub {
			// Log-linear: a bucket is under 1% of its values wide.
			require.Less(t, float64(hi-lo+1)/float64(lo), 0.01, "bucket %d [%d, %d]", i, lo, hi)
		}
		prevHi = hi
	}
	require.Equal(t, histBuckets-1, bucketOf(math.MaxUint64), "huge values land in the last bucket")
}

func TestPercentilesWithinOnePercentOfExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 7, 100, 10_000, 200_000} {
		var h Histogram
		samples := make([]time.Duration, n)
		for i := range samples {
			// Log-normal around 1 ms, with a long tail: latency-like.
			samples[i] = time.Duration(math.Exp(rng.NormFloat64()*1.5) * float64(time.Millisecond))
			h.Record(samples[i])
		}
		slices.Sort(samples)
		require.Equal(t, uint64(n), h.Count())
		for _, p := range []float64{1, 50, 90, 99, 99.9, 100} {
			want := exactPercentile(samples, p)
			got := h.Percentile(p)
			assert.InEpsilon(t, float64(want), float64(got), 0.01, "n=%d p%v: exact %v, histogram %v", n, p, want, got)
		}
		assert.Equal(t, samples[n-1], h.Max())
		assert.Equal(t, samples[n-1], h.Percentile(100), "p100 is the max")
		assert.Equal(t, samples[0], h.Percentile(0.0001), "the smallest percentile is the min")
	}
}

func TestPercentileExactForSmallValuesAndEmpty(t *testing.T) {
	var h Histogram
	assert.Equal(t, time.Duration(0), h.Percentile(50), "no samples")
	assert.Equal(t, time.Duration(0), h.Mean())
	for v := range 100 {
		h.Record(time.Duration(v + 1)) // 1..100 ns: exact buckets
	}
	assert.Equal(t, time.Duration(50), h.Percentile(50))
	assert.Equal(t, time.Duration(99), h.Percentile(99))
	assert.Equal(t, time.Duration(100), h.Percentile(100))
	h.Record(-5)
	assert.Equal(t, time.Duration(0), h.Percentile(0.5), "negative durations count as 0")
}

func TestMergeIsRecordingTogether(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var a, b, all Histogram
	for i := range 5000 {
		d := time.Duration(rng.Int64N(int64(50 * time.Millisecond)))
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(&b)
	a.Merge(nil)
	a.Merge(&Histogram{})
	assert.Equal(t, all, a)
}

func TestFormatting(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                        "–",
		1500 * time.Nanosecond:   "1.50 µs",
		50600 * time.Nanosecond:  "50.6 µs",
		874 * time.Microsecond:   "874 µs",
		1163 * time.Microsecond:  "1.16 ms",
		19900 * time.Microsecond: "19.9 ms",
		250 * time.Millisecond:   "250 ms",
		12 * time.Second:         "12.0 s",
	} {
		assert.Equal(t, want, fmtDur(d), "fmtDur(%v)", d)
	}
	assert.Equal(t, "1.83×", fmtRatio(1.8281))
	assert.Equal(t, "0.50×", fmtRatio(0.4999))
	assert.Equal(t, "12.3×", fmtRatio(12.34))
	assert.Equal(t, "150×", fmtRatio(150.2))
	assert.Equal(t, "–", fmtRatio(ratio(5, 0)))
	assert.Equal(t, "–", fmtRatio(ratio(0, 5)))
	assert.Equal(t, "15700", fmtRate(15700.4))
	assert.Equal(t, "42.5", fmtRate(42.46))
	assert.Equal(t, "–", fmtRate(0))
	assert.Equal(t, "1 client", plural(1, "client"))
	assert.Equal(t, "64 clients", plural(64, "client"))
}

// round builds a round of ops operations in elapsed, each taking lat.
func round(sys string, clients int, ops int, elapsed, lat time.Duration, errs uint64) Round {
	h := &Histogram{}
	for range ops {
		h.Record(lat)
	}
	return Round{System: sys, Clients: clients, Ops: uint64(ops), Errors: errs, Elapsed: elapsed, Hist: h}
}

func TestComparisonTableAndRatios(t *testing.T) {
	c := &Comparison{Title: "Writes", Unit: "writes/s", A: "picogo", B: "etcd", Goal: 2, Rounds: []Round{
		round("picogo", 1, 1000, time.Second, time.Millisecond, 0),
		round("etcd", 1, 500, time.Second, 2*time.Millisecond, 0),
		round("picogo", 1, 3000, time.Second, time.Millisecond, 0),
		round("etcd", 1, 500, time.Second, 2*time.Millisecond, 0),
		round("picogo", 16, 800, time.Second, 4*time.Millisecond, 3),
		round("etcd", 16, 1000, time.Second, 2*time.Millisecond, 0),
	}}
	table := c.Table()
	lines := strings.Split(strings.TrimSpace(table), "\n")
	require.Len(t, lines, 4, table)
	assert.Equal(t, "| clients | picogo writes/s | etcd writes/s | ratio | picogo p50 | etcd p50 | ratio | picogo p99 | etcd p99 | ratio |", lines[0])
	// 1 client: picogo 4000 ops in 2 s against 1000 in 2 s.
	assert.Equal(t, "| 1 | 2000 | 500 | 4.00× | 1.00 ms | 2.00 ms | 0.50× | 1.00 ms | 2.00 ms | 0.50× |", lines[2])
	assert.Equal(t, "| 16 | 800 | 1000 | 0.80× | 4.00 ms | 2.00 ms | 2.00× | 4.00 ms | 2.00 ms | 2.00× |", lines[3])

	behind := c.Behind()
	require.Len(t, behind, 1, "only 16 clients is behind: %v", behind)
	assert.Contains(t, behind[0], "16 clients")
	assert.Contains(t, behind[0], "writes/s is 0.80× etcd's (goal: at least 2.00×)")
	assert.Contains(t, behind[0], "p99 is 2.00× etcd's")
	assert.Contains(t, behind[0], "3 operations failed")

	details := c.Details()
	assert.Contains(t, details, "- 1 client: picogo 1000, 3000 writes/s per round, 4000 ops, 0 errors; etcd 500, 500 writes/s per round")

	// Below the goal but ahead: still listed, against the goal.
	c.Rounds = c.Rounds[:4]
	c.Rounds[0] = round("picogo", 1, 750, time.Second, time.Millisecond, 0)
	c.Rounds[2] = round("picogo", 1, 750, time.Second, time.Millisecond, 0)
	behind = c.Behind()
	require.Len(t, behind, 1)
	assert.Contains(t, behind[0], "writes/s is 1.50× etcd's (goal: at least 2.00×)")
	assert.NotContains(t, behind[0], "p99")

	// A goal from 2 clients on: at 1 client, ahead is enough.
	c.GoalClients = 2
	assert.Empty(t, c.Behind())
}

func TestReportMarkdown(t *testing.T) {
	r := &Report{Header: []string{"- machine: test"}, Comparisons: []*Comparison{{
		Title: "Calls", Unit: "calls/s", A: "picogo", B: "tarantool", Rounds: []Round{
			round("picogo", 1, 200, time.Second, time.Millisecond, 0),
			round("tarantool", 1, 100, time.Second, time.Millisecond, 0),
		}}},
		Sim: &SimResult{Seeds: 10, Virtual: 60 * time.Second, Wall: 2 * time.Second, CheckOps: 10000,
			CheckTimes: []time.Duration{30 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond}},
	}
	md := r.Markdown()
	assert.Contains(t, md, "- machine: test")
	assert.Contains(t, md, "## Calls")
	assert.Contains(t, md, "| 1 | 200 | 100 | 2.00× |")
	assert.Contains(t, md, "| virtual seconds per wall second (1 goroutine, 10 seeds) | 30.0 |")
	assert.Contains(t, md, "| seeds per minute (1 goroutine) | 300 |")
	assert.Contains(t, md, "| porcupine check time per 10k operations (median of 3) | 20.0 ms |")
	assert.Contains(t, md, "## Where picogo is behind\n\nNowhere in this run.")

	// Nothing measured: no verdict.
	r.Comparisons[0].Rounds = nil
	assert.NotContains(t, r.Markdown(), "Where picogo is behind")
}

func TestParseClientsAndOnly(t *testing.T) {
	cs, err := ParseClients("1, 16,64")
	require.NoError(t, err)
	assert.Equal(t, []int{1, 16, 64}, cs)
	for _, bad := range []string{"", "0", "-1", "1,,2", "x", "1,1", "5000"} {
		_, err := ParseClients(bad)
		assert.Error(t, err, "clients %q", bad)
	}
	only, err := ParseOnly("sim,writes,sim")
	require.NoError(t, err)
	assert.Equal(t, []string{"sim", "writes"}, only)
	_, err = ParseOnly("writes,reads")
	assert.ErrorContains(t, err, `unknown phase "reads"`)
}

func TestFlags(t *testing.T) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	RegisterFlags(fs, &cfg)
	require.NoError(t, fs.Parse([]string{"--duration", "3s", "--rounds", "1", "--clients", "1,16", "--only", "writes", "--keep", "--out", "x.md"}))
	assert.Equal(t, 3*time.Second, cfg.Duration)
	assert.Equal(t, 1, cfg.Rounds)
	assert.Equal(t, []int{1, 16}, cfg.Clients)
	assert.Equal(t, []string{"writes"}, cfg.Only)
	assert.True(t, cfg.Keep)
	assert.Equal(t, "x.md", cfg.Out)
	assert.True(t, cfg.runs(PhaseWrites))
	assert.False(t, cfg.runs(PhaseSim))
	require.NoError(t, cfg.Validate())

	def := DefaultConfig()
	assert.Equal(t, []int{1, 16, 64}, def.Clients)
	assert.True(t, def.runs(PhaseCalls), "no --only: every phase")
	require.NoError(t, def.Validate())

	fs = flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	RegisterFlags(fs, &cfg)
	assert.Error(t, fs.Parse([]string{"--clients", "0"}))
	for _, mutate := range []func(*Config){
		func(c *Config) { c.Duration = 0 },
		func(c *Config) { c.Rounds = 0 },
		func(c *Config) { c.Conns = 0 },
		func(c *Config) { c.KeySize = 4 },
		func(c *Config) { c.Warmup = -time.Second },
	} {
		c := DefaultConfig()
		mutate(&c)
		assert.Error(t, c.Validate())
	}
}

func TestKeysAreUniqueAndOfTheSize(t *testing.T) {
	ks := newKeySource("p", 16)
	seen := map[string]bool{}
	for range 1000 {
		k := ks.next()
		require.Len(t, k, 16)
		require.True(t, strings.HasPrefix(k, "p"))
		require.False(t, seen[k], "key %q twice", k)
		seen[k] = true
	}
	small := newKeySource("e", 3)
	for range 200 {
		k := small.next()
		require.False(t, seen[k], "key %q twice", k)
		seen[k] = true
	}
	assert.Len(t, benchValue(100), 100)
	assert.Equal(t, benchValue(100), benchValue(100), "the same value for both systems")
}

func TestLuaLiteral(t *testing.T) {
	lit, err := luaLiteral(map[string]any{"picodata_version": "picogo-0.1.0", "n": int8(3), "big": uint64(1) << 60,
		"ok": true, "none": nil, "list": []any{"a\"b", 1.5}})
	require.NoError(t, err)
	assert.Equal(t, `setmetatable({["big"] = 1152921504606846976ULL, ["list"] = setmetatable({"a\"b", 1.5}, {__serialize = 'array'}), `+
		`["n"] = 3, ["none"] = box.NULL, ["ok"] = true, ["picodata_version"] = "picogo-0.1.0"}, {__serialize = 'map'})`, lit)
	assert.Equal(t, `"a\\b\010\255"`, luaString("a\\b\n\xff"))
	_, err = luaLiteral(struct{}{})
	assert.Error(t, err)
	_, err = luaLiteral(math.NaN())
	assert.Error(t, err)
	script, err := tarantoolScript("127.0.0.1:3301", "/tmp/x", map[string]any{"a": "b"})
	require.NoError(t, err)
	assert.Contains(t, script, `listen = "127.0.0.1:3301"`)
	assert.Contains(t, script, "function "+tarantoolFunction+"() return result end")
}

func TestRunLoadMeasuresAfterTheWarmupAndStops(t *testing.T) {
	var calls atomic.Int64
	op := func(ctx context.Context, worker int) error {
		n := calls.Add(1)
		time.Sleep(time.Millisecond)
		if n%10 == 0 {
			return errors.New("every tenth fails")
		}
		return nil
	}
	start := time.Now()
	var cpuReads atomic.Int64
	cpu := func() time.Duration { return time.Duration(cpuReads.Add(1)) * time.Second }
	r := runLoad(context.Background(), 4, 100*time.Millisecond, 300*time.Millisecond, op, cpu)
	took := time.Since(start)
	assert.Less(t, took, 2*time.Second, "bounded")
	assert.GreaterOrEqual(t, took, 400*time.Millisecond)
	total := uint64(calls.Load())
	assert.Less(t, r.Ops+r.Errors, total, "the warm-up's operations are not counted")
	assert.Positive(t, r.Ops)
	assert.Positive(t, r.Errors)
	assert.EqualError(t, r.FirstErr, "every tenth fails")
	assert.Equal(t, r.Ops, r.Hist.Count(), "only successes have latencies")
	assert.GreaterOrEqual(t, r.Hist.Percentile(50), time.Millisecond)
	assert.InDelta(t, 300*time.Millisecond, r.Elapsed, float64(100*time.Millisecond))
	assert.InDelta(t, float64(r.Ops)/r.Elapsed.Seconds(), r.Rate(), 1e-9)
	assert.Equal(t, time.Second, r.CPU, "CPU read at the end of the warm-up and at the end")
	assert.Equal(t, time.Second/time.Duration(r.Ops), r.CPUPerOp())

	// A cancelled context ends the round at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start = time.Now()
	runLoad(ctx, 4, 0, time.Hour, op, nil)
	assert.Less(t, time.Since(start), time.Second)
}

func TestCheckPer10kIsTheScaledMedian(t *testing.T) {
	s := SimResult{CheckOps: 5000, CheckTimes: []time.Duration{3, 1, 2}}
	assert.Equal(t, time.Duration(4), s.CheckPer10k(), "the median, scaled to 10k operations")
}

func TestProcessesStartedReportExitsAndCPU(t *testing.T) {
	ps := &procs.Registry{}
	t.Cleanup(func() { _ = ps.KillAll() })
	dir := t.TempDir()
	busy, err := start(ps, "busy", filepath.Join(dir, "busy.log"), nil, dir, "sh", "-c", "while :; do :; done")
	require.NoError(t, err)
	quits, err := start(ps, "quits", filepath.Join(dir, "quits.log"), []string{"QUITS_WITH=2"}, dir, "sh", "-c", `exit "$QUITS_WITH"`)
	require.NoError(t, err)
	log, err := os.ReadFile(filepath.Join(dir, "quits.log"))
	require.NoError(t, err)
	assert.Equal(t, "=== bench: starting quits: sh -c exit \"$QUITS_WITH\"\n", string(log))

	// poll fails at once when a watched process exits; alive, when any
	// started and not killed has.
	want := "quits exited by itself (exit status 2); its log: " + filepath.Join(dir, "quits.log")
	err = poll(context.Background(), 3*time.Second, "waiting", []*procs.Process{busy, quits}, func() error { return errors.New("never") })
	assert.EqualError(t, err, "waiting: "+want)
	assert.EqualError(t, alive(ps)(), want)
	require.NoError(t, quits.Kill())
	assert.NoError(t, alive(ps)(), "a killed process is not a problem")

	err = poll(context.Background(), 3*time.Second, "busy burns CPU", nil, func() error {
		if busy.CPUTime() < 20*time.Millisecond {
			return errors.New("not yet")
		}
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, ps.KillAll())
	// Reaped, its CPU time is final.
	assert.Equal(t, 2*busy.CPUTime(), cpuOf(busy, busy)(), "the sum over the processes")
	assert.GreaterOrEqual(t, busy.CPUTime(), 20*time.Millisecond)
}
