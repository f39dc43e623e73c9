package iproto

// The package's msgpack primitives, for codecs elsewhere that are hot
// enough to be written by hand (proc's Raft messages). Readers take the bytes
// left and return the value and the bytes after it; they are bounds-checked
// and allocate nothing. Appenders write the compact forms.

// AppendUint appends v in the smallest integer form.
func AppendUint(b []byte, v uint64) []byte { return appendUint(b, v) }

// AppendArrayLen appends an array header of n elements.
func AppendArrayLen(b []byte, n int) []byte { return appendArrayLen(b, n) }

// AppendMapLen appends a map header of n pairs.
func AppendMapLen(b []byte, n int) []byte { return appendMapLen(b, n) }

// AppendStr appends s as a str (as msgpack-go encodes a string).
func AppendStr(b []byte, s string) []byte { return appendStr(b, s) }

// AppendBool appends true or false.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 0xc3)
	}
	return append(b, 0xc2)
}

// AppendNil appends nil.
func AppendNil(b []byte) []byte { return append(b, 0xc0) }

// AppendBin appends p as a bin, or nil when p is nil (as msgpack-go encodes
// a nil []byte).
func AppendBin(b []byte, p []byte) []byte {
	if p == nil {
		return AppendNil(b)
	}
	return append(appendLen(b, len(p), 0, 0, 0xc4, 0xc5, 0xc6), p...)
}

// IsNil reports whether b starts with nil.
func IsNil(b []byte) bool { return len(b) > 0 && b[0] == 0xc0 }

// ReadUint reads a non-negative integer of any width.
func ReadUint(b []byte) (uint64, []byte, error) { return readUint(b) }

// ReadArrayLen reads an array header. Its count is not checked against the
// bytes left: a caller that allocates by it must have checked the value
// (CheckValue) first.
func ReadArrayLen(b []byte) (uint64, []byte, error) { return readArrayLen(b) }

// ReadMapLen reads a map header: its number of pairs (not checked against
// the bytes left, as ReadArrayLen).
func ReadMapLen(b []byte) (uint64, []byte, error) { return readMapLen(b) }

// ReadStr reads a str (not a bin); its payload aliases b.
func ReadStr(b []byte) ([]byte, []byte, error) { return readBytes(b, false) }

// ReadBool reads true or false.
func ReadBool(b []byte) (bool, []byte, error) {
	if len(b) == 0 {
		return false, nil, errTruncated
	}
	switch b[0] {
	case 0xc2:
		return false, b[1:], nil
	case 0xc3:
		return true, b[1:], nil
	}
	return false, nil, errWrongType
}

// ReadBin reads a bin or a str; its payload aliases b.
func ReadBin(b []byte) ([]byte, []byte, error) { return readBytes(b, true) }
