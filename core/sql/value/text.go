package value

import (
	"encoding/hex"
	"strings"
	"time"

	"github.com/picogo/picogo/core/tuple"
)

// FromText reads s, a string literal or a value given as text, as a value
// of type to: what PostgreSQL's input functions take beyond CAST's rules
// — booleans as t/f, yes/no, on/off, 1/0; timestamps with a space between
// date and time, an offset of hours ("+00"), no offset (UTC) or a date
// alone; varbinary as \x and hex digits — and CAST's rules otherwise. It
// is how a literal without a type of its own takes the type of what it
// meets (a compared column, an assigned one), as PostgreSQL's clients send
// values as text.
func FromText(s string, to tuple.FieldType) (any, *tuple.Error) {
	switch to {
	case tuple.TypeBoolean:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "t", "true", "y", "yes", "on", "1":
			return true, nil
		case "f", "false", "n", "no", "off", "0":
			return false, nil
		}
	case tuple.TypeDatetime:
		if t, ok := parseTimestamp(strings.TrimSpace(s)); ok {
			return tuple.DatetimeOf(t), nil
		}
	case tuple.TypeVarbinary:
		if h, ok := strings.CutPrefix(s, `\x`); ok {
			if b, err := hex.DecodeString(h); err == nil {
				return b, nil
			}
			return nil, invalidCast(s, to, "not hex digits after \\x")
		}
	}
	return Cast(s, to)
}

// timestampLayouts are the timestamp forms FromText reads besides
// RFC 3339 (CAST's): PostgreSQL's output and common input.
var timestampLayouts = []string{
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z07",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02",
}

func parseTimestamp(s string) (time.Time, bool) {
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
