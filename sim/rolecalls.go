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
	in, w := r.in, r.in.w
	if !r.running[name] {
		w.fail(fmt.Errorf("roles: i%d calls handler %s of %s, which does not run", in.id, handler, name))
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
