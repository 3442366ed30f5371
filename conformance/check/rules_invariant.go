package check

import (
	"fmt"
	"math"
)

// The invariant.* rules check the deploy outcome model of DESIGN.md §2 in
// one snapshot, per target type. An emitter that ticks its counters one at
// a time can be scraped between two ticks of one deployment (a torn
// snapshot), so the rules are warnings by default; Check raises them to
// errors under Options.Strict.
var invariantRules = []Rule{
	{ID: "invariant.i1-rollbacks", Severity: Warning, Description: "I1 per target type: rollback{restored} + rollback{also_failed} == reload_failures + post_verify_failures"},
	{ID: "invariant.i2-failures", Severity: Warning, Description: "I2 per target type: attempts{failure} >= validate_failures + reload_failures + post_verify_failures"},
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

// targetCounts are the counts of one target type.
type targetCounts struct {
	value  [nCounts]float64
	sample [nCounts]*Sample // the first sample of each count, where findings point
	listed [nFamilies]bool  // the family has a series of the target, whatever its sub-label
}

func checkInvariants(p *pass) {
	schema := p.opts.Schema
	if schema == nil || !schema.Invariants {
		return
	}
	roles, err := deployRolesOf(schema)
	if err != nil {
		// Validate rejects such a schema; one built in Go without
		// validation simply gets no invariant checks.
		return
	}
	matches := matchSchema(p.exp, schema)
	byFamily := make(map[*FamilySchema]*schemaMatch, len(matches))
	for i := range matches {
		byFamily[matches[i].fs] = &matches[i]
	}
	targets := make(map[string]*targetCounts)
	// collect files the samples of one family under their target type:
	// count returns which count a sample is, or -1 for none.
	collect := func(role *FamilySchema, family int, count func(s *Sample) int) bool {
		m := byFamily[role]
		if m == nil || m.fam == nil {
			return false
		}
		m.judged(func(s *Sample, _ sampleRole) {
			key, _ := s.Label(schema.KeyLabel)
			tc := targets[key]
			if tc == nil {
				tc = &targetCounts{}
				targets[key] = tc
			}
			tc.listed[family] = true
			// A duplicate series is a spec finding; count the first, as a
			// reader of the exposition would see it.
			if c := count(s); c >= 0 && tc.sample[c] == nil {
				tc.value[c], tc.sample[c] = s.Value, s
			}
		})
		return true
	}
	bySubLabel := func(label string, values map[string]int) func(*Sample) int {
		return func(s *Sample) int {
			v, _ := s.Label(label)
			if c, ok := values[v]; ok {
				return c
			}
			return -1
		}
	}
	always := func(c int) func(*Sample) int { return func(*Sample) int { return c } }
	present := collect(roles.attempts, fAttempts, bySubLabel(roles.result, map[string]int{"failure": cFailure}))
	present = collect(roles.validate, fValidate, always(cValidate)) && present
	present = collect(roles.reload, fReload, always(cReload)) && present
	present = collect(roles.postVerify, fPostVerify, always(cPostVerify)) && present
	present = collect(roles.rollback, fRollback, bySubLabel(roles.outcome, map[string]int{"restored": cRestored, "also_failed": cAlsoFailed})) && present
	if !present {
		// A missing family is a schema finding; judging the invariants
		// with zeros for it would only repeat that.
		return
	}
	for _, key := range sortedKeys(targets) {
		checkTarget(p, schema.KeyLabel, key, targets[key], roles)
	}
}

func checkTarget(p *pass, label, key string, tc *targetCounts, roles *deployRoles) {
	// A family that does not list the target at all is a schema.key-set
	// finding, and a NaN or infinite value a schema.value one; arithmetic
	// on them says nothing more. A family that lists the target but omits
	// one sub-label's series counts it as 0.
	for _, listed := range tc.listed {
		if !listed {
			return
		}
	}
	for _, v := range tc.value {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
	}
	v := &tc.value
	where := fmt.Sprintf("%s=%q", label, key)
	const torn = "An emitter that ticks counters one by one shows this between two ticks: record each outcome as one update"
	rolledBack := v[cRestored] + v[cAlsoFailed]
	rollbackCauses := v[cReload] + v[cPostVerify]
	if rolledBack != rollbackCauses {
		at := tc.first(cRestored, cAlsoFailed, cReload, cPostVerify)
		p.report("invariant.i1-rollbacks", lineOf(at), roles.rollback.Name, seriesOf(at),
			"%s: rollbacks restored %s + also_failed %s = %s, but reload failures %s + post-verify failures %s = %s; "+
				"every reload or post-verify failure is rolled back exactly once (I1). %s",
			where, formatValue(v[cRestored]), formatValue(v[cAlsoFailed]), formatValue(rolledBack),
			formatValue(v[cReload]), formatValue(v[cPostVerify]), formatValue(rollbackCauses), torn)
	}
	explained := v[cValidate] + v[cReload] + v[cPostVerify]
	if v[cFailure] < explained {
		at := tc.first(cFailure, cValidate, cReload, cPostVerify)
		p.report("invariant.i2-failures", lineOf(at), roles.attempts.Name, seriesOf(at),
			"%s: failed attempts %s < validate failures %s + reload failures %s + post-verify failures %s = %s; "+
				"every validate, reload or post-verify failure is also a failed attempt (I2). %s",
			where, formatValue(v[cFailure]), formatValue(v[cValidate]), formatValue(v[cReload]),
			formatValue(v[cPostVerify]), formatValue(explained), torn)
	}
}

// first returns the sample of the first of counts that has one.
func (tc *targetCounts) first(counts ...int) *Sample {
	for _, c := range counts {
		if s := tc.sample[c]; s != nil {
			return s
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
