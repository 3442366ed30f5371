package check

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// omSuiteCase is one case of the OpenMetrics parser test suite: a folder
// with the exposition and a test.json saying whether it must parse.
type omSuiteCase struct {
	name        string
	body        []byte
	shouldParse bool
}

// loadOMSuite reads the OpenMetrics 1.0 parser suite from $OPENMETRICS_SUITE
// or ../../../shared/openmetrics-suite (the project's read-only shared
// directory), skipping the test when it is absent.
func loadOMSuite(t testing.TB) []omSuiteCase {
	t.Helper()
	dir := os.Getenv("OPENMETRICS_SUITE")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "openmetrics-suite")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Skipf("OpenMetrics suite not found at %s (%v): set OPENMETRICS_SUITE to the directory holding its case folders", dir, err)
	}
	var cases []omSuiteCase
	for _, entry := range entries {
		if !entry.IsDir() {
			continue
		}
		caseDir := filepath.Join(dir, entry.Name())
		spec, err := os.ReadFile(filepath.Join(caseDir, "test.json"))
		if err != nil {
			continue // not a case folder
		}
		var tc struct {
			Type        string `json:"type"`
			File        string `json:"file"`
			ShouldParse *bool  `json:"shouldParse"`
		}
		if err := json.Unmarshal(spec, &tc); err != nil || tc.ShouldParse == nil || tc.File == "" {
			t.Fatalf("%s/test.json: want {type, file, shouldParse}: %v", caseDir, err)
		}
		if tc.Type != "text" {
			continue
		}
		body, err := os.ReadFile(filepath.Join(caseDir, tc.File))
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, omSuiteCase{name: entry.Name(), body: body, shouldParse: *tc.ShouldParse})
	}
	if len(cases) == 0 {
		t.Skipf("no OpenMetrics suite cases in %s", dir)
	}
	return cases
}

// wantOMSuiteCases is the size of the OpenMetrics 1.0 suite; a smaller
// count means cases went missing, which must not pass as a full score.
const wantOMSuiteCases = 211

// TestOpenMetricsSuite classifies every case of the OpenMetrics 1.0 parser
// suite with Check (no schema): a case that must not parse needs at least
// one error, a case that must parse none. It prints the score beside
// textparse's own (format.rejected alone).
func TestOpenMetricsSuite(t *testing.T) {
	cases := loadOMSuite(t)
	var score, textparseScore int
	for _, tc := range cases {
		ok := t.Run(tc.name, func(t *testing.T) {
			report := Check(Input{Body: tc.body, ContentType: ContentTypeOpenMetrics}, Options{})
			errors := report.Count(Error)
			if rejected := len(report.Rule("format.rejected")) > 0; rejected != tc.shouldParse {
				textparseScore++
			}
			switch {
			case tc.shouldParse && errors > 0:
				t.Errorf("valid exposition drew %d errors:\n%s\n--- exposition:\n%s", errors, report, tc.body)
			case !tc.shouldParse && errors == 0:
				t.Errorf("invalid exposition drew no error:\n%s\n--- exposition:\n%s", report, tc.body)
			}
		})
		if ok {
			score++
		}
	}
	msg := fmt.Sprintf("OpenMetrics 1.0 suite: Check classifies %d/%d cases correctly (textparse alone: %d/%d)", score, len(cases), textparseScore, len(cases))
	t.Log(msg)
	fmt.Println(msg)
	if len(cases) != wantOMSuiteCases {
		t.Errorf("the suite has %d cases, want %d", len(cases), wantOMSuiteCases)
	}
	if score < wantOMSuiteCases {
		t.Errorf("score %d/%d, want %d", score, len(cases), wantOMSuiteCases)
	}
}

// TestOpenMetricsSuiteErrorsAreSpecOrFormat checks that the suite's cases
// are classified for the right reason: with no schema and no HTTP, only
// format.* and spec.* rules may raise errors on them.
func TestOpenMetricsSuiteErrorsAreSpecOrFormat(t *testing.T) {
	for _, tc := range loadOMSuite(t) {
		report := Check(Input{Body: tc.body, ContentType: ContentTypeOpenMetrics}, Options{})
		for _, f := range report.Findings {
			if f.Severity != Error {
				continue
			}
			group := Rule{ID: f.Rule}.Group()
			if !slices.Contains([]string{"format", "spec"}, group) {
				t.Errorf("%s: error from %s, want only format.* and spec.*: %s", tc.name, f.Rule, f)
			}
		}
	}
}
