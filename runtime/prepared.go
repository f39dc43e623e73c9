package runtime

import (
	"hash/fnv"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/sql/parse"
	"github.com/picogo/picogo/core/sql/plan"
	"github.com/picogo/picogo/core/tuple"
)

// maxPrepared bounds the statements an instance keeps prepared: past it,
// PREPARE is refused until some are unprepared.
const maxPrepared = 10000

// preparedStatements are the statements IPROTO_PREPARE named, for every
// session of the instance, by id: a hash of the text, as Tarantool's ids
// are, so that preparing a text twice gives the same id (two texts whose
// hashes collide: the later one takes the id). A prepared
// statement is its text: EXECUTE of the id runs it as EXECUTE of the text
// would (parsed and planned each time).
type preparedStatements struct {
	texts map[uint64]string
}

// prepare checks text parses as one statement and names it.
func (p *preparedStatements) prepare(text string) (id uint64, params int, err *api.Error) {
	stmt, perr := parse.ParseOne(text)
	if perr != nil {
		return 0, 0, api.Errorf(tuple.CodeSQLSyntax, "prepare: %v", perr)
	}
	h := fnv.New32a()
	h.Write([]byte(text))
	// 32 bits, as Tarantool's ids: a Lua client holds them in a double.
	id = uint64(h.Sum32() | 1) // never 0: 0 is no id
	if p.texts == nil {
		p.texts = map[uint64]string{}
	}
	if _, known := p.texts[id]; !known && len(p.texts) >= maxPrepared {
		return 0, 0, api.Errorf(api.CodeIllegalParams, "prepare: %d statements are prepared already: unprepare some", maxPrepared)
	}
	p.texts[id] = text
	return id, plan.ParamCount(stmt), nil
}

func (p *preparedStatements) get(id uint64) (string, bool) {
	text, ok := p.texts[id]
	return text, ok
}

func (p *preparedStatements) forget(id uint64) { delete(p.texts, id) }
