package tables

import (
	"fmt"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
)

// OpKind discriminates Ops.
type OpKind string

const (
	// OpDml is one DML operation (Op.Dml).
	OpDml OpKind = "dml"
	// OpBatch is several DML operations (Op.Ops), on any tables, applied
	// atomically: all or nothing.
	OpBatch OpKind = "batch"
	// OpDdlPrepare starts a two-phase schema change (Op.Ddl, to schema
	// version Op.SchemaVersion): Picodata's DdlPrepare. See twophase.go.
	OpDdlPrepare OpKind = "ddl_prepare"
	// OpDdlCommit finishes the pending schema change (Picodata's
	// DdlCommit); Op.SchemaVersion, if not 0, must be the pending version.
	OpDdlCommit OpKind = "ddl_commit"
	// OpDdlAbort reverts the pending schema change (Picodata's DdlAbort);
	// Op.SchemaVersion, if not 0, must be the pending version.
	OpDdlAbort OpKind = "ddl_abort"
	// OpAclChangeAuth sets a user's password (Op.ChangeAuth): the ACL
	// operation Picodata's ALTER USER ... PASSWORD makes. _pico_user takes
	// no plain DML.
	OpAclChangeAuth OpKind = "acl_change_auth"
	// OpAcl creates, renames or drops a user or role, or grants or
	// revokes a privilege (Op.Acl, at schema version Op.SchemaVersion; 0:
	// the next one): Picodata's Op::Acl. See acl.go.
	OpAcl OpKind = "acl"
	// OpNop does nothing.
	OpNop OpKind = "nop"
)

// DmlKind is the kind of a DML operation.
type DmlKind string

const (
	DmlInsert  DmlKind = "insert"
	DmlReplace DmlKind = "replace"
	DmlUpdate  DmlKind = "update"
	DmlDelete  DmlKind = "delete"
)

// Op is a command replicated by Raft. It is encoded as a msgpack map with a
// "kind" discriminator; only the fields of its kind are present.
type Op struct {
	Kind OpKind `msgpack:"kind"`
	// Dml is the operation of an OpDml.
	Dml *Dml `msgpack:"dml,omitempty"`
	// Ops are the operations of an OpBatch.
	Ops []Dml `msgpack:"ops,omitempty"`
	// Ddl is the schema change of an OpDdlPrepare.
	Ddl *Ddl `msgpack:"ddl,omitempty"`
	// ChangeAuth is the password of an OpAclChangeAuth.
	ChangeAuth *ChangeAuth `msgpack:"change_auth,omitempty"`
	// Acl is the change of an OpAcl.
	Acl *Acl `msgpack:"acl,omitempty"`
	// SchemaVersion is the schema version a DDL op moves to; 0 means the
	// current global_schema_version + 1. It must be newer than the current.
	SchemaVersion uint64 `msgpack:"schema_version,omitempty"`
}

// Result is the reply to one applied Op.
type Result struct {
	RowCount uint64       `msgpack:"row_count"`
	Err      *tuple.Error `msgpack:"error,omitempty"`
}

// ChangeAuth gives user UserID a new password: Hash kept by Method (only
// AuthChapSha1: hex(sha1(sha1(password)))), and PostgreSQL's secrets of it
// (see UserAuth).
type ChangeAuth struct {
	UserID uint32 `msgpack:"user_id"`
	Method string `msgpack:"method"`
	Hash   string `msgpack:"hash"`
	MD5    string `msgpack:"md5,omitempty"`
	SCRAM  string `msgpack:"scram,omitempty"`
}

// ChangeAuthOf is the op that gives user id the password auth.
func ChangeAuthOf(id uint32, auth UserAuth) Op {
	return Op{Kind: OpAclChangeAuth, ChangeAuth: &ChangeAuth{UserID: id, Method: auth.Method, Hash: auth.Hash, MD5: auth.MD5, SCRAM: auth.SCRAM}}
}

// UserAuth is the password as _pico_user keeps it.
func (c ChangeAuth) UserAuth() UserAuth {
	return UserAuth{Method: c.Method, Hash: c.Hash, MD5: c.MD5, SCRAM: c.SCRAM}
}

// Dml is one data operation on one table.
type Dml struct {
	Kind  DmlKind `msgpack:"kind"`
	Table uint32  `msgpack:"table"`
	// Tuple is the row of an insert or replace (a msgpack array).
	Tuple msgpack.RawMessage `msgpack:"tuple,omitempty"`
	// Key is the primary key of an update or delete (a msgpack array).
	Key msgpack.RawMessage `msgpack:"key,omitempty"`
	// Ops are the update operations, Tarantool style: [op, field, arg] with
	// op "=" (set), "+" or "-" (arithmetic), field a 0-based position or a
	// field name.
	Ops [][]any `msgpack:"ops,omitempty"`
}

// Encode returns the op's msgpack encoding (map keys sorted, so the same op
// always encodes the same). It panics if an update argument holds a Go value
// msgpack cannot encode (a channel, a function), which is a programming
// error.
func (op Op) Encode() []byte {
	if b, ok := appendOp(make([]byte, 0, opSize(&op)), &op); ok {
		return b
	}
	return tuple.MustMarshal(op)
}

// DecodeOp decodes an Op. It checks the shape (a known kind with its part
// present, no unknown fields, no trailing bytes); everything else is checked
// when the op is applied.
func DecodeOp(data []byte) (Op, error) {
	if op, err := decodeOpFast(data); err == nil {
		if e := op.checkShape(); e != nil {
			return Op{}, e
		}
		return op, nil
	}
	var op Op
	if err := unmarshalStrict(data, &op); err != nil {
		return Op{}, fmt.Errorf("decoding op: %w", err)
	}
	if e := op.checkShape(); e != nil {
		return Op{}, e
	}
	return op, nil
}

// checkShape checks that the op's kind is known and its part is present.
func (op *Op) checkShape() *tuple.Error {
	switch op.Kind {
	case OpDml:
		if op.Dml == nil {
			return tuple.Errorf(tuple.CodeIllegalParams, "op %q without dml", op.Kind)
		}
	case OpBatch:
	case OpDdlPrepare:
		if op.Ddl == nil {
			return tuple.Errorf(tuple.CodeIllegalParams, "op %q without ddl", op.Kind)
		}
		if e := op.Ddl.checkShape(); e != nil {
			return e
		}
	case OpDdlCommit, OpDdlAbort:
	case OpAclChangeAuth:
		if op.ChangeAuth == nil {
			return tuple.Errorf(tuple.CodeIllegalParams, "op %q without change_auth", op.Kind)
		}
	case OpAcl:
		if op.Acl == nil {
			return tuple.Errorf(tuple.CodeIllegalParams, "op %q without acl", op.Kind)
		}
		if e := op.Acl.checkShape(); e != nil {
			return e
		}
	case OpNop:
	default:
		return tuple.Errorf(tuple.CodeIllegalParams, "unknown op kind %q", op.Kind)
	}
	return nil
}

// Dmls returns the op's DML operations: its Dml, or a batch's Ops (nil for
// DDL and nop).
func (op Op) Dmls() []Dml {
	switch op.Kind {
	case OpDml:
		if op.Dml != nil {
			return []Dml{*op.Dml}
		}
	case OpBatch:
		return op.Ops
	}
	return nil
}

// Constructors. They panic if a value cannot be encoded as msgpack (a
// programming error).

// Insert is an insert of a row given by its field values.
func Insert(table uint32, fields ...any) Dml {
	return Dml{Kind: DmlInsert, Table: table, Tuple: tuple.MustMarshal(fields)}
}

// Replace is a replace of a row given by its field values.
func Replace(table uint32, fields ...any) Dml {
	return Dml{Kind: DmlReplace, Table: table, Tuple: tuple.MustMarshal(fields)}
}

// Update updates the row with primary key key by ops ([op, field, arg]).
func Update(table uint32, key []any, ops ...[]any) Dml {
	return Dml{Kind: DmlUpdate, Table: table, Key: tuple.MustMarshal(key), Ops: ops}
}

// Delete deletes the row with the given primary key values.
func Delete(table uint32, key ...any) Dml {
	return Dml{Kind: DmlDelete, Table: table, Key: tuple.MustMarshal(key)}
}

// DmlOp wraps one Dml in an Op.
func DmlOp(d Dml) Op { return Op{Kind: OpDml, Dml: &d} }

// BatchOp wraps Dmls in an atomic batch Op.
func BatchOp(ds ...Dml) Op { return Op{Kind: OpBatch, Ops: ds} }

// PrepareCreateTableOp is a ddl_prepare creating a table (version 0:
// the next one).
func PrepareCreateTableOp(def schema.TableDef, version uint64) Op {
	return Op{Kind: OpDdlPrepare, Ddl: &Ddl{Kind: DdlCreateTable, Def: &def}, SchemaVersion: version}
}

// PrepareDropTableOp is a ddl_prepare dropping a table.
func PrepareDropTableOp(id uint32, version uint64) Op {
	return Op{Kind: OpDdlPrepare, Ddl: &Ddl{Kind: DdlDropTable, TableID: id}, SchemaVersion: version}
}

// PrepareCreateIndexOp is a ddl_prepare creating an index (x.TableID;
// x.ID 0: the table's next free index id; parts name fields, whose type
// and nullability come from the table's format).
func PrepareCreateIndexOp(x schema.IndexDef, version uint64) Op {
	return Op{Kind: OpDdlPrepare, Ddl: &Ddl{Kind: DdlCreateIndex, Index: &x}, SchemaVersion: version}
}

// PrepareDropIndexOp is a ddl_prepare dropping index indexID of a table.
func PrepareDropIndexOp(table, indexID uint32, version uint64) Op {
	return Op{Kind: OpDdlPrepare, Ddl: &Ddl{Kind: DdlDropIndex, TableID: table, IndexID: indexID}, SchemaVersion: version}
}

// DdlCommitOp commits the pending change of the given version (0: whatever
// is pending).
func DdlCommitOp(version uint64) Op { return Op{Kind: OpDdlCommit, SchemaVersion: version} }

// DdlAbortOp aborts the pending change of the given version (0: whatever is
// pending).
func DdlAbortOp(version uint64) Op { return Op{Kind: OpDdlAbort, SchemaVersion: version} }
