//go:build unix

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// checkReport is the part of promcheck's JSON report (cmd/promcheck/doc.go
// documents the shape) the test asserts on.
type checkReport struct {
	Version  int    `json:"version"`
	Verdict  string `json:"verdict"`
	ExitCode int    `json:"exit_code"`
	Schema   string `json:"schema"`
	Summary  struct {
		Targets int `json:"targets"`
		Passed  int `json:"passed"`
		Failed  int `json:"failed"`
		Errored int `json:"errored"`
	} `json:"summary"`
	Targets []checkTarget `json:"targets"`
}

type checkTarget struct {
	Target  string            `json:"target"`
	URL     string            `json:"url"`
	Labels  map[string]string `json:"labels"`
	Verdict string            `json:"verdict"`
	Error   string            `json:"error"`
	Scrapes []struct {
		Name        string `json:"name"`
		Accept      string `json:"accept"`
		ContentType string `json:"content_type"`
		Format      string `json:"format"`
		StatusCode  int    `json:"status_code"`
		Verdict     string `json:"verdict"`
		Findings    []struct {
			Rule     string `json:"rule"`
			Severity string `json:"severity"`
			Message  string `json:"message"`
		} `json:"findings"`
	} `json:"scrapes"`
}

// testFleet runs promcheck over the fleet Prometheus scrapes, discovered
// through Prometheus's targets API and read from a file_sd file, under the
// deploy schema and under --schema none, and asserts each target's verdict.
//
// promcheck applies one --schema to a whole run, so the node exporter,
// which has no deploy families, is judged in both runs: under the deploy
// schema it must fail on schema.* findings and nothing else (its
// exposition is valid); under --schema none it must pass.
func testFleet(t *testing.T, f *fleet) {
	sdFile := writeFileSD(t, f)
	// A generous --timeout: a loaded machine (go test -race ./... runs
	// packages in parallel, and emitters built with -race are slower) can
	// stall a scrape for seconds, which is not what this test is about.
	// Prometheus's own scrapes, checked above, keep their 1 s timeout.
	for _, tc := range []struct {
		schema   string
		exitCode int
	}{
		{"deploy", 1}, // the node exporter has no deploy families
		{"none", 0},
	} {
		t.Run("schema="+tc.schema, func(t *testing.T) {
			flags := []string{"--schema", tc.schema, "--output", "json", "--scrapes", "2", "--interval", "500ms", "--timeout", "15s", "--quiet"}
			discovered := runCheck(t, f, tc.exitCode, append([]string{"--prometheus", f.prom.base}, flags...)...)
			fromFile := runCheck(t, f, tc.exitCode, append([]string{"--targets-file", sdFile}, flags...)...)
			for name, rep := range map[string]*checkReport{"--prometheus": discovered, "--targets-file": fromFile} {
				assertFleetReport(t, f, name, tc.schema, rep)
			}
			if a, b := verdicts(discovered), verdicts(fromFile); a != b {
				t.Errorf("verdicts differ:\n--prometheus:   %s\n--targets-file: %s", a, b)
			} else {
				t.Logf("schema %s: %s", tc.schema, a)
			}
		})
	}
}

// writeFileSD writes the fleet as a Prometheus file_sd JSON file.
func writeFileSD(t *testing.T, f *fleet) string {
	t.Helper()
	type group struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels"`
	}
	byJob := map[string]*group{}
	var groups []*group
	for _, tg := range f.targets {
		g := byJob[tg.job]
		if g == nil {
			g = &group{Labels: map[string]string{"job": tg.job, "__metrics_path__": tg.path}}
			byJob[tg.job] = g
			groups = append(groups, g)
		}
		g.Targets = append(g.Targets, tg.addr)
	}
	data, err := json.MarshalIndent(groups, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(f.dir, "targets.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runCheck runs "promcheck check" with args, expects exit status want, and
// decodes its JSON report.
func runCheck(t *testing.T, f *fleet, want int, args ...string) *checkReport {
	t.Helper()
	// --timeout bounds each of the two scrapes of a target, and the four
	// targets are checked at once (--parallel 4 by default): a run longer
	// than this is a hang, not a slow machine.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, f.promcheck, append([]string{"check"}, args...)...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	code, err := exitCode(cmd.Run())
	cmdline := "promcheck check " + strings.Join(args, " ")
	if err != nil {
		t.Fatalf("%s: %v\nstderr:\n%s", cmdline, err, stderr.String())
	}
	t.Logf("%s: exit %d in %s", cmdline, code, time.Since(began).Round(time.Millisecond))
	var rep checkReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("%s: exit %d, stdout is not a JSON report: %v\nstdout:\n%s\nstderr:\n%s", cmdline, code, err, stdout.String(), stderr.String())
	}
	if code != want || rep.ExitCode != code {
		t.Errorf("%s: exit %d (report says %d), want %d\nstdout:\n%s\nstderr:\n%s", cmdline, code, rep.ExitCode, want, stdout.String(), stderr.String())
	}
	return &rep
}

// assertFleetReport checks a report over the whole fleet: every target
// reported once with its job and instance, the deploy emitters conforming
// without a single finding, the node exporter as the schema dictates.
func assertFleetReport(t *testing.T, f *fleet, name, schema string, rep *checkReport) {
	t.Helper()
	if rep.Version != 1 || rep.Schema != schema {
		t.Errorf("%s: report version %d, schema %q; want 1, %q", name, rep.Version, rep.Schema, schema)
	}
	if rep.Summary.Targets != len(f.targets) || len(rep.Targets) != len(f.targets) {
		t.Errorf("%s: %d targets reported (summary %d), want %d", name, len(rep.Targets), rep.Summary.Targets, len(f.targets))
	}
	reported := map[string]checkTarget{}
	for _, rt := range rep.Targets {
		if _, dup := reported[rt.URL]; dup {
			t.Errorf("%s: %s reported twice", name, rt.URL)
		}
		reported[rt.URL] = rt
	}
	passed, failed := 0, 0
	for _, tg := range f.targets {
		rt, ok := reported[tg.url()]
		if !ok {
			t.Errorf("%s: %s (%s) not reported; reported: %v", name, tg.url(), tg.key(), sortedKeys(reported))
			continue
		}
		if rt.Labels["job"] != tg.job || rt.Labels["instance"] != tg.addr {
			t.Errorf("%s: %s labelled %v, want job %q instance %q", name, tg.url(), rt.Labels, tg.job, tg.addr)
		}
		if rt.Error != "" {
			t.Errorf("%s: %s could not be checked: %s", name, tg.url(), rt.Error)
		}
		if len(rt.Scrapes) != 2 {
			t.Errorf("%s: %s: %d scrapes, want 2 (--scrapes 2)", name, tg.url(), len(rt.Scrapes))
		}
		for _, s := range rt.Scrapes {
			if s.StatusCode != 200 || s.Format != "text" {
				t.Errorf("%s: %s %s: HTTP %d, format %q; want 200, text (--accept text)", name, tg.url(), s.Name, s.StatusCode, s.Format)
			}
		}
		wantVerdict := "pass"
		switch {
		case tg.emitter != nil:
			// The reference emitter keeps every rule, warnings included.
			for _, s := range rt.Scrapes {
				for _, fd := range s.Findings {
					t.Errorf("%s: %s %s: %s %s: %s", name, tg.url(), s.Name, fd.Severity, fd.Rule, fd.Message)
				}
			}
		case schema == "deploy":
			// A valid exposition without the deploy families: schema
			// errors, and no error of any other group.
			wantVerdict = "fail"
			schemaErrors := 0
			for _, s := range rt.Scrapes {
				for _, fd := range s.Findings {
					if fd.Severity != "error" {
						continue
					}
					if strings.HasPrefix(fd.Rule, "schema.") {
						schemaErrors++
					} else {
						t.Errorf("%s: node exporter %s: %s %s: %s (only schema.* errors expected)", name, s.Name, fd.Severity, fd.Rule, fd.Message)
					}
				}
			}
			if schemaErrors == 0 {
				t.Errorf("%s: node exporter: no schema.* error under the deploy schema", name)
			}
		default:
			for _, s := range rt.Scrapes {
				for _, fd := range s.Findings {
					if fd.Severity == "error" {
						t.Errorf("%s: node exporter %s: %s %s: %s", name, s.Name, fd.Severity, fd.Rule, fd.Message)
					}
				}
			}
		}
		if rt.Verdict != wantVerdict {
			t.Errorf("%s: %s (%s): verdict %q, want %q", name, tg.url(), tg.key(), rt.Verdict, wantVerdict)
		}
		if wantVerdict == "pass" {
			passed++
		} else {
			failed++
		}
	}
	if rep.Summary.Passed != passed || rep.Summary.Failed != failed || rep.Summary.Errored != 0 {
		t.Errorf("%s: summary %+v, want %d passed, %d failed, 0 errored", name, rep.Summary, passed, failed)
	}
}

// verdicts renders a report's verdicts by target, sorted, for comparison.
func verdicts(rep *checkReport) string {
	var out []string
	for _, rt := range rep.Targets {
		out = append(out, rt.URL+" "+rt.Labels["job"]+" "+rt.Verdict)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
