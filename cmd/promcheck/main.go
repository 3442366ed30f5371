package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit statuses (SPEC.md §5.6).
const (
	exitConforms    = 0 // every target conforms (warnings allowed unless --strict)
	exitViolations  = 1 // a target was checked and fails
	exitCannotCheck = 2 // bad usage, or a target could not be checked
)

// version is the promcheck version; release builds set it with
// -ldflags "-X main.version=v1.2.3".
var version = "dev"

// env is what a command may touch of the process: its streams and whether
// stderr is a terminal (for the progress line). Commands take it instead
// of reaching for os.Stdout, so tests and main share one code path.
type env struct {
	stdin            io.Reader
	stdout, stderr   io.Writer
	stderrIsTerminal bool
}

func main() {
	// The first SIGINT or SIGTERM cancels ctx: serve shuts down
	// gracefully, a check stops its scrapes. A second one kills the process
	// the default way, because stop restores the default handlers.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	e := env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, stderrIsTerminal: isTerminal(os.Stderr)}
	code := run(ctx, os.Args[1:], e)
	stop()
	os.Exit(code)
}

// isTerminal reports whether f is a character device (a terminal), so that
// a progress line never lands in a log file or a pipe.
func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// run dispatches a command line (without the program name) and returns the
// exit status.
func run(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		return runSelfCheck(ctx, nil, e)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "check":
		return runCheck(ctx, rest, e)
	case "selfcheck", "self-check":
		return runSelfCheck(ctx, rest, e)
	case "serve":
		return runServe(ctx, rest, e)
	case "exporter":
		return runExporter(ctx, rest, e)
	case "rules":
		return runRules(rest, e)
	case "explain":
		return runExplain(rest, e)
	case "schema":
		return runSchema(rest, e)
	case "version", "-version", "--version":
		return runVersion(rest, e)
	case "help", "-h", "-help", "--help":
		// "promcheck help check" is "promcheck check --help". Help about
		// help is the main usage: dispatching it again would recurse.
		if len(rest) > 0 && !isHelp(rest[0]) {
			return run(ctx, []string{rest[0], "--help"}, e)
		}
		fmt.Fprint(e.stdout, mainUsage)
		return exitConforms
	}
	if strings.HasPrefix(cmd, "-") {
		fmt.Fprintf(e.stderr, "promcheck: flags go after a command, e.g. promcheck check %s ... (promcheck --help lists the commands)\n", cmd)
	} else {
		fmt.Fprintf(e.stderr, "promcheck: unknown command %q (promcheck --help lists the commands; to check a file or URL: promcheck check %s)\n", cmd, cmd)
	}
	return exitCannotCheck
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

const mainUsage = `promcheck checks Prometheus expositions of deploy metrics: live endpoints,
files, stdin and whole fleets, with Prometheus's own parser and the deploy schema.

Usage:
  promcheck                          self-check: the reference emitter on loopback with
                                     simulated deploys, scraped over HTTP in both formats
                                     several times and checked; prints the report
  promcheck check [flags] TARGET...  check http(s) URLs, files, or - (stdin)
  promcheck serve [flags]            run the reference emitter with simulated deploy traffic
  promcheck exporter [flags]         serve /probe?target=URL&module=NAME to Prometheus
  promcheck rules [flags]            list every rule: ID, severity, description
  promcheck explain [RULE|GROUP]...  what a rule checks and why, with good and bad examples
  promcheck schema [flags]           print the deploy schema as a schema file
  promcheck selfcheck [flags]        the self-check, with flags (--output, --scrapes, ...)
  promcheck version                  print the versions of promcheck, textparse and Go
                                     (also promcheck --version)

Exit status: 0 conforms, 1 violations found, 2 could not check (usage, network,
unreadable input). Run "promcheck COMMAND --help" for a command's flags and examples.

Examples:
  promcheck check http://127.0.0.1:9464/metrics/prometheus
  promcheck check --schema none --accept both --scrapes 3 https://host:9100/metrics
  curl -s http://host/metrics | promcheck check -
  promcheck check --targets-file targets.json --parallel 8 --output junit > promcheck.xml
`

// newFlagSet returns a flag set that reports parse errors on e.stderr in
// one line and leaves --help to parseFlags.
func newFlagSet(name string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	// The flag package prints its error, then calls Usage; the error alone
	// plus a pointer to --help reads better than a wall of flags.
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments
// ("promcheck check URL --strict"), as users type them. On --help it prints
// usage and the flag list to stdout. It returns the positional arguments,
// and an exit status with ok=false when the command must stop.
func parseFlags(fs *flag.FlagSet, args []string, usage string, e env) (positional []string, code int, ok bool) {
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			printUsage(fs, usage, e.stdout)
			return nil, exitConforms, false
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "promcheck %s --help shows the flags\n", fs.Name())
			return nil, exitCannotCheck, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, 0, true
		}
		// The flag package stops at the first positional argument; "--"
		// stops it for good.
		if len(args) >= len(rest)+1 && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), 0, true
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func printUsage(fs *flag.FlagSet, usage string, w io.Writer) {
	fmt.Fprint(w, usage)
	fmt.Fprintln(w, "\nFlags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
}
