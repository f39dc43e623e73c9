package bench

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Comparison is one system against its rival over the same work: every
// measured round of both, at every client count.
type Comparison struct {
	Title string
	// How is a paragraph on what was measured and how.
	How  string
	Unit string // "writes/s", "calls/s"
	A, B string // picogo, the rival
	// Goal is the compass goal for A/B throughput (e.g. 2 for "at least
	// twice the rival's"), 0 for none beyond 1, at GoalClients clients and
	// more (0: at every level); below them the goal is 1 (issue 18: twice
	// etcd's writes at 16 and 64 clients, as many at one).
	Goal        float64
	GoalClients int
	Rounds      []Round
	// Missing says, per system, why it has no rounds (picogo's durable
	// inserts: "not yet measurable (issue 13)"); the report says so where
	// its figures would be.
	Missing map[string]string
	// Notes are lines printed under the details (the replica lag of every
	// round).
	Notes []string
	// Profile names its --profile files (default: the title's first
	// word, lower-cased).
	Profile string
}

// Row aggregates one system's rounds at one client count.
type Row struct {
	Ops, Errors uint64
	Elapsed     time.Duration
	Hist        Histogram
	Rates       []float64 // per round
	FirstErr    error
	CPU         time.Duration // the servers', over the rounds
}

// Rate is operations per second over all the rounds.
func (r *Row) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Elapsed.Seconds()
}

// row aggregates sys's rounds at clients.
func (c *Comparison) row(sys string, clients int) *Row {
	var r Row
	for _, rd := range c.Rounds {
		if rd.System != sys || rd.Clients != clients {
			continue
		}
		r.Ops += rd.Ops
		r.Errors += rd.Errors
		r.Elapsed += rd.Elapsed
		r.Hist.Merge(rd.Hist)
		r.Rates = append(r.Rates, rd.Rate())
		r.CPU += rd.CPU
		if r.FirstErr == nil {
			r.FirstErr = rd.FirstErr
		}
	}
	return &r
}

// clientCounts lists the client counts measured, in the order first run.
func (c *Comparison) clientCounts() []int {
	var out []int
	seen := map[int]bool{}
	for _, rd := range c.Rounds {
		if !seen[rd.Clients] {
			seen[rd.Clients] = true
			out = append(out, rd.Clients)
		}
	}
	return out
}

// ratio is a/b, NaN when either is missing.
func ratio(a, b float64) float64 {
	if a <= 0 || b <= 0 {
		return math.NaN()
	}
	return a / b
}

// fmtRatio prints a ratio as "1.23×", "–" when there is none.
func fmtRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "–"
	}
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f×", r)
	case r >= 10:
		return fmt.Sprintf("%.1f×", r)
	}
	return fmt.Sprintf("%.2f×", r)
}

// fmtRate prints operations per second, "–" for none.
func fmtRate(r float64) string {
	if r <= 0 {
		return "–"
	}
	if r >= 100 {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.1f", r)
}

// fmtDur prints a latency with three significant digits: µs below a
// millisecond, ms below ten seconds.
func fmtDur(d time.Duration) string {
	us := float64(d) / float64(time.Microsecond)
	switch {
	case d <= 0:
		return "–"
	case us < 10:
		return fmt.Sprintf("%.2f µs", us)
	case us < 100:
		return fmt.Sprintf("%.1f µs", us)
	case us < 1000:
		return fmt.Sprintf("%.0f µs", us)
	case us < 10_000:
		return fmt.Sprintf("%.2f ms", us/1000)
	case us < 100_000:
		return fmt.Sprintf("%.1f ms", us/1000)
	case us < 10_000_000:
		return fmt.Sprintf("%.0f ms", us/1000)
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// Table renders the comparison as a markdown table, one line per client
// count, with the A/B ratios.
func (c *Comparison) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "| clients | %s %s | %s %s | ratio | %s p50 | %s p50 | ratio | %s p99 | %s p99 | ratio |\n",
		c.A, c.Unit, c.B, c.Unit, c.A, c.B, c.A, c.B)
	b.WriteString("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, n := range c.clientCounts() {
		a, o := c.row(c.A, n), c.row(c.B, n)
		ap50, bp50 := a.Hist.Percentile(50), o.Hist.Percentile(50)
		ap99, bp99 := a.Hist.Percentile(99), o.Hist.Percentile(99)
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", n,
			fmtRate(a.Rate()), fmtRate(o.Rate()), fmtRatio(ratio(a.Rate(), o.Rate())),
			fmtDur(ap50), fmtDur(bp50), fmtRatio(ratio(float64(ap50), float64(bp50))),
			fmtDur(ap99), fmtDur(bp99), fmtRatio(ratio(float64(ap99), float64(bp99))))
	}
	return b.String()
}

// Details lists every round's rate and the errors, per client count.
func (c *Comparison) Details() string {
	var b strings.Builder
	for _, n := range c.clientCounts() {
		fmt.Fprintf(&b, "- %s:", plural(n, "client"))
		for i, sys := range []string{c.A, c.B} {
			r := c.row(sys, n)
			if i > 0 {
				b.WriteString(";")
			}
			if why := c.Missing[sys]; why != "" {
				fmt.Fprintf(&b, " %s %s", sys, why)
				continue
			}
			rates := make([]string, len(r.Rates))
			for j, x := range r.Rates {
				rates[j] = fmtRate(x)
			}
			fmt.Fprintf(&b, " %s %s %s per round, %d ops, %d errors", sys, strings.Join(rates, ", "), c.Unit, r.Ops, r.Errors)
			if r.CPU > 0 && r.Ops > 0 {
				fmt.Fprintf(&b, ", server CPU %s per op", fmtDur(r.CPU/time.Duration(r.Ops)))
			}
			if r.FirstErr != nil {
				fmt.Fprintf(&b, " (first: %s)", oneLine(r.FirstErr.Error()))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Behind lists, one line each, where A is behind B: fewer operations per
// second (or fewer than Goal times B's), or a worse p99.
func (c *Comparison) Behind() []string {
	if why := c.Missing[c.A]; why != "" {
		return []string{fmt.Sprintf("%s: %s %s", c.Title, c.A, why)}
	}
	var out []string
	for _, n := range c.clientCounts() {
		a, o := c.row(c.A, n), c.row(c.B, n)
		var why []string
		goal := 1.0
		if n >= c.GoalClients {
			goal = max(c.Goal, 1)
		}
		if r := ratio(a.Rate(), o.Rate()); !math.IsNaN(r) && r < goal {
			s := fmt.Sprintf("%s is %s %s's", c.Unit, fmtRatio(r), c.B)
			if goal > 1 {
				s += fmt.Sprintf(" (goal: at least %s)", fmtRatio(goal))
			}
			why = append(why, s)
		}
		if r := ratio(float64(a.Hist.Percentile(99)), float64(o.Hist.Percentile(99))); !math.IsNaN(r) && r > 1 {
			why = append(why, fmt.Sprintf("p99 is %s %s's (%s against %s)", fmtRatio(r), c.B, fmtDur(a.Hist.Percentile(99)), fmtDur(o.Hist.Percentile(99))))
		}
		if a.Errors > 0 {
			why = append(why, fmt.Sprintf("%d operations failed", a.Errors))
		}
		if len(why) > 0 {
			out = append(out, fmt.Sprintf("%s, %s: %s", c.Title, plural(n, "client"), strings.Join(why, "; ")))
		}
	}
	return out
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Report is a whole run: its header and every comparison made.
type Report struct {
	Header      []string // "- key: value" lines
	Comparisons []*Comparison
	Sim         *SimResult
	SimNote     string
	Restart     *RestartResult // the restart phase's, when it ran
	Sharding    *ShardingResult
	SQLScan     *SQLScanResult // the sql-scan phase's, when it ran
}

// Markdown renders the report.
func (r *Report) Markdown() string {
	var b strings.Builder
	b.WriteString("# picogo bench\n\n")
	for _, h := range r.Header {
		b.WriteString(h + "\n")
	}
	for _, c := range r.Comparisons {
		fmt.Fprintf(&b, "\n## %s\n\n", c.Title)
		if c.How != "" {
			b.WriteString(c.How + "\n\n")
		}
		for _, sys := range []string{c.A, c.B} {
			if why := c.Missing[sys]; why != "" {
				fmt.Fprintf(&b, "%s: %s\n\n", sys, why)
			}
		}
		b.WriteString(c.Table())
		fmt.Fprintf(&b, "\nRatios are %s/%s: above 1× %s does more per second; for latencies, below 1× %s answers sooner.\n\n", c.A, c.B, c.A, c.A)
		b.WriteString(c.Details())
		for _, l := range c.Notes {
			b.WriteString(l + "\n")
		}
	}
	if r.SQLScan != nil && len(r.SQLScan.Levels) > 0 {
		b.WriteString(r.SQLScan.Markdown())
	}
	if r.Restart != nil {
		b.WriteString(r.Restart.Markdown())
	}
	if r.Sharding != nil && (len(r.Sharding.Routed) > 0 || r.Sharding.Rows > 0) {
		b.WriteString(r.Sharding.Markdown())
	}
	if s := r.Sim; s != nil {
		b.WriteString("\n## Simulator and checker\n\n")
		if r.SimNote != "" {
			b.WriteString(r.SimNote + "\n\n")
		}
		b.WriteString("| measure | value |\n|---|--:|\n")
		fmt.Fprintf(&b, "| virtual seconds per wall second (1 goroutine, %d seeds) | %.1f |\n", s.Seeds, s.VirtualPerWall())
		fmt.Fprintf(&b, "| seeds per minute (1 goroutine) | %.0f |\n", s.SeedsPerMinute())
		fmt.Fprintf(&b, "| seeds per minute (%d workers, %d seeds) | %.0f |\n", s.Parallel.Workers, s.Parallel.Seeds, s.ParallelSeedsPerMinute())
		fmt.Fprintf(&b, "| porcupine check time per 10k operations (median of %d) | %s |\n", len(s.CheckTimes), fmtDur(s.CheckPer10k()))
		if len(s.Failed) > 0 {
			fmt.Fprintf(&b, "\nSeeds that failed (a simulator finding: reproduce with `picogo sim --seed S`): %v\n", s.Failed)
		}
	}
	measured := r.SQLScan != nil && len(r.SQLScan.Levels) > 0
	for _, c := range r.Comparisons {
		measured = measured || len(c.Rounds) > 0
	}
	if measured {
		b.WriteString("\n## Where picogo is behind\n\n")
		var behind []string
		for _, c := range r.Comparisons {
			behind = append(behind, c.Behind()...)
		}
		if r.SQLScan != nil {
			behind = append(behind, r.SQLScan.Behind()...)
		}
		if len(behind) == 0 {
			b.WriteString("Nowhere in this run.\n")
		}
		for _, l := range behind {
			b.WriteString("- " + l + "\n")
		}
	}
	return b.String()
}
