package tuple

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/google/uuid"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// Tarantool's msgpack extension types (src/lib/core/mp_extension_types.h).
//
//	1  decimal   scale (a msgpack int), then packed BCD digits whose last
//	             nibble is the sign (0xd negative; 0xa, 0xc, 0xe, 0xf positive)
//	2  uuid      16 bytes, RFC 4122 order (the order uuid.UUID holds them)
//	4  datetime  8 bytes of seconds since the epoch, little endian; then,
//	             only if any is non-zero, nsec (4), tzoffset (2, minutes)
//	             and tzindex (2), little endian
//
// Decoded, they are *apd.Decimal, uuid.UUID and Datetime: the values the
// engine compares and clients build. Nothing is registered with the msgpack
// package (its extension registry is global, and go-tarantool registers the
// same ids for its own types): tuples decode extensions themselves
// (decodeAny) and Marshal encodes these three types itself.
const (
	extDecimal  int8 = 1
	extUUID     int8 = 2
	extDatetime int8 = 4
)

// MaxDecimalDigits is the precision of Tarantool's decimals.
const MaxDecimalDigits = 38

// Datetime is Tarantool's datetime: an instant (Epoch seconds and Nsec
// nanoseconds, UTC) and the time zone it was given in (TzOffset minutes
// east of UTC, TzIndex an index in Tarantool's zone table, 0 if none).
// Datetimes compare by instant alone.
type Datetime struct {
	Epoch    int64
	Nsec     int32
	TzOffset int16
	TzIndex  int16
}

// DatetimeOf is the datetime of t, with t's zone offset.
func DatetimeOf(t time.Time) Datetime {
	_, off := t.Zone()
	return Datetime{Epoch: t.Unix(), Nsec: int32(t.Nanosecond()), TzOffset: int16(off / 60)}
}

// Time is the instant, in a fixed zone of the datetime's offset.
func (d Datetime) Time() time.Time {
	t := time.Unix(d.Epoch, int64(d.Nsec)).UTC()
	if d.TzOffset != 0 {
		t = t.In(time.FixedZone("", int(d.TzOffset)*60))
	}
	return t
}

func (d Datetime) String() string { return d.Time().Format(time.RFC3339Nano) }

// compareDatetime orders by instant: seconds, then nanoseconds.
func compareDatetime(a, b Datetime) int {
	switch {
	case a.Epoch != b.Epoch:
		if a.Epoch < b.Epoch {
			return -1
		}
		return 1
	case a.Nsec != b.Nsec:
		if a.Nsec < b.Nsec {
			return -1
		}
		return 1
	}
	return 0
}

func packDatetime(d Datetime) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(d.Epoch))
	if d.Nsec != 0 || d.TzOffset != 0 || d.TzIndex != 0 {
		b = binary.LittleEndian.AppendUint32(b, uint32(d.Nsec))
		b = binary.LittleEndian.AppendUint16(b, uint16(d.TzOffset))
		b = binary.LittleEndian.AppendUint16(b, uint16(d.TzIndex))
	}
	return b
}

func unpackDatetime(b []byte) (Datetime, error) {
	if len(b) != 8 && len(b) != 16 {
		return Datetime{}, fmt.Errorf("datetime of %d bytes", len(b))
	}
	d := Datetime{Epoch: int64(binary.LittleEndian.Uint64(b))}
	if len(b) == 16 {
		d.Nsec = int32(binary.LittleEndian.Uint32(b[8:]))
		d.TzOffset = int16(binary.LittleEndian.Uint16(b[12:]))
		d.TzIndex = int16(binary.LittleEndian.Uint16(b[14:]))
	}
	if d.Nsec < 0 || d.Nsec >= 1e9 {
		return Datetime{}, fmt.Errorf("datetime nsec %d out of range", d.Nsec)
	}
	return d, nil
}

// packDecimal is Tarantool's decimal_pack. Only finite decimals of at most
// MaxDecimalDigits digits exist in Tarantool.
func packDecimal(d *apd.Decimal) ([]byte, error) {
	if d.Form != apd.Finite {
		return nil, fmt.Errorf("decimal %s is not finite", d)
	}
	digits := d.Coeff.Text(10)
	if digits[0] == '-' { // the coefficient is kept non-negative, but be safe
		digits = digits[1:]
	}
	if len(digits) > MaxDecimalDigits {
		return nil, fmt.Errorf("decimal %s has more than %d digits", d, MaxDecimalDigits)
	}
	var b []byte
	scale := -int64(d.Exponent)
	if scale >= 0 {
		b = msgpackUint(uint64(scale))
	} else {
		b = msgpackInt(scale)
	}
	nibbles := make([]byte, 0, len(digits)+2)
	if len(digits)%2 == 0 { // digits + sign nibble must fill whole bytes
		nibbles = append(nibbles, 0)
	}
	for i := 0; i < len(digits); i++ {
		nibbles = append(nibbles, digits[i]-'0')
	}
	if d.Negative {
		nibbles = append(nibbles, 0x0d)
	} else {
		nibbles = append(nibbles, 0x0c)
	}
	for i := 0; i < len(nibbles); i += 2 {
		b = append(b, nibbles[i]<<4|nibbles[i+1])
	}
	return b, nil
}

func unpackDecimal(b []byte) (*apd.Decimal, error) {
	r := bytes.NewReader(b)
	scale, err := msgpack.NewDecoder(r).DecodeInt64()
	if err != nil {
		return nil, fmt.Errorf("decimal scale: %w", err)
	}
	bcd := b[len(b)-r.Len():]
	if len(bcd) == 0 {
		return nil, fmt.Errorf("decimal without digits")
	}
	if scale > 1<<20 || scale < -(1<<20) {
		return nil, fmt.Errorf("decimal scale %d out of range", scale)
	}
	digits := make([]byte, 0, 2*len(bcd))
	for i, c := range bcd {
		hi, lo := c>>4, c&0x0f
		if hi > 9 {
			return nil, fmt.Errorf("decimal digit 0x%x", hi)
		}
		digits = append(digits, '0'+hi)
		if i < len(bcd)-1 {
			if lo > 9 {
				return nil, fmt.Errorf("decimal digit 0x%x", lo)
			}
			digits = append(digits, '0'+lo)
		}
	}
	sign := bcd[len(bcd)-1] & 0x0f
	var neg bool
	switch sign {
	case 0x0b, 0x0d:
		neg = true
	case 0x0a, 0x0c, 0x0e, 0x0f:
	default:
		return nil, fmt.Errorf("decimal sign nibble 0x%x", sign)
	}
	var coeff big.Int
	if _, ok := coeff.SetString(string(digits), 10); !ok {
		return nil, fmt.Errorf("decimal digits %q", digits)
	}
	d := apd.NewWithBigInt(new(apd.BigInt).SetMathBigInt(&coeff), int32(-scale))
	d.Negative = neg // Tarantool keeps the sign of a zero
	if d.NumDigits() > MaxDecimalDigits {
		return nil, fmt.Errorf("decimal of %d digits", d.NumDigits())
	}
	return d, nil
}

// msgpackUint and msgpackInt are the compact msgpack encodings of an
// integer.
func msgpackUint(u uint64) []byte { return MustMarshal(u) }
func msgpackInt(i int64) []byte   { return MustMarshal(i) }

// extRaw encodes an extension value as raw msgpack.
func extRaw(id int8, payload []byte) msgpack.RawMessage {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	if err := enc.EncodeExtHeader(id, len(payload)); err != nil {
		panic(err) // a bytes.Buffer does not fail
	}
	buf.Write(payload)
	return buf.Bytes()
}

// extValue returns the raw msgpack of a Tarantool extension value, if v is
// one.
func extValue(v any) (msgpack.RawMessage, bool, error) {
	switch v := v.(type) {
	case *apd.Decimal:
		b, err := packDecimal(v)
		if err != nil {
			return nil, true, err
		}
		return extRaw(extDecimal, b), true, nil
	case apd.Decimal:
		return extValue(&v)
	case uuid.UUID:
		return extRaw(extUUID, v[:]), true, nil
	case Datetime:
		return extRaw(extDatetime, packDatetime(v)), true, nil
	}
	return nil, false, nil
}

// withExt replaces, in the arrays and maps of v, the extension values by
// their raw encoding so that the msgpack encoder writes them verbatim. It
// copies only the containers that hold one.
func withExt(v any) (any, error) {
	if !needsExt(v) {
		return v, nil
	}
	if raw, ok, err := extValue(v); ok {
		return raw, err
	}
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			r, err := withExt(e)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		return mapWithExt(v)
	}
	return v, nil
}

func mapWithExt(m map[string]any) (map[string]any, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the first error is the same on every run
	out := make(map[string]any, len(m))
	for _, k := range keys {
		r, err := withExt(m[k])
		if err != nil {
			return nil, err
		}
		out[k] = r
	}
	return out, nil
}

// needsExt reports whether v holds an extension value anywhere.
func needsExt(v any) bool {
	switch v := v.(type) {
	case *apd.Decimal, apd.Decimal, uuid.UUID, Datetime:
		return true
	case []any:
		for _, e := range v {
			if needsExt(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range v {
			if needsExt(e) {
				return true
			}
		}
	}
	return false
}

// decodeAny decodes one msgpack value the way tuple fields decode: as the
// msgpack package's DecodeInterface does, except that Tarantool's
// extension types become *apd.Decimal, uuid.UUID and Datetime, and arrays
// and maps decode their elements the same way.
func decodeAny(d *msgpack.Decoder) (any, error) {
	c, err := d.PeekCode()
	if err != nil {
		return nil, err
	}
	switch {
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		n, err := d.DecodeArrayLen()
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, min(max(n, 0), 1<<16))
		for range n {
			e, err := decodeAny(d)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		n, err := d.DecodeMapLen()
		if err != nil {
			return nil, err
		}
		m := make(map[string]any, min(max(n, 0), 1<<16))
		for range n {
			k, err := d.DecodeString()
			if err != nil {
				return nil, err
			}
			v, err := decodeAny(d)
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return m, nil
	case msgpcode.IsExt(c):
		id, n, err := d.DecodeExtHeader()
		if err != nil {
			return nil, err
		}
		if n < 0 || n > 1<<20 {
			return nil, fmt.Errorf("msgpack: extension of %d bytes", n)
		}
		payload := make([]byte, n)
		if err := d.ReadFull(payload); err != nil {
			return nil, err
		}
		return decodeExt(id, payload)
	}
	return d.DecodeInterface()
}

func decodeExt(id int8, b []byte) (any, error) {
	switch id {
	case extDecimal:
		return unpackDecimal(b)
	case extUUID:
		if len(b) != 16 {
			return nil, fmt.Errorf("uuid of %d bytes", len(b))
		}
		return uuid.UUID(b), nil
	case extDatetime:
		return unpackDatetime(b)
	}
	return nil, fmt.Errorf("msgpack: unsupported extension type %d", id)
}

// formatDecimal renders a decimal for messages.
func formatDecimal(d *apd.Decimal) string { return d.Text('f') }

// ParseDecimal reads a decimal from its text form ("-1.25", "1E+3").
func ParseDecimal(s string) (*apd.Decimal, error) {
	d, _, err := apd.NewFromString(s)
	if err != nil {
		return nil, err
	}
	if d.Form != apd.Finite || d.NumDigits() > MaxDecimalDigits {
		return nil, fmt.Errorf("decimal %q is not a finite decimal of at most %d digits", s, MaxDecimalDigits)
	}
	return d, nil
}

// MustDecimal is ParseDecimal for constants; it panics on a bad string.
func MustDecimal(s string) *apd.Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic("tuple: " + strconv.Quote(s) + ": " + err.Error())
	}
	return d
}
