package storage

import (
	"fmt"

	"github.com/picogo/picogo/core/tuple"
)

// Change is what one write did to one table: the tuple it removed (Old)
// and the one it stored (New); a missing side is the zero Tuple (Raw() is
// nil). Insert has New only, delete Old only, replace, update and upsert
// both (or New only if nothing was replaced). A write that changed nothing
// (a delete or update of a missing key, an upsert whose operations all
// failed) is an empty Change. A Change is the unit a write-ahead log
// records and a replica applies (Apply); Undo reverses it.
//
// A batch's change (Exec of an OpBatch) is a Change with Batch set: the
// row changes of its ops, in order, each a single row's change (never
// empty, never a batch itself); Table, Old and New are then unused. Apply
// and Undo take it whole or not at all.
type Change struct {
	Table uint32
	Old   tuple.Tuple
	New   tuple.Tuple
	// Batch: the row changes of a batch, in the order they were made (nil
	// for a single row's change).
	Batch []Change
}

// Empty reports whether the change changed nothing.
func (c Change) Empty() bool {
	return c.Old.Raw() == nil && c.New.Raw() == nil && len(c.Batch) == 0
}

// IsBatch reports whether the change is a batch's (Batch is not nil).
func (c Change) IsBatch() bool { return c.Batch != nil }

// Rows is the number of rows the change changed: a batch's row changes, 1
// for a single row's change, 0 for an empty one.
func (c Change) Rows() int {
	switch {
	case c.IsBatch():
		return len(c.Batch)
	case c.Empty():
		return 0
	}
	return 1
}

func present(t tuple.Tuple) bool { return t.Raw() != nil }

// Insert stores a tuple whose primary key is new. Errors: NO_SUCH_SPACE,
// FIELD_MISSING, FIELD_TYPE (the tuple does not fit the format),
// TUPLE_FOUND (its key exists in a unique index).
func (e *Engine) Insert(table uint32, t tuple.Tuple) (Change, *tuple.Error) {
	s, err := e.space(table)
	if err != nil {
		return Change{}, err
	}
	if err := s.validate(t.Values()); err != nil {
		return Change{}, err
	}
	if old, ok := s.lookupPK(t); ok {
		return Change{}, duplicate(s, s.pk(), old, t)
	}
	return s.replace(tuple.Tuple{}, t)
}

// Replace stores a tuple, replacing the one with its primary key if any.
// Errors as Insert's; TUPLE_FOUND only from a secondary unique index.
func (e *Engine) Replace(table uint32, t tuple.Tuple) (Change, *tuple.Error) {
	s, err := e.space(table)
	if err != nil {
		return Change{}, err
	}
	if err := s.validate(t.Values()); err != nil {
		return Change{}, err
	}
	old, _ := s.lookupPK(t)
	return s.replace(old, t)
}

// Delete removes the tuple with a key of a unique index. A missing tuple is
// no error (an empty Change). Errors: NO_SUCH_SPACE, NO_SUCH_INDEX_ID,
// MORE_THAN_ONE_TUPLE (a non-unique index), EXACT_MATCH, KEY_PART_TYPE.
func (e *Engine) Delete(table, index uint32, key []any) (Change, *tuple.Error) {
	s, old, err := e.find(table, index, key)
	if err != nil || !present(old) {
		return Change{}, err
	}
	return s.replace(old, tuple.Tuple{})
}

// Update applies update operations (tuple.ParseUpdate's) to the tuple with
// a key of a unique index. A missing tuple is no error (an empty Change),
// and then the operations are not even checked, as in Tarantool. Errors:
// those of Delete, of the operations, FIELD_TYPE for the result, and for a
// result with another primary key TUPLE_FOUND if that key is taken,
// CANT_UPDATE_PRIMARY_KEY if not (Tarantool's replace_check_dup); then
// TUPLE_FOUND from a secondary unique index.
func (e *Engine) Update(table, index uint32, key []any, ops [][]any) (Change, *tuple.Error) {
	s, old, err := e.find(table, index, key)
	if err != nil || !present(old) {
		return Change{}, err
	}
	up, err := tuple.ParseUpdate(ops, s.names)
	if err != nil {
		return Change{}, err
	}
	t, err := up.Apply(old)
	if err != nil {
		return Change{}, err
	}
	if err := s.validate(t.Values()); err != nil {
		return Change{}, err
	}
	if !samePK(s, old, t) {
		if taken, ok := s.lookupPK(t); ok {
			return Change{}, duplicate(s, s.pk(), taken, t)
		}
		return Change{}, cantUpdatePK(s)
	}
	return s.replace(old, t)
}

// Upsert inserts the tuple if its primary key is new; otherwise it applies
// the operations to the stored tuple, as Tarantool does: an operation that
// fails on the stored tuple is skipped (reported to OnUpsertError) and the
// others apply; a result that changes the primary key is dropped (reported
// too) and the stored tuple stays. Errors: the tuple's format errors and
// the operations' parse errors (whether or not the key exists), the
// result's FIELD_TYPE, TUPLE_FOUND from a secondary unique index.
func (e *Engine) Upsert(table uint32, t tuple.Tuple, ops [][]any) (Change, *tuple.Error) {
	s, err := e.space(table)
	if err != nil {
		return Change{}, err
	}
	if err := s.validate(t.Values()); err != nil {
		return Change{}, err
	}
	up, err := tuple.ParseUpdate(ops, s.names)
	if err != nil {
		return Change{}, err
	}
	old, ok := s.lookupPK(t)
	if !ok {
		return s.replace(tuple.Tuple{}, t)
	}
	nt, skipped := up.ApplyUpsert(old)
	for _, se := range skipped {
		e.upsertError(table, se)
	}
	if !present(nt) {
		return Change{}, nil
	}
	if err := s.validate(nt.Values()); err != nil {
		return Change{}, err
	}
	if !samePK(s, old, nt) {
		e.upsertError(table, cantUpdatePK(s))
		return Change{}, nil
	}
	return s.replace(old, nt)
}

func (e *Engine) upsertError(table uint32, err *tuple.Error) {
	if e.OnUpsertError != nil {
		e.OnUpsertError(table, err)
	}
}

func cantUpdatePK(s *space) *tuple.Error {
	return tuple.Errorf(tuple.CodeCantUpdatePrimaryKey,
		"Attempt to modify a tuple field which is part of primary index in space '%s'", s.def.Name)
}

func samePK(s *space, a, b tuple.Tuple) bool {
	return tuple.CompareValues(s.pk().keyOf(a.Values()), s.pk().keyOf(b.Values())) == 0
}

// Get returns the tuple with a key of a unique index. Errors: as Delete's.
func (e *Engine) Get(table, index uint32, key []any) (tuple.Tuple, bool, *tuple.Error) {
	_, t, err := e.find(table, index, key)
	return t, present(t), err
}

// find resolves a unique index and a full key to the tuple (zero if none).
func (e *Engine) find(table, id uint32, key []any) (*space, tuple.Tuple, *tuple.Error) {
	s, err := e.space(table)
	if err != nil {
		return nil, tuple.Tuple{}, err
	}
	x, err := s.index(id)
	if err != nil {
		return nil, tuple.Tuple{}, err
	}
	if !x.unique {
		return nil, tuple.Tuple{}, tuple.Errorf(tuple.CodeMoreThanOneTuple, "Get() doesn't support partial keys and non-unique indexes")
	}
	if err := checkKey(x, key, true); err != nil {
		return nil, tuple.Tuple{}, err
	}
	en, ok := x.first(key)
	if !ok {
		return s, tuple.Tuple{}, nil
	}
	return s, en.tup, nil
}

// lookupPK finds the stored tuple with t's primary key.
func (s *space) lookupPK(t tuple.Tuple) (tuple.Tuple, bool) {
	pk := s.pk()
	en, ok := pk.tree.GetHint(entry{key: pk.keyOf(t.Values())}, &pk.hint)
	return en.tup, ok
}

// replace swaps old (if present: the stored tuple with new's primary key,
// or the tuple to delete) for new (if present) in every index, after
// checking new against the unique secondary indexes. new has been
// validated. It is all or nothing.
func (s *space) replace(old, new tuple.Tuple) (Change, *tuple.Error) {
	pk := s.pk()
	if present(new) {
		for _, x := range s.indexes[1:] {
			if !x.unique {
				continue
			}
			k := x.keyOf(new.Values())
			if x.nullable && hasNull(k) {
				continue
			}
			dup, ok := x.first(k)
			if ok && !(present(old) && samePK(s, dup.tup, old)) {
				return Change{}, duplicate(s, x, dup.tup, new)
			}
		}
	}
	for i, x := range s.indexes {
		var pkx *index
		if i > 0 {
			pkx = pk
		}
		if present(old) {
			x.tree.DeleteHint(x.entryOf(old, pkx), &x.hint)
		}
		if present(new) {
			x.tree.SetHint(x.entryOf(new, pkx), &x.hint)
		}
	}
	if present(old) {
		s.bytes -= int64(len(old.Raw()))
	}
	if present(new) {
		s.bytes += int64(len(new.Raw()))
	}
	return Change{Table: s.def.ID, Old: old, New: new}, nil
}

// Apply replays a change made by an engine with the same tables (a
// write-ahead log's record, a master's row on its replica): Old must be
// the stored tuple with its primary key (or absent, and then no tuple may
// have New's key), New is stored as it is after the format checks. An
// error means the engines have diverged: TUPLE_FOUND, or ILLEGAL_PARAMS
// when Old is not what is stored.
//
// A batch's change applies its row changes in order, all or nothing: if
// one fails, those applied before it are undone and the error (its code
// kept) names the failing one's position, "row N: ..." (from 1). A batch
// inside a batch is ILLEGAL_PARAMS.
func (e *Engine) Apply(c Change) *tuple.Error {
	if c.IsBatch() {
		return e.applyBatch(c.Batch, nil)
	}
	s, err := e.space(c.Table)
	if err != nil {
		return err
	}
	if c.Empty() {
		return nil
	}
	key := c.New
	if present(c.Old) {
		key = c.Old
		if present(c.New) && !samePK(s, c.Old, c.New) {
			return tuple.Errorf(tuple.CodeIllegalParams, "change of space '%s' moves a tuple to another primary key", s.def.Name)
		}
	}
	stored, ok := s.lookupPK(key)
	switch {
	case present(c.Old) && (!ok || string(stored.Raw()) != string(c.Old.Raw())):
		return tuple.Errorf(tuple.CodeIllegalParams, "change of space '%s' replaces %s, but %s is stored", s.def.Name, c.Old, describe(stored, ok))
	case !present(c.Old) && ok:
		return duplicate(s, s.pk(), stored, c.New)
	}
	if present(c.New) {
		if err := s.validate(c.New.Values()); err != nil {
			return err
		}
	}
	_, err = s.replace(stored, c.New)
	return err
}

func describe(t tuple.Tuple, ok bool) string {
	if !ok {
		return "nothing"
	}
	return t.String()
}

// Undo reverses a change that was the last one made to its table's rows
// with those keys (a statement of an aborted transaction, say). A batch's
// change is undone whole, its rows the last first, or not at all (an
// error names the row by its position in the batch).
func (e *Engine) Undo(c Change) *tuple.Error {
	if c.IsBatch() {
		n := len(c.Batch)
		inv := make([]Change, n)
		for i, r := range c.Batch {
			inv[n-1-i] = inverse(r)
		}
		return e.applyBatch(inv, func(i int) int { return n - 1 - i })
	}
	return e.Apply(inverse(c))
}

func inverse(c Change) Change {
	return Change{Table: c.Table, Old: c.New, New: c.Old, Batch: c.Batch}
}

// applyBatch applies row changes in order, all or nothing; pos, if set,
// maps a position in rows to the one an error names.
func (e *Engine) applyBatch(rows []Change, pos func(int) int) *tuple.Error {
	for i, r := range rows {
		var err *tuple.Error
		if r.IsBatch() {
			err = tuple.Errorf(tuple.CodeIllegalParams, "a batch inside a batch")
		} else {
			err = e.Apply(r)
		}
		if err != nil {
			e.undoRows(rows[:i])
			if pos != nil {
				i = pos(i)
			}
			return rowError(i, err)
		}
	}
	return nil
}

// undoRows undoes row changes just made, the last first. They are the
// last changes to their rows, so this cannot fail short of a bug.
func (e *Engine) undoRows(rows []Change) {
	for i := len(rows) - 1; i >= 0; i-- {
		if err := e.Apply(inverse(rows[i])); err != nil {
			panic("storage: undoing a batch's row change: " + err.Message)
		}
	}
}

// rowError is err with the position (from 1) of the batch's op or row
// change that failed, its code kept.
func rowError(i int, err *tuple.Error) *tuple.Error {
	return &tuple.Error{Code: err.Code, Message: fmt.Sprintf("row %d: %s", i+1, err.Message)}
}
