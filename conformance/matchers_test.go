package conformance_test

import (
	"strings"
	"testing"

	"github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/deploymetrics/deploymetrics/conformance"
	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
)

// exposition renders the reference exposition of a small table.
func exposition(openMetrics bool) check.Input {
	dc := counters.NewDeployCounters()
	dc.Record("NGINX", counters.OutcomeSucceeded)
	dc.Record("NGINX", counters.OutcomeSucceeded)
	dc.Record("Apache", counters.OutcomeReloadFailedRestored)
	if openMetrics {
		return check.Input{Body: handler.AppendOpenMetrics(nil, "certctl", dc.Snapshot()), ContentType: handler.ContentTypeOpenMetrics}
	}
	return check.Input{Body: handler.AppendText(nil, "certctl", dc.Snapshot()), ContentType: handler.ContentTypeText}
}

// matcherCase runs a matcher the way Gomega does and checks the verdict
// and the message of the failing direction.
type matcherCase struct {
	name    string
	matcher types.GomegaMatcher
	actual  any
	// match is the verdict wanted. The message checked is the failure
	// message when match is false, the negated one when true.
	match bool
	// message lists substrings the message must contain.
	message []string
	// err, when set, is a substring of the error Match must return.
	err string
}

func (c matcherCase) run(t *testing.T) {
	t.Helper()
	ok, err := c.matcher.Match(c.actual)
	if c.err != "" {
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Fatalf("Match error %v, want one containing %q", err, c.err)
		}
		return
	}
	if err != nil {
		t.Fatalf("Match: %v", err)
	}
	// Gomega asks for the message of the direction that failed; so do we.
	msg := ""
	if ok {
		msg = c.matcher.NegatedFailureMessage(c.actual)
	} else {
		msg = c.matcher.FailureMessage(c.actual)
	}
	if ok != c.match {
		t.Fatalf("Match = %v, want %v; message: %s", ok, c.match, msg)
	}
	for _, want := range c.message {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}

func TestHaveFamily(t *testing.T) {
	text, om := exposition(false), exposition(true)
	for _, c := range []matcherCase{
		{name: "present", matcher: conformance.HaveFamily("certctl_deploy_rollback_total"), actual: text, match: true,
			message: []string{"not to have family", "# TYPE certctl_deploy_rollback_total counter"}},
		{name: "openmetrics by its text name", matcher: conformance.HaveFamily("certctl_deploy_rollback_total"), actual: om, match: true},
		{name: "openmetrics by its own name", matcher: conformance.HaveFamily("certctl_deploy_rollback"), actual: om, match: true},
		{name: "body as bytes", matcher: conformance.HaveFamily("certctl_deploy_rollback_total"), actual: text.Body, match: true},
		{name: "body as string", matcher: conformance.HaveFamily("certctl_deploy_rollback_total"), actual: string(text.Body), match: true},
		{name: "absent", matcher: conformance.HaveFamily("certctl_deploy_rollbacks_total"), actual: text,
			message: []string{`have family "certctl_deploy_rollbacks_total"`, "the families it has: certctl_deploy_attempts_total, "}},
		{name: "empty exposition", matcher: conformance.HaveFamily("x"), actual: "", message: []string{"the families it has: none"}},
		{name: "rejected by the parser", matcher: conformance.HaveFamily("certctl_deploy_rollback_total"), actual: strings.TrimSuffix(string(om.Body), "# EOF\n") + "x{",
			message: []string{"does not parse", "format.rejected"}},
		{name: "not an exposition", matcher: conformance.HaveFamily("x"), actual: 42, err: "got int"},
		{name: "nil input", matcher: conformance.HaveFamily("x"), actual: (*check.Input)(nil), err: "nil *check.Input"},
	} {
		t.Run(c.name, c.run)
	}
}

func TestHaveSeries(t *testing.T) {
	text := exposition(false)
	nginx := map[string]string{"target_type": "NGINX", "result": "success"}
	for _, c := range []matcherCase{
		{name: "exact value", matcher: conformance.HaveSeries("certctl_deploy_attempts_total", nginx, 2), actual: text, match: true,
			message: []string{"not to have a sample", `certctl_deploy_attempts_total{target_type="NGINX",result="success"} 2`}},
		{name: "value as uint64", matcher: conformance.HaveSeries("certctl_deploy_attempts_total", nginx, uint64(2)), actual: &text, match: true},
		{name: "value matcher", matcher: conformance.HaveSeries("certctl_deploy_attempts_total", nginx, gomega.BeNumerically(">", 1)), actual: text, match: true},
		{name: "wrong value", matcher: conformance.HaveSeries("certctl_deploy_attempts_total", nginx, 3), actual: text,
			message: []string{`{result="success",target_type="NGINX"} with value 3`, "another value", `| certctl_deploy_attempts_total{target_type="NGINX",result="success"} 2`}},
		{name: "value matcher fails", matcher: conformance.HaveSeries("certctl_deploy_attempts_total", nginx, gomega.BeNumerically(">", 5)), actual: text,
			message: []string{"another value", "to be >"}},
		{name: "labels must all match", matcher: conformance.HaveSeries("certctl_deploy_attempts_total", map[string]string{"target_type": "NGINX"}, 2), actual: text,
			message: []string{"exactly those labels", `target_type="Apache",result="success"`, `target_type="NGINX",result="failure"`}},
		{name: "unknown name", matcher: conformance.HaveSeries("certctl_deploy_attempt_total", nginx, 2), actual: text,
			message: []string{"no sample is named certctl_deploy_attempt_total"}},
		{name: "unescaped label values", matcher: conformance.HaveSeries("x_total", map[string]string{"t": "a\"b\nc"}, 1), actual: "x_total{t=\"a\\\"b\\nc\"} 1\n", match: true},
		{name: "bad value type", matcher: conformance.HaveSeries("x", nil, "1"), actual: text, err: "number or a Gomega matcher"},
	} {
		t.Run(c.name, c.run)
	}
}

func TestBeSortedBy(t *testing.T) {
	text := exposition(false)
	unsorted := "a_total{t=\"b\"} 1\na_total{t=\"a\"} 1\n"
	for _, c := range []matcherCase{
		{name: "reference", matcher: conformance.BeSortedBy("target_type"), actual: text, match: true,
			message: []string{"not to be sorted by target_type", "samples with that label are"}},
		{name: "openmetrics", matcher: conformance.BeSortedBy("target_type"), actual: exposition(true), match: true},
		{name: "equal values may repeat", matcher: conformance.BeSortedBy("t"), actual: "a_total{t=\"a\",r=\"2\"} 1\na_total{t=\"a\",r=\"1\"} 1\n", match: true},
		{name: "each family on its own", matcher: conformance.BeSortedBy("t"), actual: "a_total{t=\"b\"} 1\nb_total{t=\"a\"} 1\n", match: true},
		{name: "out of order", matcher: conformance.BeSortedBy("t"), actual: unsorted,
			message: []string{`t="a" comes after t="b" in family a_total`, `1 | a_total{t="b"} 1`, `2 | a_total{t="a"} 1`}},
		{name: "bytewise, not by case", matcher: conformance.BeSortedBy("t"), actual: "a_total{t=\"Apache\"} 1\na_total{t=\"AWSACM\"} 1\n",
			message: []string{`t="AWSACM" comes after t="Apache"`}},
		{name: "no sample has the label", matcher: conformance.BeSortedBy("target_type"), actual: unsorted,
			message: []string{"no sample has a target_type label"}},
		{name: "nothing at all", matcher: conformance.BeSortedBy("target_type"), actual: []byte{}, message: []string{"nothing sorted by it"}},
	} {
		t.Run(c.name, c.run)
	}
}

func TestConformToSchemaAndPassCheck(t *testing.T) {
	text := exposition(false)
	gauge := strings.Replace(string(text.Body), "# TYPE certctl_deploy_rollback_total counter", "# TYPE certctl_deploy_rollback_total gauge", 1)
	for _, c := range []matcherCase{
		{name: "reference", matcher: conformance.ConformToSchema(check.DeploySchema("certctl")), actual: text, match: true,
			message: []string{"to fail the check, but it passes", "conforms"}},
		{name: "openmetrics", matcher: conformance.ConformToSchema(check.DeploySchema("certctl")), actual: exposition(true), match: true},
		{name: "wrong type", matcher: conformance.ConformToSchema(check.DeploySchema("certctl")), actual: gauge,
			message: []string{"schema.type", "| # TYPE certctl_deploy_rollback_total gauge", "FAILS"}},
		{name: "another namespace", matcher: conformance.ConformToSchema(check.DeploySchema("acme")), actual: text,
			message: []string{"schema.family-missing", "acme_deploy_attempts_total"}},
		{name: "nil schema", matcher: conformance.ConformToSchema(nil), actual: text, err: "schema is nil"},
		{name: "no schema passes any valid exposition", matcher: conformance.PassCheck(check.Options{}), actual: gauge, match: true},
		{name: "strict", matcher: conformance.PassCheck(check.Options{Strict: true}), actual: "x_total 1\n",
			message: []string{"warning lint.help"}},
	} {
		t.Run(c.name, c.run)
	}
}

// TestMatchersWithGomega uses the matchers as a team would, in a plain go
// test.
func TestMatchersWithGomega(t *testing.T) {
	g := gomega.NewWithT(t)
	in := exposition(true)
	g.Expect(in).To(conformance.ConformToSchema(check.DeploySchema("certctl")))
	g.Expect(in).To(conformance.HaveFamily("certctl_deploy_idempotent_skip_total"))
	g.Expect(in).To(conformance.BeSortedBy("target_type"))
	g.Expect(in).To(conformance.HaveSeries("certctl_deploy_rollback_total",
		map[string]string{"target_type": "Apache", "outcome": "restored"}, 1))
	g.Expect(in).NotTo(conformance.HaveSeries("certctl_deploy_rollback_total",
		map[string]string{"target_type": "NGINX", "outcome": "restored"}, 1))
}
