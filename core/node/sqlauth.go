package node

import (
	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/sql/plan"
	"github.com/picogo/picogo/core/tables"
)

// authorize checks a statement against the caller's privileges, as
// Picodata's model has them (_pico_privilege): READ on each table a
// statement reads, WRITE on the table it writes, CREATE on tables to
// create one, DROP on a table (or all tables) to drop it or its indexes.
// A table's owner holds every privilege on it; admin holds all.
func (m *sqlModule) authorize(user string, stmt parse.Stmt) *api.Error {
	uid, e := m.userID(user)
	if e != nil {
		return e
	}
	need := func(priv, name string) *api.Error {
		def, ok := m.tables.TableByName(name)
		if !ok {
			return nil // the statement itself says it does not exist
		}
		if def.Owner == uid && def.ID >= tables.FirstUserTableID {
			return nil
		}
		if m.tables.Granted(uid, priv, "table", int64(def.ID)) || m.tables.Granted(uid, priv, "table", -1) {
			return nil
		}
		return api.Errorf(api.CodeAccessDenied, "sql: %s access to table %s is denied for user %s", priv, name, user)
	}
	for _, t := range plan.ReadTables(stmt) {
		if e := need(tables.PrivRead, t); e != nil {
			return e
		}
	}
	switch x := stmt.(type) {
	case *parse.Insert:
		return need(tables.PrivWrite, x.Table)
	case *parse.Update:
		return need(tables.PrivWrite, x.Table)
	case *parse.Delete:
		return need(tables.PrivWrite, x.Table)
	case *parse.CreateTable:
		if !m.tables.Granted(uid, tables.PrivCreate, "table", -1) {
			return api.Errorf(api.CodeAccessDenied, "sql: create access to tables is denied for user %s", user)
		}
	case *parse.DropTable:
		return need(tables.PrivDrop, x.Name)
	case *parse.CreateIndex:
		return need(tables.PrivCreate, x.Table)
	case *parse.DropIndex:
		if idx, ok := m.findIndex(x.Name); ok {
			if def, ok := m.tables.Table(idx.TableID); ok {
				return need(tables.PrivDrop, def.Name)
			}
		}
	}
	return nil
}
