package check

import (
	"fmt"
	"math"
)

// The invariant.* rules check the deploy outcome model of SPEC.md §2.2 in
// one snapshot, per target type. An emitter that ticks its counters one at
// a time can be scraped between two ticks of one deployment (a torn
// snapshot), so the rules are warnings by default; Check raises them to
// errors under Options.Strict.
var invariantRules = []Rule{
	{ID: "invariant.i1-rollbacks", Severity: Warning, Description: "I1 per target type: rollback{restored} + rollback{also_failed} == reload_failures + post_verify_failures",
		Spec: "§2.2", Source: "SPEC.md §2.2", Quote: "I1: `rollback{restored} + rollback{also_failed} == reload_failures + post_verify_failures`"},
	{ID: "invariant.i2-failures", Severity: Warning, Description: "I2 per target type: attempts{failure} >= validate_failures + reload_failures + post_verify_failures",
		Spec: "§2.2", Source: "SPEC.md §2.2", Quote: "I2: `attempts{failure} >= validate_failures + reload_failures + post_verify_failures`"},
}

// The counts the invariants relate, indexes into targetCounts.
const (
	cFailure = iota // attempts{result="failure"}
	cValidate
	cReload
	cPostVerify
	cRestored   // rollback{outcome="restored"}
	cAlsoFailed // rollback{outcome="also_failed"}
	nCounts
)

// The families the counts come from, for targetCounts.listed.
const (
	fAttempts = iota
	fValidate
	fReload
	fPostVerify
	fRollback
	nFamilies
)

// countFamily is the family each count comes from.
var countFamily = [nCounts]int{cFailure: fAttempts, cValidate: fValidate, cReload: fReload, cPostVerify: fPostVerify, cRestored: fRollback, cAlsoFailed: fRollback}

// targetCounts are the counts of one target type. It holds no pointer: a
// large exposition has thousands, which the garbage collector then need
// not scan.
type targetCounts struct {
	value [nCounts]float64
	// sample is, per count, the index + 1 of its first sample (where
	// findings point) in the Samples of its family (countFamily,
	// schemaView.invFamilies); 0 for none.
	sample [nCounts]int32
	listed [nFamilies]bool // the family has a series of the target, whatever its sub-label
}

func checkInvariants(p *pass) {
	if p.opts.Schema == nil || !p.opts.Schema.Invariants {
		return
	}
	v := p.schemaView()
	if v.roles == nil {
		return
	}
	for _, role := range []*FamilySchema{v.roles.attempts, v.roles.validate, v.roles.reload, v.roles.postVerify, v.roles.rollback} {
		for i := range v.matches {
			if v.matches[i].fs == role && v.matches[i].fam == nil {
				// A missing family is a schema finding; judging the
				// invariants with zeros for it would only repeat that.
				return
			}
		}
	}
	// schemaView.judge filed the samples of the five families under their
	// target type (v.targets, indexed like v.keys).
	for i := range v.targets {
		checkTarget(p, v, v.keys[i], &v.targets[i])
	}
}

func checkTarget(p *pass, v *schemaView, key string, tc *targetCounts) {
	label, roles := v.schema.KeyLabel, v.roles
	// A family that does not list the target at all is a schema.key-set
	// finding, and a NaN or infinite value a schema.value one; arithmetic
	// on them says nothing more. A family that lists the target but omits
	// one sub-label's series counts it as 0.
	for _, listed := range tc.listed {
		if !listed {
			return
		}
	}
	for _, x := range tc.value {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return
		}
	}
	values := &tc.value
	// Rendered only for a finding: a valid exposition has thousands of
	// targets.
	where := func() string { return fmt.Sprintf("%s=%q", label, key) }
	const torn = "An emitter that ticks counters one by one shows this between two ticks: record each outcome as one update"
	rolledBack := values[cRestored] + values[cAlsoFailed]
	rollbackCauses := values[cReload] + values[cPostVerify]
	if rolledBack != rollbackCauses {
		at := v.first(tc, cRestored, cAlsoFailed, cReload, cPostVerify)
		p.report("invariant.i1-rollbacks", lineOf(at), roles.rollback.Name, seriesOf(at),
			"%s: rollbacks restored %s + also_failed %s = %s, but reload failures %s + post-verify failures %s = %s; "+
				"every reload or post-verify failure is rolled back exactly once (I1). %s",
			where(), formatValue(values[cRestored]), formatValue(values[cAlsoFailed]), formatValue(rolledBack),
			formatValue(values[cReload]), formatValue(values[cPostVerify]), formatValue(rollbackCauses), torn)
	}
	explained := values[cValidate] + values[cReload] + values[cPostVerify]
	if values[cFailure] < explained {
		at := v.first(tc, cFailure, cValidate, cReload, cPostVerify)
		p.report("invariant.i2-failures", lineOf(at), roles.attempts.Name, seriesOf(at),
			"%s: failed attempts %s < validate failures %s + reload failures %s + post-verify failures %s = %s; "+
				"every validate, reload or post-verify failure is also a failed attempt (I2). %s",
			where(), formatValue(values[cFailure]), formatValue(values[cValidate]), formatValue(values[cReload]),
			formatValue(values[cPostVerify]), formatValue(explained), torn)
	}
}

// first returns the sample of the first of counts of tc that has one.
func (v *schemaView) first(tc *targetCounts, counts ...int) *Sample {
	for _, c := range counts {
		if i := tc.sample[c]; i > 0 {
			return v.invFamilies[countFamily[c]].Samples[i-1]
		}
	}
	return nil
}

func lineOf(s *Sample) int {
	if s == nil {
		return 0
	}
	return s.Line
}

func seriesOf(s *Sample) string {
	if s == nil {
		return ""
	}
	return s.Series
}
