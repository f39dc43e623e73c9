// Package auth holds an instance's login rules, deterministically: which
// password a user logs in with (pico_service's is the instance's service
// password, the others' are in _pico_user), when failed logins lock a user
// and for how long, and how much the reply to a failed login is held back
// for the address it came from. Time enters as an explicit monotonic now;
// the caller sleeps the delays and answers the client.
//
// The rules:
//   - MaxFailures failed logins in a row lock an ordinary user (admin
//     included) for LockDuration; a success resets the count, the lock ends
//     by itself, Unlock lifts it at once. A locked user is refused even with
//     the right password.
//   - pico_service is never locked: instances log in as pico_service, and a
//     client without credentials must not be able to cut an instance off
//     its cluster.
//   - Every refused login is held back by a delay that grows with the
//     recent failures of its address (FirstDelay, doubling up to MaxDelay;
//     forgotten after QuietPeriod without one). A correct login is never
//     delayed or refused because of its address: instances and clients may
//     share one (127.0.0.1, a NAT). At most MaxAddresses addresses are
//     remembered.
package auth
