package node

import (
	"slices"

	"github.com/picogo/picogo/core/api"
	"github.com/picogo/picogo/core/tables"
)

// reads is the module of local reads: rows of the global tables (iproto
// SELECT) and the schema views (views.go), this instance's row and status.
// They read whatever this instance has applied; it keeps no state.
type reads struct {
	*Node
}

func (m *reads) register(r *registry) {
	// A connector reads the schema views as it connects, and asks the
	// version, whatever the instance's phase.
	serve(r, anyPhase, m.selectRows)
	serve(r, anyPhase, m.versionInfo)
	serve(r, running, m.runtimeInfo)
	serve(r, running, m.instanceInfo)
}

// VersionInfo is `.proc_version_info`'s answer: what the binary was built
// as, the same in every phase and for every user (a driver may answer it
// without the node: runtime.Host.Answer).
func VersionInfo() api.VersionInfoResult {
	return api.VersionInfoResult{PicodataVersion: api.Version, ProcAPIVersion: api.ProcAPIVersion}
}

func (m *reads) versionInfo(_ string, _ api.VersionInfo, respond responder) {
	respond([]any{VersionInfo()}, nil)
}

func (m *reads) runtimeInfo(_ string, _ api.RuntimeInfo, respond responder) {
	cs := m.ra.BasicStatus().ConfState
	internal := api.InternalInfo{MainLoopStatus: m.phase.String(), GovernorLoopStatus: m.governor.gov.status(),
		RaftVoters: union(cs.Voters, cs.VotersOutgoing), RaftLearners: union(cs.Learners, cs.LearnersNext)}
	respond([]any{api.RuntimeInfoResult{Raft: m.consensus.info(), VersionInfo: VersionInfo(), Internal: internal,
		Storage: m.StorageInfo()}}, nil)
}

// union is the sorted set of ids in a and b.
func union(a, b []uint64) []uint64 {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// instanceInfo answers `.proc_instance_info(instance_id?)`.
func (m *reads) instanceInfo(_ string, r api.InstanceInfo, respond responder) {
	id := orDefault(r.InstanceID, m.identity.InstanceID)
	row, ok, _ := m.tables.Get(tables.TablePicoInstance, []any{id})
	if !ok {
		respond(nil, api.Errorf(api.CodeProcLua, "instance %q not found", id))
		return
	}
	inst, err := tables.InstanceFrom(row.Values())
	if err != nil {
		respond(nil, api.Errorf(api.CodeProcLua, "%v", err))
		return
	}
	addr, _ := m.address(inst.RaftID)
	respond([]any{api.InstanceInfoResult{RaftID: inst.RaftID, AdvertiseAddress: addr, InstanceID: inst.InstanceID,
		InstanceUUID: inst.InstanceUUID, ReplicasetID: inst.ReplicasetID, ReplicasetUUID: inst.ReplicasetUUID,
		ClusterID: m.cfg.ClusterID, CurrentGrade: api.RowOf(inst).CurrentGrade, TargetGrade: api.RowOf(inst).TargetGrade,
		Tier: inst.Tier, FailureDomain: inst.FailureDomain}}, nil)
}

// selectRows reads a table by primary key, or a schema view.
func (m *reads) selectRows(_ string, r api.Select, respond responder) {
	if IsSchemaView(r.Table) {
		respond(m.viewRows(r.Table, r.Key), nil)
		return
	}
	if def, ok := m.data.userTable(r.Table); ok {
		m.data.selectRows(def, r, respond)
		return
	}
	def, ok := m.tables.Table(r.Table)
	if !ok {
		respond(nil, api.Errorf(api.CodeNoSuchSpace, "Space '%d' does not exist", r.Table))
		return
	}
	var rows []any
	if len(r.Key) > 0 {
		row, found, err := m.tables.Get(r.Table, r.Key)
		if err != nil {
			respond(nil, api.Errorf(api.CodeKeyTypeMismatch, "select from %s: %v", def.Name, err))
			return
		}
		if found {
			rows = append(rows, row.Values())
		}
	} else {
		all, err := m.tables.Scan(r.Table)
		if err != nil {
			respond(nil, api.Errorf(api.CodeProcLua, "select from %s: %v", def.Name, err))
			return
		}
		for _, row := range all {
			if r.Limit > 0 && uint32(len(rows)) >= r.Limit {
				break
			}
			rows = append(rows, row.Values())
		}
	}
	respond(rows, nil)
}
