package sim

import (
	"fmt"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// Call implements runtime.RoleRunner: the test roles' one handler,
// "whoami", answers [instance id, replicaset id] after a few virtual
// milliseconds. A call reaching a role that does not run here breaks the
// node's promise to call only running roles.
func (r *roleRunner) Call(name, handler string, args msgpack.RawMessage, _ time.Duration, done func(msgpack.RawMessage, error)) {
	in := r.in
	r.mustRun(name, "calls handler "+handler+" of")
	if !r.running[name] {
		return
	}
	if handler != "whoami" {
		r.after(func() { done(nil, fmt.Errorf("role %s has no handler %q", name, handler)) })
		return
	}
	self, _ := in.host.Node().Identity()
	res, err := msgpack.Marshal([]any{self.InstanceID, self.ReplicasetID})
	r.after(func() { done(res, err) })
}

// Configure implements runtime.RoleRunner: the test roles take any
// configuration. Only a running role is configured.
func (r *roleRunner) Configure(name string, _ map[string]any, done func(error)) {
	r.mustRun(name, "configures")
	r.after(func() { done(nil) })
}

// LeaderChanged implements runtime.RoleRunner. Only a running role hears
// of the leader.
func (r *roleRunner) LeaderChanged(name string, _ uint64, done func(error)) {
	r.mustRun(name, "tells of the leader")
	r.after(func() { done(nil) })
}

// mustRun fails the world unless role name runs on the instance.
func (r *roleRunner) mustRun(name, what string) {
	if !r.running[name] {
		r.in.w.fail(fmt.Errorf("roles: i%d %s %s, which does not run", r.in.id, what, name))
	}
}
