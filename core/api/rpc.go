package api

import (
	"fmt"
	"math"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// Calling roles' handlers (docs/roles.md "RPC"): any instance takes
// `.proc_rpc_call`, picks the instance its target names and has it run the
// handler through `.proc_rpc_serve`. Arguments and result travel as the
// caller's msgpack, untouched: only the role's own code decodes them.
type (
	// RPCCall: `.proc_rpc_call(target, role, handler, args)` — call
	// handler of role with args (a msgpack array) on the instance target
	// picks; answers the handler's result as its one value.
	RPCCall struct {
		Target  RPCTarget          `arg:"target"`
		Role    string             `arg:"role"`
		Handler string             `arg:"handler"`
		Args    msgpack.RawMessage `arg:"args"`
	}
	// RPCServe: `.proc_rpc_serve(role, handler, args, timeout, tier,
	// bucket, master)` — run handler of role here, if role runs here. With
	// a tier, only while this instance's replicaset serves bucket of it (a
	// write's fencing if master, else a read's); with master, only on the
	// replicaset's writable master. Refusals are the router's retryable
	// ones (CodeWrongBucket, CodeBucketMoving, CodeReadonly, CodeNotReady).
	// Answers an RPCResult.
	RPCServe struct {
		Role    string             `arg:"role"`
		Handler string             `arg:"handler"`
		Args    msgpack.RawMessage `arg:"args"`
		Timeout time.Duration      `arg:"timeout"`
		Tier    string             `arg:"tier"`
		Bucket  uint64             `arg:"bucket"`
		Master  bool               `arg:"master"`
	}
)

func (RPCCall) Proc() string  { return ".proc_rpc_call" }
func (RPCServe) Proc() string { return ".proc_rpc_serve" }

// The kinds of RPCTarget: how the instance that serves a call is picked.
const (
	RPCByBucket     = "bucket"
	RPCByRole       = "role"
	RPCByReplicaset = "replicaset"
	RPCByInstance   = "instance"
)

// RPCTarget says where `.proc_rpc_call` goes, as a msgpack map:
//
//	kind        "bucket": the master of the replicaset of tier owning
//	            bucket (following the router's retries while it moves);
//	            "role": any instance running the role, this one first;
//	            "replicaset": the master of replicaset;
//	            "instance": instance.
//	tier, bucket, replicaset, instance: what kind needs.
//	replica     true: a replica rather than the master (bucket,
//	            replicaset; for role, a preference), the master if none.
//	timeout     seconds for the whole call, retries included (none or 0:
//	            the instance's request timeout).
type RPCTarget struct {
	Kind       string  `msgpack:"kind"`
	Tier       string  `msgpack:"tier,omitempty"`
	Bucket     uint64  `msgpack:"bucket,omitempty"`
	Replicaset string  `msgpack:"replicaset,omitempty"`
	Instance   string  `msgpack:"instance,omitempty"`
	Replica    bool    `msgpack:"replica,omitempty"`
	Timeout    float64 `msgpack:"timeout,omitempty"`
}

// Wait is the target's timeout (0: none given).
func (t RPCTarget) Wait() time.Duration { return time.Duration(t.Timeout * float64(time.Second)) }

// CheckArgs: a known target with what its kind needs, a role and a
// handler named, args an array.
func (r RPCCall) CheckArgs() error {
	switch err := r.Target.Check(); {
	case err != nil:
		return ArgError(0, "target", err)
	case r.Role == "":
		return ArgError(1, "role", fmt.Errorf("no role named"))
	case r.Handler == "":
		return ArgError(2, "handler", fmt.Errorf("no handler named"))
	}
	return checkRPCArgs(3, r.Args)
}

// Check reports a target that names nowhere: an unknown kind, the field
// its kind needs left empty (a bucket is 1 or more), a replica asked of
// one instance, a timeout that is negative or not a number.
func (t RPCTarget) Check() error {
	var missing string
	switch t.Kind {
	case RPCByBucket:
		if t.Tier == "" {
			missing = "tier"
		} else if t.Bucket == 0 {
			missing = "bucket (1 or more)"
		}
	case RPCByRole:
	case RPCByReplicaset:
		if t.Replicaset == "" {
			missing = "replicaset"
		}
	case RPCByInstance:
		if t.Instance == "" {
			missing = "instance"
		}
		if t.Replica {
			return fmt.Errorf("a replica cannot be asked of one instance")
		}
	default:
		return fmt.Errorf("unknown kind %q (known: %s, %s, %s, %s)", t.Kind, RPCByBucket, RPCByRole, RPCByReplicaset, RPCByInstance)
	}
	switch {
	case missing != "":
		return fmt.Errorf("by %s: no %s given", t.Kind, missing)
	case math.IsNaN(t.Timeout) || t.Timeout < 0 || t.Timeout > 1e9:
		return fmt.Errorf("%v seconds is not a valid timeout", t.Timeout)
	}
	return nil
}

// CheckArgs: a role and a handler named, args an array.
func (r RPCServe) CheckArgs() error {
	switch {
	case r.Role == "":
		return ArgError(0, "role", fmt.Errorf("no role named"))
	case r.Handler == "":
		return ArgError(1, "handler", fmt.Errorf("no handler named"))
	}
	return checkRPCArgs(2, r.Args)
}

// checkRPCArgs: the handler's arguments are one msgpack array.
func checkRPCArgs(i int, args msgpack.RawMessage) error {
	if len(args) == 0 {
		return ArgError(i, "args", fmt.Errorf("missing"))
	}
	c := args[0]
	if !(c >= 0x90 && c <= 0x9f) && c != 0xdc && c != 0xdd {
		return ArgError(i, "args", fmt.Errorf("not an array"))
	}
	return nil
}

// RPCResult is what a handler answered: its result, as msgpack.
type RPCResult struct {
	Value msgpack.RawMessage `msgpack:"value"`
}

// AsRPCResult reads an RPCResult however a call's answer carries it: as
// itself, or as the only value of the list of return values.
func AsRPCResult(v any) (RPCResult, bool) {
	switch r := v.(type) {
	case RPCResult:
		return r, true
	case []any:
		if len(r) == 1 {
			res, ok := r[0].(RPCResult)
			return res, ok
		}
	}
	return RPCResult{}, false
}

// Error codes of calls to roles.
const (
	// CodeRoleHandler: the role's handler returned an error (its message
	// is the error's), panicked or passed its deadline.
	CodeRoleHandler uint32 = 10050
	// CodeRoleNotRunning: no instance the target names runs the role.
	CodeRoleNotRunning uint32 = 10051
)
