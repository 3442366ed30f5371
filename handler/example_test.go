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

	// Prometheus asks for OpenMetrics first.
	req := httptest.NewRequest(http.MethodGet, "/metrics/prometheus", nil)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	for _, line := range strings.SplitAfter(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "certctl_deploy_attempts_total") || strings.HasPrefix(line, "# EOF") {
			fmt.Print(line)
		}
	}
	// Output:
	// 200 application/openmetrics-text; version=1.0.0; charset=utf-8
	// certctl_deploy_attempts_total{target_type="NGINX",result="success"} 1
	// certctl_deploy_attempts_total{target_type="NGINX",result="failure"} 0
	// # EOF
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
