package vclock

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLessEqIsComponentwise(t *testing.T) {
	a := VClock{1: 5, 2: 3}
	require.True(t, a.LessEq(VClock{1: 5, 2: 3}))
	require.True(t, a.LessEq(VClock{1: 6, 2: 3, 3: 1}))
	require.False(t, a.LessEq(VClock{1: 6}), "component 2 is missing: 3 > 0")
	require.False(t, a.LessEq(VClock{1: 4, 2: 9}))
	require.True(t, VClock(nil).LessEq(a))
	require.True(t, VClock{7: 0}.LessEq(nil), "a zero component is absent")
}

func TestCompareOrdersBySumThenIDs(t *testing.T) {
	require.Equal(t, -1, Compare(VClock{1: 2}, VClock{1: 1, 2: 2}))
	require.Equal(t, 1, Compare(VClock{1: 3}, VClock{2: 3}), "same sum: id 1's component decides")
	require.Equal(t, 0, Compare(VClock{1: 3, 2: 0}, VClock{1: 3}))
}

func TestWithAndCloneDoNotAlias(t *testing.T) {
	a := VClock{1: 1}
	b := a.With(2, 4)
	require.Equal(t, VClock{1: 1}, a)
	require.Equal(t, uint64(5), b.Sum())
	require.Equal(t, "{1: 1, 2: 4}", b.String())
	require.Equal(t, VClock{1: 1}, b.With(2, 0))
}
