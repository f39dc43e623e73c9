package proc

import (
	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/core/tables"
	"github.com/vmihailenco/msgpack/v5"
)

// The procedures of the cluster lifecycle and the governor (seeds/000).
func init() {
	register(&spec{
		name: node.Discover{}.Proc(), params: []string{"request", "receiver"},
		decode: func(a []msgpack.RawMessage) (node.Request, error) {
			var r node.Discover
			if err := arg(a, 0, "request", &r.Request); err != nil {
				return nil, err
			}
			return r, arg(a, 1, "receiver", &r.Receiver)
		},
		encode: func(r node.Request) []any { d := r.(node.Discover); return []any{d.Request, d.Receiver} },
	})
	register(&spec{
		name:   node.RaftJoin{}.Proc(),
		params: []string{"cluster_id", "instance_id", "replicaset_id", "advertise_address", "failure_domain", "tier", "instance_uuid"},
		// instance_uuid is picogo's: a retried join names the uuid it got.
		optional: 1,
		decode: func(a []msgpack.RawMessage) (node.Request, error) {
			var r node.RaftJoin
			var instanceID, replicasetID, uuid *string
			if err := firstErr(
				arg(a, 0, "cluster_id", &r.ClusterID), arg(a, 1, "instance_id", &instanceID),
				arg(a, 2, "replicaset_id", &replicasetID), arg(a, 3, "advertise_address", &r.Address),
				arg(a, 4, "failure_domain", &r.FailureDomain), arg(a, 5, "tier", &r.Tier),
				arg(a, 6, "instance_uuid", &uuid)); err != nil {
				return nil, err
			}
			r.InstanceID, r.ReplicasetID, r.InstanceUUID = deref(instanceID), deref(replicasetID), deref(uuid)
			return r, nil
		},
		encode: func(r node.Request) []any {
			j := r.(node.RaftJoin)
			return []any{j.ClusterID, orNil(j.InstanceID), orNil(j.ReplicasetID), j.Address, fdMap(j.FailureDomain), j.Tier, orNil(j.InstanceUUID)}
		},
	})
	register(&spec{
		name:   node.UpdateInstance{}.Proc(),
		params: []string{"instance_id", "cluster_id", "current_grade", "target_grade", "failure_domain", "dont_retry"},
		decode: func(a []msgpack.RawMessage) (node.Request, error) {
			var r node.UpdateInstance
			var current *node.GradeResult
			var target *string
			if err := firstErr(
				arg(a, 0, "instance_id", &r.InstanceID), arg(a, 1, "cluster_id", &r.ClusterID),
				arg(a, 2, "current_grade", &current), arg(a, 3, "target_grade", &target),
				arg(a, 4, "failure_domain", &r.FailureDomain), arg(a, 5, "dont_retry", &r.DontRetry)); err != nil {
				return nil, err
			}
			if current != nil {
				r.CurrentGrade = &tables.Grade{Variant: current.Variant, Incarnation: current.Incarnation}
			}
			r.TargetGrade = deref(target)
			return r, nil
		},
		encode: func(r node.Request) []any {
			u := r.(node.UpdateInstance)
			var current any
			if u.CurrentGrade != nil {
				current = node.GradeResult{Variant: u.CurrentGrade.Variant, Incarnation: u.CurrentGrade.Incarnation}
			}
			var fd any
			if u.FailureDomain != nil {
				fd = fdMap(u.FailureDomain)
			}
			return []any{u.InstanceID, u.ClusterID, current, orNil(u.TargetGrade), fd, u.DontRetry}
		},
	})
	register(&spec{
		name: node.Expel{}.Proc(), params: []string{"cluster_id", "instance_id"},
		decode: func(a []msgpack.RawMessage) (node.Request, error) {
			var r node.Expel
			return r, firstErr(arg(a, 0, "cluster_id", &r.ClusterID), arg(a, 1, "instance_id", &r.InstanceID))
		},
		encode: func(r node.Request) []any { e := r.(node.Expel); return []any{e.ClusterID, e.InstanceID} },
	})
	register(&spec{
		name: node.ExpelRedirect{}.Proc(), params: []string{"cluster_id", "instance_id"},
		decode: func(a []msgpack.RawMessage) (node.Request, error) {
			var r node.ExpelRedirect
			return r, firstErr(arg(a, 0, "cluster_id", &r.ClusterID), arg(a, 1, "instance_id", &r.InstanceID))
		},
		encode: func(r node.Request) []any { e := r.(node.ExpelRedirect); return []any{e.ClusterID, e.InstanceID} },
	})
	register(&spec{
		name: node.InstanceInfo{}.Proc(), params: []string{"instance_id"}, optional: 1,
		decode: func(a []msgpack.RawMessage) (node.Request, error) {
			var id *string
			err := arg(a, 0, "instance_id", &id)
			return node.InstanceInfo{InstanceID: deref(id)}, err
		},
		encode: func(r node.Request) []any { return []any{orNil(r.(node.InstanceInfo).InstanceID)} },
	})
	register(&spec{
		name:   node.RuntimeInfo{}.Proc(),
		decode: func([]msgpack.RawMessage) (node.Request, error) { return node.RuntimeInfo{}, nil },
		encode: func(node.Request) []any { return []any{} },
	})
	register(&spec{
		name: node.Replication{}.Proc(), params: []string{"is_master", "replicaset_peers"},
		decode: func(a []msgpack.RawMessage) (node.Request, error) {
			var r node.Replication
			return r, firstErr(arg(a, 0, "is_master", &r.IsMaster), arg(a, 1, "replicaset_peers", &r.Peers))
		},
		encode: func(r node.Request) []any { x := r.(node.Replication); return []any{x.IsMaster, x.Peers} },
	})
	register(&spec{
		name: node.Sharding{}.Proc(), params: []string{"raft_term", "raft_index", "timeout", "do_reconfigure"},
		decode: func(a []msgpack.RawMessage) (node.Request, error) {
			var r node.Sharding
			if err := firstErr(arg(a, 0, "raft_term", &r.Term), arg(a, 1, "raft_index", &r.Index)); err != nil {
				return nil, err
			}
			t, err := timeoutArg(a, 2)
			r.Timeout = t
			return r, firstErr(err, arg(a, 3, "do_reconfigure", &r.DoReconfigure))
		},
		encode: func(r node.Request) []any {
			x := r.(node.Sharding)
			return []any{x.Term, x.Index, x.Timeout.Seconds(), x.DoReconfigure}
		},
	})
	register(&spec{
		name: node.ShardingBootstrap{}.Proc(), params: []string{"raft_term", "raft_index", "timeout"},
		decode: func(a []msgpack.RawMessage) (node.Request, error) {
			var r node.ShardingBootstrap
			if err := firstErr(arg(a, 0, "raft_term", &r.Term), arg(a, 1, "raft_index", &r.Index)); err != nil {
				return nil, err
			}
			t, err := timeoutArg(a, 2)
			r.Timeout = t
			return r, err
		},
		encode: func(r node.Request) []any {
			x := r.(node.ShardingBootstrap)
			return []any{x.Term, x.Index, x.Timeout.Seconds()}
		},
	})
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// orNil encodes an empty string as nil (an argument left unset).
func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func fdMap(fd map[string]string) map[string]string {
	if fd == nil {
		return map[string]string{}
	}
	return fd
}
