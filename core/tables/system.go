package tables

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

	TablePicoTableName       = "_pico_table"
	TablePicoIndexName       = "_pico_index"
	TablePicoPeerAddressName = "_pico_peer_address"
	TablePicoInstanceName    = "_pico_instance"
	TablePicoPropertyName    = "_pico_property"
	TablePicoReplicasetName  = "_pico_replicaset"
	TablePicoUserName        = "_pico_user"
	TablePicoPrivilegeName   = "_pico_privilege"
	TablePicoTierName        = "_pico_tier"
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
)

// AdminID is the id of the admin user, owner of the system tables.
const AdminID uint32 = 1

// SystemTables returns the definitions of the system tables, in id order.
// A fresh Store has their _pico_table and _pico_index rows.
func SystemTables() []TableDef {
	sys := func(id uint32, name string, pk []uint32, format ...Field) TableDef {
		return TableDef{ID: id, Name: name, Distribution: DistributionGlobal, Format: format,
			PrimaryKey: pk, Operable: true, Engine: EngineMemtx, Owner: AdminID}
	}
	f := func(name string, t FieldType) Field { return Field{Name: name, Type: t} }
	return []TableDef{
		sys(TablePicoTable, TablePicoTableName, []uint32{0},
			f("id", TypeUnsigned), f("name", TypeString), f("distribution", TypeString),
			f("format", TypeArray), f("schema_version", TypeUnsigned), f("operable", TypeBoolean),
			f("engine", TypeString), f("owner", TypeUnsigned), f("description", TypeString)),
		sys(TablePicoIndex, TablePicoIndexName, []uint32{0, 1},
			f("table_id", TypeUnsigned), f("id", TypeUnsigned), f("name", TypeString),
			f("type", TypeString), f("opts", TypeMap), f("parts", TypeArray),
			f("operable", TypeBoolean), f("schema_version", TypeUnsigned)),
		sys(TablePicoPeerAddress, TablePicoPeerAddressName, []uint32{0},
			f("raft_id", TypeUnsigned), f("address", TypeString)),
		sys(TablePicoInstance, TablePicoInstanceName, []uint32{0},
			f("instance_id", TypeString), f("instance_uuid", TypeString), f("raft_id", TypeUnsigned),
			f("replicaset_id", TypeString), f("replicaset_uuid", TypeString),
			f("current_grade", TypeArray), f("target_grade", TypeArray),
			f("failure_domain", TypeMap), f("tier", TypeString)),
		sys(TablePicoProperty, TablePicoPropertyName, []uint32{0},
			f("key", TypeString), f("value", TypeAny)),
		sys(TablePicoReplicaset, TablePicoReplicasetName, []uint32{0},
			f("replicaset_id", TypeString), f("replicaset_uuid", TypeString),
			f("current_master_id", TypeString), f("target_master_id", TypeString),
			f("tier", TypeString), f("weight", TypeDouble), f("state", TypeString),
			f("current_config_version", TypeUnsigned), f("target_config_version", TypeUnsigned),
			f("promotion_vclock", TypeMap)),
		sys(TablePicoUser, TablePicoUserName, []uint32{0},
			f("id", TypeUnsigned), f("name", TypeString), f("schema_version", TypeUnsigned),
			Field{Name: "auth", Type: TypeAny, Nullable: true}, f("owner", TypeUnsigned)),
		// pk (grantee_id, object_type, object_id, privilege)
		sys(TablePicoPrivilege, TablePicoPrivilegeName, []uint32{1, 3, 4, 2},
			f("grantor_id", TypeUnsigned), f("grantee_id", TypeUnsigned), f("privilege", TypeString),
			f("object_type", TypeString), f("object_id", TypeInteger), f("schema_version", TypeUnsigned)),
		sys(TablePicoTier, TablePicoTierName, []uint32{0},
			f("name", TypeString), f("replication_factor", TypeUnsigned), f("can_vote", TypeBoolean),
			f("current_vshard_config_version", TypeUnsigned), f("target_vshard_config_version", TypeUnsigned),
			f("vshard_bootstrapped", TypeBoolean), f("bucket_count", TypeUnsigned)),
	}
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
