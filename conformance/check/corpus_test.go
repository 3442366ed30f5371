package check

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The corpus (testdata/corpus) is the /metrics of real exporters and
// client libraries, captured by testdata/corpus/refresh.sh and described
// by its manifest.json. Every file, and every sequence of scrapes, is
// checked as `promcheck check --schema none` would (Options{}: no schema),
// and the findings must be exactly those of the source's expected.txt,
// which a person reviewed: each error and warning there is justified by a
// "why" line citing the spec. After a change to the engine or a refresh,
//
//	go test ./conformance/check -run Corpus -update
//
// rewrites the findings (keeping the why lines) and summary.txt; review
// the diff before committing it.

const corpusDir = "testdata/corpus"

// minCorpusSources is the least number of real sources the corpus holds.
const minCorpusSources = 12

// corpusManifest is the shape of manifest.json (written by corpus/gen).
type corpusManifest struct {
	Accept  map[string]string `json:"accept"`
	Sources []struct {
		Name      string         `json:"name"`
		Version   string         `json:"version"`
		Origin    string         `json:"origin"`
		Serves    string         `json:"serves"`
		Scrapes   []corpusScrape `json:"scrapes"`
		Sequences []struct {
			Name    string         `json:"name"`
			What    string         `json:"what"`
			Scrapes []corpusScrape `json:"scrapes"`
		} `json:"sequences"`
	} `json:"sources"`
}

type corpusScrape struct {
	File        string `json:"file"`
	Accept      string `json:"accept"`
	ContentType string `json:"contentType"`
}

func readCorpusManifest(t *testing.T) *corpusManifest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDir, "manifest.json"))
	if err != nil {
		t.Fatalf("the corpus has no manifest (testdata/corpus/refresh.sh writes it): %v", err)
	}
	var m corpusManifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	return &m
}

// corpusCheck is one check of a corpus file: alone, or after the previous
// scrape of its sequence.
type corpusCheck struct {
	scrape corpusScrape
	after  string // the file checked as Input.Previous, "" when none
	report *Report
}

// runCorpusSource checks every scrape and sequence of one source with
// opts, in manifest order.
func runCorpusSource(t *testing.T, m *corpusManifest, i int, opts Options) []corpusCheck {
	t.Helper()
	src := m.Sources[i]
	var out []corpusCheck
	one := func(sc corpusScrape, prev *corpusCheck) corpusCheck {
		body, err := os.ReadFile(filepath.Join(corpusDir, filepath.FromSlash(sc.File)))
		if err != nil {
			t.Fatalf("%s: %v (listed in manifest.json)", src.Name, err)
		}
		in := Input{Body: body, ContentType: sc.ContentType}
		c := corpusCheck{scrape: sc}
		if prev != nil {
			in.Previous, c.after = prev.report.Exposition, prev.scrape.File
		}
		c.report = Check(in, opts)
		return c
	}
	for _, sc := range src.Scrapes {
		out = append(out, one(sc, nil))
	}
	for _, seq := range src.Sequences {
		if len(seq.Scrapes) < 2 {
			t.Errorf("%s: sequence %s has %d scrapes, want 2 or more", src.Name, seq.Name, len(seq.Scrapes))
		}
		var prev *corpusCheck
		for _, sc := range seq.Scrapes {
			c := one(sc, prev)
			out = append(out, c)
			prev = &out[len(out)-1]
		}
	}
	return out
}

// expectedFile is a parsed expected.txt: header comments, why lines, and
// the findings of each check, rendered.
type expectedFile struct {
	header   []string
	whys     []why
	sections map[string][]string // "== file (after file)" -> finding lines
}

// why justifies the errors and warnings of one rule, in one family when
// family is set.
type why struct {
	rule, family, text string
}

func (w why) covers(f Finding) bool {
	return w.rule == f.Rule && (w.family == "" || w.family == f.Family)
}

func readExpected(path string) (*expectedFile, error) {
	e := &expectedFile{sections: make(map[string][]string)}
	data, err := os.ReadFile(path)
	if err != nil {
		return e, err
	}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case line == "":
		case strings.HasPrefix(line, "#"):
			if section == "" && len(e.whys) == 0 {
				e.header = append(e.header, line)
			}
		case strings.HasPrefix(line, "why "):
			head, text, ok := strings.Cut(strings.TrimPrefix(line, "why "), ": ")
			rule, family, _ := strings.Cut(head, " ")
			if !ok || strings.TrimSpace(text) == "" {
				return e, fmt.Errorf("%s:%d: want `why RULE [FAMILY]: justification citing the spec`, got %q", path, n, line)
			}
			e.whys = append(e.whys, why{rule: rule, family: family, text: text})
		case strings.HasPrefix(line, "== "):
			section = line
			e.sections[section] = []string{}
		case section == "":
			return e, fmt.Errorf("%s:%d: a finding before any `== file` section: %q", path, n, line)
		default:
			e.sections[section] = append(e.sections[section], line)
		}
	}
	return e, sc.Err()
}

// sectionOf names the section of one check in expected.txt, with paths
// relative to the source's directory.
func sectionOf(source string, c corpusCheck) string {
	rel := func(file string) string { return strings.TrimPrefix(file, source+"/") }
	if c.after == "" {
		return "== " + rel(c.scrape.File)
	}
	return "== " + rel(c.scrape.File) + " (after " + rel(c.after) + ")"
}

// renderFinding is how expected.txt shows a finding: its String, with the
// family when the message might not say it.
func renderFinding(f Finding) string {
	s := f.String()
	if f.Family != "" {
		s += " [" + f.Family + "]"
	}
	return s
}

func (e *expectedFile) write(path string, order []string) error {
	var b strings.Builder
	for _, h := range e.header {
		b.WriteString(h + "\n")
	}
	b.WriteString("\n")
	for _, w := range e.whys {
		head := w.rule
		if w.family != "" {
			head += " " + w.family
		}
		fmt.Fprintf(&b, "why %s: %s\n", head, w.text)
	}
	for _, section := range order {
		b.WriteString("\n" + section + "\n")
		for _, line := range e.sections[section] {
			b.WriteString(line + "\n")
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func defaultExpectedHeader(source string) []string {
	return []string{
		"# Findings of the check engine on the " + source + " corpus, as `promcheck check --schema none` reports them.",
		"# Rewrite with `go test ./conformance/check -run Corpus -update`, then review the diff. Each error and",
		"# warning needs a `why RULE [FAMILY]: ...` line citing the spec; info findings need none.",
	}
}

func TestCorpusFindings(t *testing.T) {
	m := readCorpusManifest(t)
	if len(m.Sources) < minCorpusSources {
		t.Errorf("the corpus has %d sources, want at least %d", len(m.Sources), minCorpusSources)
	}
	counts := make(map[string]map[Severity]int)
	listed := make(map[string]bool)
	for i, src := range m.Sources {
		t.Run(src.Name, func(t *testing.T) {
			if src.Version == "" || src.Origin == "" {
				t.Errorf("manifest: %s has no version or origin", src.Name)
			}
			checks := runCorpusSource(t, m, i, Options{})
			path := filepath.Join(corpusDir, src.Name, "expected.txt")
			want, err := readExpected(path)
			if err != nil && !(*update && os.IsNotExist(err)) {
				t.Fatalf("%v (write it with -update, then review it)", err)
			}
			got := &expectedFile{header: want.header, whys: want.whys, sections: make(map[string][]string)}
			if len(got.header) == 0 {
				got.header = defaultExpectedHeader(src.Name)
			}
			var order []string
			for _, c := range checks {
				listed[c.scrape.File] = true
				section := sectionOf(src.Name, c)
				order = append(order, section)
				lines := []string{}
				for _, f := range c.report.Findings {
					lines = append(lines, renderFinding(f))
					if counts[f.Rule] == nil {
						counts[f.Rule] = make(map[Severity]int)
					}
					counts[f.Rule][f.Severity]++
					if f.Severity == Info {
						continue
					}
					if !slices.ContainsFunc(got.whys, func(w why) bool { return w.covers(f) }) {
						t.Errorf("%s: %s: no `why %s` line justifies this %s (write one in %s, citing the spec)", src.Name, c.scrape.File, f.Rule, f.Severity, path)
					}
				}
				got.sections[section] = lines
			}
			for _, w := range got.whys {
				used := false
				for _, c := range checks {
					used = used || slices.ContainsFunc(c.report.Findings, func(f Finding) bool { return f.Severity != Info && w.covers(f) })
				}
				if !used {
					t.Errorf("%s: `why %s %s` justifies no error or warning any more: remove it", path, w.rule, w.family)
				}
			}
			if *update {
				if err := got.write(path, order); err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, section := range order {
				if diff := lineDiff(want.sections[section], got.sections[section]); diff != "" {
					t.Errorf("%s %s: the findings differ from expected.txt (-want +got):\n%s\nIf the change is right, rewrite with -update and review the diff.", src.Name, section, diff)
				}
			}
			for section := range want.sections {
				if !slices.Contains(order, section) {
					t.Errorf("%s: expected.txt has section %q, which the manifest no longer lists", src.Name, section)
				}
			}
		})
	}
	checkCorpusFilesListed(t, listed)
	summary := corpusSummary(counts)
	path := filepath.Join(corpusDir, "summary.txt")
	if *update {
		if err := os.WriteFile(path, []byte(summary), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (write it with -update)", err)
	}
	if diff := lineDiff(strings.Split(string(want), "\n"), strings.Split(summary, "\n")); diff != "" {
		t.Errorf("summary.txt differs (-want +got):\n%s", diff)
	}
}

// checkCorpusFilesListed fails on a captured file the manifest does not
// list, which no test would check.
func checkCorpusFilesListed(t *testing.T, listed map[string]bool) {
	t.Helper()
	err := filepath.WalkDir(corpusDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(path, corpusDir+string(filepath.Separator)))
		if d.IsDir() && rel == "gen" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.Contains(rel, "/scrapes/") && !listed[rel] {
			t.Errorf("%s is not in manifest.json: nothing checks it", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// corpusSummary tabulates the findings of the whole corpus by rule.
func corpusSummary(counts map[string]map[Severity]int) string {
	var b strings.Builder
	b.WriteString("# Findings of the check engine (no schema) over the whole corpus, by rule.\n")
	b.WriteString("# Written by `go test ./conformance/check -run Corpus -update`.\n")
	fmt.Fprintf(&b, "%-36s %6s %8s %6s\n", "rule", "error", "warning", "info")
	total := map[Severity]int{}
	for _, rule := range sortedKeys(counts) {
		c := counts[rule]
		fmt.Fprintf(&b, "%-36s %6d %8d %6d\n", rule, c[Error], c[Warning], c[Info])
		for s, n := range c {
			total[s] += n
		}
	}
	fmt.Fprintf(&b, "%-36s %6d %8d %6d\n", "total", total[Error], total[Warning], total[Info])
	return b.String()
}

// lineDiff returns the lines only in want (-) and only in got (+), in
// order, or "" when the two are equal.
func lineDiff(want, got []string) string {
	if slices.Equal(want, got) {
		return ""
	}
	var b strings.Builder
	inGot := make(map[string]int)
	for _, l := range got {
		inGot[l]++
	}
	inWant := make(map[string]int)
	for _, l := range want {
		inWant[l]++
	}
	for _, l := range want {
		if inGot[l] == 0 {
			b.WriteString("- " + l + "\n")
		} else {
			inGot[l]--
		}
	}
	for _, l := range got {
		if inWant[l] == 0 {
			b.WriteString("+ " + l + "\n")
		} else {
			inWant[l]--
		}
	}
	if b.Len() == 0 {
		return "(the same lines in another order)\n"
	}
	return b.String()
}
