package iproto

import (
	"github.com/vmihailenco/msgpack/v5"
)

// Call16Data converts a function's return values (each one encoded msgpack
// value) to the DATA array of a CALL_16 reply, an array of tuples, as
// Tarantool's luamp_encode_call_16 does:
//
//   - no values: [];
//   - several values: each array as is, anything else x as [x];
//   - one value that is not an array (a scalar, a map): [[x]];
//   - one empty array: [[]];
//   - one array whose first element is not an array: [array], the array
//     being one tuple;
//   - one array whose first element is an array: its elements, each array as
//     is, anything else x as [x].
func Call16Data(results ...msgpack.RawMessage) (msgpack.RawMessage, error) {
	for _, r := range results {
		if err := checkValue(r); err != nil {
			return nil, err
		}
	}
	if len(results) != 1 {
		b := appendArrayLen(nil, len(results))
		for _, r := range results {
			b = appendTuple(b, r)
		}
		return b, nil
	}
	root := results[0]
	if kindOf(root) != kindArray {
		return append(appendArrayLen(nil, 1), appendTuple(nil, root)...), nil
	}
	n, elems, _ := readArrayLen(root) // checked above
	if n == 0 || kindOf(elems) != kindArray {
		return append(appendArrayLen(nil, 1), root...), nil
	}
	b := appendArrayLen(nil, int(n))
	for i := uint64(0); i < n; i++ {
		raw, rest, _ := readValue(elems) // checked above
		b = appendTuple(b, raw)
		elems = rest
	}
	return b, nil
}

// appendTuple appends v as a tuple: as is if it is an array, else [v].
func appendTuple(b, v []byte) []byte {
	if kindOf(v) != kindArray {
		b = appendArrayLen(b, 1)
	}
	return append(b, v...)
}
