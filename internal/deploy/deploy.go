// Package deploy defines the deploy schema once (SPEC.md §1.2): the six
// families a deploy metric emitter exposes, their labels, the values of
// their second label, and the namespace they default to. The reference
// emitter (package handler) renders these families, the check engine
// (package conformance/check) judges expositions against them, and the
// benchmarks' baselines write them; none of those spells them out on its
// own. What each family counts, and its HELP text, belong to the emitter.
//
//	for _, f := range deploy.Families() {
//		fmt.Println(f.Name("certctl")) // certctl_deploy_attempts_total, ...
//	}
package deploy

// DefaultNamespace is the namespace of the deploy metrics in the system the
// reference emitter is modelled on (SPEC.md §1.1).
const DefaultNamespace = "certctl"

// KeyLabel is the first label of every family's series, by which they are
// sorted (SPEC.md §1.6).
const KeyLabel = "target_type"

// The values of the second labels, in canonical order (SPEC.md §1.2).
const (
	ResultSuccess     = "success"
	ResultFailure     = "failure"
	OutcomeRestored   = "restored"
	OutcomeAlsoFailed = "also_failed"
)

// The families' indices in Families, which is their exposition order.
const (
	Attempts = iota
	ValidateFailures
	ReloadFailures
	PostVerifyFailures
	Rollbacks
	IdempotentSkips
	// FamilyCount is the number of families.
	FamilyCount
)

// A Family is one family of the deploy schema.
type Family struct {
	// Base is the family's name after the namespace, as the text format
	// writes it: "deploy_attempts_total". OpenMetrics names the family
	// without "_total" and its samples with it (SPEC.md §1.3).
	Base string
	// SubLabel is the label after KeyLabel, "" for a family labelled by
	// KeyLabel alone.
	SubLabel string
	// SubValues are SubLabel's values in canonical order; empty without a
	// SubLabel.
	SubValues [2]string
}

// Families returns the six families in exposition order, indexed by
// Attempts ... IdempotentSkips. The array is a copy: changing it changes
// nothing else.
func Families() [FamilyCount]Family {
	return [FamilyCount]Family{
		Attempts:           {Base: "deploy_attempts_total", SubLabel: "result", SubValues: [2]string{ResultSuccess, ResultFailure}},
		ValidateFailures:   {Base: "deploy_validate_failures_total"},
		ReloadFailures:     {Base: "deploy_reload_failures_total"},
		PostVerifyFailures: {Base: "deploy_post_verify_failures_total"},
		Rollbacks:          {Base: "deploy_rollback_total", SubLabel: "outcome", SubValues: [2]string{OutcomeRestored, OutcomeAlsoFailed}},
		IdempotentSkips:    {Base: "deploy_idempotent_skip_total"},
	}
}

// Name returns the family's name in the text format under namespace ns:
// "certctl_deploy_attempts_total", or Base alone when ns is empty.
func (f Family) Name(ns string) string {
	if ns == "" {
		return f.Base
	}
	return ns + "_" + f.Base
}

// OpenMetricsBase is Base without "_total": the family's name after the
// namespace in OpenMetrics ("deploy_attempts").
func (f Family) OpenMetricsBase() string {
	return f.Base[:len(f.Base)-len("_total")]
}

// Labels returns the family's label names in order: KeyLabel, then
// SubLabel if it has one.
func (f Family) Labels() []string {
	if f.SubLabel == "" {
		return []string{KeyLabel}
	}
	return []string{KeyLabel, f.SubLabel}
}
