//go:build mutants

package cli

import (
	"fmt"
	"strings"

	"github.com/picogo/picogo/core/mutant"
	"github.com/picogo/picogo/sim"
)

func parseMutant(name string) (mutant.Set, error) { return sim.ParseMutant(name) }

func listMutants() int {
	for _, m := range sim.MutantList {
		fmt.Printf("%-26s %s\n", m.Name, m.About)
	}
	return 0
}

// runMutants proves the simulator catches each known bug: for each mutant,
// seeds run until one fails.
func runMutants(maxSeeds uint64, workers int) int {
	if maxSeeds == 0 {
		maxSeeds = 2000
	}
	caught := 0
	var missed []string
	for _, m := range sim.MutantList {
		var first *sim.Result
		tried := 0
		sim.RunSeeds(1, maxSeeds, workers, m.Bugs, func(r sim.Result) bool {
			tried++
			if r.Err != nil {
				first = &r
				return true
			}
			return false
		})
		if first != nil {
			caught++
			fmt.Printf("%-26s caught by seed %d: %v\n", m.Name, first.Seed, first.Err)
		} else {
			missed = append(missed, m.Name)
			fmt.Printf("%-26s NOT caught in %d seeds\n", m.Name, tried)
		}
	}
	fmt.Printf("mutants: %d/%d caught\n", caught, len(sim.MutantList))
	if len(missed) > 0 {
		fmt.Printf("missed: %s\n", strings.Join(missed, ", "))
		return 1
	}
	return 0
}
