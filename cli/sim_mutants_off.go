//go:build !mutants

package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/picogo/picogo/core/mutant"
)

// errNoMutants: this binary was built without -tags mutants, so no mutant
// exists in it.
var errNoMutants = errors.New("mutants exist only in a binary built with -tags mutants: make sim-mutants builds bin/picogo-mutants and runs them all")

func parseMutant(string) (mutant.Set, error) { return mutant.Set{}, errNoMutants }

func listMutants() int { return noMutants() }

func runMutants(uint64, int) int { return noMutants() }

func noMutants() int {
	fmt.Fprintln(os.Stderr, "picogo sim:", errNoMutants)
	return 2
}
