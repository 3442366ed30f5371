package counters_test

import (
	"fmt"

	"github.com/deploymetrics/deploymetrics/counters"
)

func Example() {
	dc := counters.NewDeployCounters()

	// One call per deployment: the snapshot can never show half of it.
	dc.Record("NGINX", counters.OutcomeSucceeded)
	dc.Record("NGINX", counters.OutcomeReloadFailedRestored)
	dc.Record("Apache", counters.OutcomeSkipped)

	for _, s := range dc.Snapshot() {
		fmt.Printf("%s: success=%d failure=%d reload=%d restored=%d skipped=%d\n",
			s.TargetType, s.AttemptsSuccess, s.AttemptsFailure, s.ReloadFailures, s.RollbackRestored, s.IdempotentSkips)
	}
	// Output:
	// Apache: success=0 failure=0 reload=0 restored=0 skipped=1
	// NGINX: success=1 failure=1 reload=1 restored=1 skipped=0
}

func ExampleDeployCounters_Bind() {
	dc := counters.NewDeployCounters()

	// Bind once per connector; the handle skips the name lookup on every tick
	// and exports the target type with zero counts straight away.
	haproxy := dc.Bind("HAProxy")
	fmt.Println(dc.Snapshot()[0].AttemptsSuccess)

	haproxy.Record(counters.OutcomeSucceeded)
	fmt.Println(dc.Snapshot()[0].AttemptsSuccess)
	// Output:
	// 0
	// 1
}

func ExampleWithMaxTargetTypes() {
	dc := counters.NewDeployCounters(counters.WithMaxTargetTypes(2))
	for _, tt := range []string{"NGINX", "Apache", "tenant-1", "tenant-2", "tenant-3"} {
		dc.Record(tt, counters.OutcomeSucceeded)
	}
	for _, s := range dc.Snapshot() {
		fmt.Println(s.TargetType, s.AttemptsSuccess)
	}
	fmt.Println("folded:", dc.Folded())
	// Output:
	// Apache 1
	// NGINX 1
	// __overflow__ 3
	// folded: 3
}

func ExampleDeployCounters_Normalize() {
	dc := counters.NewDeployCounters()
	fmt.Printf("%+q\n", dc.Normalize("NGINX"))
	fmt.Printf("%+q\n", dc.Normalize("NGINX\n"))
	fmt.Printf("%+q\n", dc.Normalize("caf\xe9"))
	fmt.Printf("%+q\n", dc.Normalize(""))
	// Output:
	// "NGINX"
	// "NGINX\ufffd"
	// "caf\ufffd"
	// "__empty__"
}
