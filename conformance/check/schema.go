package check

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/common/model"

	"github.com/deploymetrics/deploymetrics/internal/deploy"
)

// DefaultNamespace is the namespace of the deploy metrics in the system the
// reference emitter is modelled on.
const DefaultNamespace = deploy.DefaultNamespace

// A Schema says which families an exposition must hold and what their
// series look like. The world is open: families the schema does not name
// are allowed and judged only by the format, spec and lint rules.
//
// A Schema is built in Go (DeploySchema) or loaded from a YAML or JSON file
// (LoadSchema); Validate says whether it is usable.
type Schema struct {
	// Name identifies the schema in reports, e.g. "deploy".
	Name string `json:"name" yaml:"name"`
	// KeyLabel is the label every family is keyed by (the deploy schema's
	// "target_type"): series are sorted by it, its value is never empty,
	// and every family lists the same set of its values. Empty: none.
	KeyLabel string `json:"key_label,omitempty" yaml:"key_label,omitempty"`
	// Invariants enables the invariant.* rules of the deploy outcome model
	// (SPEC.md §2.2). Only meaningful for the deploy schema.
	Invariants bool `json:"invariants,omitempty" yaml:"invariants,omitempty"`
	// Families in the order they must be written.
	Families []FamilySchema `json:"families" yaml:"families"`
}

// FamilySchema describes one family.
type FamilySchema struct {
	// Name is the family name in the text format (counters end in _total;
	// in OpenMetrics the family is named without it).
	Name string `json:"name" yaml:"name"`
	// Type is the required TYPE: counter, gauge, histogram, summary, ...
	Type model.MetricType `json:"type" yaml:"type"`
	// Labels is the exact label set of every series, in sort priority
	// order: series are sorted by the first, then the second, ... (the
	// schema's KeyLabel, when set, always sorts first). The labels a type
	// adds by itself (le on histogram buckets, quantile on summaries) are
	// not listed.
	Labels []string `json:"labels" yaml:"labels,flow"`
	// Values restricts labels to the listed values, in canonical order:
	// series sharing the labels before it follow this order.
	Values map[string][]string `json:"values,omitempty" yaml:"values,omitempty,flow"`
	// Optional families may be absent.
	Optional bool `json:"optional,omitempty" yaml:"optional,omitempty"`
	// Integer requires non-negative integer values (counts). For histograms
	// and summaries it applies to the bucket and count samples, not to sums.
	Integer bool `json:"integer,omitempty" yaml:"integer,omitempty"`
}

// DeploySchema returns the deploy schema of SPEC.md §1 for a namespace
// (package deploy defines its families). An empty namespace names the
// families without a prefix, as the reference emitter does.
func DeploySchema(namespace string) *Schema {
	defs := deploy.Families()
	families := make([]FamilySchema, len(defs))
	for i, d := range defs {
		families[i] = FamilySchema{
			Name:    d.Name(namespace),
			Type:    model.MetricTypeCounter,
			Labels:  d.Labels(),
			Integer: true,
		}
		if d.SubLabel != "" {
			families[i].Values = map[string][]string{d.SubLabel: d.SubValues[:]}
		}
	}
	return &Schema{
		Name:       "deploy",
		Families:   families,
		KeyLabel:   deploy.KeyLabel,
		Invariants: true,
	}
}

// schemaTypes are the types a FamilySchema may require, as textparse
// reports them (the text format's "untyped" is "unknown").
var schemaTypes = []model.MetricType{
	model.MetricTypeCounter, model.MetricTypeGauge, model.MetricTypeHistogram,
	model.MetricTypeSummary, model.MetricTypeGaugeHistogram, model.MetricTypeInfo,
	model.MetricTypeStateset, model.MetricTypeUnknown,
}

// Validate reports every reason the schema cannot be checked against, each
// naming the family and field at fault. A nil error means the rules can
// use it as is.
func (s *Schema) Validate() error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if s.Name == "" {
		fail("name: empty; give the schema a name to identify it in reports")
	}
	if len(s.Families) == 0 {
		fail("families: none; a schema lists at least one family")
	}
	if s.KeyLabel != "" && !validLabelName(s.KeyLabel) {
		fail("key_label: %q is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)", s.KeyLabel)
	}
	seen := make(map[string]int, len(s.Families))
	for i := range s.Families {
		f := &s.Families[i]
		where := fmt.Sprintf("families[%d]", i)
		if f.Name != "" {
			where += fmt.Sprintf(" (%s)", f.Name)
		}
		switch {
		case f.Name == "":
			fail("%s: name: empty", where)
		case !validMetricName(f.Name):
			fail("%s: name: %q is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)", where, f.Name)
		case f.Type == model.MetricTypeCounter && !strings.HasSuffix(f.Name, "_total"):
			fail("%s: name: a counter is named as in the text format, ending in _total (%s_total)", where, f.Name)
		}
		if j, dup := seen[f.Name]; dup && f.Name != "" {
			fail("%s: name: duplicate of families[%d]", where, j)
		}
		seen[f.Name] = i
		switch {
		case f.Type == "":
			fail("%s: type: empty; want one of %s", where, typeList())
		case !slices.Contains(schemaTypes, f.Type):
			fail("%s: type: unknown type %q; want one of %s", where, f.Type, typeList())
		}
		labelSet := make(map[string]bool, len(f.Labels))
		for _, l := range f.Labels {
			switch {
			case !validLabelName(l):
				fail("%s: labels: %q is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)", where, l)
			case labelSet[l]:
				fail("%s: labels: %q listed twice", where, l)
			case l == model.MetricNameLabel:
				fail("%s: labels: %q is the metric name, not a label", where, l)
			case l == "le" && (f.Type == model.MetricTypeHistogram || f.Type == model.MetricTypeGaugeHistogram),
				l == "quantile" && f.Type == model.MetricTypeSummary:
				fail("%s: labels: %q is added by the %s type itself; leave it out", where, l, f.Type)
			}
			labelSet[l] = true
		}
		if s.KeyLabel != "" && !labelSet[s.KeyLabel] {
			fail("%s: labels: missing the key label %q, which every family carries", where, s.KeyLabel)
		}
		for _, l := range sortedKeys(f.Values) {
			values := f.Values[l]
			if !labelSet[l] {
				fail("%s: values: restricts label %q, which is not in labels %v", where, l, f.Labels)
			}
			if len(values) == 0 {
				fail("%s: values: %q lists no values; list them or drop the restriction", where, l)
			}
			valueSet := make(map[string]bool, len(values))
			for _, v := range values {
				switch {
				case v == "":
					fail("%s: values: %q lists an empty value (Prometheus treats an empty label as absent)", where, l)
				case valueSet[v]:
					fail("%s: values: %q lists %q twice", where, l, v)
				}
				valueSet[v] = true
			}
		}
	}
	if s.Invariants {
		if _, err := deployRolesOf(s); err != nil {
			fail("invariants: %v", err)
		}
	}
	return errors.Join(errs...)
}

func typeList() string {
	names := make([]string, len(schemaTypes))
	for i, t := range schemaTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ") + " (untyped)"
}

// validMetricName reports whether name is a legacy (pre-UTF-8) metric name,
// the only kind both exposition formats write unquoted.
func validMetricName(name string) bool {
	for i, c := range []byte(name) {
		ok := c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9'
		if !ok {
			return false
		}
	}
	return name != ""
}

// validLabelName reports whether name is a legacy label name.
func validLabelName(name string) bool {
	return !strings.Contains(name, ":") && validMetricName(name)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// familyName returns the name f's family has in HELP/TYPE lines of format:
// OpenMetrics names a counter family without the _total its samples carry.
func (f *FamilySchema) familyName(format Format) string {
	if format == FormatOpenMetrics && f.Type == model.MetricTypeCounter {
		return strings.TrimSuffix(f.Name, "_total")
	}
	return f.Name
}

// sortLabels returns the labels series of f are sorted by: the key label,
// then the others in their listed order.
func (s *Schema) sortLabels(f *FamilySchema) []string {
	if s.KeyLabel == "" || !slices.Contains(f.Labels, s.KeyLabel) {
		return f.Labels
	}
	out := make([]string, 0, len(f.Labels))
	out = append(out, s.KeyLabel)
	for _, l := range f.Labels {
		if l != s.KeyLabel {
			out = append(out, l)
		}
	}
	return out
}

// deployRoles names the schema families the invariants of SPEC.md §2.2
// relate, found by their suffix so that any namespace works.
type deployRoles struct {
	attempts, validate, reload, postVerify, rollback *FamilySchema
	result, outcome                                  string // the sub-labels of attempts and rollback
}

func deployRolesOf(s *Schema) (*deployRoles, error) {
	// A family is found by its name after the namespace: base itself
	// (no namespace), or any namespace, an underscore and base.
	find := func(base string) *FamilySchema {
		for i := range s.Families {
			if name := s.Families[i].Name; name == base || strings.HasSuffix(name, "_"+base) {
				return &s.Families[i]
			}
		}
		return nil
	}
	defs := deploy.Families()
	r := &deployRoles{
		attempts:   find(defs[deploy.Attempts].Base),
		validate:   find(defs[deploy.ValidateFailures].Base),
		reload:     find(defs[deploy.ReloadFailures].Base),
		postVerify: find(defs[deploy.PostVerifyFailures].Base),
		rollback:   find(defs[deploy.Rollbacks].Base),
	}
	if s.KeyLabel == "" || r.attempts == nil || r.validate == nil || r.reload == nil || r.postVerify == nil || r.rollback == nil {
		return nil, errors.New("need a key_label and the deploy families <ns>_deploy_{attempts,validate_failures,reload_failures,post_verify_failures,rollback}_total (see DeploySchema)")
	}
	subLabel := func(f *FamilySchema, values ...string) string {
		for l, vs := range f.Values {
			if l != s.KeyLabel && containsAll(vs, values) {
				return l
			}
		}
		return ""
	}
	r.result = subLabel(r.attempts, deploy.ResultFailure)
	r.outcome = subLabel(r.rollback, deploy.OutcomeRestored, deploy.OutcomeAlsoFailed)
	if r.result == "" || r.outcome == "" {
		return nil, fmt.Errorf("%s needs a label restricted to values including failure, and %s one including restored and also_failed", r.attempts.Name, r.rollback.Name)
	}
	return r, nil
}

func containsAll(haystack, needles []string) bool {
	for _, n := range needles {
		if !slices.Contains(haystack, n) {
			return false
		}
	}
	return true
}
