package proc

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The tags a request struct may carry, and the mistakes paramsOf refuses
// at start rather than on the wire.
func TestParamsOfTags(t *testing.T) {
	type good struct {
		A        string `arg:"a,nil"`
		_        int    // unexported: skipped
		Untagged string
		M        map[string]string `arg:"m,empty"`
		I        uint64            `arg:"i,index"`
		T        time.Duration     `arg:"timeout,optional"`
		O        string            `arg:"o,optional,nil"`
	}
	params, optional := paramsOf(reflect.TypeFor[good]())
	require.Equal(t, 2, optional)
	require.Equal(t, []param{
		{name: "a", field: 0, zeroNil: true},
		{name: "m", field: 3, emptyMap: true},
		{name: "i", field: 4, index: true},
		{name: "timeout", field: 5, optional: true},
		{name: "o", field: 6, optional: true, zeroNil: true},
	}, params)

	for name, typ := range map[string]reflect.Type{
		"optional before required": reflect.TypeFor[struct {
			A string `arg:"a,optional"`
			B string `arg:"b"`
		}](),
		"unknown option": reflect.TypeFor[struct {
			A string `arg:"a,sometimes"`
		}](),
		"empty on a string": reflect.TypeFor[struct {
			A string `arg:"a,empty"`
		}](),
		"index on a string": reflect.TypeFor[struct {
			A string `arg:"a,index"`
		}](),
		"no name": reflect.TypeFor[struct {
			A string `arg:""`
		}](),
		"not a struct": reflect.TypeFor[int](),
	} {
		require.Panics(t, func() { paramsOf(typ) }, name)
	}
}
