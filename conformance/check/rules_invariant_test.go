package check

import (
	"strings"
	"testing"
)

// tornBody is a deploy exposition where NGINX's post-verify failure was
// counted but not yet its rollback nor its failed attempt.
func tornBody() string {
	body := deployBody(FormatText, DefaultNamespace, []string{"Apache", "NGINX"}, 1)
	return strings.Replace(body, `certctl_deploy_post_verify_failures_total{target_type="NGINX"} 2`,
		`certctl_deploy_post_verify_failures_total{target_type="NGINX"} 5`, 1)
}

func TestInvariantsShowTheNumbers(t *testing.T) {
	r := checkText(t, tornBody(), NewOptions())
	i1, i2 := r.Rule("invariant.i1-rollbacks"), r.Rule("invariant.i2-failures")
	if len(i1) != 1 || len(i2) != 1 {
		t.Fatalf("want one I1 and one I2 finding, got\n%v", r)
	}
	for _, want := range []string{`target_type="NGINX"`, "restored 2 + also_failed 1 = 3", "reload failures 1 + post-verify failures 5 = 6", "(I1)"} {
		if !strings.Contains(i1[0].Message, want) {
			t.Errorf("I1 message %q lacks %q", i1[0].Message, want)
		}
	}
	for _, want := range []string{`target_type="NGINX"`, "failed attempts 4 < validate failures 1 + reload failures 1 + post-verify failures 5 = 7", "(I2)"} {
		if !strings.Contains(i2[0].Message, want) {
			t.Errorf("I2 message %q lacks %q", i2[0].Message, want)
		}
	}
	if i1[0].Series != `certctl_deploy_rollback_total{target_type="NGINX",outcome="restored"}` {
		t.Errorf("I1 points at %q, want the NGINX rollback series", i1[0].Series)
	}
}

func TestInvariantsAreWarningsUnlessStrict(t *testing.T) {
	r := checkText(t, tornBody(), NewOptions())
	for _, f := range r.Rule("invariant.*") {
		if f.Severity != Warning {
			t.Errorf("%s: %s, want warning by default", f.Rule, f.Severity)
		}
	}
	opts := NewOptions()
	opts.Strict = true
	for _, f := range checkText(t, tornBody(), opts).Rule("invariant.*") {
		if f.Severity != Error {
			t.Errorf("%s: %s, want error under Strict", f.Rule, f.Severity)
		}
	}
}

func TestInvariantsOnlyWithTheSchemaFlag(t *testing.T) {
	opts := NewOptions()
	opts.Schema.Invariants = false
	if got := checkText(t, tornBody(), opts).Rule("invariant.*"); len(got) != 0 {
		t.Errorf("Invariants off: want no findings, got %v", got)
	}
	if got := checkText(t, tornBody(), noSchema()).Rule("invariant.*"); len(got) != 0 {
		t.Errorf("no schema: want no findings, got %v", got)
	}
}

func TestInvariantsAnyNamespace(t *testing.T) {
	body := strings.ReplaceAll(tornBody(), "certctl_", "acme_")
	opts := NewOptions()
	opts.Schema = DeploySchema("acme")
	if got := checkText(t, body, opts).Rule("invariant.*"); len(got) != 2 {
		t.Errorf("namespace acme: want two findings, got %v", got)
	}
}

func TestInvariantsSkipWhatSchemaRulesReport(t *testing.T) {
	// NGINX has no reload series at all: schema.key-set says so, and the
	// invariants do not add a guess with a zero.
	body := strings.Replace(tornBody(), `certctl_deploy_reload_failures_total{target_type="NGINX"} 1`+"\n", "", 1)
	r := checkText(t, body, NewOptions())
	if len(r.Rule("schema.key-set")) != 1 || len(r.Rule("invariant.*")) != 0 {
		t.Errorf("want one schema.key-set and no invariant finding:\n%v", r)
	}
	// A missing sub-label series counts as zero: the family lists NGINX.
	body = strings.Replace(deployBody(FormatText, DefaultNamespace, []string{"NGINX"}, 1),
		`certctl_deploy_rollback_total{target_type="NGINX",outcome="also_failed"} 1`+"\n", "", 1)
	if got := checkText(t, body, NewOptions()).Rule("invariant.i1-rollbacks"); len(got) != 1 {
		t.Errorf("also_failed omitted: want I1 judged with it as 0, got %v", got)
	}
}
