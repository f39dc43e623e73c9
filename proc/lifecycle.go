package proc

import (
	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
	"github.com/vmihailenco/msgpack/v5"
)

// The procedures of the cluster lifecycle and the governor (seeds/000).
func init() {
	register(&spec{
		name: api.Discover{}.Proc(), params: []string{"request", "receiver"},
		decode: func(a []msgpack.RawMessage) (api.Request, error) {
			var r api.Discover
			if err := arg(a, 0, "request", &r.Request); err != nil {
				return nil, err
			}
			return r, arg(a, 1, "receiver", &r.Receiver)
		},
		encode: func(r api.Request) []any { d := r.(api.Discover); return []any{d.Request, d.Receiver} },
	})
	register(&spec{
		name:   api.RaftJoin{}.Proc(),
		params: []string{"cluster_id", "instance_id", "replicaset_id", "advertise_address", "failure_domain", "tier", "instance_uuid"},
		// instance_uuid is picogo's: a retried join names the uuid it got.
		optional: 1,
		decode: func(a []msgpack.RawMessage) (api.Request, error) {
			var r api.RaftJoin
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
		encode: func(r api.Request) []any {
			j := r.(api.RaftJoin)
			return []any{j.ClusterID, orNil(j.InstanceID), orNil(j.ReplicasetID), j.Address, fdMap(j.FailureDomain), j.Tier, orNil(j.InstanceUUID)}
		},
	})
	register(&spec{
		name:   api.UpdateInstance{}.Proc(),
		params: []string{"instance_id", "cluster_id", "current_grade", "target_grade", "failure_domain", "dont_retry"},
		decode: func(a []msgpack.RawMessage) (api.Request, error) {
			var r api.UpdateInstance
			var current *api.GradeResult
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
		encode: func(r api.Request) []any {
			u := r.(api.UpdateInstance)
			var current any
			if u.CurrentGrade != nil {
				current = api.GradeResult{Variant: u.CurrentGrade.Variant, Incarnation: u.CurrentGrade.Incarnation}
			}
			var fd any
			if u.FailureDomain != nil {
				fd = fdMap(u.FailureDomain)
			}
			return []any{u.InstanceID, u.ClusterID, current, orNil(u.TargetGrade), fd, u.DontRetry}
		},
	})
	register(&spec{
		name: api.Expel{}.Proc(), params: []string{"cluster_id", "instance_id"},
		decode: func(a []msgpack.RawMessage) (api.Request, error) {
			var r api.Expel
			return r, firstErr(arg(a, 0, "cluster_id", &r.ClusterID), arg(a, 1, "instance_id", &r.InstanceID))
		},
		encode: func(r api.Request) []any { e := r.(api.Expel); return []any{e.ClusterID, e.InstanceID} },
	})
	register(&spec{
		name: api.ExpelRedirect{}.Proc(), params: []string{"cluster_id", "instance_id"},
		decode: func(a []msgpack.RawMessage) (api.Request, error) {
			var r api.ExpelRedirect
			return r, firstErr(arg(a, 0, "cluster_id", &r.ClusterID), arg(a, 1, "instance_id", &r.InstanceID))
		},
		encode: func(r api.Request) []any { e := r.(api.ExpelRedirect); return []any{e.ClusterID, e.InstanceID} },
	})
	register(&spec{
		name: api.InstanceInfo{}.Proc(), params: []string{"instance_id"}, optional: 1,
		decode: func(a []msgpack.RawMessage) (api.Request, error) {
			var id *string
			err := arg(a, 0, "instance_id", &id)
			return api.InstanceInfo{InstanceID: deref(id)}, err
		},
		encode: func(r api.Request) []any { return []any{orNil(r.(api.InstanceInfo).InstanceID)} },
	})
	register(&spec{
		name:   api.RuntimeInfo{}.Proc(),
		decode: func([]msgpack.RawMessage) (api.Request, error) { return api.RuntimeInfo{}, nil },
		encode: func(api.Request) []any { return []any{} },
	})
	register(&spec{
		name: api.Replication{}.Proc(), params: []string{"is_master", "replicaset_peers"},
		decode: func(a []msgpack.RawMessage) (api.Request, error) {
			var r api.Replication
			return r, firstErr(arg(a, 0, "is_master", &r.IsMaster), arg(a, 1, "replicaset_peers", &r.Peers))
		},
		encode: func(r api.Request) []any { x := r.(api.Replication); return []any{x.IsMaster, x.Peers} },
	})
	register(&spec{
		name: api.Sharding{}.Proc(), params: []string{"raft_term", "raft_index", "timeout", "do_reconfigure"},
		decode: func(a []msgpack.RawMessage) (api.Request, error) {
			var r api.Sharding
			if err := firstErr(arg(a, 0, "raft_term", &r.Term), arg(a, 1, "raft_index", &r.Index)); err != nil {
				return nil, err
			}
			t, err := timeoutArg(a, 2)
			r.Timeout = t
			return r, firstErr(err, arg(a, 3, "do_reconfigure", &r.DoReconfigure))
		},
		encode: func(r api.Request) []any {
			x := r.(api.Sharding)
			return []any{x.Term, x.Index, x.Timeout.Seconds(), x.DoReconfigure}
		},
	})
	register(&spec{
		name: api.ShardingBootstrap{}.Proc(), params: []string{"raft_term", "raft_index", "timeout"},
		decode: func(a []msgpack.RawMessage) (api.Request, error) {
			var r api.ShardingBootstrap
			if err := firstErr(arg(a, 0, "raft_term", &r.Term), arg(a, 1, "raft_index", &r.Index)); err != nil {
				return nil, err
			}
			t, err := timeoutArg(a, 2)
			r.Timeout = t
			return r, err
		},
		encode: func(r api.Request) []any {
			x := r.(api.ShardingBootstrap)
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
