package node

import (
	"strings"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/sql/value"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/core/tuple"
)

// Schema changes: a statement proposes the two-phase DDL's prepare (a
// CaS through the leader), and answers once the governor has committed or
// aborted it — as applied on this instance — or when its timeout (OPTION
// (TIMEOUT = seconds), default 10) passes; the change may still finish
// after a timeout.

// ddlWait is a statement waiting for its schema change to finish: done
// says whether it has, and how.
type ddlWait struct {
	s        *statement
	deadline int
	done     func() (finished bool, err *api.Error)
}

// checkDDL answers the statements whose schema change finished or whose
// time is up (every tick).
func (m *sqlModule) checkDDL() {
	kept := m.ddl[:0]
	for _, w := range m.ddl {
		if finished, err := w.done(); finished {
			if err != nil {
				w.s.reply(nil, err)
			} else {
				w.s.count(1)
			}
			continue
		}
		if m.ticks >= w.deadline {
			w.s.reply(nil, api.Errorf(api.CodeTimeout, "sql: the schema change did not finish in %v (it may still): raise OPTION (TIMEOUT = seconds)", w.s.timeout))
			continue
		}
		kept = append(kept, w)
	}
	m.ddl = kept
}

// schemaChange proposes op, a ddl_prepare, and waits for done.
func (s *statement) schemaChange(op tables.Op, done func() (bool, *api.Error)) {
	if s.timeout == s.m.cfg.RequestTimeout {
		s.timeout = max(s.timeout, defaultDDLTimeout)
	}
	uid, e := s.m.userID(s.user)
	if e != nil {
		s.reply(nil, e)
		return
	}
	st := s.m.ra.BasicStatus()
	term, _ := s.m.ra.Term(st.Applied)
	req := api.Cas{ClusterID: s.m.cfg.ClusterID, AsUser: uid, Op: op, Predicate: api.Predicate{Index: st.Applied, Term: term}}
	deadline := s.m.ticks + s.m.cfg.ticks(s.timeout)
	s.m.toLeader(req, func(result any, err *api.Error) {
		if err != nil {
			s.reply(nil, err)
			return
		}
		index, _ := casIndex(result)
		s.waitApplied(index, func() {
			s.m.ddl = append(s.m.ddl, &ddlWait{s: s, deadline: deadline, done: done})
			s.m.checkDDL()
		})
	})
}

// pending reports whether a schema change on table id (0: named name) is
// still pending.
func (m *sqlModule) pending(id uint32, name string) bool {
	ddl, _, ok := m.tables.PendingSchemaChange()
	if !ok {
		return false
	}
	switch {
	case ddl.Def != nil:
		return ddl.Def.Name == name
	case ddl.Index != nil:
		return ddl.Index.TableID == id
	}
	return ddl.TableID == id
}

func aborted(what string) *api.Error {
	return api.Errorf(api.CodeDdlAborted, "sql: %s: the schema change was aborted (see the leader's log for why)", what)
}

func (s *statement) createTable(x *parse.CreateTable) {
	if _, exists := s.m.tables.TableByName(x.Name); exists {
		if x.IfNotExists {
			s.count(0)
			return
		}
		s.fail(tuple.Errorf(tuple.CodeSpaceExists, "table %s already exists", x.Name))
		return
	}
	def, err := s.tableDef(x)
	if err != nil {
		s.fail(err)
		return
	}
	s.schemaChange(tables.PrepareCreateTableOp(def, 0), func() (bool, *api.Error) {
		if s.m.pending(0, x.Name) {
			return false, nil
		}
		if t, ok := s.m.tables.TableByName(x.Name); ok && t.Operable {
			return true, nil
		}
		return true, aborted("CREATE TABLE " + x.Name)
	})
}

// tableDef is CREATE TABLE's definition: column types and nullability
// (primary key columns are NOT NULL), the primary key (given on a column or
// as PRIMARY KEY (...)), and the distribution — sharded by the primary key
// in the tier of the instance when the statement does not say.
func (s *statement) tableDef(x *parse.CreateTable) (schema.TableDef, *tuple.Error) {
	def := schema.TableDef{Name: x.Name, Engine: schema.EngineMemtx}
	if x.Engine != "" && x.Engine != schema.EngineMemtx {
		return def, tuple.Errorf(tuple.CodeUnsupported, "engine %s is not supported: only memtx", x.Engine)
	}
	pk := x.PrimaryKey
	for _, c := range x.Columns {
		if c.PrimaryKey {
			if x.PrimaryKey != nil || len(pk) > 0 && len(x.PrimaryKey) == 0 && pk[0] != c.Name {
				return def, tuple.Errorf(tuple.CodeCreateSpace, "table %s: the primary key is given twice", x.Name)
			}
			pk = []string{c.Name}
		}
	}
	if len(pk) == 0 {
		return def, tuple.Errorf(tuple.CodeCreateSpace, "table %s: a primary key is required", x.Name)
	}
	for _, c := range x.Columns {
		typ, err := value.ParseType(c.Type.Name, c.Type.Args)
		if err != nil {
			return def, err
		}
		inPK := false
		for _, p := range pk {
			inPK = inPK || p == c.Name
		}
		if inPK && c.Null == parse.Nullable {
			return def, tuple.Errorf(tuple.CodeCreateSpace, "table %s: primary key column %s cannot be NULL", x.Name, c.Name)
		}
		def.Format = append(def.Format, schema.Field{Name: c.Name, Type: typ, Nullable: !inPK && c.Null != parse.NotNull})
	}
	for _, p := range pk {
		i, ok := def.FieldIndex(p)
		if !ok {
			return def, tuple.Errorf(tuple.CodeCreateSpace, "table %s: primary key column %s is not a column", x.Name, p)
		}
		def.PrimaryKey = append(def.PrimaryKey, uint32(i))
	}
	if uid, e := s.m.userID(s.user); e == nil {
		def.Owner = uid
	}
	switch x.Distribution {
	case parse.DistGlobal:
		def.Distribution = schema.DistributionGlobal
	default:
		def.Distribution = schema.DistributionSharded
		def.ShardingFn = schema.ShardingFnMurmur3
		def.ShardingKey = x.ShardingKey
		if len(def.ShardingKey) == 0 {
			def.ShardingKey = pk
		}
		def.Tier = x.Tier
		if def.Tier == "" {
			def.Tier = s.m.data.tier()
		}
		if def.Tier == "" {
			def.Tier = DefaultTier
		}
	}
	return def, nil
}

func (s *statement) dropTable(x *parse.DropTable) {
	def, exists := s.m.tables.TableByName(x.Name)
	if !exists {
		if x.IfExists {
			s.count(0)
			return
		}
		s.fail(tuple.Errorf(tuple.CodeSQLUnknownTable, "table %s does not exist", x.Name))
		return
	}
	id := def.ID
	s.schemaChange(tables.PrepareDropTableOp(id, 0), func() (bool, *api.Error) {
		if s.m.pending(id, x.Name) {
			return false, nil
		}
		if _, ok := s.m.tables.Table(id); ok {
			return true, aborted("DROP TABLE " + x.Name)
		}
		return true, nil
	})
}

// findIndex finds an index by name among every table's.
func (m *sqlModule) findIndex(name string) (schema.IndexDef, bool) {
	for _, t := range m.tables.Tables() {
		for _, x := range m.tables.Indexes(t.ID) {
			if x.Name == name {
				return x, true
			}
		}
	}
	return schema.IndexDef{}, false
}

func (s *statement) createIndex(x *parse.CreateIndex) {
	if _, exists := s.m.findIndex(x.Name); exists {
		if x.IfNotExists {
			s.count(0)
			return
		}
		s.fail(tuple.Errorf(tuple.CodeIndexExists, "index %s already exists", x.Name))
		return
	}
	def, ok := s.m.tables.TableByName(x.Table)
	if !ok {
		s.fail(tuple.Errorf(tuple.CodeSQLUnknownTable, "table %s does not exist", x.Table))
		return
	}
	if x.Using != "" && !strings.EqualFold(x.Using, schema.IndexTypeTree) {
		s.fail(tuple.Errorf(tuple.CodeUnsupported, "index type %s is not supported: only tree", x.Using))
		return
	}
	idx := schema.IndexDef{TableID: def.ID, Name: x.Name, Type: schema.IndexTypeTree, Opts: map[string]any{"unique": x.Unique}}
	for _, c := range x.Columns {
		idx.Parts = append(idx.Parts, schema.IndexPart{Field: c})
	}
	table := def.ID
	s.schemaChange(tables.PrepareCreateIndexOp(idx, 0), func() (bool, *api.Error) {
		if s.m.pending(table, "") {
			return false, nil
		}
		if got, ok := s.m.findIndex(x.Name); ok && got.Operable {
			return true, nil
		}
		return true, aborted("CREATE INDEX " + x.Name)
	})
}

func (s *statement) dropIndex(x *parse.DropIndex) {
	idx, exists := s.m.findIndex(x.Name)
	if !exists {
		if x.IfExists {
			s.count(0)
			return
		}
		s.fail(tuple.Errorf(tuple.CodeNoSuchIndexName, "index %s does not exist", x.Name))
		return
	}
	if idx.ID == 0 {
		s.fail(tuple.Errorf(tuple.CodeDropPrimaryKey, "index %s is a primary key: drop the table instead", x.Name))
		return
	}
	s.schemaChange(tables.PrepareDropIndexOp(idx.TableID, idx.ID, 0), func() (bool, *api.Error) {
		if s.m.pending(idx.TableID, "") {
			return false, nil
		}
		if _, ok := s.m.findIndex(x.Name); ok {
			return true, aborted("DROP INDEX " + x.Name)
		}
		return true, nil
	})
}
