// Package clock defines the only source of time a driver may use.
//
// The deterministic core never sees a clock: it sees Tick events. A driver
// turns the passage of time into those events through a Clock, which is the
// real clock in production (clock/realclock) and virtual time
// in the simulator, where one seed decides every instant.
package clock

import "time"

// Clock tells the time and schedules callbacks on the driver's loop.
type Clock interface {
	// Now is the current instant: wall time in production, virtual time in
	// the simulator.
	Now() time.Time
	// AfterFunc arranges for f to run on the driver's loop once d has passed.
	// The returned Timer cancels it.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc.
type Timer interface {
	// Stop cancels the callback; it reports whether the callback was still
	// pending.
	Stop() bool
}
