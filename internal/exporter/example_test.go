package exporter_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
	"github.com/deploymetrics/deploymetrics/internal/exporter"
)

// An exporter with the built-in modules probes a reference emitter on
// loopback, as Prometheus would through /probe.
func ExampleNew() {
	dc := counters.NewDeployCounters()
	dc.Record("NGINX", counters.OutcomeSucceeded)
	emitter := handler.NewMetricsHandler()
	emitter.SetDeployCounters(dc)
	target := httptest.NewServer(emitter)
	defer target.Close()

	e, err := exporter.New(exporter.BuiltinConfig(), exporter.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	srv := httptest.NewServer(e)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/probe?" + url.Values{"module": {"deploy"}, "target": {target.URL + "/metrics/prometheus"}}.Encode())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		if line := lines.Text(); strings.HasPrefix(line, "promcheck_probe_success") || strings.HasPrefix(line, "promcheck_probe_samples") {
			fmt.Println(line)
		}
	}
	// Output:
	// promcheck_probe_success 1
	// promcheck_probe_samples{accept="text"} 8
}
