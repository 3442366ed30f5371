package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/deploymetrics/deploymetrics/conformance/check"
)

func TestHelpOnEveryCommand(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"-h"}, {"help"},
		{"check", "--help"}, {"help", "check"},
		{"serve", "--help"}, {"rules", "--help"}, {"version", "--help"}, {"selfcheck", "--help"}, {"schema", "--help"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := promcheck(t, "", args...)
			wantExit(t, r, exitConforms)
			wantContains(t, r.stdout, "Usage:")
			if args[0] != "version" && args[len(args)-1] != "version" {
				wantContains(t, r.stdout, "Examples:")
			}
			if r.stderr != "" {
				t.Errorf("help wrote to stderr: %s", r.stderr)
			}
		})
	}
	// Every flag the issue names appears in check --help.
	r := promcheck(t, "", "check", "--help")
	for _, flag := range []string{"schema", "namespace", "disable", "strict", "format", "sequence", "accept", "scrapes",
		"interval", "timeout", "max-bytes", "header", "bearer-token-file", "basic-auth-user", "basic-auth-password-file",
		"ca-file", "cert-file", "key-file", "insecure-skip-verify", "output", "targets-file", "parallel", "prometheus"} {
		if !strings.Contains(r.stdout, "  -"+flag+" ") && !strings.Contains(r.stdout, "  -"+flag+"\n") {
			t.Errorf("check --help does not list -%s", flag)
		}
	}
	r = promcheck(t, "", "serve", "--help")
	wantContains(t, r.stdout, "-addr", "127.0.0.1:9464", "-rate", "-seed", "-namespace")
}

// Bad usage exits 2 with one line saying what is wrong.
func TestUsageErrors(t *testing.T) {
	good := writeFile(t, "good.prom", goodText)
	dir := t.TempDir()
	secret := writeFile(t, "secret", "s3cret\n")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"--strict"}, `flags go after a command`},
		{[]string{"check"}, `no targets: give URLs, files or - (stdin)`},
		{[]string{"check", "--nosuchflag", good}, `flag provided but not defined: -nosuchflag`},
		{[]string{"check", "--output", "xml", good}, `--output "xml": want text, json, junit or github`},
		{[]string{"check", "--format", "proto", good}, `--format "proto": want auto, text, openmetrics, protobuf or openmetrics2`},
		{[]string{"check", "--accept", "json", good}, `--accept: accept list "json": unknown protocol "json": want one of PrometheusProto, PrometheusText0.0.4, PrometheusText1.0.0, OpenMetricsText0.0.1, OpenMetricsText1.0.0, OpenMetricsText2.0.0 (or a preset: prometheus2, prometheus3, prometheus3-proto); or text, openmetrics, both`},
		{[]string{"check", "--accept", "PrometheusProto,PrometheusProto", good}, `--accept: accept list "PrometheusProto,PrometheusProto" names PrometheusProto twice; or text, openmetrics, both`},
		{[]string{"check", "--accept", "prometheus4", good}, `--accept: accept list "prometheus4": unknown protocol "prometheus4"`},
		{[]string{"check", "--content-type", "text/plain; version=1.0.0; escaping=unicode", good}, `--content-type: Content-Type "text/plain; version=1.0.0; escaping=unicode": unknown escaping scheme "unicode": want allow-utf-8, underscores, dots or values`},
		{[]string{"check", "--content-type", "application/json", good}, `--content-type "application/json" names no exposition format: want text/plain, application/openmetrics-text or application/vnd.google.protobuf`},
		{[]string{"check", "--content-type", "text/plain;;", good}, `--content-type: Content-Type "text/plain;;" does not parse`},
		{[]string{"check", "--content-type", "text/plain", "http://127.0.0.1:1/metrics"}, `--content-type "text/plain": applies to files and stdin, and every target is a URL`},
		{[]string{"check", "--scrapes", "0", good}, `--scrapes 0: want at least 1`},
		{[]string{"check", "--interval", "-1s", good}, `--interval -1s: want a duration >= 0`},
		{[]string{"check", "--timeout", "0s", good}, `--timeout 0s: want a positive duration`},
		{[]string{"check", "--timeout", "soon", good}, `invalid value "soon" for flag -timeout`},
		{[]string{"check", "--max-bytes", "0", good}, `--max-bytes 0: want a positive number of bytes`},
		{[]string{"check", "--parallel", "0", good}, `--parallel 0: want at least 1`},
		{[]string{"check", "--disable", "lint.nosuch", good}, `--disable: unknown rule "lint.nosuch"`},
		{[]string{"check", "--disable", "lint,bogus", good}, `--disable: unknown rule "bogus"`},
		{[]string{"check", "--severity", "lint", good}, `--severity "lint": want RULE=LEVEL`},
		{[]string{"check", "--severity", "lint=fatal", good}, `unknown severity "fatal"`},
		{[]string{"check", "--severity", "nosuch=error", good}, `--severity: unknown rule "nosuch"`},
		{[]string{"check", "--schema", filepath.Join(dir, "missing.yaml"), good}, `--schema ` + filepath.Join(dir, "missing.yaml") + `: no such file or directory`},
		{[]string{"check", "--schema", "", good}, `--schema is empty`},
		{[]string{"check", "--namespace", "9lives", good}, `--namespace "9lives": want a metric name prefix`},
		{[]string{"check", "--header", "no colon", good}, `--header number 1 of 1: want "Name: value"`},
		{[]string{"check", "--header", "X-Ok: 1", "--header", "Bad Name: v", good}, `--header number 2 of 2: want "Name: value" with Name a header name`},
		{[]string{"check", "--basic-auth-user", "alice", good}, `--basic-auth-user needs --basic-auth-password-file`},
		{[]string{"check", "--basic-auth-password-file", secret, good}, `--basic-auth-password-file needs --basic-auth-user`},
		{[]string{"check", "--bearer-token-file", secret, "--basic-auth-user", "a", "--basic-auth-password-file", secret, good}, `exclude each other`},
		{[]string{"check", "--bearer-token-file", filepath.Join(dir, "none"), good}, `--bearer-token-file ` + filepath.Join(dir, "none") + `: no such file or directory`},
		{[]string{"check", "--bearer-token-file", writeFile(t, "empty", "\n"), good}, `is empty`},
		{[]string{"check", "--cert-file", secret, good}, `needs its key file`},
		{[]string{"check", "--ca-file", secret, good}, `no PEM certificate in it`},
		{[]string{"check", "ftp://127.0.0.1/metrics"}, `only http:// and https:// URLs can be scraped`},
		{[]string{"check", "-", "-"}, `- (stdin) can be given only once`},
		{[]string{"check", "--targets-file", filepath.Join(dir, "none.json")}, `--targets-file ` + filepath.Join(dir, "none.json") + `: no such file or directory`},
		{[]string{"check", "--prometheus", "prometheus:9090"}, `--prometheus "prometheus:9090": want an http:// or https:// URL`},
		{[]string{"rules", "extra"}, `takes no arguments`},
		{[]string{"rules", "--output", "yaml"}, `--output "yaml": want text or json`},
		{[]string{"version", "extra"}, `takes no arguments`},
		{[]string{"serve", "--rate", "-1"}, `--rate -1: want a finite number >= 0`},
		{[]string{"serve", "--namespace", "a-b"}, `--namespace`},
		{[]string{"serve", "--addr", "127.0.0.1:99999"}, `listen on 127.0.0.1:99999`},
		{[]string{"serve", "extra"}, `takes no arguments`},
		{[]string{"selfcheck", "http://x"}, `takes no arguments`},
		{[]string{"schema", "--output", "toml"}, `--output "toml": want yaml or json`},
		{[]string{"schema", "--namespace", "a b"}, `--namespace "a b"`},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := promcheck(t, "", c.args...)
			wantExit(t, r, exitCannotCheck)
			wantContains(t, r.stderr, c.want)
			if r.stdout != "" {
				t.Errorf("a usage error wrote a report to stdout:\n%s", r.stdout)
			}
		})
	}
}

func TestRules(t *testing.T) {
	r := promcheck(t, "", "rules")
	wantExit(t, r, exitConforms)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if !regexp.MustCompile(`^RULE\s+SEVERITY\s+DESCRIPTION$`).MatchString(lines[0]) {
		t.Errorf("header %q", lines[0])
	}
	rules := check.Rules()
	if len(rules) == 0 {
		t.Fatal("the engine has no rules")
	}
	if len(lines)-1 != len(rules) {
		t.Errorf("%d lines for %d rules", len(lines)-1, len(rules))
	}
	for i, rule := range rules {
		if i+1 >= len(lines) {
			break
		}
		fields := strings.Fields(lines[i+1])
		if len(fields) < 3 || fields[0] != rule.ID || fields[1] != rule.Severity.String() || !strings.HasSuffix(lines[i+1], rule.Description) {
			t.Errorf("line %q, want %s %s %s", lines[i+1], rule.ID, rule.Severity, rule.Description)
		}
	}

	r = promcheck(t, "", "rules", "--output", "json")
	wantExit(t, r, exitConforms)
	var got []struct{ ID, Severity, Description string }
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if len(got) != len(rules) {
		t.Fatalf("%d rules in JSON, want %d", len(got), len(rules))
	}
	for i, rule := range rules {
		if got[i].ID != rule.ID || got[i].Severity != rule.Severity.String() || got[i].Description != rule.Description {
			t.Errorf("rule %d: %+v, want %+v", i, got[i], rule)
		}
	}
}

// "promcheck version" and "promcheck --version" say which promcheck it is
// and which textparse judges the expositions: the module versions from
// the build information, as a bug report needs them.
func TestVersion(t *testing.T) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("the test binary has no build information")
	}
	textparse := ""
	for _, dep := range info.Deps {
		if dep.Path == "github.com/prometheus/prometheus" {
			textparse = dep.Version
		}
	}
	if textparse == "" {
		t.Fatal("the build information lists no github.com/prometheus/prometheus")
	}
	var first string
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := promcheck(t, "", args...)
			wantExit(t, r, exitConforms)
			for _, pattern := range []string{
				`^promcheck \S+\n`,
				`\n  module:    github\.com/deploymetrics/deploymetrics \S+\n`,
				`\n  textparse: github\.com/prometheus/prometheus ` + regexp.QuoteMeta(textparse) + `\n`,
				`\n  go:        go1\.\d+\S* \w+/\w+\n$`,
			} {
				if !regexp.MustCompile(pattern).MatchString(r.stdout) {
					t.Errorf("output does not match %q:\n%s", pattern, r)
				}
			}
			if r.stderr != "" {
				t.Errorf("stderr: %s", r.stderr)
			}
			if first == "" {
				first = r.stdout
			} else if r.stdout != first {
				t.Errorf("%v prints\n%s\nbut version prints\n%s", args, r.stdout, first)
			}
		})
	}
}

// Help about help prints the main usage; it once recursed until the stack
// overflowed.
func TestHelpNeverRecurses(t *testing.T) {
	for _, args := range [][]string{
		{"help", "help"}, {"help", "--help"}, {"help", "-h"}, {"--help", "help"}, {"-h", "--help"}, {"help", "help", "check"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := promcheck(t, "", args...)
			wantExit(t, r, exitConforms)
			wantContains(t, r.stdout, "Usage:\n  promcheck ", "promcheck check [flags] TARGET...")
			if r.stderr != "" {
				t.Errorf("stderr: %.500s", r.stderr)
			}
		})
	}
	// Help on a command that does not exist is a usage error.
	r := promcheck(t, "", "help", "frobnicate")
	wantExit(t, r, exitCannotCheck)
	wantContains(t, r.stderr, `unknown command "frobnicate"`)
}

// Flags may follow the targets, as people type them.
func TestFlagsAfterTargets(t *testing.T) {
	warn := writeFile(t, "warn.prom", warningOnly)
	r := promcheck(t, "", "check", "--schema", "none", warn, "--strict")
	wantExit(t, r, exitViolations)
	// After "--" everything is a target, even what looks like a flag.
	r = promcheck(t, "", "check", "--schema", "none", "--", warn, "--strict")
	wantExit(t, r, exitCannotCheck)
	wantContains(t, r.stdout, "read --strict: no such file or directory")
}

// promcheck schema writes the deploy schema as a file --schema reads back,
// and it checks what --schema deploy checks.
func TestSchemaCommand(t *testing.T) {
	for _, format := range []string{"yaml", "json"} {
		t.Run(format, func(t *testing.T) {
			r := promcheck(t, "", "schema", "--namespace", "acme", "--output", format)
			wantExit(t, r, exitConforms)
			wantContains(t, r.stdout, "acme_deploy_attempts_total", "acme_deploy_idempotent_skip_total", "target_type")
			schema := writeFile(t, "deploy."+format, r.stdout)
			good := writeFile(t, "good.prom", strings.ReplaceAll(goodText, "certctl_", "acme_"))
			bad := writeFile(t, "bad.prom", strings.ReplaceAll(badValue, "certctl_", "acme_"))
			wantExit(t, promcheck(t, "", "check", "--schema", schema, good), exitConforms)
			r = promcheck(t, "", "check", "--schema", schema, bad)
			wantExit(t, r, exitViolations)
			wantContains(t, r.stdout, "schema.value")
		})
	}
}
