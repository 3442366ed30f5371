package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/deploymetrics/deploymetrics"
	"github.com/deploymetrics/deploymetrics/conformance/check"
)

// explainRun runs promcheck explain in-process with args and returns its
// output and exit status.
func explainRun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), append([]string{"explain"}, args...), env{stdout: &out, stderr: &errOut})
	return out.String(), errOut.String(), code
}

// TestExplainEveryRule: every rule a user can hit is explained: what it
// checks, its severity, group and kind, the section of SPEC.md and the
// sentence it rests on, and a bad example with the finding it draws and a
// good one, all readable (no raw control characters or invalid UTF-8).
func TestExplainEveryRule(t *testing.T) {
	for _, r := range check.Rules() {
		t.Run(r.ID, func(t *testing.T) {
			out, errOut, code := explainRun(t, r.ID)
			if code != exitConforms || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			section, _ := deploymetrics.SpecSection(r.Spec)
			kind := "correctness"
			if r.Style() {
				kind = "style"
			}
			for _, want := range []string{
				r.ID + ": " + r.Severity.String() + ", group " + r.Group() + ", " + kind,
				r.Description,
				"Why: SPEC.md " + r.Spec + " " + section.Title,
				strconv.Quote(r.Quote),
				"Bad example (conformance/check/testdata/rules/" + r.ID + "/",
				"Good example (conformance/check/testdata/rules/" + r.ID + "/",
				"finding: ",
				"Read more: SPEC.md " + r.Spec + "; docs/rules.md#" + r.ID,
			} {
				if !strings.Contains(out, want) {
					t.Errorf("the explanation lacks %q:\n%s", want, out)
				}
			}
			if i := strings.Index(out, "finding: "); i >= 0 && !strings.Contains(out[i:], " "+r.ID+":") {
				t.Errorf("the bad example's finding is not of %s:\n%s", r.ID, out)
			}
			assertReadable(t, out)
		})
	}
}

// assertReadable fails when out holds a byte a terminal would not show.
func assertReadable(t *testing.T, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Errorf("the output is not valid UTF-8")
	}
	for _, c := range out {
		if c < 0x20 && c != '\n' || c == 0x7f {
			t.Errorf("the output holds the control character %U", c)
			return
		}
	}
}

// TestExplainGroupsAndErrors: a group explains each of its rules, with or
// without ".*"; an unknown name exits 2 saying what exists.
func TestExplainGroupsAndErrors(t *testing.T) {
	out, _, code := explainRun(t, "scrape")
	if code != exitConforms {
		t.Fatalf("explain scrape exited %d", code)
	}
	n := 0
	for _, r := range check.Rules() {
		if r.Group() == "scrape" {
			n++
			if !strings.Contains(out, "\n"+r.ID+": ") && !strings.HasPrefix(out, r.ID+": ") {
				t.Errorf("explain scrape does not explain %s", r.ID)
			}
		}
	}
	if n < 5 {
		t.Fatalf("%d scrape rules", n)
	}
	star, _, _ := explainRun(t, "scrape.*")
	if star != out {
		t.Error("explain scrape.* differs from explain scrape")
	}
	for _, args := range [][]string{{"lint.nosuch"}, {"nosuch"}, {"--output", "html", "lint.help"}} {
		_, errOut, code := explainRun(t, args...)
		if code != exitCannotCheck || !strings.Contains(errOut, "promcheck explain: ") {
			t.Errorf("explain %q: exit %d, stderr %q; want exit 2 and a message", args, code, errOut)
		}
	}
	_, errOut, _ := explainRun(t, "nosuch")
	if !strings.Contains(errOut, "promcheck rules") || !strings.Contains(errOut, "scrape") {
		t.Errorf("the error names neither the rules nor the groups: %q", errOut)
	}
}

// TestExplainAllCases: --all shows every case of the rule, and a protobuf
// case is described message by message, also where the body stops being
// protobuf, never dumped.
func TestExplainAllCases(t *testing.T) {
	for _, id := range []string{"format.rejected", "spec.native-histogram", "scrape.counter-decreased"} {
		out, _, code := explainRun(t, "--all", id)
		if code != exitConforms {
			t.Fatalf("%s: exit %d", id, code)
		}
		examples, err := check.RuleExamples(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range examples {
			if !strings.Contains(out, x.Path()+", checked with") {
				t.Errorf("%s --all does not show %s", id, x.Name)
			}
		}
		assertReadable(t, out)
	}
	out, _, _ := explainRun(t, "--all", "format.rejected")
	for _, want := range []string{
		"a protobuf body of",
		"claims 2147483648 bytes, but only 3 follow", // the length bomb
		"bytes that are no length prefix",            // a varint that never ends
		"does not decode as a MetricFamily",          // a corrupt message
		"fields MetricFamily does not define",        // unknown fields, nested deep
	} {
		if !strings.Contains(out, want) {
			t.Errorf("format.rejected --all lacks %q", want)
		}
	}
	out, _, _ = explainRun(t, "--all", "spec.native-histogram")
	if !strings.Contains(out, "native: schema 9") {
		t.Errorf("the bad schema case is not described with its schema:\n%s", out)
	}
}

// TestExplainShowsInvisibleCharacters: a tab, a NUL and a byte that is not
// UTF-8 in an example are shown as symbols, with a legend.
func TestExplainShowsInvisibleCharacters(t *testing.T) {
	var v visibility
	got := v.show("a{x=\"\t\x00\xff\"} 1")
	if got != `a{x="␉␀⟨ff⟩"} 1` {
		t.Errorf("show = %q", got)
	}
	if legend := v.legend(); !strings.Contains(legend, "␉ a tab") || !strings.Contains(legend, "⟨ff⟩ is a byte") {
		t.Errorf("legend = %q", legend)
	}
	out, _, _ := explainRun(t, "--all", "spec.utf8")
	if !strings.Contains(out, "⟨") {
		t.Errorf("spec.utf8's cases show no invalid byte:\n%s", out)
	}
}

// TestRulesReferenceIsCurrent regenerates docs/rules.md and fails, saying
// how to regenerate it, when the committed file differs: the reference is
// generated from the registry and its cases, never edited by hand.
func TestRulesReferenceIsCurrent(t *testing.T) {
	const command = "go run ./cmd/promcheck explain --output markdown > docs/rules.md"
	want, _, code := explainRun(t, "--output", "markdown")
	if code != exitConforms {
		t.Fatalf("explain --output markdown exited %d", code)
	}
	got, err := os.ReadFile(filepath.Join(moduleRoot, rulesDoc))
	if err != nil {
		t.Fatalf("%s: %v; generate it: %s", rulesDoc, err, command)
	}
	if string(got) == want {
		return
	}
	gotLines, wantLines := strings.Split(string(got), "\n"), strings.Split(want, "\n")
	for i := range min(len(gotLines), len(wantLines)) {
		if gotLines[i] != wantLines[i] {
			t.Fatalf("%s is out of date (line %d is %q, the registry gives %q): run\n\t%s\nand commit it", rulesDoc, i+1, gotLines[i], wantLines[i], command)
		}
	}
	t.Fatalf("%s is out of date (%d lines, the registry gives %d): run\n\t%s\nand commit it", rulesDoc, len(gotLines), len(wantLines), command)
}

// TestRulesReferenceAnchors: the reference has an anchor for every rule,
// which reports link to, and its links to SPEC.md name headings that
// exist.
func TestRulesReferenceAnchors(t *testing.T) {
	doc, _, _ := explainRun(t, "--output", "markdown")
	for _, r := range check.Rules() {
		if !strings.Contains(doc, `<a id="`+r.ID+`"></a>`) {
			t.Errorf("no anchor for %s", r.ID)
		}
	}
	slugs := map[string]bool{}
	for _, s := range deploymetrics.SpecSections() {
		slugs[headingSlug(s.ID+" "+s.Title)] = true
	}
	for _, link := range strings.Split(doc, "(../SPEC.md#")[1:] {
		slug, _, _ := strings.Cut(link, ")")
		if !slugs[slug] {
			t.Errorf("link to SPEC.md#%s, no such heading", slug)
		}
	}
	if got := headingSlug("§4.4 The response's Content-Type"); got != "44-the-responses-content-type" {
		t.Errorf("headingSlug = %q", got)
	}
}
