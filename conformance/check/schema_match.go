package check

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/deploymetrics/deploymetrics/internal/deploy"
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
		if r, _ := s.Label(v.roles.result); r == deploy.ResultFailure {
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
		case deploy.OutcomeRestored:
			return cRestored
		case deploy.OutcomeAlsoFailed:
			return cAlsoFailed
		}
	}
	return -1
}

// judge reads every sample of m the schema judges, once, and hands it to
// the five concerns of the schema's reading in turn: its labels
// (labelReader.read: schema.label-value, schema.key-label-empty), whether
// they are the schema's (complete, reportLabels: schema.labels), its value
// and timestamp (valueOK, reportValue: schema.value, schema.timestamp), its
// place after the previous sample (labelReader.sortsBefore: order.series),
// and its key (listKey: schema.key-set and the invariants' counts). Each
// check is a small function the compiler inlines, each report one that
// runs only for a sample with a problem: the loop runs once per sample of
// every scrape.
func (v *schemaView) judge(m *schemaMatch) {
	fs := m.fs
	t := newFamilyLabels(v.schema, fs)
	// The reader's buffers live on this function's stack: they are made
	// here, and nothing of the reader flows anywhere else.
	n := len(t.want)
	r := labelReader{labels: t, present: make([]bool, n), vals: make([]string, n), prevVals: make([]string, n),
		ranks: make([]int, n), prevRanks: make([]int, n)}
	inv := v.invariantFamily(fs)
	if inv >= 0 {
		v.invFamilies[inv] = m.fam
	}
	var diff labelDiffs
	var prev *Sample
	// Consecutive samples mostly share their name: the role of the last
	// name is tried before it is worked out.
	var roleName string
	var role sampleRole
	var roleOK bool
	for si, s := range m.fam.Samples {
		if s.Name != roleName || si == 0 {
			roleName = s.Name
			role, roleOK = roleOf(fs, m.fam, s)
		}
		if !roleOK {
			continue
		}
		got := r.read(v.tally, v.schema.KeyLabel, fs, s, role)
		if !got.complete(t.distinct, role) {
			reportLabels(v.tally, fs, s, role, &diff)
		}
		if !valueOK(fs, s, role) {
			reportValue(v.tally, fs, s, role)
		}
		if prev != nil && r.sortsBefore() {
			if m.misplaced == nil {
				m.misplaced, m.misplacedAfter = s, prev
			}
			m.misplacedCount++
		}
		prev = s
		r.next()
		if v.schema.KeyLabel != "" {
			v.listKey(m, inv, si, s, got.key)
		}
	}
}

// labelReader reads the labels of a family's samples, in order, into
// buffers the next sample reuses. It holds no pointer that leaves it, so
// that judge can keep it and its buffers on the stack.
type labelReader struct {
	labels *familyLabels
	// present[k] says whether the sample has want[k]; vals[k] is its first
	// value ("" when absent) and ranks[k] its order rank (restricted
	// labels); prevVals and prevRanks are the previous sample's.
	present          []bool
	vals, prevVals   []string
	ranks, prevRanks []int
	// Consecutive samples mostly share their label names (the model
	// shares the strings too, which makes comparing them cheap): the index
	// in want of the label name at each place is tried before it is
	// worked out.
	lastLabel [8]string
	lastK     [8]int
}

// labelReading is what labelReader.read found of one sample's labels.
type labelReading struct {
	// found counts the wanted labels present; hasExtra says whether the
	// label its role adds (le, quantile) is; unwanted whether any other
	// label is.
	found              int
	hasExtra, unwanted bool
	// key is the first value of the key label, "" without one.
	key string
}

// read reads the labels of s, a sample of fs, into r.present, r.vals and
// r.ranks, and judges each one's value: a restricted label's value not
// listed (schema.label-value), an empty key label (schema.key-label-empty).
func (r *labelReader) read(tally *tally, keyLabel string, fs *FamilySchema, s *Sample, role sampleRole) labelReading {
	t := r.labels
	clear(r.present)
	var got labelReading
	hasKey := false
	for li := range s.Labels {
		l := &s.Labels[li]
		k := r.wantIndex(li, l.Name)
		first := k >= 0 && !r.present[k] // the first value of want[k]
		if first {
			r.present[k], r.vals[k] = true, l.Value
			got.found++
		}
		switch {
		case role.extra != "" && l.Name == role.extra:
			got.hasExtra = true
		case k < 0:
			got.unwanted = true
		}
		var rs *restriction
		if k >= 0 {
			rs = t.restrict[k]
		} else if values, restricted := fs.Values[l.Name]; restricted {
			rs = &restriction{values: values}
		}
		if rs != nil {
			rank, allowed := rs.rank(l.Value)
			if first {
				if !allowed {
					rank = rs.distinct // orderRank's rank of an unknown value
				}
				r.ranks[k] = rank
			}
			if !allowed {
				tally.add("schema.label-value", fs.Name, s, "value\x00"+l.Name+"\x00"+l.Value, func() string {
					return fmt.Sprintf("%s: %s=%q is not an allowed value; %s takes only %s", s.Series, l.Name, l.Value, l.Name, valueList(fs.Values[l.Name]))
				})
			}
		}
		if l.Name == keyLabel {
			if !hasKey {
				got.key, hasKey = l.Value, true
			}
			if l.Value == "" {
				tally.add("schema.key-label-empty", fs.Name, s, "key", func() string {
					return fmt.Sprintf("%s: %s is empty; every series names its %s (Prometheus drops an empty label, so the series would lose it)", s.Series, l.Name, l.Name)
				})
			}
		}
	}
	if got.found < len(t.want) {
		for k := range r.vals {
			if !r.present[k] {
				r.vals[k] = ""
				if rs := t.restrict[k]; rs != nil {
					r.ranks[k] = rs.orderRank("")
				}
			}
		}
	}
	return got
}

// wantIndex returns the index in want of the label named name, the li-th
// of its sample, or -1: the index found for the name at that place last
// time when the name is the same (inlined), else lookupWant's.
func (r *labelReader) wantIndex(li int, name string) int {
	if li < len(r.lastLabel) && name == r.lastLabel[li] && name != "" {
		return r.lastK[li]
	}
	return r.lookupWant(li, name)
}

func (r *labelReader) lookupWant(li int, name string) int {
	k := slices.Index(r.labels.want, name)
	if li < len(r.lastLabel) {
		r.lastLabel[li], r.lastK[li] = name, k
	}
	return k
}

// sortsBefore reports whether the sample read last sorts before the one
// read before it (order.series).
func (r *labelReader) sortsBefore() bool {
	return r.labels.compareSorted(r.prevVals, r.vals, r.prevRanks, r.ranks) > 0
}

// next keeps the label values of the sample read last as the previous
// sample's, for sortsBefore.
func (r *labelReader) next() {
	r.prevVals, r.vals = r.vals, r.prevVals
	r.prevRanks, r.ranks = r.ranks, r.prevRanks
}

// labelDiffs are the labels a sample lacks and those it should not have,
// kept from one sample to the next so that their lists are reused.
type labelDiffs struct {
	missing, extra []string
}

// complete reports whether the labels read are the schema's: every label
// it names (distinct of them), the one the sample's role adds, no other.
func (got labelReading) complete(distinct int, role sampleRole) bool {
	return got.found >= distinct && !got.unwanted && (role.extra == "" || got.hasExtra)
}

// reportLabels reports a sample of fs whose labels are not the schema's:
// one missing, or one the schema does not name (schema.labels).
func reportLabels(tally *tally, fs *FamilySchema, s *Sample, role sampleRole, diff *labelDiffs) {
	// The lists, in the words of the message, only for a sample that has
	// a problem.
	missing, extra := labelDiff(s, fs.Labels, role.extra, diff.missing[:0], diff.extra[:0])
	diff.missing, diff.extra = missing, extra
	problem := "labels\x00" + strings.Join(missing, ",") + "\x00" + strings.Join(extra, ",")
	tally.add("schema.labels", fs.Name, s, problem, func() string {
		return labelsMessage(s, fs, role, missing, extra)
	})
}

// valueOK reports whether s, a sample of fs, has a value and timestamp
// the schema allows: a non-negative integer where it holds counts, no
// timestamp.
func valueOK(fs *FamilySchema, s *Sample, role sampleRole) bool {
	return (!fs.Integer || !role.integer || isCount(s.Value)) && s.Timestamp == nil
}

// isCount reports whether v is a non-negative integer: countProblem's
// verdict, as cheap as a comparison.
func isCount(v float64) bool { return v >= 0 && v == math.Trunc(v) && v < math.Inf(1) }

// reportValue reports a count that is no non-negative integer
// (schema.value) and a timestamp (schema.timestamp).
func reportValue(tally *tally, fs *FamilySchema, s *Sample, role sampleRole) {
	if fs.Integer && role.integer {
		if problem := countProblem(s.Value); problem != "" {
			tally.add("schema.value", fs.Name, s, "int\x00"+problem, func() string {
				return fmt.Sprintf("%s: value %s is %s; %s holds counts, which are non-negative integers", s.Series, formatValue(s.Value), problem, fs.Name)
			})
		}
	}
	if s.Timestamp != nil {
		tally.add("schema.timestamp", fs.Name, s, "ts", func() string {
			return fmt.Sprintf("%s carries a timestamp (%d): drop it, Prometheus stamps the scrape time itself", s.Series, *s.Timestamp)
		})
	}
}

// listKey notes the key of s, the si-th sample of m's family: the key
// list of m (schema.key-set) and, when the family is the inv-th of the
// invariants' (or inv < 0), the counts of its target type.
func (v *schemaView) listKey(m *schemaMatch, inv, si int, s *Sample, key string) {
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
	if inv < 0 {
		return
	}
	tc := &v.targets[i]
	tc.listed[inv] = true
	// A duplicate series is a spec finding; count the first, as a reader
	// of the exposition would see it.
	if c := v.invariantCount(inv, s); c >= 0 && tc.sample[c] == 0 {
		tc.value[c], tc.sample[c] = s.Value, int32(si)+1
	}
}
