package check

import (
	"fmt"
	"slices"
	"strings"
)

// schemaView is the schema's reading of one exposition: every schema family
// matched to its samples, and every sample the schema judges classified
// once, in one pass per family, for the three rule groups that read the
// schema. The schema.* findings about series, the order of each family's
// series, the key sets and the invariants' counts all come out of that
// pass; checkSchema, checkOrder and checkInvariants then only report. A
// Check computes it once (pass.schema) instead of once per group.
type schemaView struct {
	schema  *Schema
	matches []schemaMatch
	// tally holds the schema.* findings about series, not yet reported.
	tally *tally
	// keys are the values of the key label on judged samples, in order of
	// first appearance, "" for a sample without one; keyIndex maps a value
	// back to its index. Empty when the schema has no key label.
	keys     []string
	keyIndex map[string]int32
	indexed  int   // keyIndex holds keys[:indexed]
	lastKey  int32 // the index of the last key looked up, the likely next one's neighbour
	// keysSorted says whether keys were added in increasing order.
	keysSorted bool
	// roles and targets are the invariants' families and counts (targets
	// indexed like keys); roles is nil when the invariant rules do not
	// apply.
	roles   *deployRoles
	targets []targetCounts
	// invFamilies are the invariants' families (fAttempts...), as judged.
	invFamilies [nFamilies]*Family
}

// schemaView returns the schema's reading of the exposition, computing it
// on first use. Only for a pass with a schema.
func (p *pass) schemaView() *schemaView {
	if p.schema == nil {
		p.schema = newSchemaView(p.exp, p.opts.Schema)
	}
	return p.schema
}

func newSchemaView(e *Exposition, schema *Schema) *schemaView {
	v := &schemaView{schema: schema, matches: matchSchema(e, schema), tally: newTally(), lastKey: -1, keysSorted: true}
	if schema.KeyLabel != "" {
		v.keyIndex = make(map[string]int32)
		// Every family lists the same keys, each with one series per
		// combination of its allowed sub-label values: the first
		// family's samples tell how many keys to expect, so that the key
		// tables seldom grow.
		for _, m := range v.matches {
			if m.fam != nil {
				combinations := 1
				for _, name := range m.fs.Labels {
					if values := m.fs.Values[name]; name != schema.KeyLabel && len(values) > 0 {
						combinations = min(combinations*len(values), len(m.fam.Samples)+1)
					}
				}
				v.keys = make([]string, 0, len(m.fam.Samples)/combinations+1)
				break
			}
		}
	}
	if schema.Invariants {
		// Validate rejects a schema without the roles; one built in Go
		// without validation simply gets no invariant checks.
		if roles, err := deployRolesOf(schema); err == nil {
			v.roles = roles
		}
	}
	for i := range v.matches {
		if m := &v.matches[i]; m.fam != nil {
			v.judge(m)
		}
	}
	return v
}

// restriction is a label's list of allowed values (FamilySchema.Values).
type restriction struct {
	values []string
	// ranks maps a value to its position (the last, for a value listed
	// twice, as sortKey does); only for long lists, which a linear search
	// would make quadratic.
	ranks map[string]int
	// distinct is the number of distinct values: the rank of any other.
	distinct int
}

func newRestriction(values []string) *restriction {
	r := &restriction{values: values}
	set := make(map[string]int, len(values))
	for i, v := range values {
		set[v] = i
	}
	r.distinct = len(set)
	if len(values) > 8 {
		r.ranks = set
	}
	return r
}

// rank returns the canonical position of value, and false for a value
// not listed.
func (r *restriction) rank(value string) (int, bool) {
	if r.ranks != nil {
		i, ok := r.ranks[value]
		return i, ok
	}
	for i := len(r.values) - 1; i >= 0; i-- {
		if r.values[i] == value {
			return i, true
		}
	}
	return 0, false
}

// orderRank is the rank sortKey.compare gives value: unknown values after
// the known ones.
func (r *restriction) orderRank(value string) int {
	if i, ok := r.rank(value); ok {
		return i
	}
	return r.distinct
}

// familyLabels is what one pass over a family needs of its schema's labels,
// so that a sample's labels are read once, with no map lookup.
type familyLabels struct {
	want []string
	// first[k] is the first index of want[k] in want (a list from Go may
	// repeat a name); distinct counts the distinct names.
	first    []int
	distinct int
	// restrict[k] restricts label want[k], nil when its values are free.
	restrict []*restriction
	// sortAt[k] is the index in want of the k-th label series sort by;
	// sortRestrict[k] its restriction.
	sortAt       []int
	sortRestrict []*restriction
}

func newFamilyLabels(schema *Schema, fs *FamilySchema) *familyLabels {
	t := &familyLabels{want: fs.Labels, first: make([]int, len(fs.Labels)), restrict: make([]*restriction, len(fs.Labels))}
	for k, name := range fs.Labels {
		t.first[k] = slices.Index(fs.Labels, name)
		if t.first[k] != k {
			continue
		}
		t.distinct++
		if values, ok := fs.Values[name]; ok {
			t.restrict[k] = newRestriction(values)
		}
	}
	for _, name := range schema.sortLabels(fs) {
		k := slices.Index(fs.Labels, name)
		t.sortAt = append(t.sortAt, k)
		t.sortRestrict = append(t.sortRestrict, t.restrict[k])
	}
	return t
}

// compareSorted is sortKey.compare over the first values of the wanted
// labels of two samples ("" for an absent one), given with their order
// ranks (orderRank, for the restricted labels).
func (t *familyLabels) compareSorted(a, b []string, aRanks, bRanks []int) int {
	for k, at := range t.sortAt {
		va, vb := a[at], b[at]
		if va == vb {
			continue
		}
		if t.sortRestrict[k] != nil && aRanks[at] != bRanks[at] {
			return aRanks[at] - bRanks[at]
		}
		return strings.Compare(va, vb)
	}
	return 0
}

// keyOf returns the index of key value value in v.keys, adding it when new.
// Families list the same keys in the same order, sorted, so the map is
// seldom needed: the key after the last one looked up, or the first key,
// is tried before it, and a key above every key so far is new. The map
// then only indexes keys once a lookup needs it.
func (v *schemaView) keyOf(value string) int32 {
	for _, guess := range [3]int32{v.lastKey + 1, v.lastKey, 0} {
		if guess >= 0 && int(guess) < len(v.keys) && v.keys[guess] == value {
			v.lastKey = guess
			return guess
		}
	}
	n := len(v.keys)
	if v.keysSorted && (n == 0 || value > v.keys[n-1]) {
		return v.addKey(value)
	}
	for ; v.indexed < n; v.indexed++ {
		v.keyIndex[v.keys[v.indexed]] = int32(v.indexed)
	}
	if i, ok := v.keyIndex[value]; ok {
		v.lastKey = i
		return i
	}
	v.keysSorted = false
	return v.addKey(value)
}

func (v *schemaView) addKey(value string) int32 {
	i := int32(len(v.keys))
	v.keys = append(v.keys, value)
	if v.roles != nil {
		if v.targets == nil {
			// As many as the key table has room for (see newSchemaView).
			v.targets = make([]targetCounts, 0, cap(v.keys))
		}
		v.targets = append(v.targets, targetCounts{})
	}
	v.lastKey = i
	return i
}

// invariantFamily returns which of the invariants' families fs is, or -1.
func (v *schemaView) invariantFamily(fs *FamilySchema) int {
	if v.roles == nil {
		return -1
	}
	for i, role := range [nFamilies]*FamilySchema{fAttempts: v.roles.attempts, fValidate: v.roles.validate, fReload: v.roles.reload, fPostVerify: v.roles.postVerify, fRollback: v.roles.rollback} {
		if role == fs {
			return i
		}
	}
	return -1
}

// invariantCount returns which count of the invariants sample s of family
// (one of fAttempts...) is, or -1 for none.
func (v *schemaView) invariantCount(family int, s *Sample) int {
	switch family {
	case fAttempts:
		if r, _ := s.Label(v.roles.result); r == "failure" {
			return cFailure
		}
		return -1
	case fValidate:
		return cValidate
	case fReload:
		return cReload
	case fPostVerify:
		return cPostVerify
	case fRollback:
		switch o, _ := s.Label(v.roles.outcome); o {
		case "restored":
			return cRestored
		case "also_failed":
			return cAlsoFailed
		}
	}
	return -1
}

// judge reads every sample of m the schema judges, once: its labels, values
// and timestamp (schema.*, into the tally), its key (schema.key-set and the
// invariants' counts) and its place after the previous one (order.series).
func (v *schemaView) judge(m *schemaMatch) {
	schema, fs := v.schema, m.fs
	t := newFamilyLabels(schema, fs)
	inv := v.invariantFamily(fs)
	present := make([]bool, len(t.want))
	// The first value of each wanted label, of this sample and the
	// previous one, and the order rank of each restricted one.
	vals, prevVals := make([]string, len(t.want)), make([]string, len(t.want))
	ranks, prevRanks := make([]int, len(t.want)), make([]int, len(t.want))
	var prev *Sample
	var missing, extra []string
	if inv >= 0 {
		v.invFamilies[inv] = m.fam
	}
	// Consecutive samples mostly share their name and label names (the
	// model shares the strings too, which makes comparing them cheap):
	// the role of the last name, and the index in want of the label name
	// at each place, are tried before they are worked out.
	var roleName string
	var role sampleRole
	var roleOK bool
	var lastLabel [8]string
	var lastK [8]int
	for si, s := range m.fam.Samples {
		if s.Name != roleName || si == 0 {
			roleName = s.Name
			role, roleOK = roleOf(fs, m.fam, s)
		}
		if !roleOK {
			continue
		}
		clear(present)
		found, hasExtra, unwanted := 0, false, false
		key, hasKey := "", false
		for li := range s.Labels {
			l := &s.Labels[li]
			var k int
			switch {
			case li < len(lastLabel) && l.Name == lastLabel[li] && l.Name != "":
				k = lastK[li]
			case li < len(lastLabel):
				k = slices.Index(t.want, l.Name)
				lastLabel[li], lastK[li] = l.Name, k
			default:
				k = slices.Index(t.want, l.Name)
			}
			first := k >= 0 && !present[k] // the first value of want[k]
			if first {
				present[k], vals[k] = true, l.Value
				found++
			}
			switch {
			case role.extra != "" && l.Name == role.extra:
				hasExtra = true
			case k < 0:
				unwanted = true
			}
			var r *restriction
			if k >= 0 {
				r = t.restrict[k]
			} else if values, restricted := fs.Values[l.Name]; restricted {
				r = &restriction{values: values}
			}
			if r != nil {
				rank, allowed := r.rank(l.Value)
				if first {
					if !allowed {
						rank = r.distinct // orderRank's rank of an unknown value
					}
					ranks[k] = rank
				}
				if !allowed {
					v.tally.add("schema.label-value", fs.Name, s, "value\x00"+l.Name+"\x00"+l.Value, func() string {
						return fmt.Sprintf("%s: %s=%q is not an allowed value; %s takes only %s", s.Series, l.Name, l.Value, l.Name, valueList(fs.Values[l.Name]))
					})
				}
			}
			if l.Name == schema.KeyLabel {
				if !hasKey {
					key, hasKey = l.Value, true
				}
				if l.Value == "" {
					v.tally.add("schema.key-label-empty", fs.Name, s, "key", func() string {
						return fmt.Sprintf("%s: %s is empty; every series names its %s (Prometheus drops an empty label, so the series would lose it)", s.Series, l.Name, l.Name)
					})
				}
			}
		}
		if found < len(t.want) {
			for k := range vals {
				if !present[k] {
					vals[k] = ""
					if r := t.restrict[k]; r != nil {
						ranks[k] = r.orderRank("")
					}
				}
			}
		}
		if found < t.distinct || unwanted || (role.extra != "" && !hasExtra) {
			// The lists, in the words of the message, only for a sample
			// that has a problem.
			missing, extra = labelDiff(s, fs.Labels, role.extra, missing[:0], extra[:0])
			problem := "labels\x00" + strings.Join(missing, ",") + "\x00" + strings.Join(extra, ",")
			v.tally.add("schema.labels", fs.Name, s, problem, func() string {
				return labelsMessage(s, fs, role, missing, extra)
			})
		}
		if fs.Integer && role.integer {
			if problem := countProblem(s.Value); problem != "" {
				v.tally.add("schema.value", fs.Name, s, "int\x00"+problem, func() string {
					return fmt.Sprintf("%s: value %s is %s; %s holds counts, which are non-negative integers", s.Series, formatValue(s.Value), problem, fs.Name)
				})
			}
		}
		if s.Timestamp != nil {
			v.tally.add("schema.timestamp", fs.Name, s, "ts", func() string {
				return fmt.Sprintf("%s carries a timestamp (%d): drop it, Prometheus stamps the scrape time itself", s.Series, *s.Timestamp)
			})
		}

		if prev != nil && t.compareSorted(prevVals, vals, prevRanks, ranks) > 0 {
			if m.misplaced == nil {
				m.misplaced, m.misplacedAfter = s, prev
			}
			m.misplacedCount++
		}
		prev, prevVals, vals, prevRanks, ranks = s, vals, prevVals, ranks, prevRanks

		if schema.KeyLabel == "" {
			continue
		}
		i := v.keyOf(key)
		if key != "" {
			// schema.key-set: a sample without the key, or with an empty
			// one, lists no key.
			for int(i) >= len(m.listed) {
				m.listed = append(m.listed, false)
			}
			if !m.listed[i] {
				m.listed[i] = true
				m.nkeys++
			}
		}
		if inv >= 0 {
			tc := &v.targets[i]
			tc.listed[inv] = true
			// A duplicate series is a spec finding; count the first, as a
			// reader of the exposition would see it.
			if c := v.invariantCount(inv, s); c >= 0 && tc.sample[c] == 0 {
				tc.value[c], tc.sample[c] = s.Value, int32(si)+1
			}
		}
	}
}
