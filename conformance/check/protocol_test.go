package check

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAcceptHeaderIsPrometheus3s(t *testing.T) {
	tests := []struct {
		name      string
		protocols []Protocol
		want      string
	}{
		// config.DefaultScrapeProtocols and DefaultProtoFirstScrapeProtocols
		// of Prometheus v0.316.0.
		{"default", []Protocol{OpenMetricsText1_0_0, OpenMetricsText0_0_1, PrometheusText1_0_0, PrometheusText0_0_4}, AcceptPrometheus3},
		{"proto first", []Protocol{PrometheusProto, OpenMetricsText1_0_0, OpenMetricsText0_0_1, PrometheusText1_0_0, PrometheusText0_0_4}, AcceptPrometheus3Proto},
		{"one", []Protocol{PrometheusText0_0_4}, "text/plain;version=0.0.4;q=0.7,*/*;q=0.6"},
	}
	for _, tt := range tests {
		if got := AcceptHeader(tt.protocols, EscapingAllowUTF8); got != tt.want {
			t.Errorf("%s: AcceptHeader = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestParseAcceptList(t *testing.T) {
	tests := []struct {
		list, want, err string
	}{
		{list: "prometheus2", want: AcceptPrometheus2},
		{list: "prometheus3", want: AcceptPrometheus3},
		{list: "prometheus3-proto", want: AcceptPrometheus3Proto},
		{list: "OpenMetricsText1.0.0,OpenMetricsText0.0.1,PrometheusText1.0.0,PrometheusText0.0.4", want: AcceptPrometheus3},
		{list: "PrometheusProto, PrometheusText0.0.4", want: "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.6,*/*;q=0.5"},
		{list: "OpenMetricsText2.0.0", want: "application/openmetrics-text;version=2.0.0;escaping=allow-utf-8;q=0.7,*/*;q=0.6"},
		{list: "PrometheusText0.0.4,PrometheusText0.0.4", err: "twice"},
		{list: "prometheus4", err: `unknown protocol "prometheus4"`},
		{list: "", err: "unknown protocol"},
		{list: "prometheustext0.0.4", err: "unknown protocol"}, // case-sensitive, as Prometheus's config
	}
	for _, tt := range tests {
		got, err := ParseAcceptList(tt.list)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("ParseAcceptList(%q) = %q, %v; want an error saying %q", tt.list, got, err, tt.err)
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("ParseAcceptList(%q) = %q, %v; want %q", tt.list, got, err, tt.want)
		}
	}
}

func TestParseContentType(t *testing.T) {
	tests := []struct {
		ct       string
		format   Format
		protocol Protocol
		escaping EscapingScheme
		err      bool
	}{
		{ct: ContentTypeText, format: FormatText, protocol: PrometheusText0_0_4},
		{ct: "text/plain", format: FormatText, protocol: PrometheusText0_0_4},
		{ct: "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8", format: FormatText, protocol: PrometheusText1_0_0, escaping: EscapingAllowUTF8},
		// What client_golang 1.25 sends under Prometheus 3's Accept.
		{ct: "text/plain; version=0.0.4; charset=utf-8; escaping=underscores", format: FormatText, protocol: PrometheusText0_0_4, escaping: EscapingUnderscores},
		{ct: "text/plain; version=9.9.9", format: FormatText},
		// Python's prometheus_client.
		{ct: "application/openmetrics-text; version=0.0.1; charset=utf-8", format: FormatOpenMetrics, protocol: OpenMetricsText0_0_1},
		{ct: ContentTypeOpenMetrics, format: FormatOpenMetrics, protocol: OpenMetricsText1_0_0},
		{ct: "application/openmetrics-text", format: FormatOpenMetrics, protocol: OpenMetricsText1_0_0},
		{ct: "application/openmetrics-text; version=1.0.0; escaping=values", format: FormatOpenMetrics, protocol: OpenMetricsText1_0_0, escaping: EscapingValues},
		{ct: ContentTypeOpenMetrics2, format: FormatOpenMetrics2, protocol: OpenMetricsText2_0_0},
		// textparse takes 2.0.0-rc for OpenMetrics 1.0.
		{ct: "application/openmetrics-text; version=2.0.0-rc", format: FormatOpenMetrics},
		{ct: ContentTypeProtobuf, format: FormatProtobuf, protocol: PrometheusProto},
		{ct: "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=dots", format: FormatProtobuf, protocol: PrometheusProto, escaping: EscapingDots},
		{ct: "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=text", format: FormatProtobuf},
		{ct: "application/json", format: FormatUnknown},
		{ct: "text/plain; version=1.0.0; escaping=utf8", format: FormatText, protocol: PrometheusText1_0_0, err: true},
		{ct: "text/plain; version", err: true},
	}
	for _, tt := range tests {
		got, err := ParseContentType(tt.ct)
		if (err != nil) != tt.err || got.Format != tt.format || got.Protocol != tt.protocol || got.Escaping != tt.escaping {
			t.Errorf("ParseContentType(%q) = format %s, protocol %q, escaping %q, error %v; want %s, %q, %q, error %v",
				tt.ct, got.Format, got.Protocol, got.Escaping, err, tt.format, tt.protocol, tt.escaping, tt.err)
		}
		if f := FormatOf(tt.ct); err == nil && f != tt.format {
			t.Errorf("FormatOf(%q) = %s, want %s", tt.ct, f, tt.format)
		}
	}
}

// TestProtocolsRoundTrip holds each protocol's Content-Type and Accept
// range to what ParseContentType and the negotiation rules read back.
func TestProtocolsRoundTrip(t *testing.T) {
	for _, p := range Protocols() {
		if got, err := ParseProtocol(string(p)); err != nil || got != p {
			t.Errorf("ParseProtocol(%q) = %q, %v", p, got, err)
		}
		ct, err := ParseContentType(p.ContentType(EscapingUnderscores))
		if err != nil || ct.Protocol != p || ct.Format != p.Format() || ct.Escaping != EscapingUnderscores {
			t.Errorf("%s: its Content-Type %q parses as %+v, %v", p, p.ContentType(EscapingUnderscores), ct, err)
		}
		sv := &served{parsed: ct, version: ct.Version, ranges: parseAccept(p.AcceptRange(EscapingAllowUTF8))}
		if r, ok := sv.match(); !ok || r.q != 1 || (p.escaped() && r.escaping != string(EscapingAllowUTF8)) {
			t.Errorf("%s: its Accept range %q does not match its Content-Type %q: %+v, %v", p, p.AcceptRange(EscapingAllowUTF8), p.ContentType(""), r, ok)
		}
	}
	if _, err := ParseProtocol("PrometheusText2.0.0"); err == nil {
		t.Error("ParseProtocol took an unknown protocol")
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range []Format{FormatText, FormatOpenMetrics, FormatProtobuf, FormatOpenMetrics2} {
		if got, err := ParseFormat(f.String()); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %s, %v", f, got, err)
		}
		if got := FormatOf(f.ContentType()); got != f {
			t.Errorf("FormatOf(%q) = %s, want %s", f.ContentType(), got, f)
		}
	}
	if _, err := ParseFormat("unknown"); err == nil {
		t.Error(`ParseFormat("unknown") took it`)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Format
	}{
		{"text", "a 1\n", FormatText},
		{"openmetrics", "a 1\n# EOF\n", FormatOpenMetrics},
		// A MetricFamily named "a", type gauge, one metric of value 1.
		{"protobuf", "\x11\n\x01a\x18\x01\"\n\x12\t\t\x00\x00\x00\x00\x00\x00\xf0?", FormatProtobuf},
		// "#\n" reads as a length of 35 and the tag of a name: still text.
		{"comment then text", "#\n# a comment line that runs on\na 1\n", FormatText},
		{"empty", "", FormatText},
		{"truncated protobuf", "\x7f\n\x01a", FormatText},
	}
	for _, tt := range tests {
		if got := Sniff([]byte(tt.body)); got != tt.want {
			t.Errorf("%s: Sniff = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestPrometheusSendsThePresets runs real Prometheus servers scraping a
// target that records the Accept header: Debian's Prometheus 2
// (/usr/bin/prometheus) must send AcceptPrometheus2, and a Prometheus 3
// built from v0.316.0 ($PROMETHEUS3, or
// <user cache>/deploymetrics/prometheus-v0.316.0/prometheus: go install
// github.com/prometheus/prometheus/cmd/prometheus@v0.316.0) must send
// AcceptPrometheus3, and AcceptPrometheus3Proto when its scrape_protocols
// start with PrometheusProto.
func TestPrometheusSendsThePresets(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus servers; skipped in -short mode")
	}
	p3 := os.Getenv("PROMETHEUS3")
	if p3 == "" {
		if dir, err := os.UserCacheDir(); err == nil {
			p3 = filepath.Join(dir, "deploymetrics", "prometheus-v0.316.0", "prometheus")
		}
	}
	tests := []struct {
		name, binary, protocols, want string
	}{
		{"prometheus2", "/usr/bin/prometheus", "", AcceptPrometheus2},
		{"prometheus3", p3, "", AcceptPrometheus3},
		{"prometheus3-proto", p3, "[PrometheusProto, OpenMetricsText1.0.0, OpenMetricsText0.0.1, PrometheusText1.0.0, PrometheusText0.0.4]", AcceptPrometheus3Proto},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := exec.LookPath(tt.binary); err != nil {
				t.Skipf("no Prometheus server at %q (%v): apt-get install prometheus for Prometheus 2; go install github.com/prometheus/prometheus/cmd/prometheus@v0.316.0 and set PROMETHEUS3 for Prometheus 3", tt.binary, err)
			}
			accepts := make(chan string, 16)
			target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case accepts <- r.Header.Get("Accept"):
				default:
				}
				w.Header().Set("Content-Type", ContentTypeText)
				fmt.Fprint(w, "up_test 1\n")
			}))
			t.Cleanup(target.Close)
			ctx, cancel := context.WithTimeout(context.Background(), thirdPartyDeadline)
			t.Cleanup(cancel)
			dir := t.TempDir()
			yml := fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: accept\n    static_configs:\n      - targets: [%q]\n", strings.TrimPrefix(target.URL, "http://"))
			if tt.protocols != "" {
				yml += "    scrape_protocols: " + tt.protocols + "\n"
			}
			config := filepath.Join(dir, "prometheus.yml")
			if err := os.WriteFile(config, []byte(yml), 0o600); err != nil {
				t.Fatal(err)
			}
			startProcess(t, ctx, tt.binary, "--config.file="+config, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"), "--web.listen-address="+freeLoopbackAddr(t))
			select {
			case got := <-accepts:
				if got != tt.want {
					t.Errorf("%s sent Accept:\n  %s\nwant\n  %s", tt.name, got, tt.want)
				}
			case <-ctx.Done():
				t.Fatalf("%s did not scrape the target within %v", tt.name, thirdPartyDeadline)
			case <-time.After(thirdPartyDeadline):
				t.Fatalf("%s did not scrape the target within %v", tt.name, thirdPartyDeadline)
			}
		})
	}
}
