// Package role is what an application imports to run its code inside a
// picogo cluster (SPEC L1–L4, seeds/001 "Picodata Roles").
//
// A Role is Go code with a lifecycle: the governor enables it per tier, and
// every instance of those tiers starts it (Init), later stops it (Stop),
// tells it about configuration and leader changes, and serves the RPC
// handlers it exports. A role may depend on other roles (sidecars, e.g. a
// metrics exporter the others need): its dependencies are started before it
// and stopped after it, which Order computes.
//
// The package owns the contract between an application and the runtime:
//   - the Role interface, its optional interfaces (ConfigWatcher,
//     LeaderWatcher) and the Handler type;
//   - the Context a role is handed: who the instance is, a logger, its own
//     Prometheus registry, its configuration, and the SQL and RPC clients
//     (implemented by the daemon; Target says where an RPC goes);
//   - the rules a set of roles must obey (Validate), the order they start
//     in (Order), the semantic versions (ParseVersion) roles carry, and the
//     DDL a new version of a role adds (AppendedDDL).
//
// It does not run role code: package role/runner does, off the daemon's
// event loop and with deadlines, so that a role that panics or blocks fails
// only its own call. Roles are compiled into the picogo binary; package
// role/plugin can also load them from Go plugins, with the restrictions its
// documentation lists.
package role
