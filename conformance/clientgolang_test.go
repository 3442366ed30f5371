package conformance_test

import (
	"cmp"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/deploymetrics/deploymetrics/conformance"
	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/handler"
)

// newClientGolangConfig plugs a different emitter into the suite: the
// deploy counters as client_golang CounterVecs, served by promhttp.
//
// It declares what this emitter cannot do: it ticks counters one by one
// (no Record: the outcome specs skip), has no snapshot accessor and no
// cardinality cap (those specs skip). SPEC.md §6.2 requires a cap, so it
// runs at level Core, and the summary says so. Its normalisation: client_golang
// panics on invalid UTF-8 in a label value and an empty target_type breaks
// the schema, so both are replaced; everything else is kept, and escaped
// by client_golang. promhttp serves any method, so it is wrapped in
// handler.GetHeadOnly, as SPEC.md §1.11 asks of a scrape endpoint.
//
// Two engine rules are disabled, for what client_golang does by design and
// Prometheus does not mind: its registry writes families sorted by name
// (attempts, idempotent_skip, post_verify_failures, ...), not in the
// schema's order (order.families), and sorts the series of a family by
// their label pairs in label-name order, so result="failure" comes before
// result="success" and result sorts before target_type (order.series).
// The suite itself is not loosened: these are this emitter's declared
// deviations, and every other rule applies.
//
// The protocols it declares are those promhttp (client_golang v1.25)
// serves with EnableOpenMetrics: the text format 0.0.4, OpenMetrics 1.0.0
// and 0.0.1, and protobuf (without EnableOpenMetrics, only text 0.0.4 and
// protobuf). It does not serve the text format 1.0.0: asked for it, it
// answers 0.0.4, the fallback. TestClientGolangProtocols holds promhttp to
// that list, so that a client_golang upgrade that changes it is seen.
//
// promhttp's negotiation (client_golang v1.25, expfmt) fails six cases of
// passive-negotiation-edge, which are waived with the reason: RFC 9110
// reads each of these headers otherwise, and no Prometheus server sends
// any of them (it sends one Accept line, in lower case, with no q=0 and
// no application/* range, and Accept-Encoding: gzip).
func newClientGolangConfig() conformance.Config {
	cfg := conformance.NewConfig()
	cfg.Name = "client_golang emitter"
	cfg.Level = conformance.Core
	cfg.Protocols = clientGolangProtocols(true)
	cfg.Normalize = func(t string) string { return cmp.Or(strings.ToValidUTF8(t, "\uFFFD"), "(empty)") }
	cfg.Options.Disabled = []string{"order.families", "order.series"}
	cfg.NegotiationWaivers = map[string]string{
		"om-q0-wildcard":       "promhttp serves OpenMetrics 0.0.1 to application/openmetrics-text;q=0, */*;q=0.1: the wildcard overrides the q=0",
		"text-q0-wildcard":     "promhttp serves the text format to text/plain;q=0, */*;q=0.3",
		"application-wildcard": "promhttp serves the text format to application/*, which does not match it",
		"om-odd-case":          "promhttp matches media types and parameters case-sensitively, and serves text when OpenMetrics is named in odd case",
		"om-second-line":       "promhttp reads only the first Accept line",
		"gzip-odd-case":        "promhttp matches the gzip coding case-sensitively, and does not compress for Accept-Encoding: GZip",
	}
	cfg.NewEmitter = func() (*conformance.Emitter, error) {
		reg := prometheus.NewRegistry()
		vecs := map[string]*prometheus.CounterVec{} // by family: two counters share one with a sub-label
		for _, c := range conformance.Counters() {
			if name := c.Name(cfg.Namespace); vecs[name] == nil {
				vecs[name] = prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: "Deploy counter " + name + "."}, c.LabelNames())
				reg.MustRegister(vecs[name])
			}
		}
		series := func(c conformance.Counter, targetType string) prometheus.Counter {
			return vecs[c.Name(cfg.Namespace)].WithLabelValues(c.LabelValues(targetType)...)
		}
		return &conformance.Emitter{
			Tick: func(c conformance.Counter, targetType string) {
				targetType = cfg.Normalize(targetType)
				// Touch all eight series, so that every family lists every
				// target type from its first tick, as the schema requires.
				for _, each := range conformance.Counters() {
					series(each, targetType)
				}
				series(c, targetType).Inc()
			},
			Handler: handler.GetHeadOnly(promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true})),
		}, nil
	}
	return cfg
}

// clientGolangProtocols returns the protocols promhttp (client_golang
// v1.25) serves when asked, with HandlerOpts.EnableOpenMetrics as given.
func clientGolangProtocols(enableOpenMetrics bool) []check.Protocol {
	if enableOpenMetrics {
		return []check.Protocol{check.PrometheusText0_0_4, check.OpenMetricsText1_0_0, check.OpenMetricsText0_0_1, check.PrometheusProto}
	}
	return []check.Protocol{check.PrometheusText0_0_4, check.PrometheusProto}
}

// TestClientGolangProtocols checks clientGolangProtocols against promhttp
// itself: asked for each protocol alone (as Prometheus 3 writes its range),
// promhttp serves it exactly when the list has it, and the text format
// 0.0.4 otherwise.
func TestClientGolangProtocols(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "x_total", Help: "x"}))
	for _, enable := range []bool{false, true} {
		h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: enable})
		declared := clientGolangProtocols(enable)
		for _, p := range check.Protocols() {
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			req.Header.Set("Accept", p.AcceptRange(check.EscapingAllowUTF8))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			ct, err := check.ParseContentType(rec.Header().Get("Content-Type"))
			if err != nil {
				t.Fatalf("EnableOpenMetrics %t, %s: %v", enable, p, err)
			}
			want := check.PrometheusText0_0_4
			if slices.Contains(declared, p) {
				want = p
			}
			if ct.Protocol != want {
				t.Errorf("EnableOpenMetrics %t: asked for %s alone, promhttp served %s (Content-Type %q); clientGolangProtocols says %s",
					enable, p, ct.Protocol, rec.Header().Get("Content-Type"), want)
			}
		}
	}
}
