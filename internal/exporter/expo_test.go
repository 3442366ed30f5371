package exporter

import (
	"strings"
	"testing"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/handler"
)

// What /probe writes, exactly, in each format.
func TestWriteProbe(t *testing.T) {
	rec := &probeRecord{
		Duration: 1500 * time.Microsecond,
		Checked:  true,
		Scrapes: []scrapeRecord{
			{Accept: "text", ContentType: "text/plain; version=0.0.4", Format: "text", StatusCode: 200, Samples: 3, Families: 2, BodyBytes: 120, Failed: true,
				Counts: []ruleCount{{"lint.help", check.Warning, 2}, {"spec.duplicate-series", check.Error, 1}}},
			{Accept: "openmetrics", Err: "connection refused", ErrKind: "connect"},
		},
	}
	const text = `# HELP promcheck_probe_success ` + helpSuccess + `
# TYPE promcheck_probe_success gauge
promcheck_probe_success 0
# HELP promcheck_probe_checked ` + helpChecked + `
# TYPE promcheck_probe_checked gauge
promcheck_probe_checked 1
# HELP promcheck_probe_duration_seconds ` + helpDuration + `
# TYPE promcheck_probe_duration_seconds gauge
promcheck_probe_duration_seconds 0.0015
# HELP promcheck_probe_findings ` + helpFindings + `
# TYPE promcheck_probe_findings gauge
promcheck_probe_findings{rule="lint.help",severity="warning"} 2
promcheck_probe_findings{rule="spec.duplicate-series",severity="error"} 1
# HELP promcheck_probe_samples ` + helpSamples + `
# TYPE promcheck_probe_samples gauge
promcheck_probe_samples{accept="text"} 3
# HELP promcheck_probe_families ` + helpFamilies + `
# TYPE promcheck_probe_families gauge
promcheck_probe_families{accept="text"} 2
# HELP promcheck_probe_body_bytes ` + helpBody + `
# TYPE promcheck_probe_body_bytes gauge
promcheck_probe_body_bytes{accept="text"} 120
# HELP promcheck_probe_http_status_code ` + helpStatus + `
# TYPE promcheck_probe_http_status_code gauge
promcheck_probe_http_status_code{accept="text"} 200
# HELP promcheck_probe_compared ` + helpCompared + `
# TYPE promcheck_probe_compared gauge
promcheck_probe_compared{accept="text"} 0
# HELP promcheck_probe_protocol_info ` + helpProtocol + `
# TYPE promcheck_probe_protocol_info gauge
promcheck_probe_protocol_info{accept="text",content_type="text/plain; version=0.0.4",format="text"} 1
# HELP promcheck_probe_error_info ` + helpError + `
# TYPE promcheck_probe_error_info gauge
promcheck_probe_error_info{accept="openmetrics",kind="connect"} 1
`
	w := &expoWriter{}
	writeProbe(w, rec)
	if got := string(w.buf); got != text {
		t.Errorf("text format:\n%s\nwant:\n%s", got, text)
	}
	w = &expoWriter{openMetrics: true}
	writeProbe(w, rec)
	r := check.Check(check.Input{Body: w.buf, ContentType: handler.ContentTypeOpenMetrics}, check.Options{Strict: true})
	if len(r.Findings) > 0 {
		t.Errorf("OpenMetrics output has findings:\n%s\n%s", r, w.buf)
	}
	for _, line := range []string{
		"# TYPE promcheck_probe_protocol info\n",
		`promcheck_probe_protocol_info{accept="text",content_type="text/plain; version=0.0.4",format="text"} 1` + "\n",
		"# TYPE promcheck_probe_error info\n",
		"# EOF\n",
	} {
		wantContains(t, "OpenMetrics output", string(w.buf), line)
	}
}

// A Content-Type is the target's choice: whatever it holds, the label value
// is escaped and the output stays valid in both formats.
func TestWriteProbeHostileContentType(t *testing.T) {
	for _, ct := range []string{
		"text/plain; x=\"quoted\\\"\"",
		"text/plain\\",
		"a\nb",
		"\xff\xfe invalid UTF-8",
		"tab\there, and } and {",
		"# EOF",
	} {
		rec := &probeRecord{Checked: true, Success: true, Scrapes: []scrapeRecord{{Accept: "text", ContentType: ct, Format: "unknown", StatusCode: 200}}}
		for _, om := range []bool{false, true} {
			w := &expoWriter{openMetrics: om}
			writeProbe(w, rec)
			format := check.ContentTypeText
			if om {
				format = check.ContentTypeOpenMetrics
			}
			r := check.Check(check.Input{Body: w.buf, ContentType: format}, check.Options{Strict: true})
			if len(r.Findings) > 0 {
				t.Errorf("Content-Type %q (OpenMetrics %v):\n%s\n%s", ct, om, r, w.buf)
				continue
			}
			found := false
			for _, s := range r.Exposition.Samples {
				if v, ok := s.Label("content_type"); ok {
					found = true
					if want := validUTF8(ct); v != want {
						t.Errorf("content_type label %q, want %q", v, want)
					}
				}
			}
			if !found {
				t.Errorf("no content_type label for %q", ct)
			}
		}
	}
}

// validUTF8 is s as the label escaping writes it: invalid runs replaced.
func validUTF8(s string) string {
	out := []rune{}
	for _, r := range s {
		if r == 0xFFFD && len(out) > 0 && out[len(out)-1] == 0xFFFD {
			continue
		}
		out = append(out, r)
	}
	return string(out)
}

func TestAppendValue(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 1: "1", -3: "-3", 0.25: "0.25", 1e300: "1e+300", 123456789012: "123456789012", 1.5e-7: "1.5e-07"} {
		if got := string(appendValue(nil, v)); got != want {
			t.Errorf("appendValue(%v) = %s, want %s", v, got, want)
		}
	}
}

// A finding quoting a huge series is kept cut, so that the history stays
// small whatever a target serves.
func TestRecordCutsLongFindings(t *testing.T) {
	long := "x{a=\"" + strings.Repeat("v", 1<<20) + "\"} 1\n"
	body := []byte("# TYPE x counter\n" + long + long)
	in := check.Input{Body: body, ContentType: check.ContentTypeText}
	r := check.Check(in, check.Options{})
	sr := newScrapeRecord("text", in, r)
	if len(sr.Findings) == 0 {
		t.Fatal("no finding for a duplicate series")
	}
	for _, f := range sr.Findings {
		if len(f.Message) > maxFindingText+40 || len(f.Series) > maxFindingText+40 {
			t.Errorf("a kept finding has %d bytes of message and %d of series", len(f.Message), len(f.Series))
		}
	}
	if !strings.Contains(sr.Findings[0].Series, "bytes more)") {
		t.Errorf("the cut is not said: %.100s", sr.Findings[0].Series)
	}
}
