package discovery

import "slices"

// Request is the first argument of `.proc_discover`: who is asking and every
// address it knows. The second argument, receiver, is the address the caller
// used to reach the callee.
type Request struct {
	TmpID string   `msgpack:"tmp_id"`
	Peers []string `msgpack:"peers"`
	// CanVote: the instance is of a tier that votes; only such an
	// instance may boot the cluster (the first voter).
	CanVote bool `msgpack:"can_vote"`
}

// Response is the answer of `.proc_discover`: exactly one of its fields is
// set. On the wire it is a one-key map, {"LeaderElection": {...}} or
// {"Done": {...}}.
type Response struct {
	// LeaderElection: the callee is still discovering; its tmp_id and its
	// peers (the caller's merged in).
	LeaderElection *Request `msgpack:"LeaderElection,omitempty"`
	// Done: the callee knows the leader; join through it.
	Done *Done `msgpack:"Done,omitempty"`
}

// Done names the address to join a cluster through.
type Done struct {
	LeaderAddress string `msgpack:"leader_address"`
}

// Outcome is what discovery decided.
type Outcome struct {
	// Bootstrap: this instance boots the cluster.
	Bootstrap bool
	// JoinVia, when !Bootstrap: the address to join the cluster through
	// (the bootstrap leader's, as reported by a Done).
	JoinVia string
	// Address, when Bootstrap: the address this instance won under, the one
	// it reports in Done. It is empty only for an instance that had no peers
	// at all and has not been reached by anyone yet.
	Address string
}

// State is one instance's discovery. It is not safe for concurrent use: the
// caller serializes Round, Answer, Failed and Handle (single-threaded core).
// The zero value is not usable; call New.
type State struct {
	tmpID string
	// peers is sorted and deduplicated, and it only grows.
	peers []string
	// visited holds the peers whose last answer covered all of peers. A
	// growing peer set empties it.
	visited map[string]bool
	// self holds the addresses known to reach this instance.
	self map[string]bool
	// canVote is this instance's; votable holds the addresses of peers
	// (and our own) that answered they can vote.
	canVote bool
	votable map[string]bool
	// leaderFailed: the last call to the leader address, polled for its
	// Done, failed. It may be gone for good (expelled before a slow
	// instance heard from it), so until it answers every address is asked:
	// any that has joined answers Done.
	leaderFailed bool

	decided bool
	outcome Outcome
}

// New starts discovery for an instance with the given random tmp_id and
// --peer list. Empty and duplicate addresses are dropped, and the list is
// copied. canVote says whether this instance's tier votes: the cluster is
// booted by the votable instance with the smallest address. With no peers
// at all a votable instance is alone and decides Bootstrap at once (one
// that cannot vote waits: it can never be the first voter).
func New(tmpID string, peers []string, canVote bool) *State {
	s := &State{
		tmpID:   tmpID,
		peers:   normalize(peers),
		visited: map[string]bool{},
		self:    map[string]bool{},
		canVote: canVote,
		votable: map[string]bool{},
	}
	if len(s.peers) == 0 && canVote {
		s.decide(Outcome{Bootstrap: true})
	}
	return s
}

// TmpID returns the instance's tmp_id.
func (s *State) TmpID() string { return s.tmpID }

// Peers returns every address known so far, sorted.
func (s *State) Peers() []string { return slices.Clone(s.peers) }

// Addresses returns the addresses known to reach this instance, sorted.
func (s *State) Addresses() []string {
	var out []string
	for _, p := range s.peers {
		if s.self[p] {
			out = append(out, p)
		}
	}
	return out
}

// Request returns the `.proc_discover` request to send: the tmp_id and every
// known address (never nil, so it encodes as an array).
func (s *State) Request() Request {
	return Request{TmpID: s.tmpID, Peers: s.peersCopy(), CanVote: s.canVote}
}

// Round returns the addresses to call now, sorted: every unvisited one. Once
// every address is visited and this instance is not the leader, it returns
// just the smallest votable address, which is polled until it answers Done —
// or every address, knowing none or while the last call to it failed. After
// the decision it returns nil.
func (s *State) Round() []string {
	if s.decided || len(s.peers) == 0 {
		return nil
	}
	var out []string
	for _, p := range s.peers {
		if !s.visited[p] {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		// Closed, but the smallest votable address is someone else's:
		// wait for its Done (see the package doc, deviation 3).
		if leader, ok := s.leaderAddress(); ok && !s.leaderFailed {
			return []string{leader}
		}
		return slices.Clone(s.peers)
	}
	return out
}

// Answer records addr's answer to our request. A Done decides Join at once.
// A LeaderElection merges its peers, and it marks addr visited only if it
// already covers every address we know. Answers after the decision, and
// malformed ones (neither or both fields set, an empty leader address, or a
// leader address that is our own), change nothing. Answering twice is
// harmless.
func (s *State) Answer(addr string, r Response) {
	if s.decided || addr == "" {
		return
	}
	if leader, ok := s.leaderAddress(); ok && addr == leader {
		s.leaderFailed = false
	}
	switch {
	case r.Done != nil && r.LeaderElection == nil:
		leader := r.Done.LeaderAddress
		if leader == "" || s.self[leader] {
			return
		}
		s.decide(Outcome{JoinVia: leader})
	case r.LeaderElection != nil && r.Done == nil:
		le := r.LeaderElection
		s.merge([]string{addr})
		s.merge(le.Peers)
		if le.TmpID == s.tmpID {
			s.self[addr] = true
		}
		if le.CanVote {
			s.votable[addr] = true
		}
		if s.covers(le.Peers) {
			s.visited[addr] = true
		}
		s.maybeDecide()
	}
}

// Failed records that the call to addr failed or timed out. The address
// stays as it was, so an unvisited address is called again next round. A
// peer that never answers holds up the decision (see the package doc) —
// except the leader address once everything is visited: while it fails,
// every address is asked (Round), and a Done from any decides.
func (s *State) Failed(addr string) {
	if leader, ok := s.leaderAddress(); ok && addr == leader {
		s.leaderFailed = true
	}
}

// Handle serves an incoming `.proc_discover`. receiver is the address the
// caller reached us at. While discovering, it merges the caller's peers
// (unvisiting everything if that teaches us anything). It records receiver
// as our own address if the request carries our own tmp_id. It answers
// LeaderElection with our state. Once decided, it answers
// Done{leader_address}: JoinVia, or our own winning address.
func (s *State) Handle(req Request, receiver string) Response {
	if s.decided {
		leader := s.outcome.JoinVia
		if s.outcome.Bootstrap {
			if s.outcome.Address == "" && receiver != "" {
				// Bootstrapped alone: the first address we are reached at
				// becomes the one we answer with, so everyone gets the same.
				s.outcome.Address = receiver
				s.self[receiver] = true
				s.merge([]string{receiver})
			}
			leader = s.outcome.Address
		}
		return Response{Done: &Done{LeaderAddress: leader}}
	}
	s.merge(req.Peers)
	if req.TmpID == s.tmpID && receiver != "" {
		s.merge([]string{receiver})
		s.self[receiver] = true
	}
	return Response{LeaderElection: &Request{TmpID: s.tmpID, Peers: s.peersCopy(), CanVote: s.canVote}}
}

// Outcome returns the decision, and whether there is one yet.
func (s *State) Outcome() (Outcome, bool) { return s.outcome, s.decided }

// merge adds addrs to peers. If that adds anything, it unvisits every address.
func (s *State) merge(addrs []string) {
	grew := false
	for _, a := range addrs {
		if a == "" {
			continue
		}
		i, found := slices.BinarySearch(s.peers, a)
		if !found {
			s.peers = slices.Insert(s.peers, i, a)
			grew = true
		}
	}
	if grew {
		clear(s.visited)
	}
}

// covers reports whether addrs holds every known peer. Call it after merging
// addrs, when addrs ⊆ peers: then it covers peers exactly when it has as many
// distinct addresses.
func (s *State) covers(addrs []string) bool {
	return len(normalize(addrs)) == len(s.peers)
}

// maybeDecide bootstraps if every peer is visited and the smallest votable
// one is us.
func (s *State) maybeDecide() {
	if s.decided || len(s.peers) == 0 {
		return
	}
	for _, p := range s.peers {
		if !s.visited[p] {
			return
		}
	}
	if leader, ok := s.leaderAddress(); ok && s.self[leader] {
		s.decide(Outcome{Bootstrap: true, Address: leader})
	}
}

// leaderAddress is the smallest address known to be votable.
func (s *State) leaderAddress() (string, bool) {
	for _, p := range s.peers {
		if s.votable[p] {
			return p, true
		}
	}
	return "", false
}

func (s *State) decide(o Outcome) {
	s.decided = true
	s.outcome = o
}

func (s *State) peersCopy() []string {
	return append(make([]string, 0, len(s.peers)), s.peers...)
}

// normalize returns a sorted copy of addrs without duplicates or empty
// strings.
func normalize(addrs []string) []string {
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		if a != "" {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
