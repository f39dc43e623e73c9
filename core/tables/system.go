package tables

import (
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
)

// System table ids and names.
const (
	TablePicoTable       uint32 = 512
	TablePicoIndex       uint32 = 513
	TablePicoPeerAddress uint32 = 514
	TablePicoInstance    uint32 = 515
	TablePicoProperty    uint32 = 516
	TablePicoReplicaset  uint32 = 517
	TablePicoUser        uint32 = 520
	TablePicoPrivilege   uint32 = 521
	TablePicoTier        uint32 = 523
	// TablePicoBucket is picogo's own (Picodata leaves bucket ownership to
	// vshard's local _bucket spaces): who owns each bucket range.
	TablePicoBucket uint32 = 540

	TablePicoTableName       = "_pico_table"
	TablePicoIndexName       = "_pico_index"
	TablePicoPeerAddressName = "_pico_peer_address"
	TablePicoInstanceName    = "_pico_instance"
	TablePicoPropertyName    = "_pico_property"
	TablePicoReplicasetName  = "_pico_replicaset"
	TablePicoUserName        = "_pico_user"
	TablePicoPrivilegeName   = "_pico_privilege"
	TablePicoTierName        = "_pico_tier"
	TablePicoBucketName      = "_pico_bucket"
)

// FirstUserTableID is the smallest id of a user table; ids below it are
// reserved for system tables.
const FirstUserTableID uint32 = 1024

// Keys of _pico_property.
const (
	PropGlobalSchemaVersion  = "global_schema_version"
	PropNextSchemaVersion    = "next_schema_version"
	PropPendingSchemaChange  = "pending_schema_change"
	PropPendingSchemaVersion = "pending_schema_version"
	// PropNextTableID is the smallest id a create_table may assign: one more
	// than any id a prepared create ever took, so that the id of a dropped
	// (or aborted) table is never handed out again. Picodata has no such
	// key (it takes the smallest id above the largest existing one).
	PropNextTableID = "next_table_id"
)

// AdminID is the id of the admin user, owner of the system tables.
const AdminID uint32 = 1

// SystemTables returns the definitions of the system tables, in id order.
// A fresh Store has their _pico_table and _pico_index rows.
func SystemTables() []schema.TableDef {
	sys := func(id uint32, name string, pk []uint32, format ...schema.Field) schema.TableDef {
		return schema.TableDef{ID: id, Name: name, Distribution: schema.DistributionGlobal, Format: format,
			PrimaryKey: pk, Operable: true, Engine: schema.EngineMemtx, Owner: AdminID}
	}
	f := func(name string, t tuple.FieldType) schema.Field { return schema.Field{Name: name, Type: t} }
	defs := []schema.TableDef{
		sys(TablePicoTable, TablePicoTableName, []uint32{0},
			f("id", tuple.TypeUnsigned), f("name", tuple.TypeString), f("distribution", tuple.TypeMap),
			f("format", tuple.TypeArray), f("schema_version", tuple.TypeUnsigned), f("operable", tuple.TypeBoolean),
			f("engine", tuple.TypeString), f("owner", tuple.TypeUnsigned), f("description", tuple.TypeString)),
		sys(TablePicoIndex, TablePicoIndexName, []uint32{0, 1},
			f("table_id", tuple.TypeUnsigned), f("id", tuple.TypeUnsigned), f("name", tuple.TypeString),
			f("type", tuple.TypeString), f("opts", tuple.TypeMap), f("parts", tuple.TypeArray),
			f("operable", tuple.TypeBoolean), f("schema_version", tuple.TypeUnsigned)),
		sys(TablePicoPeerAddress, TablePicoPeerAddressName, []uint32{0},
			f("raft_id", tuple.TypeUnsigned), f("address", tuple.TypeString)),
		sys(TablePicoInstance, TablePicoInstanceName, []uint32{0},
			f("instance_id", tuple.TypeString), f("instance_uuid", tuple.TypeString), f("raft_id", tuple.TypeUnsigned),
			f("replicaset_id", tuple.TypeString), f("replicaset_uuid", tuple.TypeString),
			f("current_grade", tuple.TypeArray), f("target_grade", tuple.TypeArray),
			f("failure_domain", tuple.TypeMap), f("tier", tuple.TypeString)),
		sys(TablePicoProperty, TablePicoPropertyName, []uint32{0},
			f("key", tuple.TypeString), f("value", tuple.TypeAny)),
		sys(TablePicoReplicaset, TablePicoReplicasetName, []uint32{0},
			f("replicaset_id", tuple.TypeString), f("replicaset_uuid", tuple.TypeString),
			f("current_master_id", tuple.TypeString), f("target_master_id", tuple.TypeString),
			f("tier", tuple.TypeString), f("weight", tuple.TypeDouble), f("state", tuple.TypeString),
			f("current_config_version", tuple.TypeUnsigned), f("target_config_version", tuple.TypeUnsigned),
			f("promotion_vclock", tuple.TypeMap)),
		sys(TablePicoUser, TablePicoUserName, []uint32{0},
			f("id", tuple.TypeUnsigned), f("name", tuple.TypeString), f("schema_version", tuple.TypeUnsigned),
			schema.Field{Name: "auth", Type: tuple.TypeAny, Nullable: true}, f("owner", tuple.TypeUnsigned),
			f("type", tuple.TypeString)),
		// pk (grantee_id, object_type, object_id, privilege)
		sys(TablePicoPrivilege, TablePicoPrivilegeName, []uint32{1, 3, 4, 2},
			f("grantor_id", tuple.TypeUnsigned), f("grantee_id", tuple.TypeUnsigned), f("privilege", tuple.TypeString),
			f("object_type", tuple.TypeString), f("object_id", tuple.TypeInteger), f("schema_version", tuple.TypeUnsigned)),
		sys(TablePicoTier, TablePicoTierName, []uint32{0},
			f("name", tuple.TypeString), f("replication_factor", tuple.TypeUnsigned), f("can_vote", tuple.TypeBoolean),
			f("current_vshard_config_version", tuple.TypeUnsigned), f("target_vshard_config_version", tuple.TypeUnsigned),
			f("vshard_bootstrapped", tuple.TypeBoolean), f("bucket_count", tuple.TypeUnsigned),
			f("is_sync", tuple.TypeBoolean)),
		sys(TablePicoBucket, TablePicoBucketName, []uint32{0, 1},
			f("tier", tuple.TypeString), f("first", tuple.TypeUnsigned), f("last", tuple.TypeUnsigned),
			f("replicaset_id", tuple.TypeString), f("state", tuple.TypeString),
			f("destination", tuple.TypeString), f("garbage", tuple.TypeString)),
	}
	return append(defs, roleTables(sys, f)...)
}

// DmlAllowed reports whether plain DML (insert, replace, update, delete,
// batch) may write the table. _pico_table, _pico_index, _pico_user and
// _pico_privilege change only through DDL and ACL ops: CaS refuses plain
// DML into them with TableNotAllowed. (Apply itself refuses plain DML into
// _pico_table and _pico_index, whose rows define the tables, and applies
// it to _pico_user and _pico_privilege.)
func DmlAllowed(table uint32) bool {
	switch table {
	case TablePicoTable, TablePicoIndex, TablePicoUser, TablePicoPrivilege:
		return false
	}
	return true
}

// definesTables reports whether the table's rows are table definitions,
// which Apply lets only DDL write.
func definesTables(table uint32) bool {
	return table == TablePicoTable || table == TablePicoIndex
}
