package api

import "time"

// The roles' procedures (docs/roles.md): the governor asks an instance to
// start or stop roles, at the (term, index) its plan was made at.
type (
	// RoleStart: `.proc_role_start(raft_term, raft_index, timeout, roles)`
	// — once raft_index is applied (with raft_term), start each of roles
	// that is not running here, in the order given (dependencies first);
	// a role whose dependencies do not all run here is not started. It
	// answers a RoleReport: a role that failed to start is an answer, not
	// an error of the call.
	RoleStart struct {
		Term    uint64        `arg:"raft_term"`
		Index   uint64        `arg:"raft_index"`
		Timeout time.Duration `arg:"timeout"`
		Roles   []string      `arg:"roles"`
	}
	// RoleStop: `.proc_role_stop(raft_term, raft_index, timeout, roles)` —
	// stop each of roles that runs here, in the order given (dependents
	// first); answers a RoleReport.
	RoleStop struct {
		Term    uint64        `arg:"raft_term"`
		Index   uint64        `arg:"raft_index"`
		Timeout time.Duration `arg:"timeout"`
		Roles   []string      `arg:"roles"`
	}
)

func (RoleStart) Proc() string { return ".proc_role_start" }
func (RoleStop) Proc() string  { return ".proc_role_stop" }

// At implements AtGovernorIndex.
func (r RoleStart) At(term, index uint64, timeout time.Duration) Request {
	r.Term, r.Index, r.Timeout = term, index, timeout
	return r
}

// At implements AtGovernorIndex.
func (r RoleStop) At(term, index uint64, timeout time.Duration) Request {
	r.Term, r.Index, r.Timeout = term, index, timeout
	return r
}

// RoleReport is what `.proc_role_start` and `.proc_role_stop` answer:
// Results, one per role asked, in order; and Running, every role that runs
// on the instance once they were done (Error empty), by name — what the
// governor records, so that _pico_role_state follows what runs even when
// an earlier call's answer was lost.
type RoleReport struct {
	Results []RoleResult `msgpack:"results"`
	Running []RoleResult `msgpack:"running"`
}

// RoleResult is what starting or stopping one role on an instance came
// to: Error is empty on success.
type RoleResult struct {
	Role    string `msgpack:"role"`
	Version string `msgpack:"version"`
	Error   string `msgpack:"error"`
}

// Enabling roles per tier (docs/roles.md).
type (
	// RoleEnable: `.proc_role_enable(role, tier)` — on the Raft leader
	// (others answer NotALeader): enable role on tier. The role's
	// definition, and its dependencies', are the serving instance's
	// binary's; they are recorded in _pico_role with the enablement, in
	// one CaS. Enabling a role that is enabled changes nothing.
	RoleEnable struct {
		Role string `arg:"role"`
		Tier string `arg:"tier"`
	}
	// RoleDisable: `.proc_role_disable(role, tier)` — on the leader:
	// the role no longer runs on tier (its dependencies stay as long as
	// another role there needs them).
	RoleDisable struct {
		Role string `arg:"role"`
		Tier string `arg:"tier"`
	}
)

func (RoleEnable) Proc() string  { return ".proc_role_enable" }
func (RoleDisable) Proc() string { return ".proc_role_disable" }

// RoleConfig: `.proc_role_config(role, config)` — on the leader: the
// configuration of role (a role _pico_role defines) on every instance
// running it becomes config, a map (empty: none), in _pico_role_config.
// The instances running the role give it the new configuration (its
// OnConfigChange); an instance starting the role starts it with it.
type RoleConfig struct {
	Role   string         `arg:"role"`
	Config map[string]any `arg:"config,empty"`
}

func (RoleConfig) Proc() string { return ".proc_role_config" }
