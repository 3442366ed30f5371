package fuzz

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
)

// hostileTargetTypes are target types that break naive emitters: the
// escapes the formats define, the ones Go's %q writes and Prometheus does
// not define (\t, \x00, \u00e9), control characters, invalid UTF-8, the
// reserved names, and names at and past the length cap.
var hostileTargetTypes = []string{
	"NGINX",
	"",
	`a"b`,
	`a\b`,
	`\\`,
	`\"`,
	`\n`,
	"line\nfeed",
	"tab\there",
	"nul\x00byte",
	"cr\rlf",
	"del\x7f",
	"c1\u0085next",
	"café",
	"\u00e9",
	"\u2028sep",
	"\xff",
	"\xc3",
	"a\xff\xfeb",
	"\xed\xa0\x80", // a UTF-16 surrogate, invalid in UTF-8
	"\uFFFD",
	`{target_type="x"}`,
	"} 1\n# EOF\n",
	"# HELP",
	counters.EmptyTargetType,
	counters.OverflowTargetType,
	" ",
	strings.Repeat("x", counters.DefaultMaxTargetTypeLen),
	strings.Repeat("x", counters.DefaultMaxTargetTypeLen+1),
	strings.Repeat("é", counters.DefaultMaxTargetTypeLen/2) + "x",
	strings.Repeat("x", counters.DefaultMaxTargetTypeLen-1) + "é",
	strings.Repeat("\\", 200),
}

// FuzzLabelRoundTrip sends two arbitrary target types through the reference
// counter table and renderer in both formats and parses them back with
// textparse: the output always parses, every series carries the normalised
// target type exactly (counters.Normalize, held to its documented
// definition), and the check engine, with the deploy schema, finds nothing
// at all to say about it, strict.
func FuzzLabelRoundTrip(f *testing.F) {
	for _, tt := range hostileTargetTypes {
		f.Add([]byte(tt), []byte("NGINX"))
	}
	f.Add([]byte("x\ty"), []byte("x\ny")) // both normalise to "x\uFFFDy": one row
	f.Add([]byte(""), []byte(counters.EmptyTargetType))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if err := labelRoundTrip(string(a), string(b)); err != nil {
			t.Fatalf("target types %q and %q: %v", a, b, err)
		}
	})
}

func labelRoundTrip(a, b string) error {
	dc := counters.NewDeployCounters()
	for _, tt := range []string{a, b} {
		n := dc.Normalize(tt)
		if want := normalizeRef(tt, counters.DefaultMaxTargetTypeLen); n != want {
			return fmt.Errorf("Normalize(%q) = %q, want %q (the documented four steps)", tt, n, want)
		}
		if again := dc.Normalize(n); again != n {
			return fmt.Errorf("Normalize is not idempotent: %q, then %q", n, again)
		}
		if err := exportable(n); err != nil {
			return fmt.Errorf("Normalize(%q) = %q: %v", tt, n, err)
		}
	}
	// Both ways in: the string API and a bound handle, whole outcomes only,
	// so that the invariants hold and the engine has nothing to report.
	dc.Record(a, counters.OutcomeReloadFailedRestored)
	dc.Record(a, counters.OutcomeSkipped)
	h := dc.Bind(b)
	if h.Name() != dc.Normalize(b) {
		return fmt.Errorf("Bind(%q).Name() = %q, want %q", b, h.Name(), dc.Normalize(b))
	}
	h.Record(counters.OutcomeVerifyFailedAlsoFailed)
	dc.Record(b, counters.OutcomeSucceeded)

	snaps := dc.Snapshot()
	names := make([]string, len(snaps))
	for i, s := range snaps {
		names[i] = s.TargetType
	}
	if want := sortedUnique(dc.Normalize(a), dc.Normalize(b)); !slices.Equal(names, want) {
		return fmt.Errorf("snapshot target types %q, want %q", names, want)
	}
	if dc.Folded() != 0 {
		return fmt.Errorf("Folded() = %d under the default cap", dc.Folded())
	}
	want := expectedSamples(snaps)
	for _, format := range []struct {
		contentType string
		render      func([]byte, string, []counters.DeploySnapshot) []byte
	}{
		{check.ContentTypeText, handler.AppendText},
		{check.ContentTypeOpenMetrics, handler.AppendOpenMetrics},
	} {
		body := format.render(nil, namespace, snaps)
		samples, err := bareParse(body, format.contentType)
		if err != nil {
			return fmt.Errorf("%s: textparse rejects the reference output: %v\n%s", format.contentType, err, body)
		}
		got, err := deploySamplesOf(samples)
		if err != nil {
			return fmt.Errorf("%s: %v\n%s", format.contentType, err, body)
		}
		if err := diffSamples(got, want); err != nil {
			return fmt.Errorf("%s: round trip: %v\n%s", format.contentType, err, body)
		}
		opts := check.NewOptions()
		opts.Strict = true
		report := check.Check(check.Input{Body: body, ContentType: format.contentType}, opts)
		if len(report.Findings) > 0 {
			return fmt.Errorf("%s: the engine judges the reference output:%s\n%s", format.contentType, findingsOf(report.Findings), body)
		}
	}
	return nil
}

// exportable reports why a normalised target type could not be exported
// as is: SPEC.md §1.5 and §1.8 want it non-empty, valid UTF-8, bounded, and the
// normalisation policy rules out control characters.
func exportable(n string) error {
	switch {
	case n == "":
		return fmt.Errorf("empty")
	case !utf8.ValidString(n):
		return fmt.Errorf("invalid UTF-8")
	case len(n) > counters.DefaultMaxTargetTypeLen:
		return fmt.Errorf("%d bytes, over the %d-byte cap", len(n), counters.DefaultMaxTargetTypeLen)
	case strings.IndexFunc(n, unicode.IsControl) >= 0:
		return fmt.Errorf("holds a control character")
	}
	return nil
}
