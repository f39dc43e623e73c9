// Package discovery is how instances started with empty disks agree on one
// bootstrap leader without any prior coordination (SPEC C2, `.proc_discover`).
// It is Picodata's discovery algorithm as a pure, deterministic state
// machine: it does no IO, reads no clock and draws no random numbers. The
// caller injects the random tmp_id, makes the calls, times them out and
// drives the rounds.
//
// # The algorithm
//
// Every starting instance knows a random tmp_id and its --peer list. It does
// not know which of those addresses (if any) reach itself. It keeps:
//
//   - peers: every address it has heard of (its list, the lists in the
//     requests it served and in the answers it got); it only grows;
//   - visited: the peers that have answered it with a peer set covering all
//     of its current peers;
//   - self: the addresses that turned out to reach itself (an answer, or an
//     incoming request, carrying its own tmp_id).
//
// In rounds it calls `.proc_discover({tmp_id, peers}, addr)` on every
// unvisited address (State.Round, State.Request). A discovering peer merges
// the caller's peers into its own and answers LeaderElection{its tmp_id, its
// peers} (State.Handle); a peer that already belongs to a cluster answers
// Done{leader_address}. On an answer (State.Answer) the instance merges the
// peers it was sent. Whenever its peer set grows, every address becomes
// unvisited again: the new addresses have to be told to everyone. An address
// counts as visited only if its answer already contained every peer we know.
//
// When peers ⊆ visited ("closed") every known instance has seen exactly our
// peer set, and that set's lexicographically smallest votable address is the
// leader: the instance that owns it bootstraps the cluster. Every other
// instance keeps asking that address until it answers Done, and then joins
// through the leader address the Done names. While a call to it fails, it
// asks every address it knows: the leader may be gone for good (expelled
// before a slow instance heard its Done), and any instance that joined
// answers Done naming the same bootstrapper (simulator seed 8160). A Done from any peer decides
// Join at once. A decided instance answers every request with
// Done{leader_address}, so late instances join the cluster that exists.
//
// Votable: the request and the LeaderElection answer carry can_vote — the
// instance's tier votes. The first instance is the cluster's sole voter,
// so one whose tier cannot vote never boots it; with no votable instance
// known, nobody boots (an instance of a voting tier has to come).
//
// # Deviations from a naive reading, each one a bug it avoids
//
//  1. A grown peer set unvisits every address, not only the new ones (as
//     Picodata does). Otherwise an instance visited before we learned a
//     smaller address never learns it, closes on its own smaller view and
//     bootstraps while we join someone else.
//  2. An answer whose peers do not cover ours does not count as a visit
//     (Picodata counts it). Such an answer is stale: the request was sent
//     before we learned more. Counting it lets us close although the peer
//     never saw our full set: that is the first bug again, through a
//     message that was already in flight. TestStaleAnswerIsNotAVisit pins it.
//  3. A non-leader does not decide Join(smallest address) on closing. It
//     polls the smallest address for its Done, as Picodata does. An instance
//     that nobody can reach (its own address is in no list) can close early
//     on a view the others outgrow, and would then join an instance that is
//     not the leader. TestNonLeaderWaitsForTheLeadersDone pins it.
//  4. An instance may be reachable at several addresses; each is recorded as
//     its own (Picodata panics with todo!()).
//  5. An instance with no peers at all has nobody to agree with. It
//     bootstraps at once, if it can vote, and answers Done with the first
//     address it is reached at.
//
// # Why it yields one leader
//
// If L bootstraps on closed set S, every p in S answered L with exactly S,
// and L's own set was never anything but a subset of S while it answered
// LeaderElection. Suppose another instance L' bootstraps on S'. Take a p that
// is in both sets. p's set only grows, so one set contains the other, say
// S ⊆ S'. Then l = min S is in S', and L' (whose l' = min S' < l) needed
// L's LeaderElection answer containing S' ∋ l'. L never held l' before it
// decided, and after it decided it answers Done, so that answer cannot
// exist. Joiners only follow a Done, and every Done goes back to the
// bootstrapper, so every JoinVia is the same address.
//
// The sets S and S' do meet when some instance is reachable from every
// instance along the --peer lists. Each member of a closed set answered with
// that set, so its own --peer list is in it, and so is everything reachable
// from it. "Everyone lists the same peers" satisfies this. A graph that is
// merely connected does not: A{a}, B{b} and W{a, b} can leave A and B each
// alone and closed before W's calls arrive. Picodata behaves the same way.
// TestSplitBrainWithoutACommonPeer documents it.
//
// # Unreachable peers
//
// A call that fails or times out leaves the address unvisited
// (State.Failed), and State.Round returns it again next round. Until every
// known address answers, nobody closes, so an address that never answers
// (a typo in --peer, a host that is down) means no decision at all. Picodata
// also waits forever. A Done from any other peer still decides Join.
//
// Tmp ids are assumed unique (random UUIDs). Two instances with the same
// tmp_id would each take the other's addresses for their own.
package discovery
