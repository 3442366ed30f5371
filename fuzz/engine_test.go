package fuzz

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance/check"
)

// maxEngineInput is the largest body the engine targets check; larger
// inputs are skipped so that one exec stays fast and memory stays small
// (a quadratic blowup shows well below this size).
const maxEngineInput = 64 << 10

// hangLimit is how long one Check may run before the target declares a
// hang. It is not a performance assertion: a 64 KiB input takes
// milliseconds, and the limit is three orders of magnitude above that so
// that a loaded machine or the race detector never trips it.
const hangLimit = 30 * time.Second

// Memory bound: one Check may allocate at most allocBase plus allocPerByte
// per input byte. It is linear on purpose: the engine promises memory
// proportional to its input, and a quadratic blowup exceeds any linear
// bound once the fuzzer grows the input.
const (
	allocBase    = 4 << 20
	allocPerByte = 4 << 10
)

// engineModes are the content types an engine input is checked under: a
// mode byte picks one, and its higher bits pick the options.
var engineModes = [4]string{
	check.ContentTypeText,
	check.ContentTypeOpenMetrics,
	"",                 // no Content-Type: the format is sniffed
	"application/json", // a foreign media type: also sniffed
}

// hostileBodies are expositions, mostly broken, that exercise the parser's
// and the rules' edges. They are written for this project; the OpenMetrics
// suite in ../shared adds its cases as seeds when present.
var hostileBodies = []string{
	"",
	"\n",
	"# EOF\n",
	"# EOF",
	"a 1\n",
	"a 1",
	"a 1\n\n# EOF\n",
	"a 1\n# EOF\n\n",
	"a 1\n# EOF\nb 2\n",
	"a{b=\"\\t\"} 1\n",                  // Go's %q escaping: \t
	"a{b=\"\\x00\"} 1\n",                // %q: \x00
	"a{b=\"\\u00e9\"} 1\n",              // %q: \u00e9
	"a{b=\"caf\\u00e9\",c=\"\\a\"} 1\n", // several undefined escapes
	"a{b=\"\xff\"} 1\n",                 // raw invalid UTF-8
	"a{b=\"x\ny\"} 1\n",                 // raw line feed in a quoted value
	"a{b=\"\x00\"} 1\n",                 // raw NUL
	"a{b=\"x\"\"} 1\n",
	"a{b=\"x\\\"} 1\n",
	"a{b=\"x\",} 1\n",
	"a{b=\"x\" c=\"y\"} 1\n",
	"a{,} 1\n",
	"a{} 1\n",
	"a{\"quoted.name\"} 1\n",
	"{\"a\"} 1\n",
	"a 1 2 3\n",
	"a NaN\na +Inf\na -Inf\n",
	"a 1e400\n",
	"a 0x1p3\n",
	"a 1_000\n",
	"a -0\n",
	"a 1 -9223372036854775808\n",
	"a 1 99999999999999999999\n",
	"a\t1\n",
	"a  1\n",
	" a 1\n",
	"a 1 \n",
	"a 1\r\n",
	"# HELP a \\\\ \\n \\t help\n# TYPE a counter\na 1\n",
	"# HELP a x\n# HELP a y\n# TYPE a counter\n# TYPE a gauge\na 1\n",
	"# TYPE a counter\nb 1\na 2\n",
	"# TYPE a counter\n# TYPE a counter\n",
	"# TYPE a summary\na{quantile=\"0.9\"} 1\na{quantile=\"0.5\"} 2\na_sum 1\na_count 2\n",
	"# TYPE a histogram\na_bucket{le=\"1\"} 2\na_bucket{le=\"0.5\"} 3\na_bucket{le=\"+Inf\"} 1\na_count 4\na_sum 1\n",
	"# TYPE a counter\na_total 1 # {id=\"x\"} 1\n# EOF\n",
	"# TYPE a counter\na_total 1 # {id=\"" + strings.Repeat("x", 130) + "\"} 1 1\n# EOF\n",
	"# TYPE a counter\na_total -1\n# EOF\n",
	"# TYPE a counter\na_total 1\na_created 1\na_total 2\n# EOF\n",
	"# TYPE a stateset\na{a=\"x\"} 2\n# EOF\n",
	"# TYPE a info\na_info{x=\"y\"} 2\n# EOF\n",
	"# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 1\na_gcount 1\na_gsum 1\n# EOF\n",
	"# UNIT a seconds\n# TYPE a gauge\na 1\n# EOF\n",
	"# UNIT a_seconds seconds\n# TYPE a_seconds gauge\na_seconds 1\n# EOF\n",
	"# TYPE a counter\n# TYPE a_total gauge\na_total 1\n# EOF\n",
	"# TYPE x counter\nx_total 1\n# TYPE x_total gauge\nx_total 2\n",
	"a 1\nb 1\na 2\n",
	"a{x=\"1\"} 1\na{x=\"1\"} 2\n",
	"# comment\n#\n#  \n# HELP\n# TYPE\n",
	strings.Repeat("a 1\n", 1000),
	strings.Repeat("# HELP a x\n", 500),
	"a{" + strings.Repeat("b=\"x\",", 200) + "} 1\n",
	"a{b=\"" + strings.Repeat("\\\\", 2000) + "\"} 1\n",
	strings.Repeat("\n", 3000) + "a",
	// The reference output, then broken ways of it.
	"# HELP certctl_deploy_attempts_total x\n# TYPE certctl_deploy_attempts_total counter\ncertctl_deploy_attempts_total{target_type=\"NGINX\",result=\"success\"} 1\ncertctl_deploy_attempts_total{target_type=\"NGINX\",result=\"failure\"} 0\n",
	"# TYPE certctl_deploy_attempts counter\ncertctl_deploy_attempts_total{target_type=\"b\",result=\"failure\"} 1.5\ncertctl_deploy_attempts_total{target_type=\"a\",result=\"success\"} NaN\ncertctl_deploy_attempts_total{target_type=\"\",result=\"x\"} 1 5\n# EOF\n",
}

// FuzzEngine feeds arbitrary bytes to the check engine in both formats,
// sniffed, and with options the mode byte picks. The engine must return a
// report without panicking or hanging, within a memory bound linear in the
// input; every finding names a registered rule, points at a line of the
// input (or 0), and comes sorted; without HTTP facts there are no http.*
// findings; and checking the same exposition again with itself as the
// previous scrape repeats the other findings exactly and adds no scrape.*
// finding (nothing changed between the two scrapes).
func FuzzEngine(f *testing.F) {
	for i, body := range hostileBodies {
		f.Add([]byte(body), byte(i))
	}
	for i, body := range suiteBodies(f) {
		f.Add(body, byte(i))
	}
	f.Fuzz(func(t *testing.T, body []byte, mode byte) {
		if len(body) > maxEngineInput {
			t.Skipf("%d bytes, over the %d-byte cap of this target", len(body), maxEngineInput)
		}
		if err := engineNeverFailsBadly(body, mode); err != nil {
			t.Fatalf("mode %#02x, body %q:\n%v", mode, body, err)
		}
	})
}

// engineInput builds the input and options a mode byte picks.
func engineInput(body []byte, mode byte) (check.Input, check.Options) {
	in := check.Input{Body: body, ContentType: engineModes[mode&3]}
	opts := check.NewOptions()
	if mode&0x04 != 0 {
		opts.Schema = nil
	}
	opts.Strict = mode&0x08 != 0
	if mode&0x10 == 0 {
		return in, opts
	}
	// HTTP facts: bit 5 asks for text only, bit 6 claims a gzip encoding
	// the request did not allow, bit 7 says the body was cut at the limit.
	h := &check.HTTPFacts{
		URL:            "http://fuzz.invalid/metrics",
		Accept:         "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
		AcceptEncoding: "identity",
		StatusCode:     http.StatusOK,
		Header:         http.Header{"Content-Type": {in.ContentType}},
		WireBytes:      int64(len(body)),
	}
	if mode&0x20 != 0 {
		h.Accept = "text/plain;version=0.0.4"
	}
	if mode&0x40 != 0 {
		h.Header.Set("Content-Encoding", "gzip")
	}
	if mode&0x80 != 0 {
		h.TooLarge, h.Limit = true, int64(len(body))
	}
	in.HTTP = h
	return in, opts
}

// engineNeverFailsBadly checks the properties of FuzzEngine on one input.
func engineNeverFailsBadly(body []byte, mode byte) (err error) {
	in, opts := engineInput(body, mode)
	_, err = engineProperties(in, opts)
	return err
}

// engineProperties checks the properties every input must keep, whatever
// its format: Check returns a well-formed report without panicking,
// hanging, exceeding the memory bound or modifying its input, and checking
// the same exposition against itself as the previous scrape adds no
// scrape.* finding and repeats the others. It returns the report.
func engineProperties(in check.Input, opts check.Options) (_ *check.Report, err error) {
	body := in.Body
	orig := bytes.Clone(body)

	report, err := checkGuarded(in, opts)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(body, orig) {
		return nil, fmt.Errorf("Check modified its input")
	}
	if err := wellFormed(report, body, in.HTTP != nil); err != nil {
		return nil, err
	}

	// The same exposition as its own previous scrape.
	if report.Exposition == nil {
		return report, nil
	}
	in.Previous = report.Exposition
	again, err := checkGuarded(in, opts)
	if err != nil {
		return nil, fmt.Errorf("checked against itself as the previous scrape: %w", err)
	}
	var scrape, rest []check.Finding
	for _, f := range again.Findings {
		if strings.HasPrefix(f.Rule, "scrape.") {
			scrape = append(scrape, f)
		} else {
			rest = append(rest, f)
		}
	}
	if len(scrape) > 0 {
		return nil, fmt.Errorf("checked against itself as the previous scrape, scrape.* findings (nothing changed):%s", findingsOf(scrape))
	}
	if !slices.Equal(rest, report.Findings) {
		return nil, fmt.Errorf("a second check (with Previous) changed the other findings:\nfirst:%s\nsecond:%s", findingsOf(report.Findings), findingsOf(rest))
	}
	return report, nil
}

// checkGuarded runs Check, turning a panic into an error and a hang into a
// crash of the process (the only way to stop a runaway goroutine; the fuzzing
// engine records the input that crashed its worker), and enforcing the
// memory bound.
func checkGuarded(in check.Input, opts check.Options) (report *check.Report, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("Check panicked: %v\n%s", r, debug.Stack())
		}
	}()
	watchdog := time.AfterFunc(hangLimit, func() {
		debug.SetTraceback("all")
		panic(fmt.Sprintf("fuzz: Check did not return within %v on a %d-byte input (content type %q): a hang", hangLimit, len(in.Body), in.ContentType))
	})
	defer watchdog.Stop()

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	report = check.Check(in, opts)
	runtime.ReadMemStats(&after)
	if report == nil {
		return nil, fmt.Errorf("Check returned a nil report")
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	if limit := uint64(allocBase + allocPerByte*len(in.Body)); allocated > limit {
		return nil, fmt.Errorf("Check allocated %d bytes for a %d-byte input, over the linear bound %d", allocated, len(in.Body), limit)
	}
	return report, nil
}

// wellFormed checks the report's own promises: every finding names a
// registered rule and points at a line of the body (or 0) in the text
// formats, at a message of it (or 0) in protobuf, which has no lines.
func wellFormed(report *check.Report, body []byte, http bool) error {
	lines := bytes.Count(body, []byte("\n"))
	if len(body) > 0 && body[len(body)-1] != '\n' {
		lines++
	}
	// A message takes a byte at least.
	messages := 0
	if report.Exposition != nil && report.Exposition.Format == check.FormatProtobuf {
		lines, messages = 0, len(body)
	}
	for i, f := range report.Findings {
		if _, ok := check.LookupRule(f.Rule); !ok {
			return fmt.Errorf("finding of unregistered rule %q: %v", f.Rule, f)
		}
		switch {
		case f.Line < 0 || f.Line > lines:
			return fmt.Errorf("finding at line %d of a %d-line input: %v", f.Line, lines, f)
		case f.MessageIndex < 0 || f.MessageIndex > messages:
			return fmt.Errorf("finding at message %d of an input that has at most %d: %v", f.MessageIndex, messages, f)
		case f.Column < 0:
			return fmt.Errorf("finding at column %d: %v", f.Column, f)
		case f.Severity != check.Info && f.Severity != check.Warning && f.Severity != check.Error:
			return fmt.Errorf("finding with severity %v: %v", f.Severity, f)
		case f.Message == "":
			return fmt.Errorf("finding without a message: %v", f)
		case !http && strings.HasPrefix(f.Rule, "http."):
			return fmt.Errorf("http.* finding without HTTP facts: %v", f)
		}
		if i > 0 {
			p := report.Findings[i-1]
			if p.Line > f.Line || p.Line == f.Line && p.Column > f.Column || p.Line == f.Line && p.Column == f.Column && p.MessageIndex > f.MessageIndex {
				return fmt.Errorf("findings out of order: %v before %v", p, f)
			}
		}
	}
	return nil
}

// suiteDir returns the OpenMetrics suite directory: $OPENMETRICS_SUITE, or
// ../shared/openmetrics-suite beside the module root.
func suiteDir() string {
	if dir := os.Getenv("OPENMETRICS_SUITE"); dir != "" {
		return dir
	}
	return filepath.Join("..", "..", "shared", "openmetrics-suite")
}

// suiteBodies returns the expositions of the OpenMetrics suite's cases, read
// in place (the suite is never copied into the project), or none, with a
// log line, when the suite is absent.
func suiteBodies(f *testing.F) [][]byte {
	dir := suiteDir()
	cases, err := filepath.Glob(filepath.Join(dir, "*", "metrics"))
	if err != nil || len(cases) == 0 {
		f.Logf("OpenMetrics suite not found at %s (set OPENMETRICS_SUITE): its cases are not added as seeds", dir)
		return nil
	}
	slices.Sort(cases)
	var out [][]byte
	for _, c := range cases {
		body, err := os.ReadFile(c)
		if err != nil {
			f.Fatalf("reading suite case: %v", err)
		}
		out = append(out, body)
	}
	return out
}
