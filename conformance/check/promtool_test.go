package check

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// promtoolPath is Debian's promtool (apt-get install prometheus).
const promtoolPath = "/usr/bin/promtool"

// promlintProblems maps each problem text of promlint (which `promtool
// check metrics` runs) to the rule with its trigger. Texts with
// parameters are matched by prefix.
var promlintProblems = []struct{ text, rule string }{
	{"no help text", "lint.help"},
	{"use base unit ", "lint.base-units"},
	{`counter metrics should have "_total" suffix`, "lint.counter-total"},
	{`non-counter metrics should not have "_total" suffix`, "lint.counter-total"},
	{`non-histogram metrics should not have "_bucket" suffix`, "lint.reserved-suffix"},
	{`non-histogram and non-summary metrics should not have "_count" suffix`, "lint.reserved-suffix"},
	{`non-histogram and non-summary metrics should not have "_sum" suffix`, "lint.reserved-suffix"},
	{`non-histogram metrics should not have "le" label`, "lint.reserved-label"},
	{`non-summary metrics should not have "quantile" label`, "lint.reserved-label"},
	{"metric name should not include type ", "lint.type-in-name"},
	{"metric names should not contain ':'", "lint.colon-in-name"},
	{"metric names should be written in 'snake_case' not 'camelCase'", "lint.name-snake-case"},
	{"label names should be written in 'snake_case' not 'camelCase'", "lint.label-snake-case"},
	{"metric names should not contain abbreviated units", "lint.unit-abbreviation"},
	{"metric not unique", "spec.duplicate-series"},
}

// promlintRule returns the rule matching a promlint problem text.
func promlintRule(text string) (string, bool) {
	for _, p := range promlintProblems {
		if strings.HasPrefix(text, p.text) {
			return p.rule, true
		}
	}
	return "", false
}

// A lintProblem is one problem on one metric family: promtool's, or a
// finding of the engine of a rule promlint has.
type lintProblem struct{ family, rule string }

// runPromtool runs `promtool check metrics` on one file and returns its
// problems as rules, or the error it gave up with.
func runPromtool(t *testing.T, file string) ([]lintProblem, error) {
	t.Helper()
	in, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	cmd := exec.Command(promtoolPath, "check", "metrics")
	var out bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, &out, &out
	err = cmd.Run()
	// Exit status 3 means lint problems were found (promtool's
	// lintErrExitCode); anything else but 0 is a failure to lint.
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 3) {
		return nil, errors.New(strings.TrimSpace(out.String()))
	}
	var problems []lintProblem
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		metric, text, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		rule, known := promlintRule(text)
		if !known {
			t.Errorf("%s: promtool problem %q maps to no rule: add it to promlintProblems", file, sc.Text())
			continue
		}
		problems = append(problems, lintProblem{metric, rule})
	}
	return problems, nil
}

// TestPromtoolDifferential runs `promtool check metrics` and the engine on
// every text-format file of the corpus: every problem promtool reports
// must be a finding of the engine on the same metric family, with the
// rule that has promlint's trigger. The other way round, every finding of
// those rules must be a promtool problem, except the differences the
// package doc lists ("Lint and promlint"), which are checked here by name.
func TestPromtoolDifferential(t *testing.T) {
	if _, err := os.Stat(promtoolPath); err != nil {
		t.Skipf("%s not installed (apt-get install prometheus): %v", promtoolPath, err)
	}
	m := readCorpusManifest(t)
	promlintRuleIDs := make(map[string]bool)
	for _, p := range promlintProblems {
		promlintRuleIDs[p.rule] = true
	}
	files, compared, differences := 0, 0, 0
	for _, src := range m.Sources {
		scrapes := slices.Clone(src.Scrapes)
		for _, seq := range src.Sequences {
			scrapes = append(scrapes, seq.Scrapes...)
		}
		for _, sc := range scrapes {
			if FormatOf(sc.ContentType) == FormatOpenMetrics {
				continue // promtool reads the text format only
			}
			files++
			path := filepath.Join(corpusDir, filepath.FromSlash(sc.File))
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			report := Check(Input{Body: body, ContentType: sc.ContentType}, Options{})
			promtool, err := runPromtool(t, path)
			if err != nil {
				// promtool's parser (expfmt) rejected the file: the engine
				// must have an error for it too, or say why not.
				if report.Count(Error) == 0 {
					t.Errorf("%s: promtool gave up (%v) and the engine found no error", sc.File, err)
				}
				continue
			}
			var engine []lintProblem
			for _, f := range report.Findings {
				if promlintRuleIDs[f.Rule] {
					engine = append(engine, lintProblem{f.Family, f.Rule})
				}
			}
			for _, p := range promtool {
				compared++
				if !slices.Contains(engine, p) {
					t.Errorf("%s: promtool reports %s on %s; the engine does not", sc.File, p.rule, p.family)
				}
			}
			for _, p := range engine {
				switch {
				case slices.Contains(promtool, p): // the same problem
				case promlintDifference(report.Exposition, p):
					differences++
				default:
					t.Errorf("%s: the engine reports %s on %s; promtool does not, and the package doc lists no such difference", sc.File, p.rule, p.family)
				}
			}
		}
	}
	t.Logf("%d text files, %d promtool problems, each matched by a finding; %d findings of promlint's rules on families with no samples, which promtool drops", files, compared, differences)
	if files == 0 {
		t.Error("no text file in the corpus: nothing was compared")
	}
}

// promlintDifference reports whether a finding of a promlint rule that
// promtool does not report is one of the deliberate differences of the
// package doc ("Lint and promlint").
func promlintDifference(e *Exposition, p lintProblem) bool {
	for _, f := range e.Families {
		// promtool's parser drops a family with no samples; the engine
		// lints what the HELP and TYPE lines declare.
		if f.Name == p.family && len(f.Samples) == 0 {
			return true
		}
	}
	return false
}
