package conformance_test

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/deploymetrics/deploymetrics/conformance"
	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
)

// certctlMetrics copies the shape of the counter table of the system this
// project is modelled on: one map per counter, all guarded by one mutex,
// the eight Inc methods of SPEC.md §1.2, and a Snapshot returning one
// struct per target type, with the field names of SPEC.md §1.2, in map order. It ticks
// counters one by one (no whole-outcome Record), serves the text format
// only, without gzip, on any method, and has no cardinality cap.
type certctlMetrics struct {
	mu                                                                   sync.Mutex
	attemptsSuccess, attemptsFailure, validateFailures, reloadFailures   map[string]uint64
	postVerifyFails, rollbackRestored, rollbackAlsoFail, idempotentSkips map[string]uint64
}

// certctlSnapshot is the system's own snapshot entry.
type certctlSnapshot struct {
	TargetType       string `json:"target_type"`
	AttemptsSuccess  uint64 `json:"attempts_success"`
	AttemptsFailure  uint64 `json:"attempts_failure"`
	ValidateFailures uint64 `json:"validate_failures"`
	ReloadFailures   uint64 `json:"reload_failures"`
	PostVerifyFails  uint64 `json:"post_verify_fails"`
	RollbackRestored uint64 `json:"rollback_restored"`
	RollbackAlsoFail uint64 `json:"rollback_also_fail"`
	IdempotentSkips  uint64 `json:"idempotent_skips"`
}

func newCertctlMetrics() *certctlMetrics {
	return &certctlMetrics{
		attemptsSuccess: map[string]uint64{}, attemptsFailure: map[string]uint64{},
		validateFailures: map[string]uint64{}, reloadFailures: map[string]uint64{},
		postVerifyFails: map[string]uint64{}, rollbackRestored: map[string]uint64{},
		rollbackAlsoFail: map[string]uint64{}, idempotentSkips: map[string]uint64{},
	}
}

// certctlTargetType is what the system exports a target type as: valid
// UTF-8 (Prometheus fails a scrape with invalid UTF-8 in a label value),
// never empty.
func certctlTargetType(t string) string {
	return cmp.Or(strings.ToValidUTF8(t, "\uFFFD"), "unknown")
}

func (m *certctlMetrics) inc(counter map[string]uint64, targetType string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	counter[certctlTargetType(targetType)]++
}

func (m *certctlMetrics) IncAttemptSuccess(t string)     { m.inc(m.attemptsSuccess, t) }
func (m *certctlMetrics) IncAttemptFailure(t string)     { m.inc(m.attemptsFailure, t) }
func (m *certctlMetrics) IncValidateFailure(t string)    { m.inc(m.validateFailures, t) }
func (m *certctlMetrics) IncReloadFailure(t string)      { m.inc(m.reloadFailures, t) }
func (m *certctlMetrics) IncPostVerifyFailure(t string)  { m.inc(m.postVerifyFails, t) }
func (m *certctlMetrics) IncRollbackRestored(t string)   { m.inc(m.rollbackRestored, t) }
func (m *certctlMetrics) IncRollbackAlsoFailed(t string) { m.inc(m.rollbackAlsoFail, t) }
func (m *certctlMetrics) IncIdempotentSkip(t string)     { m.inc(m.idempotentSkips, t) }

// Snapshot returns every target type any counter has seen, in map order.
func (m *certctlMetrics) Snapshot() []certctlSnapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	rows := map[string]*certctlSnapshot{}
	row := func(t string) *certctlSnapshot {
		if rows[t] == nil {
			rows[t] = &certctlSnapshot{TargetType: t}
		}
		return rows[t]
	}
	for t, n := range m.attemptsSuccess {
		row(t).AttemptsSuccess = n
	}
	for t, n := range m.attemptsFailure {
		row(t).AttemptsFailure = n
	}
	for t, n := range m.validateFailures {
		row(t).ValidateFailures = n
	}
	for t, n := range m.reloadFailures {
		row(t).ReloadFailures = n
	}
	for t, n := range m.postVerifyFails {
		row(t).PostVerifyFails = n
	}
	for t, n := range m.rollbackRestored {
		row(t).RollbackRestored = n
	}
	for t, n := range m.rollbackAlsoFail {
		row(t).RollbackAlsoFail = n
	}
	for t, n := range m.idempotentSkips {
		row(t).IdempotentSkips = n
	}
	out := make([]certctlSnapshot, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	return out
}

// ServeHTTP writes the text format, target types sorted, with the
// reference renderer.
func (m *certctlMetrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	snaps := conformance.SnapshotFrom(m.Snapshot)()
	slices.SortFunc(snaps, func(a, b counters.DeploySnapshot) int { return strings.Compare(a.TargetType, b.TargetType) })
	w.Header().Set("Content-Type", handler.ContentTypeText)
	_, _ = w.Write(handler.AppendText(nil, "certctl", snaps))
}

// newCertctlConfig is the whole adapter of the certctl-shaped emitter:
// TickFrom and SnapshotFrom take its own methods, and the config says what
// it does and does not do. TestConformance runs the suite on it;
// TestCertctlAdapterIsShort keeps it within 25 lines.
func newCertctlConfig() conformance.Config {
	cfg := conformance.NewConfig()
	cfg.Name = "certctl-shaped emitter"
	// Text only, ticked counter by counter, no cap, any method: level Core.
	cfg.Level = conformance.Core
	cfg.Protocols = []check.Protocol{check.PrometheusText0_0_4}
	cfg.Gzip, cfg.Methods = false, false
	cfg.Normalize = certctlTargetType
	cfg.NewEmitter = func() (*conformance.Emitter, error) {
		m := newCertctlMetrics()
		return &conformance.Emitter{
			Tick:     conformance.TickFrom(m),
			Snapshot: conformance.SnapshotFrom(m.Snapshot),
			Handler:  m,
		}, nil
	}
	return cfg
}

// The modelled system's emitter plugs in with newCertctlConfig: its Inc
// methods become Tick, its unsorted Snapshot of its own struct becomes
// Snapshot, and a test runs the suite on it with
//
//	func TestCertctl(t *testing.T) { conformance.Run(t, newCertctlConfig()) }
func Example_certctlShapedEmitter() {
	cfg := newCertctlConfig()
	e, _ := cfg.NewEmitter()
	for _, c := range conformance.Ticks(counters.OutcomeReloadFailedRestored) {
		e.Tick(c, "NGINX")
	}
	e.Tick(conformance.AttemptSuccess, "Apache")
	snaps := e.Snapshot()
	slices.SortFunc(snaps, func(a, b counters.DeploySnapshot) int { return strings.Compare(a.TargetType, b.TargetType) })
	for _, s := range snaps {
		fmt.Printf("%+v\n", s)
	}
	// Output:
	// {TargetType:Apache AttemptsSuccess:1 AttemptsFailure:0 ValidateFailures:0 ReloadFailures:0 PostVerifyFails:0 RollbackRestored:0 RollbackAlsoFail:0 IdempotentSkips:0}
	// {TargetType:NGINX AttemptsSuccess:0 AttemptsFailure:1 ValidateFailures:0 ReloadFailures:1 PostVerifyFails:0 RollbackRestored:1 RollbackAlsoFail:0 IdempotentSkips:0}
}
