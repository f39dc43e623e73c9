package runtime

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/auth"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	"github.com/picogo/picogo/net"
	"github.com/picogo/picogo/net/iproto"
	"github.com/picogo/picogo/proc"
)

// sqlAs runs one statement through `.proc_sql` as user (the driver has
// logged it in), ticking the clock until it is answered.

func (s *soloHost) mustSQLAs(t *testing.T, user, query string) api.SQLResult {
	t.Helper()
	res, err := s.sqlAs(t, user, query)
	require.Nil(t, err, "%s as %s: %v", query, user, err)
	return res
}

// deniedAs: the statement is refused to user with ACCESS_DENIED, its
// message naming the words in want.
func (s *soloHost) deniedAs(t *testing.T, user, query string, want ...string) {
	t.Helper()
	_, err := s.sqlAs(t, user, query)
	require.NotNil(t, err, "%s as %s: want access denied", query, user)
	require.Equal(t, uint32(tuple.CodeAccessDenied), err.Code, "%s as %s: %s", query, user, err.Message)
	for _, w := range want {
		require.Contains(t, err.Message, w)
	}
}

func TestHostSQLAccessControl(t *testing.T) {
	s := sqlHost(t)
	count := func(query string) uint64 { return s.mustSQL(t, query).RowCount }
	require.EqualValues(t, 1, count(`CREATE TABLE books (id INTEGER PRIMARY KEY, title TEXT) DISTRIBUTED GLOBALLY`))
	require.EqualValues(t, 1, count(`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT) DISTRIBUTED BY (id)`))
	require.EqualValues(t, 1, count(`INSERT INTO books VALUES (1, 'Dune')`))
	require.EqualValues(t, 1, count(`INSERT INTO notes VALUES (1, 'hi')`))

	// Users.
	require.EqualValues(t, 1, count(`CREATE USER alice WITH PASSWORD 'alice-secret' USING chap-sha1`))
	require.EqualValues(t, 0, count(`CREATE USER IF NOT EXISTS alice WITH PASSWORD 'whatever1'`))
	_, err := s.sql(t, `CREATE USER alice WITH PASSWORD 'alice-secret'`)
	require.Equal(t, uint32(tuple.CodeUserExists), err.Code)
	_, err = s.sql(t, `CREATE USER bob WITH PASSWORD 'short'`)
	require.Contains(t, err.Message, "too short (expected at least 8 characters, got 5)")
	_, err = s.sql(t, `CREATE USER bob WITH PASSWORD 'long-enough' USING md5`)
	require.Equal(t, uint32(tuple.CodeUnsupported), err.Code)
	require.Contains(t, err.Message, "auth method md5 is not supported")
	alice, ok, _ := s.h.Node().Tables().UserByName("alice")
	require.True(t, ok)
	require.Equal(t, tables.UserTypeUser, alice.Type)

	// alice reads nothing until granted; then she reads but does not write.
	s.deniedAs(t, "alice", `SELECT * FROM books`, "read access to table books is denied for user alice")
	require.EqualValues(t, 1, count(`GRANT READ ON TABLE books TO alice`))
	require.EqualValues(t, 0, count(`GRANT READ ON TABLE books TO alice`), "held already")
	res := s.mustSQLAs(t, "alice", `SELECT title FROM books`)
	require.Equal(t, [][]any{{"Dune"}}, res.Rows)
	s.deniedAs(t, "alice", `INSERT INTO books VALUES (2, 'Emma')`, "write access to table books is denied for user alice")
	s.deniedAs(t, "alice", `SELECT * FROM notes`, "notes")

	// alice may not manage users, nor grant on a table she does not own.
	s.deniedAs(t, "alice", `CREATE USER carol WITH PASSWORD 'carol-secret'`, "Create access to user 'carol' is denied for user 'alice'")
	s.deniedAs(t, "alice", `GRANT WRITE ON TABLE books TO alice`, "Grant access to table 'books' is denied for user 'alice'")
	s.deniedAs(t, "alice", `ALTER USER alice WITH LOGIN`, "universe")
	s.deniedAs(t, "alice", `DROP USER admin`, "Drop access to user 'admin'")

	// Revoke.
	require.EqualValues(t, 1, count(`REVOKE READ ON TABLE books FROM alice`))
	require.EqualValues(t, 0, count(`REVOKE READ ON TABLE books FROM alice`), "not held")
	s.deniedAs(t, "alice", `SELECT * FROM books`, "read access")

	// Roles: a role's privilege is its holders'.
	require.EqualValues(t, 1, count(`CREATE ROLE writers`))
	require.EqualValues(t, 0, count(`CREATE ROLE IF NOT EXISTS writers`))
	require.EqualValues(t, 1, count(`GRANT READ ON TABLE books TO writers`))
	require.EqualValues(t, 1, count(`GRANT WRITE ON TABLE books TO writers`))
	require.EqualValues(t, 1, count(`GRANT READ ON TABLE notes TO writers`))
	require.EqualValues(t, 1, count(`GRANT writers TO alice`))
	require.EqualValues(t, 1, s.mustSQLAs(t, "alice", `INSERT INTO books VALUES (2, 'Emma')`).RowCount)
	require.Len(t, s.mustSQLAs(t, "alice", `SELECT * FROM notes`).Rows, 1, "a sharded table too")
	require.EqualValues(t, 1, count(`REVOKE writers FROM alice`))
	s.deniedAs(t, "alice", `INSERT INTO books VALUES (3, 'Ulysses')`, "write access")

	// Privileges on every table, and the public role everybody has.
	require.EqualValues(t, 1, count(`GRANT READ ON ALL TABLES TO public`))
	require.Len(t, s.mustSQLAs(t, "alice", `SELECT * FROM books`).Rows, 2)
	require.Len(t, s.mustSQLAs(t, proc.Guest, `SELECT * FROM books`).Rows, 2)
	require.EqualValues(t, 1, count(`REVOKE READ ON ALL TABLES FROM public`))

	// A user who may create users owns them, and may drop them.
	require.EqualValues(t, 1, count(`GRANT CREATE ON ALL USERS TO alice`))
	require.EqualValues(t, 1, s.mustSQLAs(t, "alice", `CREATE USER carol WITH PASSWORD 'carol-secret'`).RowCount)
	carol, _, _ := s.h.Node().Tables().UserByName("carol")
	require.Equal(t, uint64(alice.ID), carol.Owner)
	_, err = s.sql(t, `DROP USER alice`)
	require.Contains(t, err.Message, "it owns user carol")
	require.EqualValues(t, 1, s.mustSQLAs(t, "alice", `DROP USER carol`).RowCount)

	// ALTER USER: a password, NOLOGIN and LOGIN, a new name.
	require.EqualValues(t, 1, s.mustSQLAs(t, "alice", `ALTER USER alice WITH PASSWORD 'another-secret'`).RowCount, "every user may alter itself")
	require.EqualValues(t, 0, count(`ALTER USER alice WITH PASSWORD 'another-secret'`), "the same password")
	salt := []byte("0123456789abcdefghij0123456789ab")
	logIn := func(password string) *net.Error {
		return s.h.Node().Login(auth.Attempt{User: "alice", Address: "10.0.0.1", Proof: auth.ChapSha1{Salt: salt, Scramble: iproto.Scramble(salt, password)}}).Err
	}
	require.Nil(t, logIn("another-secret"))
	require.EqualValues(t, 1, count(`ALTER USER alice WITH NOLOGIN`))
	e := logIn("another-secret")
	require.NotNil(t, e, "NOLOGIN: she does not log in")
	require.Contains(t, e.Message, "no login privilege")
	require.False(t, s.h.Node().Tables().Granted(uint32(alice.ID), tables.PrivLogin, tables.ObjUniverse, 0))
	require.EqualValues(t, 0, count(`ALTER USER alice NOLOGIN`))
	require.EqualValues(t, 1, count(`ALTER USER alice WITH LOGIN`))
	require.Nil(t, logIn("another-secret"))
	for range 4 {
		require.NotNil(t, logIn("wrong-password"))
	}
	require.Contains(t, logIn("another-secret").Message, "blocked", "locked after four failures")
	require.EqualValues(t, 1, count(`ALTER USER alice WITH LOGIN`), "granted again: it lifts the lock")
	require.Nil(t, logIn("another-secret"))
	require.True(t, s.h.Node().Tables().Granted(uint32(alice.ID), tables.PrivLogin, tables.ObjUniverse, 0))
	require.EqualValues(t, 1, count(`ALTER USER alice RENAME TO alicia`))
	_, err = s.sql(t, `ALTER USER admin WITH NOLOGIN`)
	require.Equal(t, uint32(tuple.CodeAccessDenied), err.Code)
	_, err = s.sql(t, `ALTER USER writers WITH LOGIN`)
	require.Contains(t, err.Message, "is a role")

	// Drops.
	_, err = s.sql(t, `DROP USER writers`)
	require.Contains(t, err.Message, "is a role, not a user")
	require.EqualValues(t, 1, count(`DROP ROLE writers`))
	require.EqualValues(t, 0, count(`DROP ROLE IF EXISTS writers`))
	require.EqualValues(t, 1, count(`DROP USER alicia`))
	require.EqualValues(t, 0, count(`DROP USER IF EXISTS alicia`))
	_, err = s.sql(t, `DROP USER alicia`)
	require.Equal(t, uint32(tuple.CodeNoSuchUser), err.Code)
	_, err = s.sql(t, `DROP USER admin`)
	require.Contains(t, err.Message, "built in")
	_, err = s.sql(t, `DROP ROLE public`)
	require.Contains(t, err.Message, "built in")
	for _, p := range s.h.Node().Tables().Privileges() {
		require.NotEqual(t, uint32(alice.ID), p.Grantee, "a dropped user's privileges go with it")
	}

	// Privileges an object does not take; a syntax error names its position.
	require.EqualValues(t, 1, count(`CREATE USER dave WITH PASSWORD 'dave-secret'`))
	_, err = s.sql(t, `GRANT EXECUTE ON TABLE books TO dave`)
	require.Equal(t, uint32(tuple.CodeGrant), err.Code)
	require.Contains(t, err.Message, "Unsupported table privilege 'execute'")
	_, err = s.sql(t, `GRANT READ ON TABLE books TO nobody`)
	require.Contains(t, err.Message, "no user or role named nobody")
	_, err = s.sql(t, "GRANT READ ON TABLE books\nTOO dave")
	require.NotNil(t, err)
	require.Equal(t, uint32(tuple.CodeSQLSyntax), err.Code)
	require.Contains(t, err.Message, "line 2")
}
