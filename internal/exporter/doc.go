// Package exporter is promcheck's multi-target exporter: Prometheus finds
// the emitters with its own service discovery and scrapes
// /probe?target=URL&module=NAME here, the exporter scrapes the target,
// judges it with the check engine and answers with the verdict as
// metrics, so that Prometheus's rules and alerts act on the conformance of
// a whole fleet, continuously. It follows blackbox_exporter's pattern:
// modules in a strictly validated YAML file, the probe timeout taken from
// Prometheus's X-Prometheus-Scrape-Timeout-Seconds header, a status page of
// recent probes, SIGHUP and POST /-/reload reloading the modules.
//
//	cfg, err := exporter.LoadConfig("modules.yaml") // or exporter.BuiltinConfig()
//	if err != nil {
//		return err
//	}
//	e, err := exporter.New(cfg, exporter.Options{Logger: logger, Version: version})
//	if err != nil {
//		return err
//	}
//	defer e.Close()
//	return http.ListenAndServe("127.0.0.1:9465", e)
//
// # Endpoints
//
//	GET /probe?target=URL&module=NAME  one probe; see "A probe" below
//	GET /metrics                       the exporter's own metrics
//	GET /                              the latest probes, their verdicts and findings
//	GET /rules                         every rule and its description (the status page links here)
//	GET /-/healthy                     200 while the process serves
//	POST /-/reload                     load the module file again (as SIGHUP does)
//
// /probe and /metrics negotiate their format like any target (the text
// format 0.0.4, or OpenMetrics 1.0.0 when Accept prefers it, with the
// reference handler's negotiation and escaping), so the exporter can be
// checked like any target, by itself included: both pass promcheck check
// --schema none --strict across scrapes.
//
// # A probe
//
// A probe scrapes the target once for each of the module's accepts (text,
// openmetrics, or both) through package scrape, with every bound promcheck
// check has (body size on the wire and decoded, so gzip bombs; time;
// redirects), checks each scrape with the module's options and answers:
//
//	promcheck_probe_success 1                    1 conforms; 0 fails, or could not be checked
//	promcheck_probe_checked 1                    0 when the target could not be checked
//	promcheck_probe_duration_seconds 0.004
//	promcheck_probe_findings{rule,severity} N    one series per rule that fired
//	promcheck_probe_samples{accept} N            and _families, _body_bytes, _http_status_code
//	promcheck_probe_compared{accept} 1           judged against the previous probe
//	promcheck_probe_protocol_info{accept,content_type,format} 1
//	promcheck_probe_error_info{accept,kind} 1    only when a scrape could not be checked
//
// A target that answers outside 2xx could not be checked (kind "status"),
// as Prometheus fails such a scrape and promcheck check exits 2: its body
// is an error page, not an exposition to judge. Its status is kept, and
// for 401 and 403 the status page says which settings of the module to
// look at. The status page lists, for each scrape, the redirects it
// followed, the counts of every rule that fired and the first findings
// (the engine keeps 20 of each rule, as promcheck check does, and counts
// the rest), its texts cut to a readable length. The URLs it and the log
// show go through scrape.Redact: no password, no value of a query
// parameter that looks like a credential.
//
// A request the exporter refuses is answered 400 with a message naming
// the problem, and logged: a missing or repeated target or module, an
// unknown module, a target that is not an absolute http(s) URL with a
// host, longer than 2048 bytes, with a control character, with
// credentials in it (they would show in logs, labels and the status page),
// or not allowed by the module; an unreadable
// X-Prometheus-Scrape-Timeout-Seconds. Beyond Options.MaxConcurrent
// probes at once the answer is 503, at once, rather than a queue without
// bound. Prometheus records either as up == 0 for the target.
//
// The probe's timeout is Prometheus's scrape timeout minus
// Options.TimeoutMargin (never more than half of it), capped by the
// module's timeout; the module's timeout without the header.
//
// # Across probes
//
// The previous exposition of each (target, module, accept) is kept in a
// bounded store (by entries, by estimated bytes, and for a TTL), so the
// scrape.* rules judge consecutive probes as promcheck check --scrapes
// judges consecutive scrapes: counters that decrease without a reset,
// series that vanish, metadata that changes. Only a scrape Prometheus
// would have ingested (200, parsed) becomes the previous one. Two probes
// of one target may overlap (an HA pair of Prometheus servers); the store
// keeps the later scrape, never judging one against a newer one. With
// several exporters, shard targets by hashmod on the target (see
// examples/prometheus) so that each target is always probed by the same
// exporter and its memory is found again.
//
// A target must be one emitter process: a URL behind a load balancer
// reaches a different replica from probe to probe, whose counters differ,
// and the scrape.* rules would compare two processes. Across a restart of
// the emitter a counter goes down; an emitter that shows no reset evidence
// (process_start_time_seconds, OpenMetrics _created) fails that one probe
// with scrape.counter-decreased, and the next probe compares with the
// restarted process. The example's alert asks for 10 minutes of failing
// probes, so a restart alone does not fire it.
//
// # Which targets: the SSRF default
//
// An exporter that fetches any URL for anyone who can reach it is a
// server-side request forgery hole: it would reach, from inside the
// network, whatever its host can reach (internal APIs, cloud metadata at
// 169.254.169.254), and its status page quotes what it fetched in
// findings. So every module has allowed targets, AllowedTargets: host
// patterns and address ranges, checked on the URL (a clear 400) and again
// on every connection after DNS resolution and on every redirect (so DNS
// rebinding and redirects do not escape them), with proxies from the
// environment ignored.
//
// The default, for the built-in modules and any module that names none,
// is loopback only (127.0.0.0/8 and ::1/128). Loopback rather than
// nothing, so that the exporter works out of the box on one machine
// (promcheck serve and promcheck exporter side by side); loopback rather
// than anything, because probing elsewhere is a decision about the
// network that the operator makes by listing it. The default listen
// address is loopback too: whoever can reach the exporter can already
// reach loopback services. Exposed on a network, the exporter should
// have a module file that lists what its modules may probe; the CLI warns
// when it listens beyond loopback with the built-in modules.
//
// A module that sends credentials (bearer_token_file, basic_auth) never
// follows a redirect to another origin, so a target cannot pass them on;
// no module follows one from https to http (package scrape's policy).
//
// # Its own metrics: written here, not with client_golang
//
// /metrics is written with the same append-style rendering and the same
// escaping as the reference handler (handler.AppendLabelValue,
// handler.NegotiateText), not with client_golang. The project keeps
// competing metrics libraries out of the product's import graph (they
// live in tests and bench only), and the exporter's outputs must be
// exactly what the check engine judges conforming, in both formats, with
// the project's own escaping. The exporter's metrics are a dozen families
// whose values are read under one lock when /metrics is scraped; no
// registry is needed.
package exporter
