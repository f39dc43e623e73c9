//go:build !mutants

package rafttest

import (
	"errors"

	"github.com/picogo/picogo/core/raft"
)

// setMutants refuses mutants=(...): they exist only in a -tags mutants
// build (the interaction test skips the *_mutant.txt scripts without it).
func setMutants(_ *raft.Config, names []string) error {
	if len(names) > 0 {
		return errors.New("mutants=(...) needs a build with -tags mutants")
	}
	return nil
}
