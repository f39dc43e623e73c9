package auth

import "time"

// Throttling of failed logins per client address.
const (
	// FirstDelay holds back an address's first refusal; each further
	// refusal waits twice as long as the one before, up to MaxDelay.
	FirstDelay = 50 * time.Millisecond
	MaxDelay   = 2 * time.Second
	// QuietPeriod without a failure makes an address's failures forgotten.
	QuietPeriod = time.Minute
	// MaxAddresses bounds the addresses remembered: a new one beyond it
	// pushes out the one quiet for longest.
	MaxAddresses = 4096
)

// addressFailures is an address's recent failed logins, the last at last.
type addressFailures struct {
	count int
	last  time.Duration
}

type throttle struct {
	addrs map[string]addressFailures
}

// fail records a failed login from addr at now and returns how long its
// refusal is held back.
func (t *throttle) fail(addr string, now time.Duration) time.Duration {
	f, known := t.addrs[addr]
	switch {
	case known && now-f.last >= QuietPeriod:
		f = addressFailures{}
	case !known && len(t.addrs) >= MaxAddresses:
		t.forgetQuietest()
	}
	f.count++
	f.last = now
	t.addrs[addr] = f
	return delayAfter(f.count)
}

// delayAfter is the delay of an address's n-th recent failure (n >= 1).
func delayAfter(n int) time.Duration {
	d := FirstDelay
	for i := 1; i < n && d < MaxDelay; i++ {
		d *= 2
	}
	return min(d, MaxDelay)
}

// forgetQuietest forgets the address whose last failure is the oldest (of
// equals, the smallest address: the choice does not depend on map order).
func (t *throttle) forgetQuietest() {
	var oldest string
	var at time.Duration
	first := true
	for addr, f := range t.addrs {
		if first || f.last < at || f.last == at && addr < oldest {
			oldest, at, first = addr, f.last, false
		}
	}
	delete(t.addrs, oldest)
}
