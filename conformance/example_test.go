package conformance_test

import (
	"fmt"
	"net/http"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/deploymetrics/deploymetrics/conformance"
	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
)

// myEmitter stands for the emitter under test in the examples: the
// reference table behind the reference handler.
type myEmitter struct {
	dc *counters.DeployCounters
	h  http.Handler
}

func newMyEmitter() *myEmitter {
	dc := counters.NewDeployCounters()
	h := handler.NewMetricsHandler()
	h.SetDeployCounters(dc)
	return &myEmitter{dc: dc, h: h}
}

// The whole suite in one go test, for one config or several. A test binary
// runs Ginkgo once, so it calls Run once, with every config.
func ExampleRun() {
	testMyEmitter := func(t *testing.T) {
		cfg := conformance.NewConfig()
		cfg.Name = "my emitter"
		cfg.NewEmitter = func() (*conformance.Emitter, error) {
			e := newMyEmitter()
			return &conformance.Emitter{
				Tick:     conformance.TickFrom(e.dc), // the eight Inc methods
				Record:   e.dc.Record,
				Snapshot: e.dc.Snapshot,
				Handler:  e.h,
			}, nil
		}
		cfg.Normalize = counters.NewDeployCounters().Normalize
		cfg.MaxTargetTypes = counters.DefaultMaxTargetTypes
		cfg.SortedSnapshot = true
		// The protocols it serves when asked: the two SPEC.md §6.2 requires
		// and protobuf (NewConfig declares the first two).
		cfg.Protocols = []check.Protocol{check.PrometheusText0_0_4, check.OpenMetricsText1_0_0, check.PrometheusProto}

		// The same emitter held to the Core level, text only.
		textOnly := cfg
		textOnly.Name = "my emitter, text only"
		textOnly.Level = conformance.Core
		textOnly.Protocols = []check.Protocol{check.PrometheusText0_0_4}

		conformance.Run(t, cfg, textOnly)
	}
	_ = testMyEmitter // in a _test.go file: func TestMyEmitter(t *testing.T) { ... }
}

// The specs inside a team's own Ginkgo tree, twice, with the config
// changed per context in a BeforeEach, and the summary at the end.
func ExampleRegister() {
	_ = Describe("my emitter", func() {
		cfg := conformance.ReferenceConfig(0)
		Context("in the certctl namespace", func() {
			conformance.Register(&cfg)
		})
		Context("strict", func() {
			BeforeEach(func() { cfg.Options.Strict = true })
			conformance.Register(&cfg)
		})
	})
	_ = ReportAfterSuite("conformance summary", conformance.ReportSummary)
}

func ExampleHaveSeries() {
	dc := counters.NewDeployCounters()
	dc.Record("NGINX", counters.OutcomeSucceeded)
	body := handler.AppendText(nil, "certctl", dc.Snapshot())

	// In a test: g := gomega.NewWithT(t). Here failures are printed.
	g := gomega.NewGomega(func(message string, _ ...int) { fmt.Println(message) })
	g.Expect(body).To(conformance.HaveSeries("certctl_deploy_attempts_total",
		map[string]string{"target_type": "NGINX", "result": "success"}, 1))
	g.Expect(body).To(conformance.HaveSeries("certctl_deploy_attempts_total",
		map[string]string{"target_type": "NGINX", "result": "failure"}, 1))
	// Output:
	// Expected the exposition to have a sample certctl_deploy_attempts_total{result="failure",target_type="NGINX"} with value 1, but the series has another value:
	//     4 | certctl_deploy_attempts_total{target_type="NGINX",result="failure"} 0
}

func ExampleBeSortedBy() {
	g := gomega.NewGomega(func(message string, _ ...int) { fmt.Println(message) })
	// A matcher that finds nothing to judge fails: a body without the
	// label is not "sorted".
	g.Expect("x_total 1\n").To(conformance.BeSortedBy("target_type"))
	// Output:
	// Expected the exposition to be sorted by target_type, but no sample has a target_type label: there is nothing sorted by it
}

func ExampleConformToSchema() {
	body := "# TYPE certctl_deploy_attempts_total counter\ncertctl_deploy_attempts_total{target_type=\"NGINX\",result=\"success\"} 1.5\n"
	g := gomega.NewGomega(func(message string, _ ...int) { fmt.Println(len(message) > 0) })
	g.Expect(body).NotTo(conformance.ConformToSchema(check.DeploySchema("certctl")))
	g.Expect(body).To(conformance.PassCheck(check.Options{}))
	// Output:
}

func ExampleTicks() {
	for _, c := range conformance.Ticks(counters.OutcomeVerifyFailedAlsoFailed) {
		fmt.Println(c, c.Name("certctl"), c.LabelValues("NGINX"))
	}
	// Output:
	// AttemptFailure certctl_deploy_attempts_total [NGINX failure]
	// PostVerifyFailure certctl_deploy_post_verify_failures_total [NGINX]
	// RollbackAlsoFailed certctl_deploy_rollback_total [NGINX also_failed]
}
