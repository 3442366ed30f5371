package deploy

import (
	"slices"
	"strings"
	"testing"
)

// TestFamilies pins the deploy schema of SPEC.md §1.2, written out here
// independently of the table it checks: a change to either is a change to
// the contract every emitter is held to.
func TestFamilies(t *testing.T) {
	want := []struct {
		name, openMetrics string
		labels            []string
		values            []string
	}{
		{"certctl_deploy_attempts_total", "deploy_attempts", []string{"target_type", "result"}, []string{"success", "failure"}},
		{"certctl_deploy_validate_failures_total", "deploy_validate_failures", []string{"target_type"}, nil},
		{"certctl_deploy_reload_failures_total", "deploy_reload_failures", []string{"target_type"}, nil},
		{"certctl_deploy_post_verify_failures_total", "deploy_post_verify_failures", []string{"target_type"}, nil},
		{"certctl_deploy_rollback_total", "deploy_rollback", []string{"target_type", "outcome"}, []string{"restored", "also_failed"}},
		{"certctl_deploy_idempotent_skip_total", "deploy_idempotent_skip", []string{"target_type"}, nil},
	}
	got := Families()
	if len(got) != len(want) {
		t.Fatalf("%d families, want %d", len(got), len(want))
	}
	for i, w := range want {
		f := got[i]
		if n := f.Name(DefaultNamespace); n != w.name {
			t.Errorf("family %d: Name = %q, want %q", i, n, w.name)
		}
		if n := f.Name(""); n != strings.TrimPrefix(w.name, "certctl_") {
			t.Errorf("family %d: Name(\"\") = %q, want it without the namespace", i, n)
		}
		if n := f.OpenMetricsBase(); n != w.openMetrics {
			t.Errorf("family %d: OpenMetricsBase = %q, want %q", i, n, w.openMetrics)
		}
		if l := f.Labels(); !slices.Equal(l, w.labels) {
			t.Errorf("family %d: Labels = %q, want %q", i, l, w.labels)
		}
		var values []string
		for _, v := range f.SubValues {
			if v != "" {
				values = append(values, v)
			}
		}
		if !slices.Equal(values, w.values) {
			t.Errorf("family %d: SubValues = %q, want %q", i, values, w.values)
		}
	}
	// The array is the caller's.
	got[Attempts].Base = "changed"
	if Families()[Attempts].Base == "changed" {
		t.Error("changing the array Families returned changed the schema")
	}
}
