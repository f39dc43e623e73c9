package role

import "context"

// Role is application code the cluster runs on the instances of the tiers
// it is enabled for. The runtime calls a role's lifecycle callbacks (Init,
// Stop, and the optional OnConfigChange and OnLeaderChange) one at a time,
// never two at once; its handlers run concurrently with each other and with
// those callbacks.
type Role interface {
	// Name is the role's unique name, [a-z0-9_]+: the name the governor
	// enables it by and RPCs address it by.
	Name() string
	// Version is the role's semantic version, "MAJOR.MINOR.PATCH" (see
	// ParseVersion).
	Version() string
	// Dependencies are the names of the roles it needs: on an instance they
	// are started before it and stopped after it.
	Dependencies() []string
	// OnceDDL is the SQL DDL the role needs, applied once per cluster in
	// this order. A later version of the role may append statements, never
	// change or remove earlier ones: the cluster applies only those past
	// what it applied for an earlier version (AppendedDDL).
	OnceDDL() []string
	// Init starts the role on this instance. ctx ends at the runtime's
	// deadline for Init; a role that needs longer-lived work starts its own
	// goroutines and ends them in Stop.
	Init(ctx context.Context, c *Context) error
	// Stop stops the role gracefully: it ends what Init started. The role
	// counts as stopped afterwards even if Stop returns an error.
	Stop(ctx context.Context, c *Context) error
	// Handlers are the role's RPC handlers by name. The runtime asks once,
	// when it takes the role in.
	Handlers() map[string]Handler
}

// Handler serves one RPC. args are the call's arguments as msgpack decodes
// them: a []any of nil, bool, int64 (uint64 for an integer above
// math.MaxInt64), float64, string (msgpack str), []byte (msgpack bin),
// []any and map[string]any. The result is encoded with msgpack, so it must
// be something msgpack can encode. ctx ends at the call's deadline and when
// the role stops.
type Handler func(ctx context.Context, c *Context, args []any) (any, error)

// ConfigWatcher is implemented by a role that applies a new configuration
// while running. If OnConfigChange returns an error the role keeps its old
// configuration (and keeps running). A role that does not implement it sees
// a new configuration only through the Context of later callbacks.
type ConfigWatcher interface {
	OnConfigChange(ctx context.Context, c *Context, cfg map[string]any) error
}

// LeaderWatcher is implemented by a role that wants to know the raft id of
// the cluster's new Raft leader (where the governor runs) when it changes.
type LeaderWatcher interface {
	OnLeaderChange(ctx context.Context, c *Context, leaderID uint64)
}
