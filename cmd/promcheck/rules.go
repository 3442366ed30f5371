package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"text/tabwriter"

	"github.com/deploymetrics/deploymetrics/conformance/check"
)

const rulesUsage = `Usage: promcheck rules [--output text|json]

Lists every rule of the check engine: its stable ID, its default severity
and what it demands. IDs are what --disable and --severity take, and what
reports print, so they can be grepped for in CI logs. A group name
("lint" or "lint.*") stands for all of its rules.

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
	output := fs.String("output", "text", "`format`: text or json (an array of {id, severity, description})")
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

const versionUsage = `Usage: promcheck version

Prints the promcheck version, the module version and VCS revision it was
built from when known, and the Go version.
`

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
	line := "promcheck " + version
	if info, ok := debug.ReadBuildInfo(); ok {
		if v := info.Main.Version; v != "" && v != "(devel)" {
			line += " module " + v
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				line += " revision " + s.Value
			}
		}
	}
	fmt.Fprintf(e.stdout, "%s %s %s/%s\n", line, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitConforms
}
