package tuple

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/vmihailenco/msgpack/v5"
)

// Update is a parsed list of Tarantool update operations, ready to apply
// to tuples of one format. Only "=" (set), "+" and "-" (arithmetic) exist
// so far.
type Update struct {
	ops   []updateOp
	names []string
}

// updateOp is one parsed update operation.
type updateOp struct {
	op    string // "=", "+", "-"
	field int
	arg   msgpack.RawMessage // the argument of "=", encoded
	val   any                // and decoded back
	num   number             // the argument of "+" and "-"
}

// ParseUpdate checks update operations ([op, field, arg] each) against a
// format given by its field names: the operation, the field (0-based
// position or name) and, for arithmetic, a numeric argument. Operations are
// numbered from 1 in messages, as in Tarantool.
func ParseUpdate(ops [][]any, names []string) (*Update, *Error) {
	out := make([]updateOp, len(ops))
	for i, o := range ops {
		if len(o) != 3 {
			return nil, Errorf(CodeUnknownUpdateOp, "Unknown UPDATE operation #%d: wrong number of arguments, want [op, field, value]", i+1)
		}
		name, ok := o[0].(string)
		if !ok || (name != "=" && name != "+" && name != "-") {
			return nil, Errorf(CodeUnknownUpdateOp, "Unknown UPDATE operation #%d: %s", i+1, formatValue(o[0]))
		}
		u := updateOp{op: name}
		switch f := o[1].(type) {
		case string:
			pos := slices.Index(names, f)
			if pos < 0 {
				return nil, Errorf(CodeNoSuchFieldName, "Field '%s' was not found in the tuple", f)
			}
			u.field = pos
		default:
			pos, ok := AsInt64(f)
			if !ok {
				return nil, Errorf(CodeIllegalParams, "UPDATE operation #%d: field id must be a number or a string, got %s",
					i+1, TypeName(f))
			}
			if pos < 0 || pos >= int64(len(names)) {
				return nil, Errorf(CodeNoSuchFieldNo, "Field %d was not found in the tuple", pos)
			}
			u.field = int(pos)
		}
		if name == "=" {
			b, err := Marshal(o[2])
			if err != nil {
				return nil, Errorf(CodeIllegalParams, "UPDATE operation #%d: the value cannot be encoded: %v", i+1, err)
			}
			v, err := decodeValue(b)
			if err != nil {
				return nil, Errorf(CodeIllegalParams, "UPDATE operation #%d: the value does not decode: %v", i+1, err)
			}
			u.arg, u.val = b, v
		} else {
			n, ok := toNumber(o[2])
			if !ok {
				return nil, Errorf(CodeUpdateArgType,
					"Argument type in operation '%s' on field %s does not match field type: expected a number",
					name, FieldLabel(names, u.field))
			}
			u.num = n
		}
		out[i] = u
	}
	return &Update{ops: out, names: names}, nil
}

// Apply applies the operations to a tuple. Untouched fields keep their raw
// encoding. The result is not checked against a format: that is the
// caller's (see schema.TableDef.CheckTuple).
func (up *Update) Apply(old Tuple) (Tuple, *Error) {
	elems, err := splitArray(old.raw)
	if err != nil || len(elems) != len(old.vals) {
		return Tuple{}, Errorf(CodeInvalidMsgpack, "Invalid MsgPack - stored tuple: %v", err)
	}
	vals := append([]any(nil), old.vals...)
	for _, u := range up.ops {
		if u.field >= len(vals) {
			return Tuple{}, Errorf(CodeNoSuchFieldNo, "Field %d was not found in the tuple", u.field)
		}
		if u.op == "=" {
			elems[u.field] = u.arg
			vals[u.field] = u.val
			continue
		}
		cur, ok := toNumber(vals[u.field])
		if !ok {
			return Tuple{}, Errorf(CodeUpdateArgType,
				"Argument type in operation '%s' on field %s does not match field type: expected a number",
				u.op, FieldLabel(up.names, u.field))
		}
		r, ok := arith(cur, u.num, u.op == "-")
		if !ok {
			return Tuple{}, Errorf(CodeUpdateIntegerOverflow, "Integer overflow when performing '%s' operation on field %s",
				u.op, FieldLabel(up.names, u.field))
		}
		vals[u.field] = r.value()
		elems[u.field] = MustMarshal(r.value())
	}
	// Decode what was encoded, so that the row's values have the types
	// msgpack decodes into, whichever way the row was written.
	tup, err := New(joinArray(elems))
	if err != nil {
		return Tuple{}, Errorf(CodeInvalidMsgpack, "Invalid MsgPack - updated tuple: %v", err)
	}
	return tup, nil
}

// FieldLabel names field i of a format with the given field names the way
// Tarantool's messages do: 1-based position and name.
func FieldLabel(names []string, i int) string {
	if i >= 0 && i < len(names) {
		return fmt.Sprintf("%d (%s)", i+1, names[i])
	}
	return fmt.Sprint(i + 1)
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
