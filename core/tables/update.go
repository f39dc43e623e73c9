package tables

import (
	"bytes"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// updateOp is one parsed update operation.
type updateOp struct {
	op    string // "=", "+", "-"
	field int
	arg   msgpack.RawMessage // the argument of "=", encoded
	val   any                // and decoded back
	num   number             // the argument of "+" and "-"
}

// parseUpdateOps checks update operations against the format: the
// operation, the field (0-based position or name) and, for arithmetic, a
// numeric argument. Operations are numbered from 1 in messages, as in
// Tarantool.
func parseUpdateOps(def *TableDef, ops [][]any) ([]updateOp, *Error) {
	out := make([]updateOp, len(ops))
	for i, o := range ops {
		if len(o) != 3 {
			return nil, errorf(CodeUnknownUpdateOp, "Unknown UPDATE operation #%d: wrong number of arguments, want [op, field, value]", i+1)
		}
		name, ok := o[0].(string)
		if !ok || (name != "=" && name != "+" && name != "-") {
			return nil, errorf(CodeUnknownUpdateOp, "Unknown UPDATE operation #%d: %s", i+1, formatValue(o[0]))
		}
		u := updateOp{op: name}
		switch f := o[1].(type) {
		case string:
			pos, ok := def.FieldIndex(f)
			if !ok {
				return nil, errorf(CodeNoSuchFieldName, "Field '%s' was not found in the tuple", f)
			}
			u.field = pos
		default:
			pos, ok := AsInt64(f)
			if !ok {
				return nil, errorf(CodeIllegalParams, "UPDATE operation #%d: field id must be a number or a string, got %s",
					i+1, valueTypeName(f))
			}
			if pos < 0 || pos >= int64(len(def.Format)) {
				return nil, errorf(CodeNoSuchFieldNo, "Field %d was not found in the tuple", pos)
			}
			u.field = int(pos)
		}
		if name == "=" {
			b, err := Marshal(o[2])
			if err != nil {
				return nil, errorf(CodeIllegalParams, "UPDATE operation #%d: the value cannot be encoded: %v", i+1, err)
			}
			v, err := decodeValue(b)
			if err != nil {
				return nil, errorf(CodeIllegalParams, "UPDATE operation #%d: the value does not decode: %v", i+1, err)
			}
			u.arg, u.val = b, v
		} else {
			n, ok := toNumber(o[2])
			if !ok {
				return nil, errorf(CodeUpdateArgType,
					"Argument type in operation '%s' on field %s does not match field type: expected a number",
					name, def.fieldLabel(u.field))
			}
			u.num = n
		}
		out[i] = u
	}
	return out, nil
}

// applyUpdate applies parsed operations to a row and checks the result
// against the format. Untouched fields keep their raw encoding.
func applyUpdate(def *TableDef, old Tuple, ups []updateOp) (Tuple, *Error) {
	elems, err := splitArray(old.raw)
	if err != nil || len(elems) != len(old.vals) {
		return Tuple{}, errorf(CodeInvalidMsgpack, "Invalid MsgPack - stored tuple: %v", err)
	}
	vals := append([]any(nil), old.vals...)
	for _, u := range ups {
		if u.field >= len(vals) {
			return Tuple{}, errorf(CodeNoSuchFieldNo, "Field %d was not found in the tuple", u.field)
		}
		if u.op == "=" {
			elems[u.field] = u.arg
			vals[u.field] = u.val
			continue
		}
		cur, ok := toNumber(vals[u.field])
		if !ok {
			return Tuple{}, errorf(CodeUpdateArgType,
				"Argument type in operation '%s' on field %s does not match field type: expected a number",
				u.op, def.fieldLabel(u.field))
		}
		r, ok := arith(cur, u.num, u.op == "-")
		if !ok {
			return Tuple{}, errorf(CodeUpdateIntegerOverflow, "Integer overflow when performing '%s' operation on field %s",
				u.op, def.fieldLabel(u.field))
		}
		vals[u.field] = r.value()
		elems[u.field] = mustMarshal(r.value())
	}
	// Decode what was encoded, so that the row's values have the types
	// msgpack decodes into, whichever way the row was written.
	tup, err := NewTuple(joinArray(elems))
	if err != nil {
		return Tuple{}, errorf(CodeInvalidMsgpack, "Invalid MsgPack - updated tuple: %v", err)
	}
	if e := checkTuple(def, tup.vals); e != nil {
		return Tuple{}, e
	}
	return tup, nil
}

// decodeValue decodes one msgpack value the way tuple fields decode.
func decodeValue(b []byte) (any, error) {
	r := bytes.NewReader(b)
	v, err := msgpack.NewDecoder(r).DecodeInterface()
	if err == nil && r.Len() != 0 {
		err = fmt.Errorf("%d trailing bytes", r.Len())
	}
	return v, err
}
