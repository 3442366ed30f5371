package conformance_test

import (
	"context"
	"net/http/httptest"
	"testing"

	. "github.com/onsi/ginkgo/v2"

	"github.com/deploymetrics/deploymetrics/conformance"
	"github.com/deploymetrics/deploymetrics/conformance/scrape"
	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
	"github.com/deploymetrics/deploymetrics/internal/simulate"
)

// TestConformance runs the suite, in one conformance.Run, against the
// reference emitter (over HTTP, through a Scrape function, and as a live
// endpoint the suite cannot drive), the client_golang emitter of
// clientgolang_test.go and the certctl-shaped emitter of
// example_certctl_test.go. Each runs in a container named by its
// Config.Name, and the run ends with one summary per config.
//
//	go test -race ./conformance/ -ginkgo.label-filter='active && !concurrency' -ginkgo.junit-report=/tmp/conformance.xml
func TestConformance(t *testing.T) {
	conformance.Run(t,
		conformance.ReferenceConfig(referenceCap),
		newClientGolangConfig(),
		scrapeFuncConfig(),
		liveConfig(),
		newCertctlConfig())
}

// referenceCap lowers the reference emitter's cap from the default 1024,
// so that the cardinality spec stays quick.
const referenceCap = 64

// scrapeFuncConfig is the reference emitter scraped through
// Emitter.Scrape, with no HTTP: the renderers called directly. The HTTP
// specs skip, and the suite checks the served format itself.
func scrapeFuncConfig() conformance.Config {
	cfg := conformance.ReferenceConfig(referenceCap)
	cfg.Name = "reference emitter through a Scrape function"
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

// liveConfig is a running endpoint the suite can only scrape: the
// reference emitter with simulated traffic, given by URL, no Tick. The
// passive specs judge it; the active ones skip. It declares the reference
// handler's capabilities, its default cap included (which the suite
// cannot exercise without ticks).
func liveConfig() conformance.Config {
	cfg := conformance.NewConfig()
	cfg.Name = "reference emitter as a live endpoint"
	cfg.MaxTargetTypes = counters.DefaultMaxTargetTypes
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
