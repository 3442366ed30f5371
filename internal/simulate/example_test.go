package simulate_test

import (
	"fmt"

	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/internal/simulate"
)

func ExampleBurst() {
	dc := counters.NewDeployCounters()
	simulate.Burst(dc, simulate.NewRand(1), 1000)

	var total uint64
	for _, s := range dc.Snapshot() {
		total += s.AttemptsSuccess + s.AttemptsFailure + s.IdempotentSkips
	}
	fmt.Println(len(dc.Snapshot()), "target types,", total, "deployments")
	// Output: 16 target types, 1000 deployments
}
