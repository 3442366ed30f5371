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

// keyCounts holds one family's values per key label value, and the first
// sample of each key (where findings point).
type keyCounts struct {
	value  map[string]float64
	sample map[string]*Sample
	// listed holds the keys the family has any series for, whatever its
	// sub-label.
	listed map[string]bool
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
	// collect sums the samples of role whose sub-label (if any) is value.
	collect := func(role *FamilySchema, subLabel, value string) *keyCounts {
		m := byFamily[role]
		if m == nil || m.fam == nil {
			return nil
		}
		c := &keyCounts{value: make(map[string]float64), sample: make(map[string]*Sample), listed: make(map[string]bool)}
		m.judged(func(s *Sample, _ sampleRole) {
			key, _ := s.Label(schema.KeyLabel)
			c.listed[key] = true
			if subLabel != "" {
				if v, _ := s.Label(subLabel); v != value {
					return
				}
			}
			// A duplicate series is a spec finding; count the first, as a
			// reader of the exposition would see it.
			if _, seen := c.sample[key]; !seen {
				c.value[key] = s.Value
				c.sample[key] = s
			}
		})
		return c
	}
	failure := collect(roles.attempts, roles.result, "failure")
	validate := collect(roles.validate, "", "")
	reload := collect(roles.reload, "", "")
	postVerify := collect(roles.postVerify, "", "")
	restored := collect(roles.rollback, roles.outcome, "restored")
	alsoFailed := collect(roles.rollback, roles.outcome, "also_failed")
	if failure == nil || validate == nil || reload == nil || postVerify == nil || restored == nil {
		// A missing family is a schema finding; judging the invariant
		// with zeros for it would only repeat that.
		return
	}
	all := []*keyCounts{failure, validate, reload, postVerify, restored, alsoFailed}
	keys := make(map[string]bool)
	for _, c := range all {
		for k := range c.value {
			keys[k] = true
		}
	}
	label := schema.KeyLabel
	for _, key := range sortedKeys(keys) {
		v := func(c *keyCounts) float64 { return c.value[key] }
		judge := true
		for _, c := range all {
			// A family that does not list the key at all is a
			// schema.key-set finding, and a NaN or infinite value a
			// schema.value one; arithmetic on them says nothing more. A
			// family that lists the key but omits one sub-label's series
			// counts it as 0.
			judge = judge && c.listed[key] && !math.IsNaN(v(c)) && !math.IsInf(v(c), 0)
		}
		if !judge {
			continue
		}
		where := fmt.Sprintf("%s=%q", label, key)
		rolledBack := v(restored) + v(alsoFailed)
		rollbackCauses := v(reload) + v(postVerify)
		if rolledBack != rollbackCauses {
			at := firstSample(key, restored, alsoFailed, reload, postVerify)
			p.report("invariant.i1-rollbacks", lineOf(at), roles.rollback.Name, seriesOf(at),
				"%s: rollbacks restored %s + also_failed %s = %s, but reload failures %s + post-verify failures %s = %s; "+
					"every reload or post-verify failure is rolled back exactly once (I1). An emitter that ticks counters one by one shows this between two ticks: record each outcome as one update",
				where, formatValue(v(restored)), formatValue(v(alsoFailed)), formatValue(rolledBack),
				formatValue(v(reload)), formatValue(v(postVerify)), formatValue(rollbackCauses))
		}
		explained := v(validate) + v(reload) + v(postVerify)
		if v(failure) < explained {
			at := firstSample(key, failure, validate, reload, postVerify)
			p.report("invariant.i2-failures", lineOf(at), roles.attempts.Name, seriesOf(at),
				"%s: failed attempts %s < validate failures %s + reload failures %s + post-verify failures %s = %s; "+
					"every validate, reload or post-verify failure is also a failed attempt (I2). An emitter that ticks counters one by one shows this between two ticks: record each outcome as one update",
				where, formatValue(v(failure)), formatValue(v(validate)), formatValue(v(reload)),
				formatValue(v(postVerify)), formatValue(explained))
		}
	}
}

// firstSample returns the sample of key in the first of counts that has
// one.
func firstSample(key string, counts ...*keyCounts) *Sample {
	for _, c := range counts {
		if s := c.sample[key]; s != nil {
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
