package runtime

import (
	"errors"
	"fmt"
	"github.com/picogo/picogo/core/wal"

	"github.com/picogo/picogo/core/node"
	"github.com/picogo/picogo/core/ra"
	"github.com/picogo/picogo/core/tables"
	"github.com/picogo/picogo/disk"
)

// InitCluster is what a cluster booted by a new instance starts with
// (--init-cfg): its tiers, and the roles enabled on them.
type InitCluster struct {
	Tiers []tables.Tier
	Roles []tables.RoleTier
}

// Started is an instance built from its disk, not yet driven.
type Started struct {
	Node *node.Node
	// Identity is who the disk says the instance is; nil for a new one.
	Identity *node.Identity
	// Disk is the Raft state the node was built from.
	Disk ra.DiskState
}

// ErrWrongCluster: the disk belongs to another cluster than the one the
// instance is started in.
var ErrWrongCluster = errors.New("the data belongs to another cluster")

// ExpelledError: the disk is of an instance its own state says is
// expelled; it cannot run again.
type ExpelledError struct{ InstanceID string }

func (e *ExpelledError) Error() string {
	return fmt.Sprintf("instance %s is expelled; its data dir cannot run again", e.InstanceID)
}

func (e *ExpelledError) Unwrap() error { return node.ErrExpelled }

// Start is the start-up sequence of an instance, the same in both drivers,
// on a disk the driver has opened (and recovered): read the identity and
// the Raft state, check the disk is the cluster's, build the node's
// configuration (NodeConfig) and the node. An instance with an identity
// keeps it; a new one discovers its peers, and if it boots the cluster,
// starts it with the tiers and roles initCluster gives — read only for a
// new instance, so that a bad file is refused at once and an old one
// ignored.
func Start(store disk.Store, in Instance, initCluster func() (InitCluster, error)) (Started, error) {
	identity, found, err := node.LoadIdentity(store)
	if err != nil {
		return Started{}, err
	}
	var s Started
	if found {
		if identity.ClusterID != in.ClusterID {
			return Started{}, fmt.Errorf("%w: %q, not %q", ErrWrongCluster, identity.ClusterID, in.ClusterID)
		}
		s.Identity = &identity
		in.Identity = s.Identity
	} else if initCluster != nil {
		init, err := initCluster()
		if err != nil {
			return Started{}, err
		}
		in.InitTiers, in.InitRoles = init.Tiers, init.Roles
	}
	if s.Disk, _, err = node.Load(store); err != nil {
		return Started{}, err
	}
	if in.Recovered, err = wal.Recover(store); err != nil {
		return Started{}, fmt.Errorf("user data: %w", err)
	}
	if s.Node, err = node.New(NodeConfig(in), s.Disk); err != nil {
		if found && errors.Is(err, node.ErrExpelled) {
			return Started{}, &ExpelledError{InstanceID: identity.InstanceID}
		}
		return Started{}, err
	}
	return s, nil
}
