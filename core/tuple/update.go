package tuple

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"

	"github.com/cockroachdb/apd/v3"
	"github.com/vmihailenco/msgpack/v5"
)

// Update is a parsed list of Tarantool update operations, ready to apply
// to tuples of one format:
//
//	["=", f, v]  set field f to v; f one past the last field appends
//	["+", f, n]  add n (integer, float or decimal) to a number
//	["-", f, n]  subtract
//	["&", f, n]  bitwise and of two unsigned integers
//	["|", f, n]  bitwise or
//	["^", f, n]  bitwise xor
//	["#", f, n]  delete n >= 1 fields from f (fewer if the tuple ends first)
//	["!", f, v]  insert v before field f; f one past the last field appends
//
// A field is a name of the format or a 0-based position; a negative
// position counts from the end (-1 is the last field; for "!" it is past
// the last field, so ["!", -1, v] appends). Positions are checked against
// the tuple the update applies to: a tuple may have fields beyond its
// format, as in Tarantool. Splice (":") is not supported.
//
// A field may be set ("=") any number of times, the last one wins; an
// arithmetic or bitwise operation on a field an earlier operation of the
// same update changed fails (UPDATE_FIELD, "double update of the same
// field"), as Tarantool has it.
//
// Integers add exactly and fail on overflow of [-2^63, 2^64); a float makes
// the result a double; a decimal makes it a decimal (a double converted to
// a decimal through its 15 significant digits, as Tarantool's
// decimal_from_double does), which fails beyond 38 digits.
type Update struct {
	ops   []updateOp
	names []string
}

// updateOp is one parsed update operation.
type updateOp struct {
	op    string
	field int64              // as given (a negative one counts from the end)
	name  string             // the field's name, if given by name
	arg   msgpack.RawMessage // the argument of "=" and "!", encoded
	val   any                // and decoded back
	num   any                // the argument of "+", "-" (a number) or "&", "|", "^", "#" (uint64)
}

// ParseUpdate checks update operations ([op, field, arg] each) against a
// format given by its field names: the operation, the field (position or
// name) and the argument's type. Operations are numbered from 1 in
// messages, as in Tarantool.
func ParseUpdate(ops [][]any, names []string) (*Update, *Error) {
	out := make([]updateOp, len(ops))
	for i, o := range ops {
		if len(o) != 3 {
			return nil, Errorf(CodeUnknownUpdateOp, "Unknown UPDATE operation #%d: wrong number of arguments, want [op, field, value]", i+1)
		}
		name, _ := o[0].(string)
		switch name {
		case "=", "!", "+", "-", "&", "|", "^", "#":
		default:
			return nil, Errorf(CodeUnknownUpdateOp, "Unknown UPDATE operation #%d: %s", i+1, formatValue(o[0]))
		}
		u := updateOp{op: name}
		switch f := o[1].(type) {
		case string:
			pos := slices.Index(names, f)
			if pos < 0 {
				return nil, Errorf(CodeNoSuchFieldName, "Field '%s' was not found in the tuple", f)
			}
			u.field, u.name = int64(pos), f
		default:
			pos, ok := AsInt64(f)
			if !ok {
				return nil, Errorf(CodeIllegalParams, "UPDATE operation #%d: field id must be a number or a string, got %s",
					i+1, TypeName(f))
			}
			u.field = pos
		}
		label := func() string {
			if u.field >= 0 {
				return FieldLabel(names, int(u.field))
			}
			return strconv.FormatInt(u.field, 10)
		}
		switch name {
		case "=", "!":
			b, err := Marshal(o[2])
			if err != nil {
				return nil, Errorf(CodeIllegalParams, "UPDATE operation #%d: the value cannot be encoded: %v", i+1, err)
			}
			v, err := decodeValue(b)
			if err != nil {
				return nil, Errorf(CodeIllegalParams, "UPDATE operation #%d: the value does not decode: %v", i+1, err)
			}
			u.arg, u.val = b, v
		case "+", "-":
			if !isNumberValue(o[2]) {
				return nil, Errorf(CodeUpdateArgType,
					"Argument type in operation '%s' on field %s does not match field type: expected a number",
					name, label())
			}
			u.num = o[2]
		case "&", "|", "^":
			n, ok := AsUint64(o[2])
			if !ok {
				return nil, Errorf(CodeUpdateArgType,
					"Argument type in operation '%s' on field %s does not match field type: expected a positive integer",
					name, label())
			}
			u.num = n
		case "#":
			n, ok := AsUint64(o[2])
			if !ok {
				return nil, Errorf(CodeUpdateArgType,
					"Argument type in operation '#' on field %s does not match field type: expected a number of fields to delete",
					label())
			}
			if n == 0 {
				return nil, Errorf(CodeUpdateField, "Field %s UPDATE error: cannot delete 0 fields", label())
			}
			u.num = n
		}
		out[i] = u
	}
	return &Update{ops: out, names: names}, nil
}

func isNumberValue(v any) bool {
	if d, ok := v.(*apd.Decimal); ok {
		return d.Form == apd.Finite
	}
	_, ok := toNumber(v)
	return ok
}

// Apply applies the operations to a tuple. Untouched fields keep their raw
// encoding. The result is not checked against a format: that is the
// caller's (see schema.TableDef.CheckTuple).
func (up *Update) Apply(old Tuple) (Tuple, *Error) {
	f, e := up.start(old)
	if e != nil {
		return Tuple{}, e
	}
	for _, u := range up.ops {
		if f, e = up.applyOne(u, f); e != nil {
			return Tuple{}, e
		}
	}
	// Decode what was encoded, so that the row's values have the types
	// msgpack decodes into, whichever way the row was written.
	tup, err := New(joinArray(f.elems))
	if err != nil {
		return Tuple{}, Errorf(CodeInvalidMsgpack, "Invalid MsgPack - updated tuple: %v", err)
	}
	return tup, nil
}

// ApplyUpsert applies the operations the way an upsert does to the tuple
// it finds: an operation that fails is skipped (Tarantool logs it) and the
// others apply. It returns the new tuple and the errors of the skipped
// operations, in order.
func (up *Update) ApplyUpsert(old Tuple) (Tuple, []*Error) {
	var skipped []*Error
	f, e := up.start(old)
	if e != nil {
		return Tuple{}, []*Error{e}
	}
	for _, u := range up.ops {
		nf, e := up.applyOne(u, f)
		if e != nil {
			skipped = append(skipped, e)
			continue
		}
		f = nf
	}
	tup, err := New(joinArray(f.elems))
	if err != nil {
		return Tuple{}, append(skipped, Errorf(CodeInvalidMsgpack, "Invalid MsgPack - updated tuple: %v", err))
	}
	return tup, skipped
}

// fields is a tuple being updated: each field's encoding, its value and
// whether an operation has changed it (Tarantool refuses a second one).
type fields struct {
	elems   []msgpack.RawMessage
	vals    []any
	touched []bool
}

func (up *Update) start(old Tuple) (fields, *Error) {
	elems, err := splitArray(old.raw)
	if err != nil || len(elems) != len(old.vals) {
		return fields{}, Errorf(CodeInvalidMsgpack, "Invalid MsgPack - stored tuple: %v", err)
	}
	return fields{elems: elems, vals: slices.Clone(old.vals), touched: make([]bool, len(elems))}, nil
}

func (f fields) clone() fields {
	return fields{elems: slices.Clone(f.elems), vals: slices.Clone(f.vals), touched: slices.Clone(f.touched)}
}

// position resolves an operation's field against a tuple of size fields,
// with limit the first invalid position (size, or size+1 where an
// operation may append).
func (u updateOp) position(limit int) (int, *Error) {
	switch {
	case u.field >= 0 && u.field < int64(limit):
		return int(u.field), nil
	case u.field < 0 && u.field+int64(limit) >= 0:
		return int(u.field + int64(limit)), nil
	case u.name != "":
		return 0, Errorf(CodeNoSuchFieldName, "Field '%s' was not found in the tuple", u.name)
	}
	return 0, Errorf(CodeNoSuchFieldNo, "Field %d was not found in the tuple", u.field)
}

// applyOne applies one operation to a copy of the fields.
func (up *Update) applyOne(u updateOp, f fields) (fields, *Error) {
	size := len(f.vals)
	switch u.op {
	case "=":
		if u.field >= int64(size) {
			u.op = "!"
			return up.applyOne(u, f)
		}
	case "!":
		i, e := u.position(size + 1)
		if e != nil {
			return fields{}, e
		}
		return fields{elems: slices.Insert(slices.Clone(f.elems), i, u.arg),
			vals:    slices.Insert(slices.Clone(f.vals), i, u.val),
			touched: slices.Insert(slices.Clone(f.touched), i, false)}, nil
	case "#":
		i, e := u.position(size)
		if e != nil {
			return fields{}, e
		}
		n := u.num.(uint64)
		end := size
		if uint64(size-i) > n {
			end = i + int(n)
		}
		return fields{elems: slices.Delete(slices.Clone(f.elems), i, end),
			vals:    slices.Delete(slices.Clone(f.vals), i, end),
			touched: slices.Delete(slices.Clone(f.touched), i, end)}, nil
	}
	i, e := u.position(size)
	if e != nil {
		return fields{}, e
	}
	label := FieldLabel(up.names, i)
	if u.op == "=" { // a set replaces whatever came before it
		f = f.clone()
		f.elems[i], f.vals[i], f.touched[i] = u.arg, u.val, true
		return f, nil
	}
	if f.touched[i] { // arithmetic on a field already changed
		return fields{}, Errorf(CodeUpdateField, "Field %s UPDATE error: double update of the same field", label)
	}
	var r any
	switch u.op {
	case "+", "-":
		r, e = arithValues(f.vals[i], u.num, u.op, label)
	default:
		cur, ok := AsUint64(f.vals[i])
		if !ok {
			return fields{}, Errorf(CodeUpdateArgType,
				"Argument type in operation '%s' on field %s does not match field type: expected a positive integer",
				u.op, label)
		}
		arg := u.num.(uint64)
		switch u.op {
		case "&":
			r = cur & arg
		case "|":
			r = cur | arg
		default:
			r = cur ^ arg
		}
	}
	if e != nil {
		return fields{}, e
	}
	b, err := Marshal(r)
	if err != nil {
		return fields{}, Errorf(CodeUpdateDecimalOverflow, "Decimal overflow when performing operation '%s' on field %s", u.op, label)
	}
	f = f.clone()
	f.elems[i], f.vals[i], f.touched[i] = b, r, true
	return f, nil
}

// decimalContext is the precision of Tarantool's decimal arithmetic.
var decimalContext = apd.Context{
	Precision:   MaxDecimalDigits,
	MaxExponent: apd.MaxExponent,
	MinExponent: apd.MinExponent,
	Rounding:    apd.RoundHalfUp,
	Traps:       apd.DefaultTraps,
}

// arithValues computes cur op arg for "+" and "-".
func arithValues(cur, arg any, op, label string) (any, *Error) {
	argType := func() *Error {
		return Errorf(CodeUpdateArgType,
			"Argument type in operation '%s' on field %s does not match field type: expected a number", op, label)
	}
	if !isNumberValue(cur) {
		return nil, argType()
	}
	dc, cDec := cur.(*apd.Decimal)
	da, aDec := arg.(*apd.Decimal)
	if cDec || aDec {
		var ok bool
		if !cDec {
			if dc, ok = toDecimal(cur); !ok {
				return nil, argType()
			}
		}
		if !aDec {
			if da, ok = toDecimal(arg); !ok {
				return nil, argType()
			}
		}
		var res apd.Decimal
		var err error
		if op == "-" {
			_, err = decimalContext.Sub(&res, dc, da)
		} else {
			_, err = decimalContext.Add(&res, dc, da)
		}
		if err != nil || res.Form != apd.Finite || int64(res.Exponent)+res.NumDigits() > MaxDecimalDigits {
			return nil, Errorf(CodeUpdateDecimalOverflow, "Decimal overflow when performing operation '%s' on field %s", op, label)
		}
		return &res, nil
	}
	a, _ := toNumber(cur)
	b, _ := toNumber(arg)
	r, ok := arith(a, b, op == "-")
	if !ok {
		return nil, Errorf(CodeUpdateIntegerOverflow, "Integer overflow when performing '%s' operation on field %s", op, label)
	}
	return r.value(), nil
}

// toDecimal converts a msgpack number to a decimal: integers exactly,
// doubles through 15 significant digits (Tarantool's decimal_from_double).
func toDecimal(v any) (*apd.Decimal, bool) {
	n, ok := toNumber(v)
	if !ok {
		return nil, false
	}
	d := new(apd.Decimal)
	switch n.kind {
	case numUint:
		d.Coeff.SetUint64(n.u)
	case numInt:
		d.SetInt64(n.i)
	default:
		if _, _, err := d.SetString(strconv.FormatFloat(n.f, 'g', 15, 64)); err != nil || d.Form != apd.Finite {
			return nil, false
		}
	}
	return d, true
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
	v, err := decodeAny(msgpack.NewDecoder(r))
	if err == nil && r.Len() != 0 {
		err = fmt.Errorf("%d trailing bytes", r.Len())
	}
	return v, err
}
