package tuple

// FieldType is the type of a field, as in Tarantool's space format.
type FieldType string

const (
	TypeUnsigned FieldType = "unsigned"
	TypeInteger  FieldType = "integer"
	TypeDouble   FieldType = "double"
	TypeNumber   FieldType = "number"
	TypeString   FieldType = "string"
	TypeBoolean  FieldType = "boolean"
	TypeMap      FieldType = "map"
	TypeArray    FieldType = "array"
	TypeAny      FieldType = "any"
	TypeUUID     FieldType = "uuid"
)

// Valid reports whether t is a known field type.
func (t FieldType) Valid() bool {
	switch t {
	case TypeUnsigned, TypeInteger, TypeDouble, TypeNumber, TypeString,
		TypeBoolean, TypeMap, TypeArray, TypeAny, TypeUUID:
		return true
	}
	return false
}

// Indexable reports whether an index part may have type t.
func (t FieldType) Indexable() bool {
	switch t {
	case TypeUnsigned, TypeInteger, TypeDouble, TypeNumber, TypeString, TypeBoolean, TypeUUID:
		return true
	}
	return false
}

// Matches reports whether a decoded non-nil value fits the field type.
// "double" accepts integers too (a Go client may well encode 1.0 as 1);
// "uuid" accepts the canonical 36-character string form.
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
	case TypeDouble, TypeNumber:
		_, ok := toNumber(v)
		return ok
	case TypeString:
		_, ok := v.(string)
		return ok
	case TypeBoolean:
		_, ok := v.(bool)
		return ok
	case TypeMap:
		switch v.(type) {
		case map[string]any, map[any]any:
			return true
		}
		return false
	case TypeArray:
		_, ok := v.([]any)
		return ok
	case TypeUUID:
		s, ok := v.(string)
		return ok && IsUUID(s)
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
