package auth

import (
	"time"

	"github.com/picogo/picogo/core/tables"
)

const (
	// MaxFailures failed logins in a row lock a user (Picodata's rule).
	MaxFailures = 4
	// LockDuration is how long a lock lasts unless Unlock lifts it.
	LockDuration = 5 * time.Minute
)

// userFailures is a user's failed logins in a row; from MaxFailures on,
// the user is locked since lockedAt.
type userFailures struct {
	count    int
	lockedAt time.Duration
	// version is the global schema version when the lock began: a login
	// privilege granted at a later version lifts it (liftIfRegranted).
	version uint64
}

// locked reports whether user is locked at now, and for how much longer. A
// lock that has ended is forgotten, and with it the failures.
func (l *Logins) locked(user string, now time.Duration) (remaining time.Duration, locked bool) {
	f, ok := l.users[user]
	if !ok || f.count < MaxFailures {
		return 0, false
	}
	if end := f.lockedAt + LockDuration; now < end {
		return end - now, true
	}
	delete(l.users, user)
	return 0, false
}

// countFailure records a failed login of user (a user that exists) and
// reports whether it locked the user. pico_service is never locked.
func (l *Logins) countFailure(user string, now time.Duration, version uint64) bool {
	if user == tables.PicoServiceName {
		return false
	}
	f := l.users[user]
	f.count++
	if f.count == MaxFailures {
		f.lockedAt, f.version = now, version
	}
	l.users[user] = f
	return f.count == MaxFailures
}

// Unlock lifts user's lock, if any, and forgets its failures; it reports
// whether user was locked at now.
func (l *Logins) Unlock(user string, now time.Duration) bool {
	_, locked := l.locked(user, now)
	delete(l.users, user)
	return locked
}

// liftIfRegranted lifts user's lock if the login privilege was granted to
// it after the lock began (ALTER USER ... WITH LOGIN, Picodata's way of
// unlocking a user): the grant is a Raft entry, so every instance lifts
// its own lock on the user, each when it has applied the grant.
func (l *Logins) liftIfRegranted(users *tables.Store, user string) {
	f, ok := l.users[user]
	if !ok || f.count < MaxFailures {
		return
	}
	u, found, err := users.UserByName(user)
	if err != nil || !found {
		return
	}
	if p, ok := users.PrivilegeRow(uint32(u.ID), tables.PrivLogin, tables.ObjUniverse, 0); ok && p.SchemaVersion > f.version {
		delete(l.users, user)
	}
}
