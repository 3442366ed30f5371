package check

import (
	"strings"
	"testing"
)

func TestOrderReportsOneMisplacedFamilyOnce(t *testing.T) {
	// The last family moved to the front: one finding, not one per family
	// after it.
	body := deployBody(FormatText, DefaultNamespace, []string{"NGINX"}, 1)
	i := strings.Index(body, "# HELP certctl_deploy_idempotent_skip_total")
	body = body[i:] + body[:i]
	got := checkText(t, body, NewOptions()).Rule("order.families")
	if len(got) != 1 || got[0].Family != "certctl_deploy_attempts_total" {
		t.Fatalf("want one finding on certctl_deploy_attempts_total, got %v", got)
	}
	if !strings.Contains(got[0].Message, "after certctl_deploy_idempotent_skip_total") {
		t.Errorf("message should say what it follows: %s", got[0].Message)
	}
}

func TestOrderSeriesCountsAndExplains(t *testing.T) {
	body := deployBody(FormatText, DefaultNamespace, []string{"NGINX", "F5", "Apache"}, 1) // descending
	got := checkText(t, body, NewOptions()).Rule("order.series")
	if len(got) != 6 {
		t.Fatalf("want one finding per family, got %v", got)
	}
	first := got[0]
	if first.Series != `certctl_deploy_attempts_total{target_type="F5",result="success"}` {
		t.Errorf("first finding on %s, want the first out-of-place series", first.Series)
	}
	for _, want := range []string{"target_type ascending (bytewise)", "result in the order success, failure", "2 series"} {
		if !strings.Contains(first.Message, want) {
			t.Errorf("message %q does not say %q", first.Message, want)
		}
	}
}

func TestSortKeyCompare(t *testing.T) {
	schema := DeploySchema(DefaultNamespace)
	key := newSortKey(schema, &schema.Families[0])
	sample := func(target, result string) *Sample {
		return &Sample{Labels: []Label{{"result", result}, {"target_type", target}}}
	}
	tests := []struct {
		a, b *Sample
		want int // sign
	}{
		{sample("Apache", "success"), sample("Apache", "failure"), -1},
		{sample("Apache", "failure"), sample("Apache", "success"), 1},
		{sample("NGINX", "success"), sample("apache", "success"), -1}, // bytewise: upper case first
		{sample("F5", "failure"), sample("IIS", "success"), -1},
		{sample("F5", "success"), sample("F5", "bogus"), -1}, // unknown values sort last
		{sample("F5", "bogus"), sample("F5", "bogus"), 0},
	}
	for _, tt := range tests {
		got := key.compare(tt.a, tt.b)
		if (got < 0) != (tt.want < 0) || (got > 0) != (tt.want > 0) {
			t.Errorf("compare(%v, %v) = %d, want sign %d", tt.a.Labels, tt.b.Labels, got, tt.want)
		}
	}
}

func TestSortLabelsPutTheKeyFirst(t *testing.T) {
	s := &Schema{KeyLabel: "k"}
	f := &FamilySchema{Labels: []string{"a", "k", "b"}}
	if got := strings.Join(s.sortLabels(f), ","); got != "k,a,b" {
		t.Errorf("sortLabels = %s, want k,a,b", got)
	}
}

func TestHelpBeforeTypePointsAtTheTypeLine(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		family string // the family whose HELP and TYPE lines are swapped; "" swaps none
		want   int    // findings
	}{
		{"in order", FormatText, "", 0},
		{"text, swapped", FormatText, "certctl_deploy_validate_failures_total", 1},
		{"OpenMetrics, swapped", FormatOpenMetrics, "certctl_deploy_rollback", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := strings.Split(deployBody(tt.format, DefaultNamespace, []string{"Apache", "NGINX"}, 1), "\n")
			swapped := 0
			for i := 0; tt.family != "" && i+1 < len(lines); i++ {
				if strings.HasPrefix(lines[i], "# HELP "+tt.family+" ") && strings.HasPrefix(lines[i+1], "# TYPE "+tt.family+" ") {
					lines[i], lines[i+1] = lines[i+1], lines[i]
					swapped = i + 1 // the TYPE line, 1-based
				}
			}
			if tt.family != "" && swapped == 0 {
				t.Fatalf("no HELP line of %s directly before its TYPE line to swap", tt.family)
			}
			in := Input{Body: []byte(strings.Join(lines, "\n")), ContentType: ContentTypeText}
			if tt.format == FormatOpenMetrics {
				in.ContentType = ContentTypeOpenMetrics
			}
			r := Check(in, NewOptions())
			got := r.Rule("order.help-before-type")
			if len(got) != tt.want {
				t.Fatalf("want %d order.help-before-type findings, got %v", tt.want, got)
			}
			if tt.want == 0 {
				return
			}
			if got[0].Line != swapped || !strings.Contains(got[0].Message, tt.family) {
				t.Errorf("finding %v: want line %d naming %s", got[0], swapped, tt.family)
			}
			if others := len(r.Findings) - len(got); others != 0 {
				t.Errorf("swapping HELP and TYPE should draw only this rule's finding, got %v", r.Findings)
			}
		})
	}
}
