package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"

	vm "github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

func librarySources() []source {
	return []source{
		{name: "client-golang", origin: "Go module github.com/prometheus/client_golang (promhttp, OpenMetrics and _created samples enabled)", capture: captureClientGolang},
		{name: "victoriametrics", origin: "Go module github.com/VictoriaMetrics/metrics (WritePrometheus with process metrics, ExposeMetadata on)", capture: captureVictoriaMetrics},
		{name: "opentelemetry", origin: "Go module go.opentelemetry.io/otel/exporters/prometheus (with the OpenTelemetry SDK, served by promhttp with OpenMetrics enabled)", capture: captureOpenTelemetry},
		{name: "python", origin: "Debian package python3-prometheus-client (prometheus_client's own content negotiation)", capture: capturePython},
	}
}

// moduleVersion returns the version of a module this program was built with.
func moduleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, dep := range info.Deps {
		if dep.Path == path {
			return dep.Version
		}
	}
	return "unknown"
}

func captureClientGolang(c *capturer) error {
	c.source.Version = moduleVersion("github.com/prometheus/client_golang") + " (built with " + runtime.Version() + ")"
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "app_requests_total", Help: "HTTP requests served, by path."}, []string{"path"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "app_request_duration_seconds", Help: "Time to serve a request.", Buckets: []float64{0.005, 0.05, 0.5, 5}}, []string{"path"})
	size := prometheus.NewSummary(prometheus.SummaryOpts{Name: "app_response_size_bytes", Help: "Size of responses.", Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001}})
	inflight := prometheus.NewGauge(prometheus.GaugeOpts{Name: "app_requests_in_flight", Help: "Requests being served."})
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "app_build_info", Help: "Build of the app."}, []string{"version", "revision"})
	jobs := prometheus.NewCounter(prometheus.CounterOpts{Name: "app_jobs_total", Help: "Jobs run."})
	reg.MustRegister(requests, latency, size, inflight, build, jobs)
	for i, path := range []string{"/", "/admin", "/api"} {
		requests.WithLabelValues(path).Add(float64(10 * (i + 1)))
		for v := 0.001; v < 10; v *= 4 {
			latency.WithLabelValues(path).Observe(v)
		}
	}
	for v := 100.0; v < 1e6; v *= 3 {
		size.Observe(v)
	}
	inflight.Set(2)
	build.WithLabelValues("1.4.2", "abc123").Set(1)
	jobs.Add(5)

	server := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true, EnableOpenMetricsTextCreatedSamples: true}))
	defer server.Close()
	url := server.URL + "/metrics"
	if err := c.scrapeBoth(url); err != nil {
		return err
	}

	// A series deleted and created again starts from zero with a later
	// _created: the reset OpenMetrics describes.
	reset := func() error {
		time.Sleep(10 * time.Millisecond)
		requests.DeleteLabelValues("/api")
		requests.WithLabelValues("/api").Add(2)
		return nil
	}
	if err := c.sequence("reset-created", "app_requests_total{path=\"/api\"} deleted and created again (DeleteLabelValues, then WithLabelValues().Add(2)): its value drops from 30 to 2 and its _created moves forward",
		url, "openmetrics", reset); err != nil {
		return err
	}
	// Back to 30, as before the first reset, for the same reset in text.
	requests.WithLabelValues("/api").Add(28)
	if err := c.sequence("reset-text", "the same reset served as text 0.0.4, which has no _created and no process restart to show it: nothing on the wire tells the reset from lost counts",
		url, "text", reset); err != nil {
		return err
	}
	// client_golang cannot change a HELP text within one process (its
	// registry keeps the first HELP of a name even after Unregister): the
	// HELP change is python's sequence.
	return c.sequence("series-deleted", "app_requests_total{path=\"/admin\"} and its histogram deleted with DeleteLabelValues, not created again",
		url, "openmetrics", func() error {
			requests.DeleteLabelValues("/admin")
			latency.DeleteLabelValues("/admin")
			return nil
		})
}

func captureVictoriaMetrics(c *capturer) error {
	c.source.Version = moduleVersion("github.com/VictoriaMetrics/metrics") + " (built with " + runtime.Version() + ")"
	vm.ExposeMetadata(true)
	for i, path := range []string{"/", "/admin", "/api"} {
		vm.GetOrCreateCounter(fmt.Sprintf(`app_requests_total{path=%q}`, path)).Add(10 * (i + 1))
		h := vm.GetOrCreateHistogram(fmt.Sprintf(`app_request_duration_seconds{path=%q}`, path))
		ph := vm.GetOrCreatePrometheusHistogram(fmt.Sprintf(`app_request_prom_duration_seconds{path=%q}`, path))
		for v := 0.001; v < 10; v *= 4 {
			h.Update(v)
			ph.Update(v)
		}
	}
	vm.GetOrCreateFloatCounter("app_processed_bytes_total").Add(1.5e6)
	vm.GetOrCreateGauge("app_requests_in_flight", func() float64 { return 2 })
	s := vm.GetOrCreateSummary("app_response_size_bytes")
	for v := 100.0; v < 1e6; v *= 3 {
		s.Update(v)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) { vm.WritePrometheus(w, true) })
	server := httptest.NewServer(mux)
	defer server.Close()
	return c.scrapeBoth(server.URL + "/metrics")
}

func captureOpenTelemetry(c *capturer) error {
	c.source.Version = moduleVersion("go.opentelemetry.io/otel/exporters/prometheus") + " (SDK " + moduleVersion("go.opentelemetry.io/otel/sdk/metric") +
		", client_golang " + moduleVersion("github.com/prometheus/client_golang") + ", built with " + runtime.Version() + ")"
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return err
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	defer provider.Shutdown(context.Background())
	meter := provider.Meter("deploymetrics.test/corpus", metric.WithInstrumentationVersion("0.1.0"))
	ctx := context.Background()
	requests, err := meter.Int64Counter("http.server.requests", metric.WithDescription("HTTP requests served."), metric.WithUnit("{request}"))
	if err != nil {
		return err
	}
	duration, err := meter.Float64Histogram("http.server.request.duration", metric.WithDescription("Duration of HTTP server requests."), metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.005, 0.05, 0.5, 5))
	if err != nil {
		return err
	}
	active, err := meter.Int64UpDownCounter("http.server.active_requests", metric.WithDescription("Requests being served."), metric.WithUnit("{request}"))
	if err != nil {
		return err
	}
	temperature, err := meter.Float64Gauge("device.temperature", metric.WithUnit("Cel"))
	if err != nil {
		return err
	}
	queued, err := meter.Int64Counter("jobs.queued")
	if err != nil {
		return err
	}
	for i, route := range []string{"/", "/admin", "/api"} {
		attrs := metric.WithAttributes(attribute.String("http.route", route), attribute.Int("http.response.status_code", 200))
		requests.Add(ctx, int64(10*(i+1)), attrs)
		for v := 0.001; v < 10; v *= 4 {
			duration.Record(ctx, v, attrs)
		}
	}
	active.Add(ctx, 2)
	temperature.Record(ctx, 41.5, metric.WithAttributes(attribute.String("device", "sda")))
	queued.Add(ctx, 12)
	server := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	defer server.Close()
	return c.scrapeBoth(server.URL + "/metrics")
}

// capturePython runs python_source.py (Debian's python3 with Debian's
// prometheus_client) and drives its sequences.
func capturePython(c *capturer) error {
	version, err := exec.Command("dpkg-query", "-W", "-f=${Version}", "python3-prometheus-client").Output()
	if err != nil {
		return fmt.Errorf("dpkg-query python3-prometheus-client: %w (apt-get install python3-prometheus-client)", err)
	}
	c.source.Version = string(version)
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	url := "http://" + addr + "/metrics"
	script, err := filepath.Abs("python_source.py")
	if err != nil {
		return err
	}
	runNumber := 1
	var proc *process
	startPython := func() error {
		p, err := start("/usr/bin/python3", nil, script, port, strconv.Itoa(runNumber))
		if err != nil {
			return err
		}
		proc = p
		if err := p.waitFor(url, "jobs_processed"); err != nil {
			p.stop()
			return err
		}
		return nil
	}
	if err := startPython(); err != nil {
		return err
	}
	defer func() { proc.stop() }()
	if err := c.scrapeBoth(url); err != nil {
		return err
	}
	control := func(action string) func() error {
		return func() error {
			time.Sleep(10 * time.Millisecond)
			_, _, err := get("http://"+addr+"/control/"+action, "*/*")
			return err
		}
	}
	if err := c.sequence("reset-created", "jobs_processed{queue=\"email\"} removed and created again (Counter.remove, then labels().inc(2)): its value drops from 70 to 2 and its _created moves forward",
		url, "openmetrics", control("reset")); err != nil {
		return err
	}
	if err := c.sequence("series-deleted", "the queue=\"thumbnails\" series of a counter, a histogram and a gauge removed with remove()",
		url, "openmetrics", control("delete")); err != nil {
		return err
	}
	if err := c.sequence("help-changed", "queue_depth unregistered and registered again with a reworded HELP text (CollectorRegistry.unregister, then a new Gauge)",
		url, "openmetrics", control("rehelp")); err != nil {
		return err
	}
	return c.sequence("restart", "the process killed and started again (run 2 counts less): process_start_time_seconds and every _created move forward, the counters start again",
		url, "openmetrics", func() error {
			proc.stop()
			time.Sleep(1100 * time.Millisecond)
			runNumber = 2
			return startPython()
		})
}
