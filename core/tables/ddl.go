package tables

import (
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
)

// Direct DDL. Until the governor drives two-phase DDL (DdlPrepare, then
// DdlCommit or DdlAbort once every master has applied the change), a table
// is created or dropped by one op that takes effect when applied.

// createTable applies OpDdlCreateTable.
func (s *Store) createTable(op Op) Result {
	if e := s.refusePending(op.Kind); e != nil {
		return Result{Err: e}
	}
	def := op.Def.Clone()
	if e := s.checkNewTable(&def); e != nil {
		return Result{Err: e}
	}
	if e := validateGlobal(&def); e != nil {
		return Result{Err: e}
	}
	ver, e := s.newSchemaVersion(op.SchemaVersion)
	if e != nil {
		return Result{Err: e}
	}
	def.SchemaVersion = ver
	def.Operable = true
	s.addTable(def)
	s.putDefRows(&def)
	s.setProperty(PropGlobalSchemaVersion, ver)
	return Result{}
}

// dropTable applies OpDdlDropTable.
func (s *Store) dropTable(op Op) Result {
	if e := s.refusePending(op.Kind); e != nil {
		return Result{Err: e}
	}
	t, ok := s.tables[op.TableID]
	if !ok {
		return Result{Err: errNoSuchTable(op.TableID)}
	}
	if op.TableID < FirstUserTableID {
		return Result{Err: tuple.Errorf(tuple.CodeDropSpace, "Can't drop space '%s': it is a system space", t.def.Name)}
	}
	ver, e := s.newSchemaVersion(op.SchemaVersion)
	if e != nil {
		return Result{Err: e}
	}
	s.removeTable(op.TableID)
	s.setProperty(PropGlobalSchemaVersion, ver)
	return Result{}
}

// validateGlobal checks a definition of a global table: a valid
// definition (schema.TableDef.Validate), distributed globally, in memtx.
// The result is a CREATE_SPACE error.
func validateGlobal(def *schema.TableDef) *tuple.Error {
	if e := def.Validate(); e != nil {
		return e
	}
	switch {
	case def.Distribution != schema.DistributionGlobal:
		return tuple.Errorf(tuple.CodeCreateSpace, "Failed to create space '%s': distribution %q: only global tables are replicated by Raft",
			def.Name, def.Distribution)
	case def.Engine != schema.EngineMemtx:
		return tuple.Errorf(tuple.CodeCreateSpace, "Failed to create space '%s': engine %q: global tables use %q",
			def.Name, def.Engine, schema.EngineMemtx)
	}
	return nil
}

// newSchemaVersion is the version a DDL op moves to: requested, or the
// current one + 1 if requested is 0.
func (s *Store) newSchemaVersion(requested uint64) (uint64, *tuple.Error) {
	cur := s.SchemaVersion()
	if requested == 0 {
		return cur + 1, nil
	}
	if requested <= cur {
		return 0, tuple.Errorf(tuple.CodeWrongSchemaVersion, "Wrong schema version, current: %d, in request: %d", cur, requested)
	}
	return requested, nil
}

func (s *Store) setProperty(key string, value any) {
	s.putRow(TablePicoProperty, tuple.FromValues([]any{key, value}))
}

// refusePending refuses a direct DDL op while a two-phase change is
// pending.
func (s *Store) refusePending(kind OpKind) *tuple.Error {
	if _, v, ok := s.PendingSchemaChange(); ok {
		return tuple.Errorf(tuple.CodeIllegalParams, "%s: a schema change is pending (schema version %d): retry once it is committed or aborted", kind, v)
	}
	return nil
}
