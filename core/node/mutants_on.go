//go:build mutants

package node

import "github.com/picogo/picogo/core/mutant"

// SetMutants switches on deliberate bugs in this node and its Raft node,
// for the simulator to prove they are caught.
func (c *Config) SetMutants(s mutant.Set) {
	c.mutants = s
	c.Raft.SetMutants(s)
}

// passMutants hands this node's mutants to the input of a pure planner
// (governor.Input, topology.JoinRequest).
func (n *Node) passMutants(in interface{ SetMutants(mutant.Set) }) { in.SetMutants(n.cfg.mutants) }
