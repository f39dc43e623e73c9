package tables

import (
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/tuple"
)

// Helpers of two-phase DDL (twophase.go).

// validateDef checks a definition and its distribution.
func validateDef(def *schema.TableDef) *tuple.Error {
	if e := def.Validate(); e != nil {
		return e
	}
	return def.ValidateDistribution()
}

// validateKept checks a definition the global tables keep: a valid
// definition and distribution (validateDef) in memtx. The result is a
// CREATE_SPACE error.
func validateKept(def *schema.TableDef) *tuple.Error {
	if e := validateDef(def); e != nil {
		return e
	}
	if def.Engine != schema.EngineMemtx {
		return tuple.Errorf(tuple.CodeCreateSpace, "Failed to create space '%s': engine %q: tables use %q",
			def.Name, def.Engine, schema.EngineMemtx)
	}
	return nil
}

// validateGlobal checks a definition of a global table: a valid
// definition (schema.TableDef.Validate), distributed globally, in memtx.
// The result is a CREATE_SPACE error.
func validateGlobal(def *schema.TableDef) *tuple.Error {
	if e := validateDef(def); e != nil {
		return e
	}
	switch {
	case def.Distribution != schema.DistributionGlobal:
		return tuple.Errorf(tuple.CodeCreateSpace, "Failed to create space '%s': distribution %q is not global",
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
