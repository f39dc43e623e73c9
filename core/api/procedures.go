package api

import (
	"errors"
	"fmt"
	"math"

	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
	"github.com/vmihailenco/msgpack/v5"
)

// Access is who may call a procedure.
type Access uint8

const (
	// Admin: admin and pico_service only.
	Admin Access = iota
	// Public: any user with a session.
	Public
)

// Procedure is one procedure of the Proc API: its request type (a zero
// value) and who may call it.
type Procedure struct {
	Request Request
	Access  Access
}

// Procedures are the procedures an instance serves. A procedure is its
// request type here; package proc derives its wire codec from the type's
// `arg` tags, and core/node registers its handler in the module it belongs
// to (docs/procedures.md).
//
// Arguments: each exported field tagged `arg:"name[,option...]"` is one
// argument, in field order, a msgpack value of the field's type. Options:
//
//	optional  the argument may be left out (only trailing arguments; left
//	          out, it decodes as nil)
//	nil       the field's zero value travels as nil, and nil decodes as zero
//	empty     a nil map travels as an empty map
//	index     a Raft index: an integer, 0 or more
//
// A few field types have a wire form of their own (proc): a time.Duration
// travels as seconds (an integer or a float), a tables.Op as its encoding,
// []raft.Message as `.proc_raft_interact`'s messages, a *tables.Grade as
// {variant, incarnation}. A request whose arguments are not its fields one
// to one implements EncodeArgs and (on its pointer) DecodeArgs, as Cas
// does; one with a rule beyond its arguments' types implements CheckArgs,
// as UnlockUser does.
var Procedures = []Procedure{
	{VersionInfo{}, Public},
	{RaftInfo{}, Admin},
	{GetIndex{}, Admin},
	{ReadIndex{}, Admin},
	{WaitIndex{}, Admin},
	{RaftPromote{}, Admin},
	{RaftInteract{}, Admin},
	{SnapshotNextChunk{}, Admin},
	{Cas{}, Admin},
	{Discover{}, Admin},
	{RaftJoin{}, Admin},
	{UpdateInstance{}, Admin},
	{Expel{}, Admin},
	{ExpelRedirect{}, Admin},
	{ReplicasetWeight{}, Admin},
	{InstanceInfo{}, Admin},
	{RuntimeInfo{}, Admin},
	{Replication{}, Admin},
	{Sharding{}, Admin},
	{ShardingBootstrap{}, Admin},
	{ApplySchemaChange{}, Admin},
	{GetVClock{}, Admin},
	{WaitVClock{}, Admin},
	{ReplicationDemote{}, Admin},
	{ReplicationPromote{}, Admin},
	{ReplicasetShip{}, Admin},
	{UnlockUser{}, Admin},
	{GetPeerAddress{}, Admin},
	{RouterInsert{}, Admin}, {RouterReplace{}, Admin}, {RouterDelete{}, Admin}, {RouterGet{}, Admin}, {RouterScan{}, Admin},
	{BucketExport{}, Admin},
	{BucketImport{}, Admin},
	{BucketDelete{}, Admin},
	{SQL{}, Public},
	{SQLLocal{}, Admin},
	{SQLInsert{}, Admin},
	{RoleStart{}, Admin},
	{RoleStop{}, Admin},
	{RoleEnable{}, Admin},
	{RoleDisable{}, Admin},
	{RoleConfig{}, Admin},
	{RPCCall{}, Public},
	{RPCServe{}, Admin},
}

// ArgError is argument i (from 0) named name that is not what the
// procedure takes.
func ArgError(i int, name string, err error) error {
	return fmt.Errorf("argument %d (%s): %v", i+1, name, err)
}

// EncodeArgs is `.proc_cas`'s arguments: as_user is the user's id, or its
// name when AsUserName is set.
func (c Cas) EncodeArgs() []any {
	var user any = c.AsUser
	if c.AsUserName != "" {
		user = c.AsUserName
	}
	return []any{c.ClusterID, c.Predicate, msgpack.RawMessage(c.Op.Encode()), user}
}

// DecodeArgs reads `.proc_cas`'s arguments (four: proc has counted them).
func (c *Cas) DecodeArgs(args []msgpack.RawMessage) error {
	if plain, ok := decodePlainCas(args); ok {
		op, err := tables.DecodeOp(args[2])
		if err != nil {
			return ArgError(2, "op", err)
		}
		*c = plain
		c.Op = op
		return nil
	}
	return c.decodeArgsReflect(args)
}

// decodeArgsReflect is DecodeArgs through msgpack's reflection.
func (c *Cas) decodeArgsReflect(args []msgpack.RawMessage) error {
	if err := msgpack.Unmarshal(args[0], &c.ClusterID); err != nil {
		return ArgError(0, "cluster_id", err)
	}
	if err := msgpack.Unmarshal(args[1], &c.Predicate); err != nil {
		return ArgError(1, "predicate", err)
	}
	op, err := tables.DecodeOp(args[2])
	if err != nil {
		return ArgError(2, "op", err)
	}
	c.Op = op
	var user any
	if err := msgpack.Unmarshal(args[3], &user); err != nil {
		return ArgError(3, "as_user", err)
	}
	if c.AsUser, c.AsUserName, err = asUser(user); err != nil {
		return ArgError(3, "as_user", err)
	}
	return nil
}

// asUser reads .proc_cas's as_user: a user id, or a user name (the node
// resolves it against _pico_user).
func asUser(v any) (id uint32, name string, err error) {
	if s, ok := v.(string); ok {
		if s == "" {
			return 0, "", errors.New("empty user name; want a user id or name")
		}
		return 0, s, nil
	}
	if u, ok := tuple.AsUint64(v); ok && u <= math.MaxUint32 {
		return uint32(u), "", nil
	}
	return 0, "", fmt.Errorf("%v is not a user id or name", v)
}

// CheckArgs: a user name is required.
func (r UnlockUser) CheckArgs() error {
	if r.Name == "" {
		return ArgError(0, "name", errors.New("a user name is required"))
	}
	return nil
}
