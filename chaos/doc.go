// Package chaos owns picogo's chaos test on real processes (issue 6, SPEC
// N3): it starts a cluster of 3–5 `picogo run` processes on 127.0.0.1,
// creates a GLOBAL key-value table through CaS, and runs bounded
// concurrent clients — CaS writes and linearizable reads over real iproto
// connections, following the leader — while a fault loop kills random
// instances with SIGKILL (the leader more often than not), restarts them,
// and pauses others with SIGSTOP/SIGCONT, never more than a minority at a
// time, for a bounded number of cycles.
//
// The clients' history, stamped with real call and return times, is
// checked with the same porcupine model as the simulator
// (package linearizability). Once the faults stop and the cluster has
// settled, every key is read linearizably (those reads join the history),
// every instance's copy of the table is compared with the leader's, and
// every acknowledged write is checked against the final state: a key whose
// final value was written at a lower Raft index than an acknowledged write
// to it, or is absent after one, has lost that write.
//
// [Run] is the whole run; `picogo chaos` and `make chaos` drive it, and
// chaos_test.go runs a short one inside `go test`. Every wait and every
// loop is bounded, and every process it starts is killed (its process
// group, with SIGKILL) before Run returns — and by the kernel
// (Pdeathsig) if the calling process dies first.
package chaos
