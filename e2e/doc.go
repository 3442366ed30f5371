// Package e2e holds the end-to-end tests that prove the promise behind
// every check: a real Prometheus, 2 and 3, scrapes the reference emitter
// and stores exactly what it served, and promcheck judges a real fleet. It
// has no code of its own, only the tests:
//
//	go test -race -v ./e2e/
//
// # Prometheus 3
//
// TestPrometheus3EndToEnd runs a Prometheus 3 server built from the Go
// module proxy (github.com/prometheus/prometheus/cmd/prometheus@v0.316.0).
// e2e/build-prometheus3.sh builds it into
// $HOME/.cache/deploymetrics/prometheus-v0.316.0/prometheus, where the test
// looks (PROMETHEUS3_BINARY overrides), or reuses the one there; the test
// skips, saying so, without it. A cold build takes about 7 minutes on 2
// cores.
//
// The reference emitter runs inside the test, on a loopback port, with
// simulated traffic over the known target types and three that need care
// (quotes and backslashes, multi-byte UTF-8, a tab the table replaces).
// Prometheus 3 runs with --enable-feature=openmetrics2 and one job per
// scrape protocol, each with scrape_protocols set to that protocol alone:
// PrometheusProto, PrometheusText0.0.4, PrometheusText1.0.0,
// OpenMetricsText0.0.1, OpenMetricsText1.0.0, and OpenMetricsText2.0.0
// against a second handler on the same table made WithOpenMetrics2. Every
// scrape is recorded (the jobs add their name as a query parameter). The
// test waits until every job has seen the counters change, stops the
// traffic, waits until every job has a scrape that started after the stop
// (timestamp(up)), and then checks:
//
//   - ingestion: every job holds exactly the table's series, eight per
//     target type (152), with the table's values, so all six jobs hold the
//     same; up is 1 and scrape_samples_scraped is 152 in every scrape of
//     the last 10 s; every target healthy with no last error;
//   - negotiation: each job's scrapes asked for its protocol alone, then
//     */* (as Prometheus 3 builds the header), and got that protocol's
//     Content-Type, naming the escaping scheme asked for (allow-utf-8) for
//     the 1.0.0 and 2.0.0 text formats and none for the others, gzipped as
//     asked; Prometheus's metadata names the families as each parser reports
//     them (certctl_deploy_attempts for OpenMetrics 0.0.1 and 1.0.0,
//     certctl_deploy_attempts_total for the others);
//   - client_golang: a second emitter, a client_golang 1.25 registry with a
//     native histogram (no classic buckets) and a counter named in UTF-8
//     (deploy.duration.seconds, deploys.recorded_total, label target.type),
//     is scraped by a protobuf-only job with scrape_native_histograms and by
//     a job with Prometheus 3's default protocols. Over protobuf the
//     histogram is stored as a native histogram with its count, sum and
//     buckets (read through the query API, and histogram_count), with no
//     classic series; its names arrive escaped to underscores, because
//     Prometheus 3 names no escaping scheme for protobuf and client_golang
//     then escapes. With the defaults (OpenMetrics 1.0.0,
//     escaping=allow-utf-8) the UTF-8 names are stored as they are;
//   - promcheck: "promcheck check --schema none" checks the client_golang
//     emitter with --accept prometheus3-proto (protobuf, the native
//     histogram), with --accept prometheus3 (OpenMetrics 1.0.0, quoted UTF-8
//     names), and with both in one run, and finds no error.
//
// # Prometheus 2.42
//
// TestPrometheusEndToEnd needs Debian's prometheus (2.42) and prometheus-node-exporter
// (1.5) on PATH (.ci/run installs them) and skips, saying so, without
// them. It builds promcheck, then starts on loopback ports it chooses:
// two "promcheck serve" emitters with simulated deploy traffic (emitter 2
// deploys to target types that need escaping, quotes and backslashes, and
// one in multi-byte UTF-8), a node exporter with a few cheap collectors,
// a text proxy in front of emitter 2, and a Prometheus with storage in a
// temporary directory scraping every target each second:
//
//	job deploy-openmetrics  emitter 1 and emitter 2, directly
//	job deploy-text         emitter 2 through the text proxy
//	job node                the node exporter
//
// It waits (bounded) until the HTTP API reports up == 1 for exactly these
// four targets. Every process is in its own process group and is stopped
// (SIGTERM, then SIGKILL) and waited for when the test ends, however it
// ends; on failure the log shows the last lines of each one's output.
// Under go test -race promcheck is built with -race too, so the emitters
// run under the race detector while Prometheus scrapes them; either way
// each emitter must exit 0 on SIGTERM without a race report.
//
// # Ingestion
//
// After at least three scrapes of every target, the test reads both
// emitters itself (text format, parsed with prometheus/common's expfmt,
// independent of the check engine and of Prometheus's parser), waits until
// Prometheus holds, for every deploy target, a sample scraped after that
// reading (sample timestamps are scrape start times, read through range
// selectors), and reads the emitters again. For each of the six deploy
// families and each of the three deploy targets, the series Prometheus
// holds (labels other than job and instance) must equal the emitter's
// exactly, and each value must lie between the two readings; stored values
// never decrease, and the traffic must have moved between the readings so
// the bracket means something. No series may come from any other target.
// No scrape errors: every active target is healthy with an empty lastError
// in /api/v1/targets, up is 1 and scrape_samples_scraped equals the number
// of samples the emitter serves (positive for the node exporter) in every
// scrape of the last 10 s.
//
// # Both formats
//
// Prometheus 2.42 asks for OpenMetrics first and has no per-job way to ask
// for the text format: scrape_protocols came in 2.49, and 2.42 refuses a
// configuration with it ("field scrape_protocols not found in type
// config.ScrapeConfig"). So the text job goes through a reverse proxy in
// the test that replaces the Accept header of Prometheus's requests (by
// User-Agent) with "text/plain;version=0.0.4". How each job's format is
// verified:
//
//   - text job: the proxy records, per Prometheus scrape, the Accept header
//     Prometheus sent (its first choice must be OpenMetrics) and the
//     Content-Type the emitter answered to the rewritten request (must be
//     text/plain; version=0.0.4).
//   - OpenMetrics job: nothing stands between Prometheus and the emitters,
//     so the request itself is not observed. Instead the emitters are asked
//     with the Accept header Prometheus sent (as recorded by the proxy: the
//     same Prometheus, the same scrape code) and must answer OpenMetrics
//     1.0.0; and Prometheus's own record of the parser it used is read:
//     /api/v1/targets/metadata names the families as the exposition's TYPE
//     lines did, without _total for the OpenMetrics job
//     (certctl_deploy_attempts) and with it for the text job
//     (certctl_deploy_attempts_total), all six typed counter.
//
// # Fleet
//
// promcheck check --output json --scrapes 2 runs four times: with
// --prometheus (discovery through /api/v1/targets) and with --targets-file
// (a file_sd JSON file listing the same targets with their job and
// __metrics_path__), each under --schema deploy and --schema none.
// promcheck applies one schema to a run, so the node exporter is judged in
// both: under the deploy schema it must fail with schema.* errors only (its
// exposition is valid, it just has no deploy families) and the run exits
// 1; under --schema none it must have no error and every target passes
// (exit 0). In every run all four targets are reported once, labelled with
// their job and instance, each scraped twice with HTTP 200; the emitters
// (directly and through the proxy, which leaves promcheck's own requests
// alone) conform with no finding at all, warnings included; the summary
// counts match; and the verdicts by target are the same from discovery as
// from the file.
//
// The test logs how long it took, with and without building promcheck
// (which takes from seconds with a warm build cache to a minute or more
// cold). The rest takes about 15-20 s, most of it waiting for Prometheus,
// which hands new targets to its scrapers only every 5 s; every wait is
// bounded.
package e2e
