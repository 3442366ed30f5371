package deploymetrics_test

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/deploymetrics/deploymetrics"
	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
	"github.com/deploymetrics/deploymetrics/internal/deploy"
)

// The upstream documents SPEC.md and the rules quote, read from the copies
// beside the module (../shared); the tests that need one skip, saying so,
// when it is absent.
var upstream = map[string]string{
	"OpenMetrics 1.0":        "../shared/openmetrics-suite/OpenMetrics.md",
	"OpenMetrics 2.0":        "../shared/prometheus-docs/open_metrics_spec_2_0.md",
	"exposition_formats.md":  "../shared/prometheus-docs/exposition_formats.md",
	"content_negotiation.md": "../shared/prometheus-docs/content_negotiation.md",
	"escaping_schemes.md":    "../shared/prometheus-docs/escaping_schemes.md",
}

// normalize collapses every run of white space to one blank, so that a
// quote wrapped at other places than its source still matches.
func normalize(s string) string { return strings.Join(strings.Fields(s), " ") }

// readUpstream returns the text of the upstream document named doc, or
// skips the test when the copy is absent.
func readUpstream(t *testing.T, doc string) string {
	t.Helper()
	path, ok := upstream[doc]
	if !ok {
		t.Fatalf("no upstream document %q: want one of %v", doc, slices.Sorted(maps.Keys(upstream)))
	}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("%s is not here (%s): the quotes from it are not checked", doc, path)
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// markdownSection returns the text under the heading titled title (and
// its subsections) in a Markdown document, and false when no heading has
// that title.
func markdownSection(doc, title string) (string, bool) {
	lines := strings.Split(doc, "\n")
	heading := regexp.MustCompile(`^(#+) (.+?)\s*$`)
	var found []string
	level := 0
	fenced := false
	for _, l := range lines {
		if strings.HasPrefix(l, "```") || strings.HasPrefix(l, "~~~~") {
			fenced = !fenced
		}
		m := heading.FindStringSubmatch(l)
		if m != nil && !fenced {
			switch {
			case level > 0 && len(m[1]) <= level:
				level = 0
			case level == 0 && m[2] == title:
				level = len(m[1])
				continue
			}
		}
		if level > 0 {
			found = append(found, l)
		}
	}
	// A title may head several sections (OpenMetrics 1.0 has a Counter in
	// its data model and one in its text format): the text of all of them.
	if found == nil {
		return "", false
	}
	return strings.Join(found, "\n"), true
}

// TestRulesCiteTheSpec holds every rule of the engine to where its
// requirement comes from: a section of SPEC.md that exists, a source, and
// a quote that source contains, verbatim (white space aside), in the
// section it names. A lint rule cites promlint's check, or says it is an
// extra.
func TestRulesCiteTheSpec(t *testing.T) {
	promlint := promlintSource(t)
	for _, r := range check.Rules() {
		t.Run(r.ID, func(t *testing.T) {
			if r.Spec == "" || r.Source == "" || r.Quote == "" {
				t.Fatalf("the rule lacks its section (%q), source (%q) or quote (%q)", r.Spec, r.Source, r.Quote)
			}
			if _, ok := deploymetrics.SpecSection(r.Spec); !ok {
				t.Errorf("cites %s, which SPEC.md does not have", r.Spec)
			}
			if r.Style() && r.Source != "promlint" && !strings.HasPrefix(r.Description, "extra") {
				t.Errorf("a lint rule cites promlint's check or says it is an extra; source %q, description %q", r.Source, r.Description)
			}
			doc, section, _ := strings.Cut(r.Source, ", ")
			switch {
			case r.Source == "promlint":
				if promlint != "" && !strings.Contains(promlint, r.Quote) {
					t.Errorf("promlint reports no problem %q", r.Quote)
				}
			case strings.HasPrefix(r.Source, "SPEC.md "):
				id := strings.TrimPrefix(r.Source, "SPEC.md ")
				s, ok := deploymetrics.SpecSection(id)
				if !ok {
					t.Fatalf("source %s: SPEC.md has no such section", id)
				}
				if !strings.Contains(normalize(s.Text), normalize(r.Quote)) {
					t.Errorf("SPEC.md %s (%s) does not say %q", id, s.Title, r.Quote)
				}
			default:
				text := readUpstream(t, doc)
				body, ok := markdownSection(text, strings.TrimSuffix(section, " (text format)"))
				if !ok {
					t.Fatalf("%s has no section %q", doc, section)
				}
				if !strings.Contains(normalize(body), normalize(r.Quote)) {
					t.Errorf("%s, %s does not say %q", doc, section, r.Quote)
				}
			}
		})
	}
}

// promlintSource returns the Go source of promlint at the client_golang
// version in go.mod, from the module cache ("" when it is not there, and
// the promlint quotes are then not checked).
func promlintSource(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/prometheus/client_golang").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Logf("client_golang is not in the module cache (%v): promlint's problems are not checked", err)
		return ""
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "prometheus", "testutil", "promlint")
	var b strings.Builder
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		data, err := os.ReadFile(path)
		b.Write(data)
		return err
	})
	if err != nil {
		t.Logf("reading promlint: %v: its problems are not checked", err)
		return ""
	}
	return b.String()
}

// specQuote matches a quotation of SPEC.md: "> OpenMetrics 1.0, *Counter*
// (text format): "...", "> Prometheus docs, *exposition_formats.md*: ...".
var specQuote = regexp.MustCompile(`^(OpenMetrics 1\.0|OpenMetrics 2\.0|Prometheus docs), \*([^*]+)\*[^:"]*: "`)

// TestSpecQuotesAreVerbatim holds every quotation of SPEC.md to its
// source: an upstream sentence quoted must be one the document has.
func TestSpecQuotesAreVerbatim(t *testing.T) {
	checked := 0
	for _, quote := range blockQuotes(deploymetrics.Spec()) {
		m := specQuote.FindStringSubmatch(quote)
		if m == nil {
			continue
		}
		doc, section := m[1], m[2]
		if doc == "Prometheus docs" {
			doc, section = section, ""
		}
		rest := quote[len(m[0]):]
		text := rest
		if strings.HasSuffix(rest, `"`) {
			text = strings.TrimSuffix(rest, `"`)
		} else if i := strings.Index(rest, `" (`); i >= 0 {
			text = rest[:i]
		}
		path, ok := upstream[doc]
		if !ok {
			t.Errorf("SPEC.md quotes %q, no known document", doc)
			continue
		}
		data, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			t.Skipf("%s is not here (%s): SPEC.md's quotes are not checked", doc, path)
		}
		if err != nil {
			t.Fatal(err)
		}
		body := string(data)
		if section != "" {
			if body, ok = markdownSection(body, section); !ok {
				t.Errorf("SPEC.md quotes %s, *%s*, which has no such section", doc, section)
				continue
			}
		}
		if !strings.Contains(normalize(body), normalize(text)) {
			t.Errorf("SPEC.md quotes %s %s: %q, which it does not say", doc, section, text)
		}
		checked++
	}
	if checked < 30 {
		t.Fatalf("checked %d quotes of SPEC.md: the parsing is broken", checked)
	}
}

// blockQuotes returns each block quotation of a Markdown document, its
// lines joined without the "> " marks.
func blockQuotes(doc string) []string {
	var out []string
	var cur []string
	flush := func() {
		if cur != nil {
			out = append(out, strings.Join(cur, " "))
			cur = nil
		}
	}
	for _, l := range strings.Split(doc, "\n") {
		trimmed := strings.TrimLeft(l, " ")
		if strings.HasPrefix(trimmed, "> ") {
			cur = append(cur, strings.TrimPrefix(trimmed, "> "))
			continue
		}
		flush()
	}
	flush()
	return out
}

// codeBlockAfter returns the first fenced code block after the heading
// line that starts with heading.
func codeBlockAfter(t *testing.T, heading string) string {
	t.Helper()
	spec := deploymetrics.Spec()
	i := strings.Index(spec, "\n"+heading)
	if i < 0 {
		t.Fatalf("SPEC.md has no heading %q", heading)
	}
	rest := spec[i:]
	start := strings.Index(rest, "\n```\n")
	if start < 0 {
		t.Fatalf("no code block after %q", heading)
	}
	rest = rest[start+len("\n```\n"):]
	end := strings.Index(rest, "\n```\n")
	if end < 0 {
		t.Fatalf("the code block after %q does not end", heading)
	}
	return rest[:end+1]
}

// TestSpecExampleIsTheReferenceOutput renders the deployments of SPEC.md
// §1.12 with the reference emitter and holds the example to the output,
// byte for byte, so that the example a reader copies is what the emitter
// writes.
func TestSpecExampleIsTheReferenceOutput(t *testing.T) {
	dc := counters.NewDeployCounters()
	for _, o := range []struct {
		target  string
		outcome counters.Outcome
	}{
		{"NGINX", counters.OutcomeSucceeded},
		{"NGINX", counters.OutcomeSucceeded},
		{"NGINX", counters.OutcomeReloadFailedRestored},
		{"Apache", counters.OutcomeSkipped},
		{"Apache", counters.OutcomeVerifyFailedAlsoFailed},
	} {
		dc.Record(o.target, o.outcome)
	}
	got := string(handler.AppendText(nil, deploy.DefaultNamespace, dc.Snapshot()))
	if want := codeBlockAfter(t, "### §1.12 "); got != want {
		t.Errorf("SPEC.md §1.12 shows:\n%s\nthe reference emitter writes:\n%s", want, got)
	}
}

// TestSpecAcceptHeaders holds the Accept headers SPEC.md §4.6 shows to
// those promcheck sends for --accept prometheus2, prometheus3 and
// prometheus3-proto.
func TestSpecAcceptHeaders(t *testing.T) {
	section, ok := deploymetrics.SpecSection("§4.6")
	if !ok {
		t.Fatal("SPEC.md has no §4.6")
	}
	var shown []string
	for _, block := range strings.Split(section.Text, "```\n")[1:] {
		if line, _, ok := strings.Cut(block, "\n"); ok && strings.Contains(line, ";q=") {
			shown = append(shown, line)
		}
	}
	want := []string{check.AcceptPrometheus2, check.AcceptPrometheus3, check.AcceptPrometheus3Proto}
	if !slices.Equal(shown, want) {
		t.Errorf("SPEC.md §4.6 shows\n%s\nwant\n%s", strings.Join(shown, "\n"), strings.Join(want, "\n"))
	}
}

// TestSpecFamiliesAndTargetTypes holds the table of SPEC.md §1.2 to the
// deploy schema's one definition, and the target types of §1.9 to those of
// the reference emitter.
func TestSpecFamiliesAndTargetTypes(t *testing.T) {
	s, _ := deploymetrics.SpecSection("§1.2")
	row := regexp.MustCompile("(?m)^\\| \\d \\| `<ns>_([a-z_]+)` \\| (.+?) \\| (.+?) \\|$")
	rows := row.FindAllStringSubmatch(s.Text, -1)
	families := deploy.Families()
	if len(rows) != len(families) {
		t.Fatalf("SPEC.md §1.2 has %d rows, the schema %d families", len(rows), len(families))
	}
	for i, f := range families {
		r := rows[i]
		labels := strings.Join(f.Labels(), "`, `")
		values := "–"
		if f.SubLabel != "" {
			values = strings.Join(f.SubValues[:], "`, `")
			values = "`" + values + "`"
		}
		if r[1] != f.Base || r[2] != "`"+labels+"`" || r[3] != values {
			t.Errorf("SPEC.md §1.2 row %d: %q, %s, %s; the schema: %s, `%s`, %s", i+1, r[1], r[2], r[3], f.Base, labels, values)
		}
	}
	known, _ := deploymetrics.SpecSection("§1.9")
	for _, tt := range counters.KnownTargetTypes() {
		if !strings.Contains(known.Text, "`"+tt+"`") {
			t.Errorf("SPEC.md §1.9 does not list the target type %s", tt)
		}
	}
}

// TestSpecSections checks the numbering SPEC.md §0.3 promises: every
// section numbered, none twice, parts in order.
func TestSpecSections(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range deploymetrics.SpecSections() {
		if seen[s.ID] {
			t.Errorf("SPEC.md numbers two sections %s", s.ID)
		}
		seen[s.ID] = true
		if s.Title == "" || s.Text == "" {
			t.Errorf("SPEC.md %s has no title or no text", s.ID)
		}
	}
	for _, id := range []string{"§0.1", "§1.6", "§2.2", "§3.2", "§4.3", "§5.1", "§6.2", "§7.1", "§8.2"} {
		if !seen[id] {
			t.Errorf("SPEC.md has no %s", id)
		}
	}
	if s, _ := deploymetrics.SpecSection("§1.6"); s.Title != "Order" || !strings.Contains(s.Text, "sorted by `target_type`") {
		t.Errorf("§1.6 = %q: %q", s.Title, s.Text)
	}
}

// TestSpecCitationsExist holds every "SPEC.md §n" the repository writes (in
// code, messages, docs and scripts) to a section SPEC.md has, so that a
// renumbering or a typo cannot send a reader to nowhere.
func TestSpecCitationsExist(t *testing.T) {
	sections := map[string]bool{}
	for _, s := range deploymetrics.SpecSections() {
		sections[s.ID] = true
	}
	cite := regexp.MustCompile(`SPEC\.md,? (§[0-9]+(?:\.[0-9]+)*)`)
	n := 0
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".md", ".sh", ".yml", ".yaml":
		default:
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range cite.FindAllStringSubmatch(string(data), -1) {
			n++
			if !sections[m[1]] {
				t.Errorf("%s cites SPEC.md %s, which SPEC.md does not have", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Errorf("found only %d citations of SPEC.md sections: is the pattern still right?", n)
	}
}
