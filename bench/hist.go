package bench

import (
	"math"
	"math/bits"
	"time"
)

// Histogram records durations in log-linear buckets, as HDR histograms
// do: exact below 128 ns, then 128 buckets per power of two, so a
// percentile is off by less than 1% whatever the number of samples. Its
// memory is fixed (about 35 KiB). It is not safe for concurrent use: each
// load goroutine has its own, merged at the end.
type Histogram struct {
	counts   [histBuckets]uint64
	n        uint64
	sum      time.Duration
	min, max time.Duration
}

const (
	histSubBits = 7
	histSub     = 1 << histSubBits // buckets per power of two
	// histMaxShift bounds the range: durations up to 2^(histMaxShift+8) ns
	// (about 9 minutes) are bucketed; longer ones count as that.
	histMaxShift = 31
	histBuckets  = histSub + (histMaxShift+1)*histSub
)

// bucketOf is the bucket a duration of v ns falls into.
func bucketOf(v uint64) int {
	if v < histSub {
		return int(v)
	}
	shift := bits.Len64(v) - histSubBits - 1 // v>>shift is in [128, 256)
	if shift > histMaxShift {
		return histBuckets - 1
	}
	return histSub + shift*histSub + int(v>>uint(shift)) - histSub
}

// bucketRange is the smallest and largest value in bucket i.
func bucketRange(i int) (lo, hi uint64) {
	if i < histSub {
		return uint64(i), uint64(i)
	}
	shift := uint((i - histSub) / histSub)
	lo = uint64(histSub+(i-histSub)%histSub) << shift
	return lo, lo + 1<<shift - 1
}

// Record adds one duration (negative ones count as 0).
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
}

// Merge adds o's samples to h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// Count is the number of samples.
func (h *Histogram) Count() uint64 { return h.n }

// Mean is the samples' mean (0 without samples).
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// Max is the largest sample.
func (h *Histogram) Max() time.Duration { return h.max }

// Percentile is the smallest recorded value v such that at least p% of
// the samples are <= v (nearest rank), to within the bucket's width: the
// bucket's midpoint, clamped to the samples' min and max; the first and
// the last rank are the exact min and max. p is in (0, 100]; without
// samples it is 0.
func (h *Histogram) Percentile(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(p / 100 * float64(h.n)))
	rank = max(1, min(rank, h.n))
	switch rank {
	case 1:
		return h.min
	case h.n:
		return h.max
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketRange(i)
			v := time.Duration(lo + (hi-lo)/2)
			return max(h.min, min(v, h.max))
		}
	}
	return h.max
}
