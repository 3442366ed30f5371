package handler

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/deploymetrics/deploymetrics/counters"
)

// formats are the renderers, with the content type each is parsed as and
// how its parser reports metadata. The content types are written out here
// rather than taken from the package's constants.
var formats = []struct {
	name        string
	contentType string
	parsed      parsedAs
	render      func([]byte, string, []counters.DeploySnapshot) []byte
}{
	{"text", "text/plain; version=0.0.4; charset=utf-8", parsedText, AppendText},
	{"openmetrics", "application/openmetrics-text; version=1.0.0; charset=utf-8", parsedOpenMetrics, AppendOpenMetrics},
	{"openmetrics2", "application/openmetrics-text; version=2.0.0; charset=utf-8", parsedOpenMetrics2, AppendOpenMetrics2},
	{"protobuf", "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited", parsedProtobuf, AppendProtobuf},
}

// knownSnapshots returns a table in which every known target type has
// different counts in every counter.
func knownSnapshots() []counters.DeploySnapshot {
	dc := counters.NewDeployCounters()
	for i, tt := range counters.KnownTargetTypes() {
		for range i + 1 {
			dc.Record(tt, counters.OutcomeSucceeded)
			dc.Record(tt, counters.OutcomeReloadFailedRestored)
		}
		for range i % 3 {
			dc.Record(tt, counters.OutcomeSkipped)
			dc.Record(tt, counters.OutcomeVerifyFailedAlsoFailed)
			dc.Record(tt, counters.OutcomeValidateFailed)
		}
	}
	dc.IncAttemptFailure("NGINX") // a raw tick, so attempts{failure} is not derivable from the rest
	return dc.Snapshot()
}

func TestRenderParsesBack(t *testing.T) {
	inputs := []struct {
		name  string
		ns    string
		snaps []counters.DeploySnapshot
	}{
		{"no target types", "certctl", nil},
		{"one zero row", "certctl", []counters.DeploySnapshot{{TargetType: "NGINX"}}},
		{"known target types", "certctl", knownSnapshots()},
		{"other namespace", "acme_tls", knownSnapshots()},
		{"empty namespace", "", knownSnapshots()},
	}
	for _, f := range formats {
		for _, in := range inputs {
			t.Run(f.name+"/"+in.name, func(t *testing.T) {
				body := f.render(nil, in.ns, in.snaps)
				diffLines(t, parseExposition(t, body, f.contentType), expectedExposition(in.ns, in.snaps, f.parsed, identity))
			})
		}
	}
}

// TestRenderLargeValues checks integers beyond float64's exact range, which
// the parser cannot report exactly: the text formats write them exactly,
// protobuf as the nearest double, as its format has it.
func TestRenderLargeValues(t *testing.T) {
	snaps := []counters.DeploySnapshot{{
		TargetType: "Big", AttemptsSuccess: 1<<64 - 1, AttemptsFailure: 1 << 53, ValidateFailures: 1<<53 + 1,
	}}
	for _, f := range formats {
		body := f.render(nil, "certctl", snaps)
		diffLines(t, parseExposition(t, body, f.contentType), expectedExposition("certctl", snaps, f.parsed, identity))
		if f.parsed == parsedProtobuf {
			continue
		}
		for _, s := range []string{" 18446744073709551615\n", " 9007199254740992\n", " 9007199254740993\n"} {
			if !bytes.Contains(body, []byte(s)) {
				t.Errorf("%s: body lacks the exact integer%q", f.name, s)
			}
		}
	}
}

// TestRenderGolden pins the exact bytes, including the parts the parser does
// not report: label order within a sample, spacing, and the final newline.
func TestRenderGolden(t *testing.T) {
	snaps := []counters.DeploySnapshot{
		{TargetType: "Apache", AttemptsSuccess: 5, AttemptsFailure: 2, ReloadFailures: 1, RollbackRestored: 1, IdempotentSkips: 7},
		{TargetType: "NGINX", AttemptsFailure: 1, PostVerifyFails: 1, RollbackAlsoFail: 1, ValidateFailures: 0},
	}
	text := `# HELP certctl_deploy_attempts_total Deployment attempts by target type and result: success, or failure for any reason.
# TYPE certctl_deploy_attempts_total counter
certctl_deploy_attempts_total{target_type="Apache",result="success"} 5
certctl_deploy_attempts_total{target_type="Apache",result="failure"} 2
certctl_deploy_attempts_total{target_type="NGINX",result="success"} 0
certctl_deploy_attempts_total{target_type="NGINX",result="failure"} 1
# HELP certctl_deploy_validate_failures_total Deployments whose pre-commit validation failed; nothing was changed on the target.
# TYPE certctl_deploy_validate_failures_total counter
certctl_deploy_validate_failures_total{target_type="Apache"} 0
certctl_deploy_validate_failures_total{target_type="NGINX"} 0
# HELP certctl_deploy_reload_failures_total Deployments whose target reload failed after the new artifact was written; each one is rolled back.
# TYPE certctl_deploy_reload_failures_total counter
certctl_deploy_reload_failures_total{target_type="Apache"} 1
certctl_deploy_reload_failures_total{target_type="NGINX"} 0
# HELP certctl_deploy_post_verify_failures_total Deployments whose post-deploy verification (a TLS handshake with the target) failed; each one is rolled back.
# TYPE certctl_deploy_post_verify_failures_total counter
certctl_deploy_post_verify_failures_total{target_type="Apache"} 0
certctl_deploy_post_verify_failures_total{target_type="NGINX"} 1
# HELP certctl_deploy_rollback_total Rollbacks after a reload or post-verify failure, by outcome: restored (the previous artifact serves again) or also_failed (the target is left broken).
# TYPE certctl_deploy_rollback_total counter
certctl_deploy_rollback_total{target_type="Apache",outcome="restored"} 1
certctl_deploy_rollback_total{target_type="Apache",outcome="also_failed"} 0
certctl_deploy_rollback_total{target_type="NGINX",outcome="restored"} 0
certctl_deploy_rollback_total{target_type="NGINX",outcome="also_failed"} 1
# HELP certctl_deploy_idempotent_skip_total Deployments skipped because the new artifact has the same SHA-256 as the deployed one.
# TYPE certctl_deploy_idempotent_skip_total counter
certctl_deploy_idempotent_skip_total{target_type="Apache"} 7
certctl_deploy_idempotent_skip_total{target_type="NGINX"} 0
`
	if got := string(AppendText(nil, "certctl", snaps)); got != text {
		t.Errorf("AppendText:\n%s\nwant:\n%s", got, text)
	}
	// OpenMetrics 1.0 differs only in the family names of HELP and TYPE and
	// the EOF; OpenMetrics 2.0 keeps the names (HELP first, as everywhere)
	// and ends with the EOF.
	om, om2 := text, text
	for _, f := range schema {
		om = strings.ReplaceAll(om, "_"+f.name+" ", "_"+strings.TrimSuffix(f.name, "_total")+" ")
	}
	om += "# EOF\n"
	om2 += "# EOF\n"
	if got := string(AppendOpenMetrics(nil, "certctl", snaps)); got != om {
		t.Errorf("AppendOpenMetrics:\n%s\nwant:\n%s", got, om)
	}
	if got := string(AppendOpenMetrics2(nil, "certctl", snaps)); got != om2 {
		t.Errorf("AppendOpenMetrics2:\n%s\nwant:\n%s", got, om2)
	}
	// The goldens derived above must themselves be right.
	if !strings.Contains(om, "# TYPE certctl_deploy_attempts counter\n") ||
		!strings.Contains(om, "\ncertctl_deploy_attempts_total{") ||
		!strings.HasPrefix(om2, "# HELP certctl_deploy_attempts_total Deployment attempts") ||
		!strings.Contains(om2, "\n# TYPE certctl_deploy_attempts_total counter\n") ||
		!strings.Contains(om2, "\n# TYPE certctl_deploy_idempotent_skip_total counter\n") {
		t.Fatalf("the OpenMetrics golden texts are wrong:\n%s\n%s", om, om2)
	}
}

func TestHelpNeedsNoEscaping(t *testing.T) {
	for _, f := range families {
		if f.help == "" || strings.ContainsAny(f.help, "\\\n\"") || !utf8.ValidString(f.help) {
			t.Errorf("%s: HELP %q is empty or would need escaping", f.name, f.help)
		}
	}
}

// hostileTargetTypes are target types that break naive renderers.
var hostileTargetTypes = []string{
	`quote"inside`,
	`back\slash`,
	`trailing\`,
	`\n literally`,
	"new\nline",
	"tab\there",
	"nul\x00byte",
	"cr\rlf",
	"invalid\xff\xfeutf8",
	"truncated\xc3",
	"unicode-Zürich-负载-🚀",
	"U+2028\u2028sep",
	" spaces ",
	"",
	// A megabyte each: the table cuts them to its length limit; raw, the
	// renderers must write them whole (protobuf's varint lengths included).
	strings.Repeat("x", 1<<20),
	strings.Repeat("sixteen bytes \"\\\n\xff", 1<<16), // 1.2 MB, hostile bytes throughout
}

// TestHostileTargetTypesRoundTrip renders hostile target types both as the
// table normalises them and raw, and checks that Prometheus's parser ingests
// exactly the intended label value in every format: the normalised name,
// or, raw, the name with only invalid UTF-8 repaired (counters/doc.go's
// policy, the renderers' own part of it). In protobuf the value travels
// unescaped; protobuf_test.go holds the bytes to client_model's decoding too.
func TestHostileTargetTypesRoundTrip(t *testing.T) {
	dc := counters.NewDeployCounters()
	for _, tt := range hostileTargetTypes {
		dc.Record(tt, counters.OutcomeReloadFailedAlsoFailed)
	}
	normalised := dc.Snapshot()
	if len(normalised) != len(hostileTargetTypes) {
		t.Fatalf("%d hostile target types made %d rows", len(hostileTargetTypes), len(normalised))
	}

	// Raw snapshots bypass the table; the renderer alone must keep the
	// output parseable, repairing only invalid UTF-8.
	var raw []counters.DeploySnapshot
	for _, tt := range hostileTargetTypes {
		if tt != "" { // the renderer writes "" as is, which Prometheus reads as no label
			raw = append(raw, counters.DeploySnapshot{TargetType: tt, AttemptsFailure: 1})
		}
	}
	repair := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
	// How each format writes a label value: escaped in the text formats,
	// as is in protobuf.
	written := func(parsed parsedAs, v string) string {
		if parsed == parsedProtobuf {
			return v
		}
		return `target_type="` + escape(v) + `"`
	}

	for _, f := range formats {
		t.Run(f.name+"/normalised", func(t *testing.T) {
			body := f.render(nil, "certctl", normalised)
			diffLines(t, parseExposition(t, body, f.contentType), expectedExposition("certctl", normalised, f.parsed, identity))
			for _, tt := range hostileTargetTypes {
				if n := dc.Normalize(tt); !bytes.Contains(body, []byte(written(f.parsed, n))) {
					t.Errorf("no sample for %.40q written as %.40q", tt, written(f.parsed, n))
				}
			}
		})
		t.Run(f.name+"/raw", func(t *testing.T) {
			body := f.render(nil, "certctl", raw)
			if f.parsed != parsedProtobuf && !utf8.Valid(body) {
				t.Errorf("output is not valid UTF-8")
			}
			diffLines(t, parseExposition(t, body, f.contentType), expectedExposition("certctl", raw, f.parsed, repair))
			// In the text formats only \\, \" and \n are escaped: tab,
			// NUL and CR stay raw, not \t, \x00 or \r as %q would write them.
			for _, v := range []string{"tab\there", "nul\x00byte", "cr\rlf", "new\nline", `quote"inside`, `back\slash`, `trailing\`, `\n literally`, "invalid\uFFFDutf8"} {
				if !bytes.Contains(body, []byte(written(f.parsed, v))) {
					t.Errorf("output lacks %q", written(f.parsed, v))
				}
			}
		})
	}
}

// escape is label-value escaping written the obvious way, as an oracle.
func escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func TestAppendLabelValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"NGINX", "NGINX"},
		{`a"b`, `a\"b`},
		{`a\b`, `a\\b`},
		{"a\nb", `a\nb`},
		{"a\tb\x00c\rd", "a\tb\x00c\rd"},
		{"é🚀", "é🚀"},
		{"\xff", "\uFFFD"},
		{"a\xff\xfe\xfdb", "a\uFFFDb"},
		{"\xff\"\xfe", "\uFFFD\\\"\uFFFD"},
		{"\xc3\"", "\uFFFD\\\""},
		{"\uFFFD\xff", "\uFFFD\uFFFD"},
	}
	for _, tc := range tests {
		if got := string(appendLabelValue([]byte("x="), tc.in)); got != "x="+tc.want {
			t.Errorf("appendLabelValue(%q) = %q, want %q", tc.in, got, "x="+tc.want)
		}
		if got, want := string(appendLabelValue(nil, tc.in)), escape(strings.ToValidUTF8(tc.in, "\uFFFD")); got != want {
			t.Errorf("appendLabelValue(%q) = %q, the oracle gives %q", tc.in, got, want)
		}
	}
}

func TestRenderAllocs(t *testing.T) {
	snaps := knownSnapshots()
	snaps = append(snaps, counters.DeploySnapshot{TargetType: "needs \"escaping\"\n\xff"})
	for _, f := range formats {
		buf := f.render(nil, "certctl", snaps)
		allocs := testing.AllocsPerRun(100, func() {
			buf = f.render(buf[:0], "certctl", snaps)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocs per render into a reused buffer, want 0", f.name, allocs)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	snaps := knownSnapshots()
	for _, f := range formats {
		b.Run(f.name, func(b *testing.B) {
			buf := f.render(nil, "certctl", snaps)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf = f.render(buf[:0], "certctl", snaps)
			}
		})
	}
}
