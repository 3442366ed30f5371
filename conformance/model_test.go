package conformance

import (
	"slices"
	"strings"
	"testing"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
)

// TestModelFollowsTheReferenceTable drives the model and the reference
// table with the same ticks, hostile names and a cap included, and holds
// the model to the table's snapshot: the model is what the active specs
// trust, so it must agree with the emitter known to be right.
func TestModelFollowsTheReferenceTable(t *testing.T) {
	cfg := ReferenceConfig(20)
	m := newModel(&cfg)
	dc := counters.NewDeployCounters(counters.WithMaxTargetTypes(20))
	names := append(counters.KnownTargetTypes(), HostileTargetTypes()...)
	for i, tt := range names {
		o := Outcomes()[i%len(Outcomes())]
		dc.Record(tt, o)
		m.outcome(tt, o)
		TickFrom(dc)(IdempotentSkip, tt)
		m.add(tt, IdempotentSkip, 1)
	}
	if dc.Folded() == 0 {
		t.Fatal("the test needs names beyond the cap")
	}
	if d := m.diffSnapshot(dc.Snapshot()); len(d) > 0 {
		t.Errorf("the model differs from the reference table:\n%s", listMismatches(d))
	}
	body := handler.AppendText(nil, cfg.Namespace, dc.Snapshot())
	r := check.Check(check.Input{Body: body, ContentType: check.ContentTypeText}, cfg.options())
	if d := m.diff(r.Exposition, cfg.Namespace); len(d) > 0 {
		t.Errorf("the model differs from the reference exposition:\n%s", listMismatches(d))
	}
}

// TestModelDiffFindsEveryKindOfMismatch shows the diff is not vacuous: a
// wrong value, a missing series, a missing target type and an unexpected
// non-zero one are each reported, with the line where it applies.
func TestModelDiffFindsEveryKindOfMismatch(t *testing.T) {
	cfg := NewConfig()
	m := newModel(&cfg)
	m.outcome("NGINX", counters.OutcomeReloadFailedRestored)
	m.outcome("Apache", counters.OutcomeSucceeded)
	exposed := []counters.DeploySnapshot{
		{TargetType: "Caddy", IdempotentSkips: 1},
		{TargetType: "Envoy"}, // registered, never ticked: allowed
		{TargetType: "NGINX", AttemptsFailure: 1, ReloadFailures: 2, RollbackRestored: 1},
	}
	body := string(handler.AppendText(nil, "certctl", exposed))
	body = strings.Replace(body, "certctl_deploy_rollback_total{target_type=\"NGINX\",outcome=\"also_failed\"} 0\n", "", 1)
	r := check.Check(check.Input{Body: []byte(body), ContentType: check.ContentTypeText}, check.Options{})
	got := m.diff(r.Exposition, "certctl")
	for _, want := range []string{
		`target_type="Apache": missing from every family (model: AttemptSuccess 1)`,
		`certctl_deploy_reload_failures_total{target_type="NGINX"}: exposed 2, model 1`,
		`certctl_deploy_rollback_total{target_type="NGINX",outcome="also_failed"}: missing (model: 0)`,
		`certctl_deploy_idempotent_skip_total{target_type="Caddy"}: exposed 1, but the suite never ticked`,
	} {
		if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, want) }) {
			t.Errorf("diff lacks %q; got:\n%s", want, listMismatches(got))
		}
	}
	if slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, "Envoy") }) {
		t.Errorf("a registered target type with zero counts is a mismatch:\n%s", listMismatches(got))
	}
	if len(got) != 4 {
		t.Errorf("%d mismatches, want 4:\n%s", len(got), listMismatches(got))
	}
}

func TestNewTargetTypesSortFirstMiddleLast(t *testing.T) {
	known := counters.KnownTargetTypes()
	sorted := slices.Sorted(slices.Values(known))
	got := newTargetTypes(known, func(s string) string { return s })
	if len(got) != 3 {
		t.Fatalf("newTargetTypes = %q, want three names", got)
	}
	wantPos := []int{0, len(sorted)/2 + 1, len(sorted)}
	for i, tt := range got {
		if slices.Contains(known, tt) {
			t.Errorf("%q is not new", tt)
		}
		if p := position(sorted, tt); p != wantPos[i] {
			t.Errorf("%q sorts at %d, want %d", tt, p, wantPos[i])
		}
	}
	// Names that defeat the first choices get the fallbacks.
	hard := []string{"!", "!new-first", "M", "M-new", "~new-last", "~~"}
	got = newTargetTypes(hard, func(s string) string { return s })
	if len(got) != 3 {
		t.Errorf("newTargetTypes(%q) = %q, want three names", hard, got)
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := NewConfig()
	err := cfg.validate()
	if err == nil || !strings.Contains(err.Error(), "NewEmitter is nil") {
		t.Errorf("a config without NewEmitter: %v", err)
	}
	cfg = ReferenceConfig(0)
	if err := cfg.validate(); err != nil {
		t.Errorf("ReferenceConfig: %v", err)
	}
	cfg.TargetTypes = []string{"NGINX", "tab\there", "NGINX"}
	cfg.Scrapes = 1
	cfg.Options.Disabled = []string{"order.nope"}
	cfg.Level = 9
	cfg.RaceFor = 0
	cfg.NegotiationWaivers = map[string]string{"om-q1": "typo", "om-q0": " "}
	err = cfg.validate()
	for _, want := range []string{`"tab\there" is exported as`, `"NGINX" listed twice`, "Scrapes: 1", `unknown rule "order.nope"`,
		"Level: 9 is no level", "RaceFor (0s)", `"om-q1" is no case of passive-negotiation-edge`, `NegotiationWaivers["om-q0"]: give the reason`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validate() = %v, want it to say %q", err, want)
		}
	}
}

// TestDiffSnapshotIgnoresOrderOnly: a snapshot in any order matches, but a
// target type listed twice, an empty one, a missing one and a wrong count
// are each reported.
func TestDiffSnapshotIgnoresOrderOnly(t *testing.T) {
	cfg := NewConfig()
	m := newModel(&cfg)
	m.outcome("NGINX", counters.OutcomeSucceeded)
	m.outcome("Apache", counters.OutcomeSkipped)
	m.outcome("F5", counters.OutcomeFailed)
	unsorted := []counters.DeploySnapshot{
		{TargetType: "NGINX", AttemptsSuccess: 1},
		{TargetType: "Apache", IdempotentSkips: 1},
		{TargetType: "F5", AttemptsFailure: 1},
	}
	if d := m.diffSnapshot(unsorted); len(d) > 0 {
		t.Errorf("an unsorted snapshot of the right counts differs:\n%s", listMismatches(d))
	}
	wrong := []counters.DeploySnapshot{
		{TargetType: "NGINX", AttemptsSuccess: 1},
		{TargetType: "NGINX", AttemptsSuccess: 1},
		{TargetType: "Apache", IdempotentSkips: 2},
		{},
	}
	got := m.diffSnapshot(wrong)
	for _, want := range []string{`"NGINX": listed twice`, `"Apache" IdempotentSkip: snapshot 2, model 1`, `"F5": missing`, "an entry with an empty target type"} {
		if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, want) }) {
			t.Errorf("diffSnapshot lacks %q; got:\n%s", want, listMismatches(got))
		}
	}
	if len(got) != 4 {
		t.Errorf("%d mismatches, want 4:\n%s", len(got), listMismatches(got))
	}
}
