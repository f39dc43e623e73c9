// Package runner runs the roles compiled into an instance (package role):
// it owns their code's execution on one instance, outside the deterministic
// core. The node module decides when a role starts and stops; the daemon
// turns those decisions into calls on a Runner, and the Runner's answers
// come back to the daemon's event loop through Config.Post.
//
// Every callback of a role runs on a goroutine of its own, never on the
// caller's, with a deadline, so that a role that panics or blocks fails
// only that call and never the instance:
//   - a panic becomes the call's error; the panic value and a short stack
//     go to the log;
//   - a callback still running at its deadline is abandoned: its done gets
//     an error ("role X: Init did not return within 30s") while the
//     goroutine runs on. Go cannot kill a goroutine, so an abandoned
//     callback keeps whatever it holds until it returns by itself; its
//     context has ended, which a well-behaved role notices.
//
// The rules a Runner keeps:
//   - A role's lifecycle callbacks (Init, Stop, OnConfigChange,
//     OnLeaderChange) run one at a time. While one is running, abandoned or
//     not, the others are refused with an error saying which one blocks
//     (State.Busy shows it): a role stuck in a callback cannot be started or
//     stopped again until the callback returns, as running Init while an
//     earlier Stop still runs would break what the role can assume. If it
//     never returns, only a restart of the instance frees the role.
//   - A role starts only when its dependencies are running and stops only
//     when no role that depends on it is running (role.Order gives the
//     order).
//   - A role whose Init fails, panics or times out is Failed; it may be
//     started again. Stopping a Failed role does not call its Stop (its
//     Init never completed); if an abandoned Init later returns success,
//     the Runner calls Stop at once to release what it started.
//   - A stopped role is Stopped even if its Stop failed; the error is
//     reported and kept in State.Err.
//   - Handlers run only while their role is Running, concurrently with each
//     other and with the lifecycle callbacks. Their context ends at their
//     deadline and when the role stops.
//   - Each start gives the role a fresh Prometheus registry; Gatherer
//     exports the registries of the roles that are not stopped, every
//     metric labelled role="<name>". Collector exports the Runner's own
//     metrics: each role's status, its calls in flight, and its callbacks
//     by outcome (ok, error, panic, timeout).
//
// Config.Instance is who the instance is as far as it knows at New; an
// instance whose name and replicaset the cluster assigns when it joins
// learns them later, and SetInstance gives them to the roles started
// afterwards (the daemon calls it before the governor starts any role).
//
// ForHost presents a Runner as the daemon's host asks for role code (Start
// and Stop by name, answered with the role's version); StopAll stops every
// role, dependents first, for a graceful shutdown.
package runner
