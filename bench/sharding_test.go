package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/picogo/picogo/core/tables"
)

func ranges(rs ...tables.BucketRange) []tables.BucketRange { return rs }

func TestBucketBalance(t *testing.T) {
	two := ranges(
		tables.BucketRange{Tier: "storage", First: 1, Last: 1500, ReplicasetID: "r1", State: tables.BucketActive},
		tables.BucketRange{Tier: "storage", First: 1501, Last: 3000, ReplicasetID: "r2", State: tables.BucketActive},
		tables.BucketRange{Tier: "other", First: 1, Last: 10, ReplicasetID: "x", State: tables.BucketSending},
	)
	per, settled := bucketBalance(two, "storage")
	if !settled || per["r1"] != 1500 || per["r2"] != 1500 || len(per) != 2 {
		t.Fatalf("per %v settled %v", per, settled)
	}
	if !balanced(per, 2, 3000) || balanced(per, 3, 3000) {
		t.Fatal("balanced")
	}
	if got := fmtBalance(per); got != "r1 1500, r2 1500" {
		t.Fatalf("fmtBalance = %q", got)
	}
	moving := ranges(
		tables.BucketRange{Tier: "storage", First: 1, Last: 1000, ReplicasetID: "r1", State: tables.BucketActive},
		tables.BucketRange{Tier: "storage", First: 1001, Last: 2000, ReplicasetID: "r2", State: tables.BucketActive, Garbage: "r1"},
		tables.BucketRange{Tier: "storage", First: 2001, Last: 3000, ReplicasetID: "r3", State: tables.BucketActive},
	)
	per, settled = bucketBalance(moving, "storage")
	if settled || !balanced(per, 3, 3000) {
		t.Fatalf("garbage: per %v settled %v", per, settled)
	}
	moving[1].Garbage, moving[1].State, moving[1].Destination = "", tables.BucketSending, "r3"
	if _, settled = bucketBalance(moving, "storage"); settled {
		t.Fatal("a sending range is not at rest")
	}
}

func TestMovedRows(t *testing.T) {
	before := ranges(
		tables.BucketRange{Tier: "storage", First: 1, Last: 1500, ReplicasetID: "r1", State: tables.BucketActive},
		tables.BucketRange{Tier: "storage", First: 1501, Last: 3000, ReplicasetID: "r2", State: tables.BucketActive},
	)
	after := ranges(
		tables.BucketRange{Tier: "storage", First: 1, Last: 1000, ReplicasetID: "r1", State: tables.BucketActive},
		tables.BucketRange{Tier: "storage", First: 1001, Last: 2000, ReplicasetID: "r3", State: tables.BucketActive},
		tables.BucketRange{Tier: "storage", First: 2001, Last: 3000, ReplicasetID: "r2", State: tables.BucketActive},
	)
	n, err := movedRows(before, after, "storage", 30000)
	if err != nil {
		t.Fatal(err)
	}
	if n < 9000 || n > 11000 { // a third of uniformly hashed ids
		t.Fatalf("moved %d of 30000; want about 10000", n)
	}
	if n, _ := movedRows(before, before, "storage", 1000); n != 0 {
		t.Fatalf("nothing moved, counted %d", n)
	}
}

func TestShardingMarkdownAndFlags(t *testing.T) {
	h := &Histogram{}
	h.Record(time.Millisecond)
	r := &ShardingResult{
		Routed: []RoutedLevel{{Replicasets: 2, Round: Round{Clients: 16, Ops: 100, Elapsed: time.Second, Hist: h}}},
		Rows:   1000, Load: time.Second, Before: Round{Hist: h, Elapsed: time.Second}, During: Round{Hist: h, Elapsed: time.Second},
		Move: 2 * time.Second, MovedRows: 333, NewRows: 400, RebalanceDone: true,
	}
	md := r.Markdown()
	for _, want := range []string{"## Sharding", "| 2 (4) | 16 | 100 |", "| 333 |", "1000 rows loaded"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if only, err := ParseOnly("sharding"); err != nil || len(only) != 1 {
		t.Fatalf("ParseOnly(sharding) = %v, %v", only, err)
	}
	cfg := DefaultConfig()
	if cfg.ShardingRows != 1_000_000 || len(cfg.ShardingReplicasets) != 3 {
		t.Fatalf("defaults %d %v", cfg.ShardingRows, cfg.ShardingReplicasets)
	}
	cfg.ShardingRows = -1
	if cfg.Validate() == nil {
		t.Fatal("negative sharding-rows accepted")
	}
}
