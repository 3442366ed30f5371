package main

import (
	"fmt"

	"github.com/deploymetrics/deploymetrics/conformance/check"
)

const schemaUsage = `Usage: promcheck schema [--namespace NS] [--output yaml|json]

Prints the built-in deploy schema as a schema file: what --schema deploy
checks, and a starting point for a schema of your own metrics
(promcheck check --schema FILE).

Examples:
  promcheck schema > deploy.yaml
  promcheck schema --namespace acme --output json
`

func runSchema(args []string, e env) int {
	fs := newFlagSet("schema", e)
	namespace := fs.String("namespace", check.DefaultNamespace, "`namespace` of the deploy metrics")
	output := fs.String("output", "yaml", "`format`: yaml (commented) or json")
	positional, code, ok := parseFlags(fs, args, schemaUsage, e)
	if !ok {
		return code
	}
	if len(positional) > 0 {
		fmt.Fprintf(e.stderr, "promcheck schema: takes no arguments, got %q\n", positional[0])
		return exitCannotCheck
	}
	if *output != "yaml" && *output != "json" {
		fmt.Fprintf(e.stderr, "promcheck schema: --output %q: want yaml or json\n", *output)
		return exitCannotCheck
	}
	if err := validNamespace(*namespace); err != nil {
		fmt.Fprintf(e.stderr, "promcheck schema: %v\n", err)
		return exitCannotCheck
	}
	data, err := check.DeploySchema(*namespace).Encode("." + *output)
	if err != nil {
		fmt.Fprintf(e.stderr, "promcheck schema: %v\n", err)
		return exitCannotCheck
	}
	if _, err := e.stdout.Write(data); err != nil {
		fmt.Fprintf(e.stderr, "promcheck schema: %v\n", err)
		return exitCannotCheck
	}
	return exitConforms
}
