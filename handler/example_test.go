package handler_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
)

func ExampleNewMetricsHandler() {
	dc := counters.NewDeployCounters()
	dc.Record("NGINX", counters.OutcomeSucceeded)

	h := handler.NewMetricsHandler()
	h.SetDeployCounters(dc)

	// Prometheus 3 asks for OpenMetrics 1.0.0 first, with UTF-8 names.
	req := httptest.NewRequest(http.MethodGet, "/metrics/prometheus", nil)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.7,text/plain;version=0.0.4;q=0.4,*/*;q=0.3")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	for _, line := range strings.SplitAfter(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "certctl_deploy_attempts_total") || strings.HasPrefix(line, "# EOF") {
			fmt.Print(line)
		}
	}
	// Output:
	// 200 application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8
	// certctl_deploy_attempts_total{target_type="NGINX",result="success"} 1
	// certctl_deploy_attempts_total{target_type="NGINX",result="failure"} 0
	// # EOF
}

func ExampleMetricsHandler_Negotiate() {
	h := handler.NewMetricsHandler()
	for _, accept := range []string{
		"",    // no Accept header: the last resort
		"*/*", // curl
		"text/plain;version=1.0.0;escaping=allow-utf-8",
		"application/openmetrics-text;version=0.0.1",
		"application/openmetrics-text;version=1.0.0", // no escaping named: underscores
		"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,*/*;q=0.6",
		"application/openmetrics-text;version=2.0.0", // not enabled: the last resort
	} {
		ct, gzipped := h.Negotiate(http.Header{"Accept": {accept}, "Accept-Encoding": {"gzip"}})
		fmt.Println(ct, gzipped)
	}
	// Output:
	// text/plain; version=0.0.4; charset=utf-8 true
	// text/plain; version=0.0.4; charset=utf-8 true
	// text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8 true
	// application/openmetrics-text; version=0.0.1; charset=utf-8 true
	// application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores true
	// application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited true
	// text/plain; version=0.0.4; charset=utf-8 true
}

func ExampleAppendText() {
	snaps := []counters.DeploySnapshot{
		{TargetType: `say "hi"`, AttemptsSuccess: 3, IdempotentSkips: 1},
	}
	var buf []byte // reuse across calls: rendering into it allocates nothing once it is large enough
	buf = handler.AppendText(buf[:0], "certctl", snaps)
	for _, line := range strings.SplitAfter(string(buf), "\n") {
		if strings.Contains(line, "idempotent") {
			os.Stdout.WriteString(line)
		}
	}
	// Output:
	// # HELP certctl_deploy_idempotent_skip_total Deployments skipped because the new artifact has the same SHA-256 as the deployed one.
	// # TYPE certctl_deploy_idempotent_skip_total counter
	// certctl_deploy_idempotent_skip_total{target_type="say \"hi\""} 1
}
