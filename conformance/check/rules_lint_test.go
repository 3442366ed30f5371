package check

import (
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// checkText checks a text-format body with no schema.
func checkText(t *testing.T, body string, opts Options) *Report {
	t.Helper()
	return Check(Input{Body: []byte(body), ContentType: ContentTypeText}, opts)
}

func noSchema() Options {
	opts := NewOptions()
	opts.Schema = nil
	return opts
}

func TestLintRuleCanBeDisabled(t *testing.T) {
	body := "# TYPE jobs counter\njobs 1\n" // no HELP, no _total
	if r := checkText(t, body, noSchema()); len(r.Rule("lint.help")) != 1 || len(r.Rule("lint.counter-total")) != 1 {
		t.Fatalf("precondition: want one lint.help and one lint.counter-total, got\n%v", r)
	}

	opts := noSchema()
	opts.Disabled = []string{"lint.help"}
	r := checkText(t, body, opts)
	if got := r.Rule("lint.help"); len(got) != 0 {
		t.Errorf("lint.help disabled, still reported: %v", got)
	}
	if got := r.Rule("lint.counter-total"); len(got) != 1 {
		t.Errorf("disabling lint.help must leave lint.counter-total: got %v", got)
	}

	opts.Disabled = []string{"lint"}
	if got := checkText(t, body, opts).Rule("lint.*"); len(got) != 0 {
		t.Errorf("lint group disabled, still reported: %v", got)
	}
}

func TestLintFindingsAreWarnings(t *testing.T) {
	body := "# TYPE requestDurationMs gauge\nrequestDurationMs{Path=\"/\",label=\"x\",__x=\"y\",le=\"1\",e=\"\"} 1\n"
	// Only the lint rules are under test: whatever the spec rules think of
	// this body is theirs to judge.
	opts := noSchema()
	opts.Disabled = []string{"spec"}
	r := checkText(t, body, opts)
	lint := r.Rule("lint.*")
	if len(lint) < 6 {
		t.Fatalf("want many lint findings, got\n%v", r)
	}
	for _, f := range lint {
		if f.Severity != Warning {
			t.Errorf("%s: severity %s, want warning", f.Rule, f.Severity)
		}
	}
	if r.Failed() {
		t.Errorf("lint warnings alone must not fail a non-strict check:\n%v", r)
	}
	opts.Strict = true
	if !checkText(t, body, opts).Failed() {
		t.Error("lint warnings must fail a strict check")
	}
}

func TestLintMessagesNameWhatIsAtFault(t *testing.T) {
	tests := []struct {
		rule, body string
		want       []string
	}{
		{"lint.label-snake-case", "# HELP a A.\n# TYPE a gauge\na{targetType=\"x\"} 1\n", []string{`"targetType"`, `"target_type"`}},
		{"lint.empty-label-value", "# HELP a A.\n# TYPE a gauge\na{q=\"\",r=\"1\"} 1\na{q=\"\",r=\"2\"} 1\n", []string{`label "q"`, `a{q="",r="1"}`, "2 series"}},
		{"lint.reserved-label-prefix", "# HELP a A.\n# TYPE a gauge\na{__tenant=\"x\"} 1\n", []string{`"__tenant"`}},
		{"lint.reserved-label", "# HELP a A.\n# TYPE a gauge\na{le=\"1\"} 1\n", []string{`"le"`, "histogram"}},
		{"lint.base-units", "# HELP a_milliseconds A.\n# TYPE a_milliseconds gauge\na_milliseconds 1\n", []string{`"milliseconds"`, "a_seconds"}},
		{"lint.name-snake-case", "# HELP httpRequestsTotal A.\n# TYPE httpRequestsTotal untyped\nhttpRequestsTotal 1\n", []string{"http_requests_total"}},
		{"lint.unit-abbreviation", "# HELP a_ms A.\n# TYPE a_ms gauge\na_ms 1\n", []string{`"ms"`, "seconds"}},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			got := checkText(t, tt.body, noSchema()).Rule(tt.rule)
			if len(got) != 1 {
				t.Fatalf("want one %s finding, got %v", tt.rule, got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got[0].Message, w) {
					t.Errorf("message %q does not mention %s", got[0].Message, w)
				}
			}
		})
	}
}

func TestLintJudgesStoredNames(t *testing.T) {
	// The same counter in both formats: OpenMetrics names the family
	// without _total, Prometheus stores jobs_total either way.
	om := "# HELP jobs Jobs.\n# TYPE jobs counter\njobs_total 1\n# EOF\n"
	r := Check(Input{Body: []byte(om), ContentType: ContentTypeOpenMetrics}, noSchema())
	if got := r.Rule("lint.*"); len(got) != 0 {
		t.Errorf("OpenMetrics counter jobs: want no lint finding, got %v", got)
	}
	// A type-dependent rule skips an untyped family, as promlint does.
	if got := checkText(t, "# HELP queue_count Q.\nqueue_count 1\n", noSchema()).Rule("lint.reserved-suffix"); len(got) != 0 {
		t.Errorf("untyped queue_count: want no lint.reserved-suffix, got %v", got)
	}
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"httpRequestsTotal": "http_requests_total",
		"HTTPServer":        "http_server",
		"HTTP_requests":     "http_requests",
		"targetType":        "target_type",
		"already_snake":     "already_snake",
		"AWSACM":            "awsacm",
		"v2Requests":        "v2_requests",
	} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMetricUnit(t *testing.T) {
	tests := []struct {
		part, unit, base string
		ok               bool
	}{
		{"seconds", "seconds", "seconds", true},
		{"milliseconds", "milliseconds", "seconds", true},
		{"kibibytes", "kibibytes", "bytes", true},
		{"hours", "hours", "seconds", true},
		{"requests", "", "", false},
		{"milli", "", "", false},
	}
	for _, tt := range tests {
		unit, base, ok := metricUnit(tt.part)
		if unit != tt.unit || base != tt.base || ok != tt.ok {
			t.Errorf("metricUnit(%q) = %q, %q, %v; want %q, %q, %v", tt.part, unit, base, ok, tt.unit, tt.base, tt.ok)
		}
	}
}

// TestLintMatchesPromlintTriggers holds the promlint-equivalent rules to
// promlint's exact triggers on the names where a looser or stricter
// reading would differ.
func TestLintMatchesPromlintTriggers(t *testing.T) {
	tests := []struct {
		name, body, rule string
		want             int
	}{
		// promlint's camelCase test is [a-z][A-Z]: node exporter's
		// node_memory_Active_bytes passes, node_memory_MemTotal_bytes not.
		{"capital after underscore", "# HELP node_memory_Active_bytes A.\n# TYPE node_memory_Active_bytes gauge\nnode_memory_Active_bytes 1\n", "lint.name-snake-case", 0},
		{"camelCase inside a word", "# HELP node_memory_MemTotal_bytes A.\n# TYPE node_memory_MemTotal_bytes gauge\nnode_memory_MemTotal_bytes 1\n", "lint.name-snake-case", 1},
		{"all caps label", "# HELP a A.\n# TYPE a gauge\na{URL=\"/\"} 1\n", "lint.label-snake-case", 0},
		// promlint judges only the first unit in the name.
		{"first unit is a base unit", "# HELP a_seconds_hours A.\n# TYPE a_seconds_hours gauge\na_seconds_hours 1\n", "lint.base-units", 0},
		{"first unit is not", "# HELP a_hours_seconds A.\n# TYPE a_hours_seconds gauge\na_hours_seconds 1\n", "lint.base-units", 1},
		// expfmt, which promtool parses with, reads a HELP line with no
		// text as no HELP.
		{"empty HELP", "# HELP a \n# TYPE a gauge\na 1\n", "lint.help", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkText(t, tt.body, noSchema()).Rule(tt.rule); len(got) != tt.want {
				t.Errorf("want %d %s findings, got %v", tt.want, tt.rule, got)
			}
		})
	}
}

// TestLintFamilyClashKeepsMetadata: client_golang writes the gauge
// go_memstats_alloc_bytes and the counter go_memstats_alloc_bytes_total
// both as OpenMetrics family go_memstats_alloc_bytes, each with its HELP
// and TYPE. The spec rules report the clash; the counter's samples keep
// their own HELP and TYPE, so no lint rule reports them as having none.
func TestLintFamilyClashKeepsMetadata(t *testing.T) {
	body := "# HELP x Bytes in use.\n# TYPE x gauge\nx 1\n# HELP x Bytes allocated.\n# TYPE x counter\nx_total 3\n# EOF\n"
	r := Check(Input{Body: []byte(body), ContentType: ContentTypeOpenMetrics}, noSchema())
	if got := r.Rule("lint.*"); len(got) != 0 {
		t.Errorf("want no lint finding, got %v", got)
	}
	if got := r.Rule("spec.metadata-repeated"); len(got) != 2 {
		t.Errorf("the clash itself: want two spec.metadata-repeated, got %v", got)
	}
	fams := r.Exposition.Families
	if len(fams) != 2 || fams[1].Type != "counter" || fams[1].Help != "Bytes allocated." || len(fams[1].Samples) != 1 {
		t.Fatalf("want the gauge and a counter family with its own HELP and its sample, got %d families", len(fams))
	}
}

// TestLintLabelsProtobufRuns holds lint's label pass over a protobuf
// exposition, which reads only the samples the front end noted
// (protoMessage.labelRuns), to the same pass reading every sample: label
// names that first appear mid-family, in a later message of the family,
// and empty values inside runs of samples with the same names.
func TestLintLabelsProtobufRuns(t *testing.T) {
	counter := func(name string, labels ...[]string) *dto.MetricFamily {
		mf := &dto.MetricFamily{Name: str(name), Help: str("A counter."), Type: dto.MetricType_COUNTER.Enum()}
		for _, pairs := range labels {
			mf.Metric = append(mf.Metric, &dto.Metric{Label: labelPairs(pairs...), Counter: &dto.Counter{Value: f64(1)}})
		}
		return mf
	}
	body := delimited(
		counter("jobs_total",
			[]string{"a", "1"}, []string{"a", "2"}, []string{"a", ""}, []string{"a", "3"}, []string{"a", ""},
			[]string{"a", "4", "jobKind", "x"}, []string{"a", "5", "jobKind", ""},
			[]string{"label", "y"}, []string{"label", "z"}),
		counter("other_total", []string{"a", "1"}),
		// The family again, in a message of its own: names it did not
		// have before, at its first sample and mid-message.
		counter("jobs_total", []string{"a", "6"}, []string{"le", "1"}, []string{"__meta", "1"}),
	)
	exp := parse(body, FormatProtobuf, false)
	if exp.ParseError != nil {
		t.Fatalf("parse: %v", exp.ParseError)
	}
	lint := func() []Finding {
		t.Helper()
		opts := noSchema()
		p := &pass{in: &Input{Body: body}, opts: &opts, exp: exp}
		for _, f := range exp.Families {
			lintLabels(p, f)
		}
		return p.findings
	}
	got := lint()
	for _, f := range exp.Families {
		f.messages = nil // every sample is read
	}
	want := lint()
	if len(want) < 5 {
		t.Fatalf("reading every sample, want the camelCase, empty-value, label-named-label, reserved-label and reserved-prefix findings, got %v", want)
	}
	if !slices.Equal(got, want) {
		t.Errorf("reading the noted samples found\n%v\nreading every sample\n%v", got, want)
	}
}
