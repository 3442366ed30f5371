package check

import "github.com/prometheus/common/model"

// DefaultNamespace is the namespace of the deploy metrics in the system the
// reference emitter is modelled on.
const DefaultNamespace = "certctl"

// A Schema says which families an exposition must hold and what their
// series look like. The world is open: families the schema does not name
// are allowed and judged only by the format, spec and lint rules.
type Schema struct {
	// Name identifies the schema in reports, e.g. "deploy".
	Name string `json:"name" yaml:"name"`
	// Families in the order they must be written.
	Families []FamilySchema `json:"families" yaml:"families"`
	// KeyLabel is the label every family is keyed by (the deploy schema's
	// "target_type"): series are sorted by it, its value is never empty,
	// and every family lists the same set of its values. Empty: none.
	KeyLabel string `json:"key_label,omitempty" yaml:"key_label,omitempty"`
	// Invariants enables the invariant.* rules of the deploy outcome model
	// (DESIGN.md §2). Only meaningful for the deploy schema.
	Invariants bool `json:"invariants,omitempty" yaml:"invariants,omitempty"`
}

// FamilySchema describes one family.
type FamilySchema struct {
	// Name is the family name in the text format (counters end in _total;
	// in OpenMetrics the family is named without it).
	Name string `json:"name" yaml:"name"`
	// Type is the required TYPE: counter, gauge, histogram, summary, ...
	Type model.MetricType `json:"type" yaml:"type"`
	// Labels is the exact label set of every series, in sort priority
	// order: series are sorted by the first, then the second, ...
	Labels []string `json:"labels" yaml:"labels"`
	// Values restricts labels to the listed values, in canonical order:
	// series sharing the labels before it follow this order.
	Values map[string][]string `json:"values,omitempty" yaml:"values,omitempty"`
	// Optional families may be absent.
	Optional bool `json:"optional,omitempty" yaml:"optional,omitempty"`
	// Integer requires non-negative integer values (counts).
	Integer bool `json:"integer,omitempty" yaml:"integer,omitempty"`
}

// DeploySchema returns the deploy schema of DESIGN.md §1 for a namespace.
func DeploySchema(namespace string) *Schema {
	family := func(name string, extra string, values ...string) FamilySchema {
		f := FamilySchema{
			Name:    namespace + "_deploy_" + name,
			Type:    model.MetricTypeCounter,
			Labels:  []string{"target_type"},
			Integer: true,
		}
		if extra != "" {
			f.Labels = append(f.Labels, extra)
			f.Values = map[string][]string{extra: values}
		}
		return f
	}
	return &Schema{
		Name: "deploy",
		Families: []FamilySchema{
			family("attempts_total", "result", "success", "failure"),
			family("validate_failures_total", ""),
			family("reload_failures_total", ""),
			family("post_verify_failures_total", ""),
			family("rollback_total", "outcome", "restored", "also_failed"),
			family("idempotent_skip_total", ""),
		},
		KeyLabel:   "target_type",
		Invariants: true,
	}
}
