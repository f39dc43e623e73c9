// Package roles is the kv example's application code (docs/roles.md): three
// roles that run inside a picogo cluster.
//
//   - metrics, the sidecar the others depend on: it registers the
//     application's Prometheus metrics in its role registry;
//   - storage, enabled on the tier StorageTier: its once-per-cluster DDL
//     creates the sharded table kv, and its handlers put and get read and
//     write it on the instance an RPC reaches by the key's bucket;
//   - api, enabled on another tier: an HTTP server (KV_HTTP_LISTEN) that
//     serves GET and PUT /kv/{key} by calling storage on the key's bucket.
//
// All returns them, sharing one Metrics, for picogo.Main.
package roles

import "github.com/picogo/picogo/role"

// StorageTier is the tier the table kv lives in and the storage role runs
// on; its OnceDDL names it.
const StorageTier = "storage"

// All is the application's roles, sharing their metrics.
func All() []role.Role {
	m := NewMetrics()
	return []role.Role{m, &Storage{Metrics: m}, &API{Metrics: m}}
}
