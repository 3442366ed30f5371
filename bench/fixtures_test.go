package bench

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/internal/deploy"
)

// ns is the namespace every exposer in this package writes.
const ns = deploy.DefaultNamespace

// targetTypes returns n distinct target types, sorted bytewise: the known
// ones first (for n ≤ 16 exactly those), then synthetic names built on them,
// so large tables look like many connectors rather than random strings.
func targetTypes(n int) []string {
	known := counters.KnownTargetTypes()
	names := make([]string, 0, n)
	for i := range n {
		if i < len(known) {
			names = append(names, known[i])
			continue
		}
		names = append(names, fmt.Sprintf("%s-%05d", known[i%len(known)], i/len(known)))
	}
	slices.Sort(names)
	return names
}

// outcomeCounts returns how many deployments to the i-th target type ended in
// each outcome (index o-1). The counts vary with i and o so that rendered
// values have one to three digits, like a service that has run for a while.
func outcomeCounts(i int) [8]uint64 {
	var c [8]uint64
	for o := range c {
		c[o] = uint64((i*7+o*13)%23 + o%2)
	}
	c[counters.OutcomeSucceeded-1] += 100 + uint64(i%400)
	return c
}

// snapshotOf is the DeploySnapshot a table holds for name after recording
// the outcome counts c, derived as SPEC.md §2.1 says: so synthetic snapshots
// keep the invariants I1 and I2 and a check of them has nothing to report.
func snapshotOf(name string, c [8]uint64) counters.DeploySnapshot {
	at := func(o counters.Outcome) uint64 { return c[o-1] }
	return counters.DeploySnapshot{
		TargetType:      name,
		AttemptsSuccess: at(counters.OutcomeSucceeded),
		AttemptsFailure: at(counters.OutcomeValidateFailed) + at(counters.OutcomeReloadFailedRestored) +
			at(counters.OutcomeReloadFailedAlsoFailed) + at(counters.OutcomeVerifyFailedRestored) +
			at(counters.OutcomeVerifyFailedAlsoFailed) + at(counters.OutcomeFailed),
		ValidateFailures: at(counters.OutcomeValidateFailed),
		ReloadFailures:   at(counters.OutcomeReloadFailedRestored) + at(counters.OutcomeReloadFailedAlsoFailed),
		PostVerifyFails:  at(counters.OutcomeVerifyFailedRestored) + at(counters.OutcomeVerifyFailedAlsoFailed),
		RollbackRestored: at(counters.OutcomeReloadFailedRestored) + at(counters.OutcomeVerifyFailedRestored),
		RollbackAlsoFail: at(counters.OutcomeReloadFailedAlsoFailed) + at(counters.OutcomeVerifyFailedAlsoFailed),
		IdempotentSkips:  at(counters.OutcomeSkipped),
	}
}

// synthSnapshots returns what a table of n target types filled with
// outcomeCounts would snapshot, without building the table: the check
// benchmarks need 12,500 target types, far past the table's default cap.
func synthSnapshots(n int) []counters.DeploySnapshot {
	snaps := make([]counters.DeploySnapshot, 0, n)
	for i, name := range targetTypes(n) {
		snaps = append(snaps, snapshotOf(name, outcomeCounts(i)))
	}
	return snaps
}

// filledTable returns a table of n target types filled with outcomeCounts
// through the outcome API, so it snapshots as synthSnapshots(n).
func filledTable(n int) *counters.DeployCounters {
	dc := counters.NewDeployCounters(counters.WithMaxTargetTypes(max(n, counters.DefaultMaxTargetTypes)))
	for i, name := range targetTypes(n) {
		t := dc.Bind(name)
		for o, c := range outcomeCounts(i) {
			for range c {
				t.Record(counters.Outcome(o + 1))
			}
		}
	}
	return dc
}

// family is one deploy family (SPEC.md §1.2) as the baselines write it:
// its name and labels from package deploy, the schema's one definition,
// and the counters of a DeploySnapshot it reads.
type family struct {
	name      string // after the namespace, without "_total"
	sub       string // second label, or ""
	subValues [2]string
	values    func(s *counters.DeploySnapshot) [2]uint64
}

var families = func() []family {
	values := [deploy.FamilyCount]func(s *counters.DeploySnapshot) [2]uint64{
		deploy.Attempts: func(s *counters.DeploySnapshot) [2]uint64 {
			return [2]uint64{s.AttemptsSuccess, s.AttemptsFailure}
		},
		deploy.ValidateFailures:   func(s *counters.DeploySnapshot) [2]uint64 { return [2]uint64{s.ValidateFailures} },
		deploy.ReloadFailures:     func(s *counters.DeploySnapshot) [2]uint64 { return [2]uint64{s.ReloadFailures} },
		deploy.PostVerifyFailures: func(s *counters.DeploySnapshot) [2]uint64 { return [2]uint64{s.PostVerifyFails} },
		deploy.Rollbacks: func(s *counters.DeploySnapshot) [2]uint64 {
			return [2]uint64{s.RollbackRestored, s.RollbackAlsoFail}
		},
		deploy.IdempotentSkips: func(s *counters.DeploySnapshot) [2]uint64 { return [2]uint64{s.IdempotentSkips} },
	}
	out := make([]family, 0, deploy.FamilyCount)
	for i, d := range deploy.Families() {
		out = append(out, family{name: d.OpenMetricsBase(), sub: d.SubLabel, subValues: d.SubValues, values: values[i]})
	}
	return out
}()

// Accept headers of the two formats: none asks for the text format, and the
// OpenMetrics one is what Prometheus sends.
var (
	acceptText        = http.Header{}
	acceptOpenMetrics = http.Header{"Accept": {"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"}}
)

// discardWriter is a reusable http.ResponseWriter that counts and drops the
// body, so a scrape benchmark measures the exposer and not a recorder's
// buffer growth.
type discardWriter struct {
	header http.Header
	status int
	n      int
}

func newDiscardWriter() *discardWriter { return &discardWriter{header: http.Header{}} }

func (w *discardWriter) Header() http.Header  { return w.header }
func (w *discardWriter) WriteHeader(code int) { w.status = code }
func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK // as net/http does on a Write without WriteHeader
	}
	w.n += len(p)
	return len(p), nil
}

// captureWriter is a ResponseWriter that keeps the body, for the tests that
// compare what the exposers write.
type captureWriter struct {
	header http.Header
	body   strings.Builder
}

func (w *captureWriter) Header() http.Header         { return w.header }
func (w *captureWriter) WriteHeader(int)             {}
func (w *captureWriter) Write(p []byte) (int, error) { return w.body.Write(p) }
