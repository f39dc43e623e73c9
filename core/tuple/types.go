package tuple

import (
	"github.com/cockroachdb/apd/v3"
	"github.com/google/uuid"
)

// FieldType is the type of a field, as in Tarantool's space format.
type FieldType string

const (
	TypeUnsigned  FieldType = "unsigned"
	TypeInteger   FieldType = "integer"
	TypeDouble    FieldType = "double"
	TypeNumber    FieldType = "number"
	TypeDecimal   FieldType = "decimal"
	TypeString    FieldType = "string"
	TypeBoolean   FieldType = "boolean"
	TypeVarbinary FieldType = "varbinary"
	TypeUUID      FieldType = "uuid"
	TypeDatetime  FieldType = "datetime"
	TypeScalar    FieldType = "scalar"
	TypeMap       FieldType = "map"
	TypeArray     FieldType = "array"
	TypeAny       FieldType = "any"
)

// Valid reports whether t is a known field type.
func (t FieldType) Valid() bool {
	switch t {
	case TypeUnsigned, TypeInteger, TypeDouble, TypeNumber, TypeDecimal, TypeString,
		TypeBoolean, TypeVarbinary, TypeUUID, TypeDatetime, TypeScalar,
		TypeMap, TypeArray, TypeAny:
		return true
	}
	return false
}

// Indexable reports whether an index part may have type t: every type but
// map, array and any, as in Tarantool's TREE indexes.
func (t FieldType) Indexable() bool {
	switch t {
	case TypeUnsigned, TypeInteger, TypeDouble, TypeNumber, TypeDecimal, TypeString,
		TypeBoolean, TypeVarbinary, TypeUUID, TypeDatetime, TypeScalar:
		return true
	}
	return false
}

// Matches reports whether a decoded non-nil value fits the field type, as
// Tarantool's field_mp_type_is_compatible has it, with two allowances:
// "double" accepts integers too (a Go client may well encode 1.0 as 1),
// and "uuid" accepts the canonical 36-character string form (the global
// tables keep uuids as text). "number" is any integer, float or decimal;
// "scalar" anything but an array or a map.
func (t FieldType) Matches(v any) bool {
	switch t {
	case TypeAny:
		return true
	case TypeUnsigned:
		_, ok := AsUint64(v)
		return ok
	case TypeInteger:
		n, ok := toNumber(v)
		return ok && n.isInteger()
	case TypeDouble:
		_, ok := toNumber(v)
		return ok
	case TypeNumber:
		if d, ok := v.(*apd.Decimal); ok {
			return d.Form == apd.Finite
		}
		_, ok := toNumber(v)
		return ok
	case TypeDecimal:
		d, ok := v.(*apd.Decimal)
		return ok && d.Form == apd.Finite
	case TypeString:
		_, ok := v.(string)
		return ok
	case TypeBoolean:
		_, ok := v.(bool)
		return ok
	case TypeVarbinary:
		_, ok := v.([]byte)
		return ok
	case TypeUUID:
		switch v := v.(type) {
		case uuid.UUID:
			return true
		case string:
			return IsUUID(v)
		}
		return false
	case TypeDatetime:
		_, ok := v.(Datetime)
		return ok
	case TypeScalar:
		switch c := classOf(v); c {
		case classArray, classMap, classOther:
			return false
		case classNumber:
			if d, ok := v.(*apd.Decimal); ok {
				return d.Form == apd.Finite
			}
		}
		return v != nil
	case TypeMap:
		switch v.(type) {
		case map[string]any, map[any]any:
			return true
		}
		return false
	case TypeArray:
		_, ok := v.([]any)
		return ok
	}
	return false
}

// IsUUID reports whether s is a uuid in its canonical text form:
// 8-4-4-4-12 hex digits.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
