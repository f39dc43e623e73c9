package node

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
)

// The leader checks an ACL op's access itself (aclAccess), whoever sends
// the CaS: a user without create on users does not create one, even
// through .proc_cas; an op whose initiator is not the CaS's user is
// refused; admin may.
func TestCasChecksAclAccess(t *testing.T) {
	s := newSolo(t)
	create := func(name string, initiator uint32) tables.Op {
		return tables.AclOp(tables.Acl{Kind: tables.AclCreateUser, Name: name, Initiator: initiator,
			Auth: &tables.UserAuth{Method: tables.AuthChapSha1, Hash: strings.Repeat("ab", 20)}})
	}
	require.Nil(t, s.cas(s.pred(), create("alice", tables.AdminID)).Err)
	alice, ok, _ := s.n.Tables().UserByName("alice")
	require.True(t, ok)
	id := uint32(alice.ID)

	r := s.do(api.Cas{ClusterID: "c1", Predicate: s.pred(), Op: create("bob", id), AsUser: id})
	requireCode(t, r, api.CodeAccessDenied)
	require.Contains(t, r.Err.Message, "Create access to user 'bob' is denied for user 'alice'")
	r = s.do(api.Cas{ClusterID: "c1", Predicate: s.pred(), Op: create("bob", tables.AdminID), AsUser: id})
	requireCode(t, r, api.CodeAccessDenied)

	grant := tables.AclOp(tables.Acl{Kind: tables.AclGrantPrivilege, Initiator: tables.AdminID,
		Priv: &tables.Privilege{Grantee: id, Privilege: tables.PrivCreate, ObjectType: tables.ObjUser, ObjectID: -1}})
	require.Nil(t, s.cas(s.pred(), grant).Err)
	require.Nil(t, s.do(api.Cas{ClusterID: "c1", Predicate: s.pred(), Op: create("bob", id), AsUser: id}).Err)

	// Her password: she may change her own (alter on herself), not admin's.
	auth := func(user uint32) tables.Op {
		return tables.Op{Kind: tables.OpAclChangeAuth, ChangeAuth: &tables.ChangeAuth{UserID: user, Method: tables.AuthChapSha1, Hash: strings.Repeat("cd", 20)}}
	}
	require.Nil(t, s.do(api.Cas{ClusterID: "c1", Predicate: s.pred(), Op: auth(id), AsUser: id}).Err)
	requireCode(t, s.do(api.Cas{ClusterID: "c1", Predicate: s.pred(), Op: auth(tables.AdminID), AsUser: id}), api.CodeAccessDenied)

	// Two ACL changes on one predicate: the second conflicts (both write
	// the schema version).
	p := s.pred()
	require.Nil(t, s.cas(p, tables.AclOp(tables.Acl{Kind: tables.AclCreateRole, Name: "r1", Initiator: tables.AdminID})).Err)
	requireCode(t, s.cas(p, tables.AclOp(tables.Acl{Kind: tables.AclCreateRole, Name: "r2", Initiator: tables.AdminID})), api.CodeConflictFound)
}
