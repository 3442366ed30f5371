package conformance_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	. "github.com/onsi/ginkgo/v2"

	"github.com/deploymetrics/deploymetrics/conformance"
	"github.com/deploymetrics/deploymetrics/conformance/check"
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
// Emitter.Scrape, with no HTTP: the reference handler's negotiation picks
// the protocol for the Accept header, and the renderers are called
// directly. It declares the five protocols, as the reference does; the
// HTTP specs skip, and the suite checks the served protocol itself.
func scrapeFuncConfig() conformance.Config {
	cfg := conformance.ReferenceConfig(referenceCap)
	cfg.Name = "reference emitter through a Scrape function"
	newEmitter := cfg.NewEmitter
	cfg.NewEmitter = func() (*conformance.Emitter, error) {
		e, err := newEmitter()
		if err != nil {
			return nil, err
		}
		negotiator := handler.NewMetricsHandler()
		snapshot := e.Snapshot
		e.Handler = nil
		e.Scrape = func(_ context.Context, accept string) ([]byte, string, error) {
			ct, _ := negotiator.Negotiate(http.Header{"Accept": {accept}})
			parsed, err := check.ParseContentType(ct)
			if err != nil {
				return nil, "", err
			}
			switch parsed.Format {
			case check.FormatProtobuf:
				return handler.AppendProtobuf(nil, "certctl", snapshot()), ct, nil
			case check.FormatOpenMetrics:
				return handler.AppendOpenMetrics(nil, "certctl", snapshot()), ct, nil
			}
			return handler.AppendText(nil, "certctl", snapshot()), ct, nil
		}
		return e, nil
	}
	return cfg
}

// liveConfig is a running endpoint the suite can only scrape: the
// reference emitter with simulated traffic, given by URL, no Tick. The
// passive specs judge it; the active ones skip. It declares the reference
// handler's capabilities, its five protocols and its default cap included
// (which the suite cannot exercise without ticks).
func liveConfig() conformance.Config {
	cfg := conformance.NewConfig()
	cfg.Name = "reference emitter as a live endpoint"
	cfg.Protocols = conformance.ReferenceConfig(0).Protocols
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
