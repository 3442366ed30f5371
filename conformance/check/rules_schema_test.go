package check

import (
	"fmt"
	"strings"
	"testing"
)

// deployBody renders a consistent deploy exposition (I1 and I2 hold) for
// targets, which must be sorted bytewise; scale multiplies every count.
func deployBody(format Format, namespace string, targets []string, scale int) string {
	var b strings.Builder
	family := func(name, help string, series func(target string)) {
		meta := namespace + "_deploy_" + name + "_total"
		if format == FormatOpenMetrics {
			meta = strings.TrimSuffix(meta, "_total")
		}
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n", meta, help, meta)
		for _, t := range targets {
			series(t)
		}
	}
	sample := func(name, labels string, v int) {
		fmt.Fprintf(&b, "%s_deploy_%s_total{%s} %d\n", namespace, name, labels, v*scale)
	}
	family("attempts", "Deployment attempts.", func(t string) {
		sample("attempts", fmt.Sprintf(`target_type=%q,result="success"`, t), 10)
		sample("attempts", fmt.Sprintf(`target_type=%q,result="failure"`, t), 4)
	})
	family("validate_failures", "Validation failures.", func(t string) { sample("validate_failures", fmt.Sprintf("target_type=%q", t), 1) })
	family("reload_failures", "Reload failures.", func(t string) { sample("reload_failures", fmt.Sprintf("target_type=%q", t), 1) })
	family("post_verify_failures", "Post-verify failures.", func(t string) { sample("post_verify_failures", fmt.Sprintf("target_type=%q", t), 2) })
	family("rollback", "Rollbacks.", func(t string) {
		sample("rollback", fmt.Sprintf(`target_type=%q,outcome="restored"`, t), 2)
		sample("rollback", fmt.Sprintf(`target_type=%q,outcome="also_failed"`, t), 1)
	})
	family("idempotent_skip", "Skips.", func(t string) { sample("idempotent_skip", fmt.Sprintf("target_type=%q", t), 7) })
	if format == FormatOpenMetrics {
		b.WriteString("# EOF\n")
	}
	return b.String()
}

// mine lists the rule groups of the files under test here, so that a
// verdict of another group's rule never decides these tests.
var mine = []string{"lint.*", "schema.*", "order.*", "invariant.*", "scrape.*", "http.*"}

func findingsOf(r *Report, groups ...string) []Finding {
	var out []Finding
	for _, g := range groups {
		out = append(out, r.Rule(g)...)
	}
	return out
}

func TestDeployBodiesConform(t *testing.T) {
	targets := []string{"AWSACM", "Apache", "F5", "NGINX", "apache"}
	for _, ns := range []string{DefaultNamespace, "acme"} {
		for _, format := range []Format{FormatText, FormatOpenMetrics} {
			opts := NewOptions()
			opts.Schema = DeploySchema(ns)
			opts.Strict = true
			body := deployBody(format, ns, targets, 1)
			r := Check(Input{Body: []byte(body), ContentType: format.ContentType()}, opts)
			if got := findingsOf(r, mine...); len(got) > 0 {
				t.Errorf("%s %s: want no findings, got %v\n%s", ns, format, got, body)
			}
		}
	}
}

// TestDeploySchemaWithoutNamespace checks the deploy schema of an empty
// namespace: its families are named without a prefix, as the reference
// emitter names them (handler: "an empty ns yields names without a
// prefix"), not "_deploy_...", and the invariants still find their
// families.
func TestDeploySchemaWithoutNamespace(t *testing.T) {
	schema := DeploySchema("")
	if err := schema.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := schema.Families[0].Name; got != "deploy_attempts_total" {
		t.Fatalf("first family %q, want deploy_attempts_total", got)
	}
	for _, format := range []Format{FormatText, FormatOpenMetrics} {
		body := strings.ReplaceAll(deployBody(format, "x", []string{"Apache", "NGINX"}, 1), "x_deploy_", "deploy_")
		opts := Options{Schema: schema, Strict: true}
		if got := findingsOf(Check(Input{Body: []byte(body), ContentType: format.ContentType()}, opts), mine...); len(got) > 0 {
			t.Errorf("%s: want no findings, got %v\n%s", format, got, body)
		}
		// One more reload failure breaks I1 for Apache.
		torn := strings.Replace(body, `deploy_reload_failures_total{target_type="Apache"} 1`, `deploy_reload_failures_total{target_type="Apache"} 2`, 1)
		if got := Check(Input{Body: []byte(torn), ContentType: format.ContentType()}, opts).Rule("invariant.i1-rollbacks"); len(got) != 1 {
			t.Errorf("%s: invariant.i1-rollbacks = %v, want one finding", format, got)
		}
	}
}

func TestSchemaNamespaceHint(t *testing.T) {
	body := deployBody(FormatText, "acme", []string{"NGINX"}, 1)
	r := checkText(t, body, NewOptions())
	got := r.Rule("schema.family-missing")
	if len(got) != 6 {
		t.Fatalf("want six families missing, got %v", got)
	}
	for _, f := range got {
		if !strings.Contains(f.Message, "acme_deploy_") || !strings.Contains(f.Message, "namespace is acme") {
			t.Errorf("message does not point at the acme family: %s", f.Message)
		}
	}
}

func TestSchemaOpenWorld(t *testing.T) {
	body := "# HELP up Up.\n# TYPE up gauge\nup 1\n" + deployBody(FormatText, DefaultNamespace, []string{"NGINX"}, 1) +
		"# HELP go_goroutines Goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines{x=\"y\"} 7.5\n"
	if got := findingsOf(checkText(t, body, NewOptions()), "schema.*", "order.*"); len(got) > 0 {
		t.Errorf("families outside the schema must not be judged by it: %v", got)
	}
}

func TestSchemaReportsRepeatsOnce(t *testing.T) {
	body := strings.ReplaceAll(deployBody(FormatText, DefaultNamespace, []string{"Apache", "F5", "NGINX"}, 1),
		`result="failure"`, `result="failed"`)
	got := checkText(t, body, NewOptions()).Rule("schema.label-value")
	if len(got) != 1 {
		t.Fatalf("one wrong value on three series: want one finding, got %v", got)
	}
	if f := got[0]; f.Line != 4 || f.Series != `certctl_deploy_attempts_total{target_type="Apache",result="failed"}` ||
		!strings.Contains(f.Message, "3 series") {
		t.Errorf("finding = %+v, want line 4, the first series, and a count of 3", f)
	}
}

func TestSchemaFindingsLocate(t *testing.T) {
	body := strings.Replace(deployBody(FormatText, DefaultNamespace, []string{"Apache", "NGINX"}, 1),
		`certctl_deploy_idempotent_skip_total{target_type="NGINX"} 7`, `certctl_deploy_idempotent_skip_total{target_type="NGINX"} 7.25`, 1)
	got := checkText(t, body, NewOptions()).Rule("schema.value")
	if len(got) != 1 {
		t.Fatalf("want one schema.value finding, got %v", got)
	}
	want := Finding{Rule: "schema.value", Severity: Error, Family: "certctl_deploy_idempotent_skip_total",
		Series: `certctl_deploy_idempotent_skip_total{target_type="NGINX"}`, Line: 28}
	f := got[0]
	f.Message = ""
	if f != want {
		t.Errorf("finding = %+v, want %+v", f, want)
	}
}

func TestSchemaHistogramsAndSummaries(t *testing.T) {
	schema, err := ParseSchema([]byte(`
name: rpc
key_label: method
families:
  - {name: rpc_duration_seconds, type: histogram, labels: [method], integer: true}
  - {name: rpc_size_bytes, type: summary, labels: [method], integer: true}
  - {name: rpc_inflight, type: gauge, labels: [method], optional: true}
`), ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	opts := NewOptions()
	opts.Schema = schema
	good := `# HELP rpc_duration_seconds Latency.
# TYPE rpc_duration_seconds histogram
rpc_duration_seconds_bucket{method="get",le="0.1"} 3
rpc_duration_seconds_bucket{method="get",le="+Inf"} 4
rpc_duration_seconds_sum{method="get"} 0.75
rpc_duration_seconds_count{method="get"} 4
# HELP rpc_size_bytes Size.
# TYPE rpc_size_bytes summary
rpc_size_bytes{method="get",quantile="0.5"} 120.5
rpc_size_bytes_sum{method="get"} 600.5
rpc_size_bytes_count{method="get"} 4
`
	if got := findingsOf(checkText(t, good, opts), "schema.*", "order.*"); len(got) > 0 {
		t.Errorf("le and quantile are the types' own labels, sums and quantiles may be fractions: %v", got)
	}
	bad := strings.Replace(good, `rpc_duration_seconds_count{method="get"} 4`, `rpc_duration_seconds_count{method="get"} 4.5`, 1)
	bad = strings.Replace(bad, `rpc_size_bytes_sum{method="get"}`, `rpc_size_bytes_sum{method="get",le="1"}`, 1)
	r := checkText(t, bad, opts)
	if got := r.Rule("schema.value"); len(got) != 1 || got[0].Line != 6 {
		t.Errorf("a fractional histogram count: want one schema.value on line 6, got %v", got)
	}
	if got := r.Rule("schema.labels"); len(got) != 1 || got[0].Line != 10 {
		t.Errorf("le on a summary sum: want one schema.labels on line 10, got %v", got)
	}
}

func TestSchemaOpenMetricsCounterMapping(t *testing.T) {
	body := deployBody(FormatOpenMetrics, DefaultNamespace, []string{"NGINX"}, 1)
	// _created samples are part of an OpenMetrics counter, not extra series.
	body = strings.Replace(body, "# HELP certctl_deploy_rollback ",
		"certctl_deploy_post_verify_failures_created{target_type=\"NGINX\"} 1.7e9\n# HELP certctl_deploy_rollback ", 1)
	r := Check(Input{Body: []byte(body), ContentType: ContentTypeOpenMetrics}, NewOptions())
	if got := findingsOf(r, "schema.*", "order.*", "invariant.*"); len(got) > 0 {
		t.Errorf("want no findings, got %v\n%s", got, body)
	}
}

func TestSchemaOptionalFamilyMayBeAbsent(t *testing.T) {
	schema := DeploySchema(DefaultNamespace)
	schema.Families[5].Optional = true
	opts := NewOptions()
	opts.Schema = schema
	body := deployBody(FormatText, DefaultNamespace, []string{"NGINX"}, 1)
	body = body[:strings.Index(body, "# HELP certctl_deploy_idempotent_skip_total")]
	if got := checkText(t, body, opts).Rule("schema.family-missing"); len(got) != 0 {
		t.Errorf("optional family absent: want no finding, got %v", got)
	}
	if got := checkText(t, body, NewOptions()).Rule("schema.family-missing"); len(got) != 1 {
		t.Errorf("required family absent: want one finding, got %v", got)
	}
}

// TestMetadataLinesRepeats checks that the model keeps every HELP and TYPE
// line of a family, repeats included, as textparse reads them (blanks
// after '#' and after the keyword; "TYPEa" is a comment), for the schema's
// repeated-metadata findings.
func TestMetadataLinesRepeats(t *testing.T) {
	body := "#  HELP a x\n# TYPE a counter\n# TYPEa gauge\n#\tTYPE\ta\tcounter\n# HELP b y\n# HELP a\na 1\n"
	e := parse([]byte(body), FormatText, false)
	if e.ParseError != nil {
		t.Fatalf("parse: %v", e.ParseError)
	}
	a, b := e.Family("a"), e.Family("b")
	if a == nil || b == nil {
		t.Fatalf("families a and b: %v, %v", a, b)
	}
	if fmt.Sprint(a.helpLines) != "[1 6]" || fmt.Sprint(a.typeLines) != "[2 4]" || fmt.Sprint(b.helpLines) != "[5]" || len(b.typeLines) != 0 {
		t.Errorf("a: HELP lines %v, TYPE lines %v; b: HELP lines %v, TYPE lines %v", a.helpLines, a.typeLines, b.helpLines, b.typeLines)
	}
}
