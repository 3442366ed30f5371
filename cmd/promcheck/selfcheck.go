package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/deploymetrics/deploymetrics/counters"
)

const selfCheckUsage = `Usage: promcheck [selfcheck [flags]]

The self-check: starts the reference emitter on a loopback port with
simulated deploy traffic across the known target types, scrapes it over HTTP
--scrapes times with each of four Accept headers (text, OpenMetrics, and
Prometheus 3's own: its default and its protobuf-first one, which ask for
UTF-8 names), gzipped, checks every scrape with the deploy schema and
against the previous one asked the same way, under --strict, and prints the
report. An uncompressed answer fails it too: SPEC.md §4.8 has the emitter
gzip when Accept-Encoding allows. Exit status 0 means the reference emitter
conforms. "promcheck" with no arguments runs it with the defaults.

Examples:
  promcheck
  promcheck selfcheck --scrapes 10 --interval 100ms --rate 5000
  promcheck selfcheck --output json
`

func runSelfCheck(ctx context.Context, args []string, e env) int {
	fs := newFlagSet("selfcheck", e)
	var f emitterFlags
	f.register(fs)
	scrapes := fs.Int("scrapes", 3, "`number` of scrapes with each Accept header")
	interval := fs.Duration("interval", 250*time.Millisecond, "`duration` between scrapes")
	output := fs.String("output", "text", "report `format`: text, json, junit or github")
	// The reference emitter is held to the strictest reading: warnings
	// (lint, invariants, a missed Accept preference) fail it too.
	strict := fs.Bool("strict", true, "warnings fail the check (--strict=false to allow them)")
	positional, code, ok := parseFlags(fs, args, selfCheckUsage, e)
	if !ok {
		return code
	}
	if len(positional) > 0 {
		fmt.Fprintf(e.stderr, "promcheck selfcheck: takes no arguments, got %q (to check a target: promcheck check %s)\n", positional[0], positional[0])
		return exitCannotCheck
	}
	if err := f.validate(); err != nil {
		fmt.Fprintf(e.stderr, "promcheck selfcheck: %v\n", err)
		return exitCannotCheck
	}
	em, err := startEmitter("127.0.0.1:0", &f)
	if err != nil {
		fmt.Fprintf(e.stderr, "promcheck selfcheck: %v\n", err)
		return exitCannotCheck
	}
	defer func() {
		if err := em.shutdown(5 * time.Second); err != nil {
			fmt.Fprintf(e.stderr, "promcheck selfcheck: shutdown: %v\n", err)
		}
	}()
	if *output == "text" {
		types := len(counters.KnownTargetTypes())
		if f.targetTypes != "" {
			types = len(strings.Split(f.targetTypes, ","))
		}
		fmt.Fprintf(e.stdout, "promcheck self-check: the reference emitter at %s, simulated deploys across %d target types (%g/s, seed %d),\n"+
			"scraped %s with each of %s, %s apart, checked with the deploy schema (namespace %q) and across scrapes%s.\n\n",
			em.url, types, f.rate, f.seed, plural(*scrapes, "time"), strings.Join(selfCheckAccepts, ", "), *interval, f.namespace, map[bool]string{true: ", strictly (warnings fail)"}[*strict])
	}
	// The self-check is a check of the emitter's URL: the same command,
	// flags and report a user gets for their own endpoint.
	checkArgs := []string{
		"--scrapes", strconv.Itoa(*scrapes),
		"--interval", interval.String(),
		"--namespace", f.namespace,
		"--output", *output,
		"--strict=" + strconv.FormatBool(*strict),
		// SPEC.md §4.8: the emitter gzips when Accept-Encoding allows,
		// which for any other exporter is only worth knowing (info).
		"--severity", "http.content-encoding-preference=error",
	}
	for _, a := range selfCheckAccepts {
		checkArgs = append(checkArgs, "--accept", a)
	}
	return runCheck(ctx, append(checkArgs, "--", em.url), e)
}

// selfCheckAccepts are the --accept values of the self-check: the two
// Prometheus 2 era formats, and the Accept headers Prometheus 3 sends by
// default and when it scrapes native histograms.
var selfCheckAccepts = []string{"text", "openmetrics", "prometheus3", "prometheus3-proto"}
