package conformance_test

import (
	"context"
	"net/http/httptest"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/deploymetrics/deploymetrics/conformance"
	"github.com/deploymetrics/deploymetrics/conformance/scrape"
	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
	"github.com/deploymetrics/deploymetrics/internal/simulate"
)

// TestConformance runs the suite against the reference emitter (over HTTP,
// through a Scrape function, and as a live endpoint the suite cannot
// drive), and against the client_golang emitter of
// clientgolang_test.go, in one Ginkgo tree:
// Ginkgo runs specs once per process, so two configs share one RunSpecs
// through Register (the embedding entry point; conformance.Run is the
// one-line one, used by the mutants' meta-test).
//
//	go test -race ./conformance/ -ginkgo.label-filter='active && !concurrency' -ginkgo.junit-report=/tmp/conformance.xml
func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "deploy metric emitter conformance")
}

// The reference emitter supports every capability; its cap is lowered
// from the default 1024 so that the cardinality spec stays quick.
var referenceConfig = conformance.ReferenceConfig(64)

var _ = Describe("reference emitter", func() {
	conformance.Register(&referenceConfig)
})

var clientGolangConfig = newClientGolangConfig()

var _ = Describe("client_golang emitter", func() {
	conformance.Register(&clientGolangConfig)
})

// scrapeFuncConfig is the reference emitter scraped through
// Emitter.Scrape, with no HTTP: the renderers called directly. The HTTP
// specs skip, and the suite checks the served format itself.
func scrapeFuncConfig() conformance.Config {
	cfg := conformance.ReferenceConfig(64)
	newEmitter := cfg.NewEmitter
	cfg.NewEmitter = func() (*conformance.Emitter, error) {
		e, err := newEmitter()
		if err != nil {
			return nil, err
		}
		snapshot := e.Snapshot
		e.Handler = nil
		e.Scrape = func(_ context.Context, accept string) ([]byte, string, error) {
			if accept == scrape.AcceptOpenMetrics {
				return handler.AppendOpenMetrics(nil, "certctl", snapshot()), handler.ContentTypeOpenMetrics, nil
			}
			return handler.AppendText(nil, "certctl", snapshot()), handler.ContentTypeText, nil
		}
		return e, nil
	}
	return cfg
}

var scrapeFunc = scrapeFuncConfig()

var _ = Describe("reference emitter through a Scrape function", func() {
	conformance.Register(&scrapeFunc)
})

// liveConfig is a running endpoint the suite can only scrape: the
// reference emitter with simulated traffic, given by URL, no Tick. The
// passive specs judge it; the active ones skip.
func liveConfig() conformance.Config {
	cfg := conformance.NewConfig()
	cfg.NewEmitter = func() (*conformance.Emitter, error) {
		dc := counters.NewDeployCounters()
		simulate.Burst(dc, simulate.NewRand(uint64(GinkgoRandomSeed())), 500)
		h := handler.NewMetricsHandler()
		h.SetDeployCounters(dc)
		srv := httptest.NewServer(h)
		return &conformance.Emitter{URL: srv.URL + "/metrics/prometheus", Close: srv.Close}, nil
	}
	return cfg
}

var live = liveConfig()

var _ = Describe("reference emitter as a live endpoint", func() {
	conformance.Register(&live)
})
