// Command promcheck runs the deploymetrics check engine against live
// endpoints, files, stdin and fleets (SPEC.md §5.5 and §5.6).
//
//	promcheck                          self-check of the reference emitter over HTTP
//	promcheck check [flags] TARGET...  TARGET: http(s) URL, file path, or - (stdin)
//	promcheck serve [--addr ...]       the reference emitter with simulated deploy traffic
//	promcheck rules                    every rule: ID, severity, one-line description
//	promcheck explain [RULE|GROUP]...  what a rule checks and why (SPEC.md), with examples
//	promcheck schema                   the deploy schema as a schema file, to start your own
//	promcheck version
//
// Every command takes --help, which lists its flags with examples. Exit
// status: 0 conforms (warnings allowed unless --strict), 1 violations found,
// 2 could not check (bad usage, unreachable, unreadable, timed out); with
// several targets the worst wins and every target is reported.
//
// # JSON report
//
// "promcheck check --output json" writes one JSON object. Its shape is
// stable: within a version fields are only added, never removed or given
// another meaning.
//
//	{
//	  "version": 1,                  // of this shape
//	  "verdict": "pass",             // "pass", "fail" or "error": the worst of the targets ("error" when interrupted)
//	  "exit_code": 0,                // the exit status: 0, 1 or 2
//	  "interrupted": false,          // true when SIGINT or SIGTERM cut the run short: the report is partial
//	  "schema": "deploy",            // --schema: "deploy", "none" or the schema file
//	  "strict": false,               // --strict
//	  "max_findings": 20,            // --max-findings: findings of one rule listed per target (0: no limit)
//	  "summary": {
//	    "targets": 2, "passed": 1, "failed": 1, "errored": 0,   // targets by verdict
//	    "skipped": 0,                                            // targets not checked: the run was interrupted
//	    "errors": 3, "warnings": 1, "infos": 0                  // findings of all scrapes by severity, omitted ones included
//	  },
//	  "targets": [{                  // in the order given (fleets: file order, or by URL for --prometheus)
//	    "target": "http://127.0.0.1:9464/metrics/prometheus",  // how reports name it (a URL's password is "xxxxx")
//	    "url": "http://...",         // URL targets only, password redacted
//	    "files": ["a.prom"],         // file targets only ("-" is stdin)
//	    "labels": {"job": "deploy", "instance": "host:9464"},  // fleet targets only
//	    "verdict": "fail",           // "pass", "fail", "error", or "skipped" (not checked: the run was interrupted)
//	    "error": "scrape http://...: timed out ...",           // only when verdict is "error"
//	    "scrapes": [{                // every exposition checked, in order (also those before an error)
//	      "name": "scrape 1/3",      // or the file name, or "stdin"
//	      "accept": "prometheus3",   // URLs: how --accept asked: "text", "openmetrics", a preset ("prometheus2",
//	                                 // "prometheus3", "prometheus3-proto"), the protocol list as given, or
//	                                 // "header" for an Accept header given with --header
//	      "accept_header": "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.7,...",
//	                                 // URLs: the Accept header sent (several --header lines joined with ", ")
//	      "content_type": "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8",
//	                                 // as served; for a file, --content-type ("" without it)
//	      "format": "openmetrics",   // how it was parsed: "text", "openmetrics", "protobuf" or "openmetrics2"
//	      "protocol": "OpenMetricsText1.0.0", // the content-negotiation protocol the Content-Type named
//	                                 // (content_negotiation.md: PrometheusProto, PrometheusText0.0.4,
//	                                 // PrometheusText1.0.0, OpenMetricsText0.0.1, OpenMetricsText1.0.0;
//	                                 // OpenMetricsText2.0.0, experimental); absent when it named none
//	                                 // (a file without --content-type, a Content-Type of no known version)
//	      "escaping": "allow-utf-8", // the escaping scheme the Content-Type named; absent when none
//	      "status_code": 200,        // URLs only
//	      "redirects": [{"status": 302, "url": "https://..."}], // redirects followed to it; absent when none
//	      "verdict": "fail",         // "pass" or "fail"
//	      "findings": [{             // always an array; sorted by line, then rule
//	        "rule": "order.series", "severity": "error",
//	        "family": "certctl_deploy_attempts_total",          // omitted when empty
//	        "series": "certctl_deploy_attempts_total{...}",     // omitted when empty
//	        "line": 12, "column": 5,                           // each omitted when 0 (unknown, or the whole exposition)
//	        "message_index": 3,      // protobuf, which has no lines: the 1-based length-delimited message
//	                                 // the finding is about; omitted in the text formats
//	        "message": "...",
//	        "explain": "promcheck explain order.series",  // where to read about the rule: the command,
//	        "doc": "docs/rules.md#order.series"           // and its anchor in the rules reference
//	      }],
//	      "omitted": [{              // findings past --max-findings, counted by rule; absent when none
//	        "rule": "spec.duplicate-series", "severity": "error", "count": 2999980,
//	        "explain": "promcheck explain spec.duplicate-series", "doc": "docs/rules.md#spec.duplicate-series"
//	      }]
//	    }]
//	  }]
//	}
//
// # Other reports
//
// Every report names where to read more about each rule it reports: the
// command that explains it (promcheck explain RULE) and its anchor in the
// rules reference (docs/rules.md#RULE): a closing line of the text report,
// "explain" and "doc" in JSON, a "read more" line in each JUnit testcase,
// a parenthesis in each GitHub annotation.
//
// --output text (the default) is for people: per target and scrape, the
// protocol it was served in ("scrape 1/3 (Accept prometheus3):
// OpenMetricsText1.0.0 escaping=allow-utf-8, HTTP 200, ..."; the format
// for a file without --content-type), the findings grouped by family with
// their lines, or in protobuf their messages (identical findings in
// several places as one, listing them), a verdict per target and a summary
// line. JUnit names each scrape's protocol in a "protocol" property of its
// target's testsuite, GitHub annotations in brackets after the scrape
// ("[PrometheusProto] message 2: ...").
//
// Every format reports at most --max-findings (default 20) findings of one
// rule per target with their lines, and counts the rest: "and N more like
// this" (text, a JUnit testcase's text, a GitHub annotation; "omitted" in
// JSON). Counts and verdicts include them. This bounds memory and the
// report's size when a rule fires on every line of a large exposition. --output junit writes JUnit XML: one testsuite per target,
// one testcase per rule that fired in a scrape (a failure when a finding
// of it fails the check), one passing testcase per scrape without
// findings, and an error testcase for a target that could not be checked.
// Every URL in every report and error has its password redacted
// ("https://user:xxxxx@host/metrics"), and the values of query parameters
// that look like credentials too ("?token=xxxxx"); header values are
// never printed. A non-2xx answer cannot be checked (exit 2), as Prometheus fails
// such a scrape; 401 and 403 name the credential flags. A redirect from
// https to http is refused; the redirects followed are in every report.
//
// Interrupted (SIGINT, SIGTERM), promcheck stops promptly and reports what
// it checked: the report says so first (text), in "interrupted" (JSON), as
// <skipped> testcases (JUnit) and as a notice (GitHub); targets it did not
// get to are "not checked (interrupted)", not errors; the exit status is 2.
//
// --output github writes GitHub Actions annotations
// ("::error title=RULE::TARGET line N: message"; findings in files also
// carry file= and line=). With a machine format, errors of targets that
// could not be checked are also printed to stderr.
package main
