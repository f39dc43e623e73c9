package discovery

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// cluster is a synchronous test network: a call is delivered and answered at
// once, in the order the test makes it.
type cluster struct {
	at map[string]*State // address → the instance it reaches; absent: unreachable
}

func newCluster() *cluster { return &cluster{at: map[string]*State{}} }

// add starts an instance reachable at addrs.
func (c *cluster) add(tmpID string, peers []string, addrs ...string) *State {
	s := New(tmpID, peers, true)
	for _, a := range addrs {
		c.at[a] = s
	}
	return s
}

func (c *cluster) call(from *State, addr string) {
	to := c.at[addr]
	if to == nil {
		from.Failed(addr)
		return
	}
	from.Answer(addr, to.Handle(from.Request(), addr))
}

// round makes one round of calls for s.
func (c *cluster) round(s *State) {
	for _, a := range s.Round() {
		c.call(s, a)
	}
}

// run makes rounds, instances in the given order, until all have decided.
func (c *cluster) run(t *testing.T, order ...*State) {
	t.Helper()
	for range 100 {
		if allDecided(order) {
			return
		}
		for _, s := range order {
			c.round(s)
		}
	}
	for _, s := range order {
		_, ok := s.Outcome()
		t.Logf("%s decided=%v peers=%v round=%v self=%v", s.TmpID(), ok, s.Peers(), s.Round(), s.Addresses())
	}
	t.Fatal("no decision after 100 rounds")
}

func allDecided(states []*State) bool {
	for _, s := range states {
		if _, ok := s.Outcome(); !ok {
			return false
		}
	}
	return true
}

// agree checks that exactly one instance bootstraps and every other joins
// through its address; it returns that address.
func agree(t *testing.T, states ...*State) string {
	t.Helper()
	var leaders []string
	for _, s := range states {
		o, ok := s.Outcome()
		require.True(t, ok, "%s has not decided", s.TmpID())
		if o.Bootstrap {
			require.NotEmpty(t, o.Address, "%s bootstraps without an address", s.TmpID())
			require.Contains(t, s.Addresses(), o.Address)
			leaders = append(leaders, o.Address)
		}
	}
	require.Len(t, leaders, 1, "exactly one instance must bootstrap")
	for _, s := range states {
		if o, _ := s.Outcome(); !o.Bootstrap {
			assert.Equal(t, Outcome{JoinVia: leaders[0]}, o, "%s joins through the wrong address", s.TmpID())
		}
	}
	return leaders[0]
}

func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := slices.Insert(slices.Clone(p), i, n-1)
			out = append(out, q)
		}
	}
	return out
}

func pick(states []*State, order []int) []*State {
	out := make([]*State, len(order))
	for i, j := range order {
		out[i] = states[j]
	}
	return out
}

func TestAloneWithoutPeersBootstraps(t *testing.T) {
	for _, peers := range [][]string{nil, {}, {"", ""}} {
		s := New("t", peers, true)
		o, ok := s.Outcome()
		require.True(t, ok)
		assert.Equal(t, Outcome{Bootstrap: true}, o)
		assert.Nil(t, s.Round())
		assert.Equal(t, Request{TmpID: "t", Peers: []string{}, CanVote: true}, s.Request())

		// The first address it is reached at becomes the one it answers with.
		assert.Equal(t, Response{Done: &Done{LeaderAddress: "h1:3301"}}, s.Handle(Request{TmpID: "x", Peers: []string{"h1:3301"}}, "h1:3301"))
		assert.Equal(t, Response{Done: &Done{LeaderAddress: "h1:3301"}}, s.Handle(Request{TmpID: "y", Peers: []string{"alias:3301"}}, "alias:3301"))
		o, _ = s.Outcome()
		assert.Equal(t, Outcome{Bootstrap: true, Address: "h1:3301"}, o)
		assert.Equal(t, []string{"h1:3301"}, s.Addresses())
	}
}

func TestAloneWithOnlyItselfBootstraps(t *testing.T) {
	c := newCluster()
	a := c.add("a", []string{"a:1"}, "a:1")
	_, ok := a.Outcome()
	require.False(t, ok)
	assert.Equal(t, []string{"a:1"}, a.Round())
	c.round(a)
	o, ok := a.Outcome()
	require.True(t, ok)
	assert.Equal(t, Outcome{Bootstrap: true, Address: "a:1"}, o)
	assert.Equal(t, []string{"a:1"}, a.Addresses())
	assert.Nil(t, a.Round())
	assert.Equal(t, Response{Done: &Done{LeaderAddress: "a:1"}}, a.Handle(Request{TmpID: "late", Peers: []string{"a:1"}}, "a:1"))
}

func TestTwoInstancesListingEachOther(t *testing.T) {
	lists := map[string][2][]string{
		"both list both":        {{"a:1", "b:1"}, {"b:1", "a:1"}},
		"each lists the other":  {{"b:1"}, {"a:1"}},
		"each lists itself too": {{"a:1", "b:1", "b:1"}, {"a:1", "a:1", "b:1"}},
		"only the bigger lists": {{"b:1"}, {"b:1", "a:1"}},
	}
	for _, name := range []string{"both list both", "each lists the other", "each lists itself too", "only the bigger lists"} {
		for _, order := range permutations(2) {
			t.Run(fmt.Sprintf("%s/%v", name, order), func(t *testing.T) {
				c := newCluster()
				a := c.add("ta", lists[name][0], "a:1")
				b := c.add("tb", lists[name][1], "b:1")
				c.run(t, pick([]*State{a, b}, order)...)
				assert.Equal(t, "a:1", agree(t, a, b))
				o, _ := a.Outcome()
				assert.True(t, o.Bootstrap)
			})
		}
	}
}

func TestThreeInstancesWithTheSameList(t *testing.T) {
	for _, list := range [][]string{{"a:1", "b:1", "c:1"}, {"c:1", "b:1", "a:1"}} {
		for _, order := range permutations(3) {
			t.Run(fmt.Sprint(list, order), func(t *testing.T) {
				c := newCluster()
				states := []*State{
					c.add("ta", list, "a:1"),
					c.add("tb", list, "b:1"),
					c.add("tc", list, "c:1"),
				}
				c.run(t, pick(states, order)...)
				assert.Equal(t, "a:1", agree(t, states...))
			})
		}
	}
}

// A knows B, B knows C: they still converge on one leader, whoever runs
// first.
func TestPartiallyOverlappingLists(t *testing.T) {
	cases := []struct {
		name    string
		lists   [3][]string
		leaders []string // the possible leaders, depending on the order
	}{
		// Nobody lists a:1, so A is invisible and can only join.
		{"chain without self", [3][]string{{"b:1"}, {"c:1"}, {"c:1"}}, []string{"b:1", "c:1"}},
		// Whoever closes before hearing of a smaller address wins: C alone
		// with itself, or B with C before A calls.
		{"chain with self", [3][]string{{"a:1", "b:1"}, {"b:1", "c:1"}, {"c:1"}}, []string{"a:1", "b:1", "c:1"}},
		{"chain back", [3][]string{{"a:1"}, {"a:1", "b:1"}, {"b:1"}}, []string{"a:1"}},
		{"star through b", [3][]string{{"b:1"}, {"b:1"}, {"b:1"}}, []string{"b:1"}},
	}
	for _, tc := range cases {
		for _, order := range permutations(3) {
			t.Run(fmt.Sprint(tc.name, order), func(t *testing.T) {
				c := newCluster()
				states := []*State{
					c.add("ta", tc.lists[0], "a:1"),
					c.add("tb", tc.lists[1], "b:1"),
					c.add("tc", tc.lists[2], "c:1"),
				}
				c.run(t, pick(states, order)...)
				assert.Contains(t, tc.leaders, agree(t, states...))
			})
		}
	}
}

func TestLearnsOwnAddressFromIncomingRequest(t *testing.T) {
	// Another instance's request at "a:1" says nothing about who we are.
	s := New("x", []string{"b:1"}, true)
	s.Handle(Request{TmpID: "y", Peers: []string{"b:1"}}, "a:1")
	assert.Empty(t, s.Addresses())

	// Our own request arriving at "a:1" says "a:1" is us; it also becomes a
	// peer.
	resp := s.Handle(Request{TmpID: "x", Peers: []string{"a:1", "b:1"}}, "a:1")
	assert.Equal(t, []string{"a:1"}, s.Addresses())
	assert.Equal(t, []string{"a:1", "b:1"}, s.Peers())
	assert.Equal(t, Response{LeaderElection: &Request{TmpID: "x", Peers: []string{"a:1", "b:1"}, CanVote: true}}, resp)

	// End to end: X does not list itself; B's answer tells it "a:1", and
	// calling that reaches X itself, so X wins.
	c := newCluster()
	x := c.add("x", []string{"b:1"}, "a:1")
	b := c.add("b", []string{"a:1", "b:1"}, "b:1")
	c.run(t, x, b)
	assert.Equal(t, "a:1", agree(t, x, b))
	assert.Equal(t, []string{"a:1"}, x.Addresses())
}

func TestLateInstanceJoinsOnDone(t *testing.T) {
	c := newCluster()
	b := c.add("tb", []string{"b:1", "c:1"}, "b:1")
	cc := c.add("tc", []string{"b:1", "c:1"}, "c:1")
	c.run(t, b, cc)
	require.Equal(t, "b:1", agree(t, b, cc))

	// The late instance has the smallest address of all, and it still joins.
	late := c.add("tl", []string{"a:1", "c:1"}, "a:1")
	c.call(late, "c:1")
	o, ok := late.Outcome()
	require.True(t, ok, "a Done decides at once")
	assert.Equal(t, Outcome{JoinVia: "b:1"}, o)
	assert.Nil(t, late.Round())

	// A peer outside discovery (an instance with a cluster) answers Done too.
	s := New("t", []string{"a:1", "z:1"}, true)
	s.Answer("z:1", Response{Done: &Done{LeaderAddress: "q:1"}})
	o, ok = s.Outcome()
	require.True(t, ok)
	assert.Equal(t, Outcome{JoinVia: "q:1"}, o)
}

func TestDuplicateAndStaleAnswersAreHarmless(t *testing.T) {
	// A duplicate answer before the decision changes nothing.
	c := newCluster()
	a := c.add("ta", []string{"a:1", "b:1"}, "a:1")
	b := c.add("tb", []string{"a:1", "b:1"}, "b:1")
	ans := b.Handle(a.Request(), "b:1")
	a.Answer("b:1", ans)
	peers, round := a.Peers(), a.Round()
	a.Answer("b:1", ans)
	assert.Equal(t, peers, a.Peers())
	assert.Equal(t, round, a.Round())

	c.run(t, a, b)
	agree(t, a, b)
	oa, _ := a.Outcome()
	ob, _ := b.Outcome()

	// Answers after the decision change nothing either.
	for _, s := range []*State{a, b} {
		s.Answer("b:1", ans)
		s.Answer("a:1", Response{Done: &Done{LeaderAddress: "elsewhere:1"}})
		s.Answer("c:1", Response{LeaderElection: &Request{TmpID: "tc", Peers: []string{"0:1"}}})
		s.Failed("a:1")
		assert.Equal(t, []string{"a:1", "b:1"}, s.Peers())
		assert.Nil(t, s.Round())
	}
	o, _ := a.Outcome()
	assert.Equal(t, oa, o)
	o, _ = b.Outcome()
	assert.Equal(t, ob, o)
}

func TestMalformedAnswersAreIgnored(t *testing.T) {
	s := New("x", []string{"a:1", "b:1"}, true)
	s.Answer("a:1", Response{LeaderElection: &Request{TmpID: "x", Peers: []string{"a:1", "b:1"}}})
	require.Equal(t, []string{"a:1"}, s.Addresses())
	for _, r := range []Response{
		{},
		{LeaderElection: &Request{TmpID: "y", Peers: []string{"a:1", "b:1"}}, Done: &Done{LeaderAddress: "b:1"}},
		{Done: &Done{}},
		{Done: &Done{LeaderAddress: "a:1"}}, // we are not anybody's leader yet
	} {
		s.Answer("b:1", r)
		_, ok := s.Outcome()
		assert.False(t, ok, "%+v", r)
		assert.Equal(t, []string{"b:1"}, s.Round(), "%+v", r)
	}
	s.Answer("", Response{Done: &Done{LeaderAddress: "b:1"}})
	_, ok := s.Outcome()
	assert.False(t, ok)
}

// A grown peer set has to be told to everyone, so every address is
// unvisited again, not only the new ones.
func TestGrowthUnvisitsEverything(t *testing.T) {
	c := newCluster()
	x := c.add("tx", []string{"b:1", "d:1"}, "c:1")
	c.add("tb", []string{"b:1"}, "b:1")
	c.call(x, "b:1")
	require.Equal(t, []string{"d:1"}, x.Round())

	x.Handle(Request{TmpID: "ty", Peers: []string{"a:1", "c:1"}}, "c:1")
	assert.Equal(t, []string{"a:1", "b:1", "c:1", "d:1"}, x.Round())

	// Learning nothing new keeps visits.
	c.call(x, "b:1")
	x.Handle(Request{TmpID: "ty", Peers: []string{"a:1"}}, "c:1")
	assert.Equal(t, []string{"a:1", "c:1", "d:1"}, x.Round())
}

// An answer to a request sent before we learned more does not cover what we
// know, so it is not a visit. Counting it would let X close on {a, b, c}
// while Q at b never heard of a: Q bootstraps at b, X would join a.
func TestStaleAnswerIsNotAVisit(t *testing.T) {
	c := newCluster()
	q := c.add("tq", []string{"b:1"}, "b:1")
	x := c.add("tx", []string{"b:1"}, "c:1")
	y := c.add("ty", []string{"a:1", "c:1"}, "a:1")

	req := x.Request() // X calls b with {b}...
	c.call(y, "c:1")   // ...Y reaches X meanwhile: X learns a and c...
	require.Equal(t, []string{"a:1", "b:1", "c:1"}, x.Peers())
	x.Answer("b:1", q.Handle(req, "b:1")) // ...and then Q's answer {b} arrives.
	assert.Equal(t, []string{"a:1", "b:1", "c:1"}, x.Round(), "a stale answer must not visit b")

	c.round(q) // Q alone closes on {b} and bootstraps.
	o, ok := q.Outcome()
	require.True(t, ok)
	require.Equal(t, Outcome{Bootstrap: true, Address: "b:1"}, o)

	c.run(t, x, y, q)
	assert.Equal(t, "b:1", agree(t, q, x, y))
}

// X is reachable by nobody, so it closes on {b} at once, before A appears.
// Joining "the smallest address" then would be joining b, which is not the
// leader; X polls b until b itself knows the leader.
func TestNonLeaderWaitsForTheLeadersDone(t *testing.T) {
	c := newCluster()
	m := c.add("tm", []string{"b:1"}, "b:1")
	x := c.add("tx", []string{"b:1"}, "c:1")
	c.round(x)
	_, ok := x.Outcome()
	require.False(t, ok, "a non-leader does not decide on closing")
	require.Equal(t, []string{"b:1"}, x.Round(), "it polls the smallest address")

	a := c.add("ta", []string{"a:1", "b:1"}, "a:1")
	c.round(a) // A learns nothing smaller than itself, but b has to hear of it...
	c.round(a) // ...then A closes on {a, b} and bootstraps.
	o, ok := a.Outcome()
	require.True(t, ok)
	require.Equal(t, Outcome{Bootstrap: true, Address: "a:1"}, o)

	c.run(t, x, m, a)
	assert.Equal(t, "a:1", agree(t, a, m, x))
}

func TestUnreachablePeerDelaysButDoesNotWedge(t *testing.T) {
	c := newCluster()
	a := c.add("ta", []string{"a:1", "b:1", "dead:1"}, "a:1")
	b := c.add("tb", []string{"a:1", "b:1"}, "b:1")
	for range 50 {
		c.round(a)
		c.round(b)
	}
	for _, s := range []*State{a, b} {
		_, ok := s.Outcome()
		assert.False(t, ok, "nobody decides while a known address never answers")
		assert.Equal(t, []string{"dead:1"}, s.Round(), "it is retried every round")
	}

	// The peer comes up: everyone decides.
	d := c.add("td", []string{"dead:1"}, "dead:1")
	c.run(t, a, b, d)
	assert.Equal(t, "a:1", agree(t, a, b, d))

	// A Done from another peer decides even with an address still dead.
	s := New("ts", []string{"never:1", "a:1"}, true)
	s.Failed("never:1")
	c.call(s, "a:1")
	o, ok := s.Outcome()
	require.True(t, ok)
	assert.Equal(t, Outcome{JoinVia: "a:1"}, o)
}

func TestAddressesAreDeduplicated(t *testing.T) {
	in := []string{"c:1", "a:1", "", "c:1", "b:1", "a:1"}
	s := New("t", in, true)
	in[0] = "mutated"
	assert.Equal(t, []string{"a:1", "b:1", "c:1"}, s.Peers())
	assert.Equal(t, Request{TmpID: "t", Peers: []string{"a:1", "b:1", "c:1"}, CanVote: true}, s.Request())
	assert.Equal(t, []string{"a:1", "b:1", "c:1"}, s.Round())

	resp := s.Handle(Request{TmpID: "u", Peers: []string{"d:1", "a:1", "d:1", ""}}, "x:1")
	assert.Equal(t, []string{"a:1", "b:1", "c:1", "d:1"}, resp.LeaderElection.Peers)

	// An answer listing duplicates covers us when its distinct addresses do.
	s.Answer("a:1", Response{LeaderElection: &Request{TmpID: "v", Peers: []string{"d:1", "c:1", "b:1", "a:1", "a:1"}}})
	assert.Equal(t, []string{"b:1", "c:1", "d:1"}, s.Round())
	// Ours are copies.
	s.Request().Peers[0] = "mutated"
	s.Peers()[0] = "mutated"
	resp.LeaderElection.Peers[0] = "mutated"
	assert.Equal(t, []string{"a:1", "b:1", "c:1", "d:1"}, s.Peers())
}

// An instance reachable at two addresses knows both as its own and wins
// under the smaller one.
func TestSeveralAddressesOfOneInstance(t *testing.T) {
	c := newCluster()
	x := c.add("tx", []string{"a:2", "b:1"}, "a:1", "a:2")
	b := c.add("tb", []string{"a:1", "b:1"}, "b:1")
	c.run(t, b, x)
	assert.Equal(t, "a:1", agree(t, x, b))
	assert.Equal(t, []string{"a:1", "a:2"}, x.Addresses())
}

// The documented precondition: with no instance that every instance can
// reach along the --peer lists, two instances may each close alone. W, who
// lists both, joins whichever answers it first.
func TestSplitBrainWithoutACommonPeer(t *testing.T) {
	c := newCluster()
	a := c.add("ta", []string{"a:1"}, "a:1")
	b := c.add("tb", []string{"b:1"}, "b:1")
	w := c.add("tw", []string{"a:1", "b:1"}, "w:1")
	c.run(t, a, b, w)
	oa, _ := a.Outcome()
	ob, _ := b.Outcome()
	assert.True(t, oa.Bootstrap && ob.Bootstrap, "two clusters: the lists had no common peer")
	ow, _ := w.Outcome()
	assert.Equal(t, Outcome{JoinVia: "a:1"}, ow)
}

func TestWireFormat(t *testing.T) {
	le := Response{LeaderElection: &Request{TmpID: "t", Peers: []string{"a:1"}, CanVote: true}}
	done := Response{Done: &Done{LeaderAddress: "a:1"}}
	for _, tc := range []struct {
		r    Response
		want map[string]any
	}{
		{le, map[string]any{"LeaderElection": map[string]any{"tmp_id": "t", "peers": []any{"a:1"}, "can_vote": true}}},
		{done, map[string]any{"Done": map[string]any{"leader_address": "a:1"}}},
	} {
		b, err := msgpack.Marshal(tc.r)
		require.NoError(t, err)
		var generic map[string]any
		require.NoError(t, msgpack.Unmarshal(b, &generic))
		assert.Equal(t, tc.want, generic)

		var back Response
		require.NoError(t, msgpack.Unmarshal(b, &back))
		assert.Equal(t, tc.r, back)
	}

	// A request always carries an array of peers, even an empty one.
	b, err := msgpack.Marshal(New("t", nil, true).Request())
	require.NoError(t, err)
	var generic map[string]any
	require.NoError(t, msgpack.Unmarshal(b, &generic))
	assert.Equal(t, map[string]any{"tmp_id": "t", "peers": []any{}, "can_vote": true}, generic)
}

// TestOnlyAVotableInstanceBoots: the smallest address belongs to an
// instance that cannot vote (a router): the smallest votable one boots,
// everyone joins through it; one that cannot vote, alone, never boots.
func TestOnlyAVotableInstanceBoots(t *testing.T) {
	c := newCluster()
	peers := []string{"a:1", "b:1", "c:1"}
	router := New("r", peers, false)
	c.at["a:1"] = router
	b := c.add("b", peers, "b:1")
	d := c.add("d", peers, "c:1")
	c.run(t, router, b, d)
	assert.Equal(t, "b:1", agree(t, router, b, d))

	alone := New("x", nil, false)
	_, decided := alone.Outcome()
	assert.False(t, decided)
	assert.Nil(t, alone.Round())
	// Knowing no votable peer, everyone waits: no cluster without a voter.
	c2 := newCluster()
	r1 := New("r1", []string{"a:1", "b:1"}, false)
	r2 := New("r2", []string{"a:1", "b:1"}, false)
	c2.at["a:1"], c2.at["b:1"] = r1, r2
	for range 10 {
		c2.round(r1)
		c2.round(r2)
	}
	_, d1 := r1.Outcome()
	_, d2 := r2.Outcome()
	assert.False(t, d1 || d2)
}

// The leader address answers nobody any more (the instance was expelled
// before X heard its Done). X, closed and polling it, asks everyone while
// the calls fail; an instance that joined answers Done, and X joins the
// same cluster.
func TestGoneLeaderIsAskedAround(t *testing.T) {
	x := New("tx", []string{"a:1", "b:1", "c:1"}, true)
	x.Answer("c:1", Response{LeaderElection: &Request{TmpID: "tx", Peers: []string{"a:1", "b:1", "c:1"}, CanVote: true}})
	for _, p := range []string{"a:1", "b:1"} {
		x.Answer(p, Response{LeaderElection: &Request{TmpID: "t" + p, Peers: []string{"a:1", "b:1", "c:1"}, CanVote: true}})
	}
	require.Equal(t, []string{"a:1"}, x.Round(), "closed: it polls the leader")

	x.Failed("b:1")
	assert.Equal(t, []string{"a:1"}, x.Round(), "another address failing changes nothing")
	x.Failed("a:1")
	require.Equal(t, []string{"a:1", "b:1", "c:1"}, x.Round(), "the leader failing: everyone is asked")
	x.Answer("b:1", Response{Done: &Done{LeaderAddress: "a:1"}})
	o, ok := x.Outcome()
	require.True(t, ok)
	assert.Equal(t, Outcome{JoinVia: "a:1"}, o)
}

// A leader that answers again is polled alone again.
func TestLeaderAnsweringAgainIsPolledAlone(t *testing.T) {
	x := New("tx", []string{"a:1", "b:1"}, true)
	for _, p := range []string{"a:1", "b:1"} {
		x.Answer(p, Response{LeaderElection: &Request{TmpID: "t" + p, Peers: []string{"a:1", "b:1"}, CanVote: true}})
	}
	x.Failed("a:1")
	require.Equal(t, []string{"a:1", "b:1"}, x.Round())
	x.Answer("a:1", Response{LeaderElection: &Request{TmpID: "ta:1", Peers: []string{"a:1", "b:1"}, CanVote: true}})
	assert.Equal(t, []string{"a:1"}, x.Round())
}
