package conformance_test

import (
	"slices"
	"testing"

	"github.com/onsi/gomega"

	"github.com/deploymetrics/deploymetrics/conformance"
	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
)

// TestTicksAreWhatRecordCounts holds the suite's outcome model to the
// reference table's: recording an outcome ticks exactly Ticks(o), once.
func TestTicksAreWhatRecordCounts(t *testing.T) {
	for _, o := range append(conformance.Outcomes(), 0, 99) {
		dc := counters.NewDeployCounters()
		dc.Record("NGINX", o)
		snap := dc.Snapshot()[0]
		ticks := conformance.Ticks(o)
		for _, c := range conformance.Counters() {
			want := uint64(0)
			if slices.Contains(ticks, c) {
				want = 1
			}
			if got := c.Of(&snap); got != want {
				t.Errorf("Record(%s): %s = %d, Ticks says %d", o, c, got, want)
			}
		}
	}
}

// TestCountersNameTheReferenceSeries holds the Counter helpers to the
// reference exposition: ticking a counter makes the series its Name,
// LabelNames and LabelValues describe equal 1, and nothing else.
func TestCountersNameTheReferenceSeries(t *testing.T) {
	g := gomega.NewWithT(t)
	for _, c := range conformance.Counters() {
		cfg := conformance.ReferenceConfig(0)
		e, err := cfg.NewEmitter()
		g.Expect(err).NotTo(gomega.HaveOccurred())
		e.Tick(c, "NGINX")
		snap := e.Snapshot()[0]
		body := handler.AppendText(nil, "certctl", []counters.DeploySnapshot{snap})
		labels := map[string]string{}
		for i, name := range c.LabelNames() {
			labels[name] = c.LabelValues("NGINX")[i]
		}
		g.Expect(body).To(conformance.HaveSeries(c.Name("certctl"), labels, 1), "counter %s", c)
		for _, other := range conformance.Counters() {
			if other != c {
				g.Expect(other.Of(&snap)).To(gomega.BeZero(), "ticking %s ticked %s", c, other)
			}
		}
	}
}

func TestCounterStringAndInvalid(t *testing.T) {
	if got := conformance.RollbackAlsoFailed.String(); got != "RollbackAlsoFailed" {
		t.Errorf("String() = %q", got)
	}
	var invalid conformance.Counter
	if invalid.Valid() || invalid.String() != "Counter(0)" || invalid.Name("certctl") != "" {
		t.Errorf("the zero Counter: Valid %v, String %q, Name %q", invalid.Valid(), invalid.String(), invalid.Name("certctl"))
	}
	var s counters.DeploySnapshot
	invalid.Add(&s, 5)
	if s != (counters.DeploySnapshot{}) || invalid.Of(&s) != 0 {
		t.Errorf("an invalid Counter changed a snapshot: %+v", s)
	}
	if got := conformance.ValidateFailure.Name(""); got != "deploy_validate_failures_total" {
		t.Errorf("Name(\"\") = %q", got)
	}
}
