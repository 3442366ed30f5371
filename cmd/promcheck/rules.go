package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"text/tabwriter"

	"github.com/deploymetrics/deploymetrics/conformance/check"
)

const rulesUsage = `Usage: promcheck rules [--output text|json]

Lists every rule of the check engine: its stable ID, its default severity
and what it demands (with --output json also the section of SPEC.md it
enforces and the sentence it rests on). IDs are what --disable and
--severity take, and what reports print, so they can be grepped for in CI
logs. A group name ("lint" or "lint.*") stands for all of its rules.
promcheck explain RULE says why a rule exists and shows its examples.

Style and correctness: the lint.* rules are style, naming and metadata
conventions (promlint's checks, each description naming the promlint
problem it matches, and three extras); all are warnings. Every other group
is correctness: what Prometheus rejects (format), what the specs forbid
(spec), the schema, order, invariants, cross-scrape and HTTP rules. Under
--strict every warning fails the check, so to hold a real exporter to
correctness only, strictly:
  promcheck check --strict --disable lint --schema none URL

Examples:
  promcheck rules
  promcheck rules --output json | jq -r '.[] | select(.id | startswith("lint.") | not) | .id'
  promcheck rules --output json | jq -r '.[] | select(.severity == "warning") | .id'
`

func runRules(args []string, e env) int {
	fs := newFlagSet("rules", e)
	output := fs.String("output", "text", "`format`: text or json (an array of {id, severity, description, spec, source, quote})")
	positional, code, ok := parseFlags(fs, args, rulesUsage, e)
	if !ok {
		return code
	}
	if len(positional) > 0 {
		fmt.Fprintf(e.stderr, "promcheck rules: takes no arguments, got %q\n", positional[0])
		return exitCannotCheck
	}
	rules := check.Rules()
	switch *output {
	case "json":
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if rules == nil {
			rules = []check.Rule{}
		}
		if err := enc.Encode(rules); err != nil {
			fmt.Fprintf(e.stderr, "promcheck rules: %v\n", err)
			return exitCannotCheck
		}
	case "text":
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "RULE\tSEVERITY\tDESCRIPTION")
		for _, r := range rules {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Severity, r.Description)
		}
		if err := tw.Flush(); err != nil {
			fmt.Fprintf(e.stderr, "promcheck rules: %v\n", err)
			return exitCannotCheck
		}
	default:
		fmt.Fprintf(e.stderr, "promcheck rules: --output %q: want text or json\n", *output)
		return exitCannotCheck
	}
	return exitConforms
}

const versionUsage = `Usage: promcheck version (or promcheck --version)

Prints the promcheck version, the module version and VCS revision it was
built from, the version of the Prometheus module whose textparse parses
every exposition, and the Go version: what a bug report needs.
`

// textparseModule is the module of the parser the engine judges with.
const textparseModule = "github.com/prometheus/prometheus"

func runVersion(args []string, e env) int {
	fs := newFlagSet("version", e)
	positional, code, ok := parseFlags(fs, args, versionUsage, e)
	if !ok {
		return code
	}
	if len(positional) > 0 {
		fmt.Fprintf(e.stderr, "promcheck version: takes no arguments, got %q\n", positional[0])
		return exitCannotCheck
	}
	fmt.Fprint(e.stdout, versionText())
	return exitConforms
}

// versionText says which promcheck this is, from the build information
// the Go toolchain embeds: "unknown" where a build lacks it.
func versionText() string {
	promcheck, module, revision, textparse := version, "unknown", "", "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		module = info.Main.Path + " " + info.Main.Version
		// "go install ...@v1.2.3" stamps the module version; a release
		// build's -X main.version wins over it.
		if promcheck == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			promcheck = info.Main.Version
		}
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision":
				revision = s.Value + revision
			case s.Key == "vcs.modified" && s.Value == "true":
				revision += " (modified)"
			}
		}
		for _, dep := range info.Deps {
			if dep.Path == textparseModule {
				if dep.Replace != nil {
					dep = dep.Replace
				}
				textparse = dep.Path + " " + dep.Version
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "promcheck %s\n", promcheck)
	fmt.Fprintf(&b, "  module:    %s\n", module)
	if revision != "" {
		fmt.Fprintf(&b, "  revision:  %s\n", revision)
	}
	fmt.Fprintf(&b, "  textparse: %s\n", textparse)
	fmt.Fprintf(&b, "  go:        %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return b.String()
}
