package conformance_test

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/deploymetrics/deploymetrics/conformance"
)

// newClientGolangEmitter plugs a different emitter into the suite: the
// deploy counters as client_golang CounterVecs, served by promhttp.
func newClientGolangEmitter() (*conformance.Emitter, error) {
	reg := prometheus.NewRegistry()
	vecs := map[string]*prometheus.CounterVec{}
	for _, c := range conformance.Counters() {
		if vecs[c.Name("certctl")] == nil {
			vecs[c.Name("certctl")] = prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: c.Name("certctl"), Help: "Deploy counter " + c.Name("certctl") + ".",
			}, c.LabelNames())
			reg.MustRegister(vecs[c.Name("certctl")])
		}
	}
	return &conformance.Emitter{
		Tick: func(c conformance.Counter, targetType string) {
			targetType = normalizeForClientGolang(targetType)
			// Touch all eight series, so that every family lists every
			// target type from its first tick, as the schema requires.
			for _, each := range conformance.Counters() {
				vecs[each.Name("certctl")].WithLabelValues(each.LabelValues(targetType)...)
			}
			vecs[c.Name("certctl")].WithLabelValues(c.LabelValues(targetType)...).Inc()
		},
		Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}),
	}, nil
}

// normalizeForClientGolang is what this emitter does to target types:
// client_golang panics on invalid UTF-8 in a label value, and an empty
// target_type breaks the schema, so both are replaced; everything else is
// kept and escaped by client_golang.
func normalizeForClientGolang(targetType string) string {
	if targetType == "" {
		return "(empty)"
	}
	return strings.ToValidUTF8(targetType, "\uFFFD")
}

// newClientGolangConfig declares what the client_golang emitter can and
// cannot do. It ticks counters one by one (no Record: the outcome specs
// skip), has no snapshot accessor and no cardinality cap (those specs skip).
//
// Two engine rules are disabled, for what client_golang does by design and
// Prometheus does not mind: its registry writes families sorted by name
// (attempts, idempotent_skip, post_verify_failures, ...), not in the
// schema's order (order.families), and sorts the series of a family by
// their label pairs in label-name order, so result="failure" comes before
// result="success" and result sorts before target_type (order.series).
// The suite itself is not loosened: these are this emitter's declared
// deviations, and every other rule applies.
func newClientGolangConfig() conformance.Config {
	cfg := conformance.NewConfig()
	cfg.NewEmitter = newClientGolangEmitter
	cfg.Normalize = normalizeForClientGolang
	cfg.Options.Disabled = []string{"order.families", "order.series"}
	return cfg
}
