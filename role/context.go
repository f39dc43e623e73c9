package role

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/picogo/picogo/core/api"

	"github.com/prometheus/client_golang/prometheus"
)

// Context is what the runtime gives a role's callbacks and handlers. Each
// callback gets a snapshot: the runtime never changes a Context it has
// handed out, it hands later callbacks a new one (after a configuration
// change, with the new Config). Log, Metrics, SQL and RPC stay the same from
// Init to Stop, so a role may keep them for its own goroutines.
type Context struct {
	// Instance is the instance the role runs on.
	Instance Instance
	// Log is the instance's logger with a "role" attribute naming the role.
	Log *slog.Logger
	// Metrics is the role's own registry, fresh at every start. The daemon
	// exports what the role registers here on /metrics, each metric labelled
	// role="<name>"; a role must not use the label "role" itself.
	Metrics *prometheus.Registry
	// Config is the role's configuration; the role must not modify it.
	Config map[string]any
	// SQL runs SQL on the cluster; nil where the runtime offers none yet.
	SQL SQL
	// RPC calls role handlers elsewhere in the cluster; nil where the
	// runtime offers none yet.
	RPC RPC
}

// Instance names the instance a role runs on.
type Instance struct {
	Name       string
	Replicaset string
	Tier       string
	// Address is the instance's advertised iproto address (host:port).
	Address   string
	ClusterID string
}

// SQL runs SQL on the cluster, as the user the runtime runs roles as.
type SQL interface {
	// SQL runs one statement with its positional parameters ($1, $2, …).
	SQL(ctx context.Context, query string, params ...any) (*SQLResult, error)
}

// SQLResult is what a statement returns: Columns and Rows for a query,
// RowCount for DML (the number of rows it changed) and for a query (the
// number of Rows).
type SQLResult struct {
	Columns  []string
	Rows     [][]any
	RowCount uint64
}

// RPC calls a role's handler on another instance (or on this one).
type RPC interface {
	// Call calls handler of role roleName with args on the instance t
	// picks, which must run the role, and returns its result as msgpack
	// decodes it (see Handler). It returns an error when no instance fits
	// t, when the call does not return within t's timeout (or ctx ends),
	// and when the handler returns one (its message is kept).
	Call(ctx context.Context, t Target, roleName, handler string, args []any) (any, error)
}

// RPCError is the error RPC.Call returns when the cluster refused the
// call or its handler failed. Code is picogo's error code: CodeHandler for
// the handler's own error (Message is its message), a panic or its
// deadline; CodeNotRunning when no instance the target names runs the
// role; others as the Proc API's (docs/procedures.md).
type RPCError struct {
	Code    uint32
	Message string
}

func (e *RPCError) Error() string { return e.Message }

// The RPCError codes a role most often meets.
const (
	CodeHandler    uint32 = 10050
	CodeNotRunning uint32 = 10051
)

// TargetKind says how a Target picks the instance a call goes to.
type TargetKind uint8

const (
	// ByBucket: the master of the replicaset of tier Tier that owns Bucket
	// (a replica of it if Replica). A call that reaches a replicaset while
	// the bucket moves away is retried where the bucket went, as the
	// router retries, within the call's timeout.
	ByBucket TargetKind = iota + 1
	// ByRole: any instance running the role called, this instance when it
	// runs it, else the others in turn; with Replica, preferring instances
	// that are not their replicaset's master.
	ByRole
	// ByReplicaset: the master of replicaset Replicaset (a replica of it if
	// Replica).
	ByReplicaset
	// ByInstance: instance Instance, whatever its role in its replicaset.
	ByInstance
)

func (k TargetKind) String() string {
	switch k {
	case ByBucket:
		return "bucket"
	case ByRole:
		return "role"
	case ByReplicaset:
		return "replicaset"
	case ByInstance:
		return "instance"
	}
	return fmt.Sprintf("TargetKind(%d)", uint8(k))
}

// Target says where an RPC goes and how: build one with OnBucket, OnRole,
// OnReplicaset or OnInstance, then adjust it with WithTimeout and
// OnReplica.
type Target struct {
	Kind TargetKind
	// Tier and Bucket, for ByBucket.
	Tier   string
	Bucket uint64
	// Replicaset, for ByReplicaset.
	Replicaset string
	// Instance, for ByInstance.
	Instance string
	// Timeout bounds the whole call, retries included; zero means the
	// runtime's default.
	Timeout time.Duration
	// Replica asks for a replica rather than the master (ByBucket,
	// ByReplicaset; a preference for ByRole): for reads that may lag behind
	// the master, to take load off it. When no replica is available the
	// call goes to the master.
	Replica bool
}

// OnBucket targets the master of the replicaset owning bucket in tier.
func OnBucket(tier string, bucket uint64) Target {
	return Target{Kind: ByBucket, Tier: tier, Bucket: bucket}
}

// OnRole targets any instance running the role called, this one first.
func OnRole() Target { return Target{Kind: ByRole} }

// OnReplicaset targets the master of replicaset name.
func OnReplicaset(name string) Target { return Target{Kind: ByReplicaset, Replicaset: name} }

// OnInstance targets instance name.
func OnInstance(name string) Target { return Target{Kind: ByInstance, Instance: name} }

// WithTimeout returns t with its timeout set to d.
func (t Target) WithTimeout(d time.Duration) Target {
	t.Timeout = d
	return t
}

// OnReplica returns t asking for a replica rather than the master.
func (t Target) OnReplica() Target {
	t.Replica = true
	return t
}

// Check reports a target that names nowhere: an unknown kind, the field
// its kind needs left empty (a bucket is 1 or more), a negative timeout,
// or a replica asked of a single instance.
func (t Target) Check() error {
	if err := t.Wire().Check(); err != nil {
		return fmt.Errorf("rpc target %v: %w", t, err)
	}
	return nil
}

// Wire is t as the Proc API's `.proc_rpc_call` takes it (docs/roles.md
// "RPC").
func (t Target) Wire() api.RPCTarget {
	return api.RPCTarget{Kind: t.Kind.String(), Tier: t.Tier, Bucket: t.Bucket, Replicaset: t.Replicaset,
		Instance: t.Instance, Replica: t.Replica, Timeout: t.Timeout.Seconds()}
}

// String describes t for errors and logs, e.g. "bucket 17 of tier red
// (replica)".
func (t Target) String() string {
	var s string
	switch t.Kind {
	case ByBucket:
		s = fmt.Sprintf("bucket %d of tier %q", t.Bucket, t.Tier)
	case ByRole:
		s = "any instance running the role"
	case ByReplicaset:
		s = fmt.Sprintf("replicaset %q", t.Replicaset)
	case ByInstance:
		s = fmt.Sprintf("instance %q", t.Instance)
	default:
		s = t.Kind.String()
	}
	if t.Replica {
		s += " (replica)"
	}
	return s
}
