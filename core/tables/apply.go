package tables

import (
	"errors"
	"slices"

	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/schema"
	"github.com/picogo/picogo/core/storage"
	"github.com/picogo/picogo/core/tuple"
)

var _ ra.StateMachine = (*Store)(nil)

// Apply applies committed commands (ra.StateMachine): each command's Data is
// an encoded Op, and its reply is the Op's Result. A command that does not
// decode gets a Result with an ILLEGAL_PARAMS error, the same on every
// instance.
func (s *Store) Apply(cmds []ra.Command) []any {
	out := make([]any, len(cmds))
	for i, c := range cmds {
		op, err := DecodeOp(c.Data)
		if err != nil {
			var e *tuple.Error
			if !errors.As(err, &e) {
				e = tuple.Errorf(tuple.CodeIllegalParams, "undecodable command: %v", err)
			}
			out[i] = Result{Err: e}
			continue
		}
		out[i] = s.ApplyOp(op)
	}
	return out
}

// ApplyOp applies one op. It is deterministic and total: every failure is a
// Result error, and a failed op leaves the store unchanged.
func (s *Store) ApplyOp(op Op) Result {
	if e := op.checkShape(); e != nil {
		return Result{Err: e}
	}
	switch op.Kind {
	case OpDml:
		return s.applyDmls([]Dml{*op.Dml}, false)
	case OpBatch:
		if len(op.Ops) == 0 {
			return Result{Err: tuple.Errorf(tuple.CodeIllegalParams, "empty batch")}
		}
		return s.applyDmls(op.Ops, true)
	case OpDdlPrepare:
		return s.ddlPrepare(op)
	case OpDdlCommit:
		return s.ddlFinish(op, true)
	case OpDdlAbort:
		return s.ddlFinish(op, false)
	case OpAclChangeAuth:
		return s.changeAuth(*op.ChangeAuth)
	case OpAcl:
		return s.applyAcl(op)
	}
	return Result{} // OpNop
}

// applyDmls applies DML operations atomically.
func (s *Store) applyDmls(ds []Dml, batch bool) Result {
	tx := txn{s: s}
	var n uint64
	for i := range ds {
		c, e := tx.dml(&ds[i])
		if e != nil {
			tx.rollback()
			if batch {
				e = tuple.Errorf(e.Code, "batch op %d: %s", i, e.Message)
			}
			return Result{Err: e}
		}
		n += c
	}
	tx.commit()
	return Result{RowCount: n}
}

// txn makes a batch all or nothing: it stages the writes to system tables
// over the store, and applies those to engine tables at once, keeping
// their changes to undo.
type txn struct {
	s       *Store
	writes  map[uint32]map[string]*tuple.Tuple // nil Tuple: deleted; nil until a system table is written
	changes []storage.Change                   // applied to the engine, in order
}

// get reads the row with encoded primary key key (values pk).
func (tx *txn) get(t *table, key string, pk []any) (tuple.Tuple, bool) {
	if t.inEngine() {
		tup, ok, _ := tx.s.eng.Get(t.def.ID, 0, pk) // the key has been checked
		return tup, ok
	}
	if w, ok := tx.writes[t.def.ID][key]; ok {
		if w == nil {
			return tuple.Tuple{}, false
		}
		return *w, true
	}
	tup, ok := t.rows[key]
	return tup, ok
}

// set writes (tup != nil) or deletes the row with encoded primary key key
// (values pk). Writing to an engine table fails with TUPLE_FOUND when a
// unique secondary index has the row's key.
func (tx *txn) set(t *table, key string, pk []any, tup *tuple.Tuple) *tuple.Error {
	if t.inEngine() {
		var c storage.Change
		var e *tuple.Error
		if tup == nil {
			c, e = tx.s.eng.Delete(t.def.ID, 0, pk)
		} else {
			c, e = tx.s.eng.Replace(t.def.ID, *tup)
		}
		if e == nil {
			tx.changes = append(tx.changes, c)
		}
		return e
	}
	if tx.writes == nil {
		tx.writes = map[uint32]map[string]*tuple.Tuple{}
	}
	w := tx.writes[t.def.ID]
	if w == nil {
		w = map[string]*tuple.Tuple{}
		tx.writes[t.def.ID] = w
	}
	w[key] = tup
	return nil
}

// rollback undoes the changes applied to the engine, the last first.
func (tx *txn) rollback() {
	for i := len(tx.changes) - 1; i >= 0; i-- {
		if e := tx.s.eng.Undo(tx.changes[i]); e != nil {
			panic("tables: undoing a change of a failed batch: " + e.Message)
		}
	}
}

func (tx *txn) commit() {
	for _, c := range tx.changes {
		tx.s.tables[c.Table].writes++
	}
	ids := make([]uint32, 0, len(tx.writes))
	for id := range tx.writes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		t := tx.s.tables[id]
		w := tx.writes[id]
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			t.set(k, w[k])
		}
	}
}

// dml applies one operation to the transaction and returns its row count.
func (tx *txn) dml(d *Dml) (uint64, *tuple.Error) {
	t, ok := tx.s.tables[d.Table]
	if !ok {
		return 0, errNoSuchTable(d.Table)
	}
	def := &t.def
	if definesTables(d.Table) {
		return 0, tuple.Errorf(tuple.CodeIllegalParams, "space '%s' is changed only by DDL", def.Name)
	}
	if !def.Operable {
		return 0, errNotOperable(def.Name)
	}
	if def.IsSharded() {
		return 0, tuple.Errorf(tuple.CodeUnsupported,
			"space '%s' is sharded: its rows live in the storage of tier %s, not in the global tables", def.Name, def.Tier)
	}
	switch d.Kind {
	case DmlInsert, DmlReplace:
		if len(d.Tuple) == 0 || len(d.Key) != 0 || len(d.Ops) != 0 {
			return 0, tuple.Errorf(tuple.CodeIllegalParams, "%s takes a tuple only", d.Kind)
		}
		tup, e := newRow(def, d.Tuple)
		if e != nil {
			return 0, e
		}
		pk := def.KeyValues(tup.Values())
		var key string // a system table's row key; the engine's tables go by pk
		if !t.inEngine() {
			k, _ := def.RowKey(tup.Values()) // CheckTuple has checked the key types
			key = string(k)
		}
		if old, exists := tx.get(t, key, pk); exists && d.Kind == DmlInsert {
			return 0, tuple.Errorf(tuple.CodeTupleFound,
				"Duplicate key exists in unique index \"%s\" in space \"%s\" with old tuple - %s and new tuple - %s",
				def.PkName(), def.Name, old, tup)
		}
		if e := tx.set(t, key, pk, &tup); e != nil {
			return 0, e
		}
		return 1, nil
	case DmlUpdate, DmlDelete:
		if len(d.Key) == 0 || len(d.Tuple) != 0 || (d.Kind == DmlDelete && len(d.Ops) != 0) {
			return 0, tuple.Errorf(tuple.CodeIllegalParams, "%s takes a key only", d.Kind)
		}
		keyVals, e := tuple.DecodeArray(d.Key)
		if e != nil {
			return 0, e
		}
		k, e := def.EncodeKey(keyVals)
		if e != nil {
			return 0, e
		}
		key := string(k)
		if d.Kind == DmlDelete {
			if _, exists := tx.get(t, key, keyVals); !exists {
				return 0, nil
			}
			if e := tx.set(t, key, keyVals, nil); e != nil {
				return 0, e
			}
			return 1, nil
		}
		up, e := tuple.ParseUpdate(d.Ops, def.FieldNames())
		if e != nil {
			return 0, e
		}
		old, exists := tx.get(t, key, keyVals)
		if !exists {
			return 0, nil // Tarantool: updating a missing row is no error
		}
		tup, e := up.Apply(old)
		if e != nil {
			return 0, e
		}
		if e := def.CheckTuple(tup.Values()); e != nil {
			return 0, e
		}
		if newKey, _ := def.RowKey(tup.Values()); string(newKey) != key {
			return 0, tuple.Errorf(tuple.CodeCantUpdatePrimaryKey,
				"Attempt to modify a tuple field which is part of primary index in space '%s'", def.Name)
		}
		if e := tx.set(t, key, keyVals, &tup); e != nil {
			return 0, e
		}
		return 1, nil
	}
	return 0, tuple.Errorf(tuple.CodeIllegalParams, "unknown dml kind %q", d.Kind)
}

// newRow decodes and checks a tuple for the table.
func newRow(def *schema.TableDef, raw []byte) (tuple.Tuple, *tuple.Error) {
	tup, err := tuple.New(raw)
	if err != nil {
		return tuple.Tuple{}, err.(*tuple.Error) // see tuple.New
	}
	if e := def.CheckTuple(tup.Values()); e != nil {
		return tuple.Tuple{}, e
	}
	return tup, nil
}
