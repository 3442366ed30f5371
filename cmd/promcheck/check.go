package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/conformance/scrape"
	"github.com/deploymetrics/deploymetrics/internal/sidefile"
)

const checkUsage = `Usage: promcheck check [flags] TARGET...

Checks expositions with Prometheus's own parser and the check engine's rules
(promcheck rules lists them). A TARGET is an http:// or https:// URL, a file,
or - for stdin. Several targets are checked concurrently (--parallel) and
each is reported; the worst verdict sets the exit status:
0 conforms (warnings allowed unless --strict), 1 violations found,
2 could not check (bad usage, unreachable, unreadable, timed out).

URLs are scraped --scrapes times, --interval apart, asking as each --accept
says; successive scrapes are checked against each other (scrape.* rules,
SPEC.md §3: a counter that decreases with no sign of a reset is an error, a
counter series that vanishes a warning; under a schema its series and
their order stay). Files are checked one by one, or with --sequence as
successive scrapes of one target, in the order given. Every finding names
its rule: promcheck explain RULE says what it checks, why, and shows good
and bad examples.

Protocols (content_negotiation.md; promcheck rules lists what is judged):
--accept takes text, openmetrics or both, the Accept header of a Prometheus
server (prometheus2, prometheus3, or prometheus3-proto: Prometheus 3 with
native histograms, protobuf first), or the protocols to ask for in order of
preference, as Prometheus 3 would ask (PrometheusProto, PrometheusText0.0.4,
PrometheusText1.0.0, OpenMetricsText0.0.1, OpenMetricsText1.0.0,
OpenMetricsText2.0.0). Repeat it to ask each way in every round of
scrapes; the reports name the protocol each scrape was served in. A
--header 'Accept: ...' is sent as given instead (and 'Accept-Encoding: ...'
instead of gzip). A file is parsed as its --content-type says (the
protocol and escaping scheme it was served with, judged as over HTTP),
as --format says, or as its content looks (quoted UTF-8 names allowed).

Fleets: --targets-file reads Prometheus file_sd targets (JSON or YAML:
[{"targets": ["host:port"], "labels": {"job": "...", "__metrics_path__":
"/metrics", "__scheme__": "http"}}]); --prometheus asks a Prometheus server
for its active targets and checks each scrape URL directly (the TLS flags
apply to the Prometheus API too; credentials and headers go only to the
targets).

Memory follows --max-bytes and --parallel, not the fleet: each target in
flight holds its exposition (and with --scrapes the previous one of each
--accept), reports hold findings only, and at most --max-findings findings
of a rule per target are listed. promcheck sets the Go runtime's soft
memory limit to about 5 x --max-bytes per exposition held, plus 64 MiB,
and at least 512 MiB, unless GOMEMLIMIT is set.

Secrets never go on the command line: --bearer-token-file and
--basic-auth-password-file read them from files. Files that flags name are
read up to 1 MiB (a targets file up to 32 MiB), so a wrong path such as
/dev/zero fails at once; Ctrl-C ends a wait on a named pipe.

Examples:
  promcheck check http://127.0.0.1:9464/metrics/prometheus
  promcheck check --accept both --scrapes 3 --interval 5s https://host:9443/metrics/prometheus
  promcheck check --accept prometheus3 --accept prometheus3-proto --schema none http://host:8080/metrics
  promcheck check --accept PrometheusProto,OpenMetricsText1.0.0,PrometheusText0.0.4 http://host:8080/metrics
  promcheck check --header 'Accept: text/plain;version=1.0.0;escaping=allow-utf-8' --schema none http://host:8080/metrics
  promcheck check --schema none --content-type 'text/plain; version=1.0.0; escaping=allow-utf-8' utf8.prom
  promcheck check --schema none --format protobuf metrics.pb
  promcheck check --schema none --disable lint node-exporter.prom
  promcheck check --sequence scrape1.prom scrape2.prom scrape3.prom
  curl -s http://host:9100/metrics | promcheck check --schema none -
  promcheck check --schema queue-schema.yaml --namespace "" http://host/metrics
  promcheck check --bearer-token-file /run/secrets/token --ca-file ca.pem https://host/metrics
  promcheck check --targets-file targets.yaml --parallel 16 --output junit > promcheck.xml
  promcheck check --prometheus http://prometheus:9090 --schema none --output github
`

// checkFlags are the flags of the check command, as parsed.
type checkFlags struct {
	schema, namespace  string
	disable            string
	severity           multiFlag
	strict             bool
	format             string
	contentType        string
	sequence           bool
	accept             multiFlag
	scrapes            int
	interval, timeout  time.Duration
	maxBytes           int64
	headers            multiFlag
	bearerTokenFile    string
	basicAuthUser      string
	basicAuthPassFile  string
	caFile, certFile   string
	keyFile            string
	insecureSkipVerify bool
	output             string
	targetsFile        string
	parallel           int
	prometheus         string
	quiet              bool
	maxFindings        int
}

// defaultMaxFindings is how many findings of one rule a target reports
// with their lines before "and N more like this": enough to see the
// pattern, few enough to read, and a bound on memory and report size when
// a rule fires on every line.
const defaultMaxFindings = 20

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ", ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func (f *checkFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.schema, "schema", "deploy", "what the exposition must hold: `deploy` (the deploy schema), none (any valid exposition), or a schema file (YAML or JSON)")
	fs.StringVar(&f.namespace, "namespace", check.DefaultNamespace, "`namespace` of the deploy metrics (--schema deploy)")
	fs.StringVar(&f.disable, "disable", "", "comma-separated `rules` or groups never reported (e.g. lint,order.series)")
	fs.Var(&f.severity, "severity", "`RULE=LEVEL`: override a rule's or group's severity (info, warning, error); repeatable")
	fs.BoolVar(&f.strict, "strict", false, "warnings fail the check (and invariant.* findings become errors)")
	fs.StringVar(&f.format, "format", "auto", "files and stdin: parse as this `format`: auto (sniffed, or as --content-type says), text, openmetrics, protobuf or openmetrics2 (experimental)")
	fs.StringVar(&f.contentType, "content-type", "", "files and stdin: the Content-Type the exposition was served with, e.g. 'text/plain; version=1.0.0; escaping=allow-utf-8': it says the format, protocol and escaping scheme it is judged by")
	fs.BoolVar(&f.sequence, "sequence", false, "files and stdin: check them as successive scrapes of one target, in order")
	fs.Var(&f.accept, "accept", "URLs: the Accept `choice`: text (the default), openmetrics, both (the two), a Prometheus server's Accept header (prometheus2, prometheus3, prometheus3-proto), or protocol names in order of preference (PrometheusProto,OpenMetricsText1.0.0,PrometheusText0.0.4); repeatable: every round of scrapes asks each way")
	fs.IntVar(&f.scrapes, "scrapes", 1, "URLs: `number` of successive scrapes, checked against each other")
	fs.DurationVar(&f.interval, "interval", time.Second, "URLs: `duration` between successive scrapes")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "URLs: bound on each scrape, headers and body (`duration`)")
	fs.Int64Var(&f.maxBytes, "max-bytes", scrape.DefaultMaxBytes, "largest body accepted, in `bytes`, on the wire and after gzip decoding (files too)")
	fs.Var(&f.headers, "header", "URLs: extra request header `Name: value`; repeatable. 'Accept: ...' is sent as given instead of --accept, 'Accept-Encoding: ...' instead of gzip")
	fs.StringVar(&f.bearerTokenFile, "bearer-token-file", "", "URLs: send the bearer token read from `file`")
	fs.StringVar(&f.basicAuthUser, "basic-auth-user", "", "URLs: basic auth `user` (with --basic-auth-password-file)")
	fs.StringVar(&f.basicAuthPassFile, "basic-auth-password-file", "", "URLs: basic auth password read from `file`")
	fs.StringVar(&f.caFile, "ca-file", "", "URLs: trust the CA certificates in this PEM `file`")
	fs.StringVar(&f.certFile, "cert-file", "", "URLs: client certificate PEM `file` for mutual TLS (with --key-file)")
	fs.StringVar(&f.keyFile, "key-file", "", "URLs: client key PEM `file` (with --cert-file)")
	fs.BoolVar(&f.insecureSkipVerify, "insecure-skip-verify", false, "URLs: accept any server certificate")
	fs.StringVar(&f.output, "output", "text", "report `format`: text, json, junit or github (Actions annotations)")
	fs.StringVar(&f.targetsFile, "targets-file", "", "check every target of a Prometheus file_sd `file` (JSON or YAML)")
	fs.IntVar(&f.parallel, "parallel", 4, "`number` of targets checked at once")
	fs.StringVar(&f.prometheus, "prometheus", "", "check every active target of the Prometheus server at `URL`")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress line on stderr, even on a terminal")
	fs.IntVar(&f.maxFindings, "max-findings", defaultMaxFindings, "report at most this `number` of findings of each rule per target, then \"and N more like this\" (every output format); 0: all of them")
}

// plan is a validated check run: what to check and how.
type plan struct {
	targets  []target
	opts     check.Options
	scrape   scrape.Options
	accepts  []acceptChoice
	client   *http.Client
	flags    *checkFlags
	schema   string // as reports name it: deploy, none, or the file
	stdin    bool   // whether a target reads stdin
	progress bool
}

// acceptChoice is one way --accept (or --header 'Accept: ...') asks:
// name is how reports name it (text, openmetrics, a preset, the protocol
// list, or header), header the Accept header sent.
type acceptChoice struct {
	name, header string
}

// acceptFromHeader names the choice of an Accept header given with
// --header, sent as given.
const acceptFromHeader = "header"

func runCheck(ctx context.Context, args []string, e env) int {
	fs := newFlagSet("check", e)
	var f checkFlags
	f.register(fs)
	positional, code, ok := parseFlags(fs, args, checkUsage, e)
	if !ok {
		return code
	}
	p, err := newPlan(ctx, &f, positional, e)
	if err != nil {
		var disc *discoveryError
		if errors.As(err, &disc) {
			fmt.Fprintf(e.stderr, "promcheck check: %v\n", err)
			return exitCannotCheck
		}
		fmt.Fprintf(e.stderr, "promcheck check: %v\n", err)
		fmt.Fprintln(e.stderr, "promcheck check --help shows the flags and examples")
		return exitCannotCheck
	}
	setMemoryLimit(p)
	results := p.run(ctx, e)
	return report(results, p, e)
}

// newPlan validates the flags and targets. Its errors are usage errors
// (exit 2), worded for the command line.
func newPlan(ctx context.Context, f *checkFlags, positional []string, e env) (*plan, error) {
	p := &plan{flags: f, schema: f.schema}
	switch f.output {
	case "text", "json", "junit", "github":
	default:
		return nil, fmt.Errorf("--output %q: want text, json, junit or github", f.output)
	}
	if f.format != "auto" {
		if _, err := check.ParseFormat(f.format); err != nil {
			return nil, fmt.Errorf("--format %q: want auto, text, openmetrics, protobuf or openmetrics2", f.format)
		}
	}
	if err := validContentType(f.contentType); err != nil {
		return nil, err
	}
	accepts, err := acceptChoices(f.accept)
	if err != nil {
		return nil, err
	}
	p.accepts = accepts
	if f.scrapes < 1 {
		return nil, fmt.Errorf("--scrapes %d: want at least 1", f.scrapes)
	}
	if f.interval < 0 {
		return nil, fmt.Errorf("--interval %s: want a duration >= 0", f.interval)
	}
	if f.timeout <= 0 {
		return nil, fmt.Errorf("--timeout %s: want a positive duration", f.timeout)
	}
	if f.maxBytes <= 0 {
		return nil, fmt.Errorf("--max-bytes %d: want a positive number of bytes", f.maxBytes)
	}
	if f.parallel < 1 {
		return nil, fmt.Errorf("--parallel %d: want at least 1", f.parallel)
	}
	if f.maxFindings < 0 {
		return nil, fmt.Errorf("--max-findings %d: want 0 (no limit) or more", f.maxFindings)
	}

	opts, err := checkOptions(ctx, f)
	if err != nil {
		return nil, err
	}
	p.opts = opts

	p.scrape, err = scrapeOptions(ctx, f)
	if err != nil {
		return nil, err
	}
	if lines := p.scrape.Header.Values("Accept"); len(lines) > 0 {
		// Sent as given (package scrape sends the lines themselves); the
		// facts, and the reports, join them as one list.
		p.accepts = []acceptChoice{{acceptFromHeader, strings.Join(lines, ", ")}}
	}
	tlsConfig, err := tlsConfig(ctx, f)
	if err != nil {
		return nil, err
	}
	p.client = scrape.NewClient(tlsConfig)

	p.targets, err = positionalTargets(positional, f.sequence)
	if err != nil {
		return nil, err
	}
	if f.targetsFile != "" {
		fleet, err := loadTargetsFile(ctx, f.targetsFile)
		if err != nil {
			return nil, err
		}
		p.targets = append(p.targets, fleet...)
	}
	if f.prometheus != "" {
		fleet, err := discoverPrometheus(ctx, p.client, f.prometheus, f.timeout, f.maxBytes)
		if err != nil {
			return nil, &discoveryError{err}
		}
		p.targets = append(p.targets, fleet...)
	}
	if len(p.targets) == 0 {
		if f.prometheus != "" {
			return nil, &discoveryError{fmt.Errorf("prometheus %s: no active targets to check", scrape.Redact(f.prometheus))}
		}
		return nil, errors.New("no targets: give URLs, files or - (stdin), or --targets-file or --prometheus")
	}
	files := false
	for _, t := range p.targets {
		for _, file := range t.Files {
			p.stdin = p.stdin || file == "-"
			files = true
		}
	}
	if f.contentType != "" && !files {
		// A URL's Content-Type is the server's to say.
		return nil, fmt.Errorf("--content-type %q: applies to files and stdin, and every target is a URL", f.contentType)
	}
	p.progress = e.stderrIsTerminal && !f.quiet
	return p, nil
}

// validContentType checks a --content-type value: a media type the engine
// parses, with a known escaping scheme if it names one.
func validContentType(contentType string) error {
	if contentType == "" {
		return nil
	}
	ct, err := check.ParseContentType(contentType)
	if err != nil {
		return fmt.Errorf("--content-type: %w", err)
	}
	if ct.Format == check.FormatUnknown {
		return fmt.Errorf("--content-type %q names no exposition format: want text/plain, application/openmetrics-text or application/vnd.google.protobuf, e.g. %q", contentType, check.PrometheusText1_0_0.ContentType(check.EscapingAllowUTF8))
	}
	return nil
}

// acceptChoices turns the --accept values into the Accept headers to send
// in every round of scrapes, in order, once each: text when none is given.
func acceptChoices(values []string) ([]acceptChoice, error) {
	if len(values) == 0 {
		values = []string{"text"}
	}
	var choices []acceptChoice
	add := func(name, header string) {
		for _, c := range choices {
			if c.name == name {
				return
			}
		}
		choices = append(choices, acceptChoice{name, header})
	}
	for _, v := range values {
		v = strings.TrimSpace(v)
		switch v {
		case "text":
			add("text", scrape.AcceptText)
		case "openmetrics":
			add("openmetrics", scrape.AcceptOpenMetrics)
		case "both":
			add("text", scrape.AcceptText)
			add("openmetrics", scrape.AcceptOpenMetrics)
		default:
			header, err := check.ParseAcceptList(v)
			if err != nil {
				return nil, fmt.Errorf("--accept: %w; or text, openmetrics, both", err)
			}
			add(v, header)
		}
	}
	return choices, nil
}

// discoveryError is a failure to ask Prometheus for its targets: the
// command line was fine, the server was not.
type discoveryError struct{ err error }

func (d *discoveryError) Error() string { return d.err.Error() }
func (d *discoveryError) Unwrap() error { return d.err }

// checkOptions builds the engine's options from the flags.
func checkOptions(ctx context.Context, f *checkFlags) (check.Options, error) {
	// The engine stops making findings of a rule past the cap, so a line
	// repeated a million times costs --max-findings findings, not a
	// million; the reports apply the same cap across a target's scrapes.
	opts := check.Options{Strict: f.strict, MaxFindingsPerRule: f.maxFindings}
	switch f.schema {
	case "deploy":
		if err := validNamespace(f.namespace); err != nil {
			return opts, err
		}
		opts.Schema = check.DeploySchema(f.namespace)
	case "none":
	case "":
		return opts, errors.New("--schema is empty: want deploy, none or a schema file")
	default:
		data, err := sidefile.ReadFile(ctx, "--schema", f.schema, sidefile.Limit)
		if err != nil {
			return opts, err
		}
		s, err := check.ParseSchemaFile(f.schema, data)
		if err != nil {
			return opts, err
		}
		opts.Schema = s
	}
	if f.disable != "" {
		for _, name := range strings.Split(f.disable, ",") {
			if name = strings.TrimSpace(name); name != "" {
				opts.Disabled = append(opts.Disabled, name)
			}
		}
		if err := check.ValidateRuleNames(opts.Disabled); err != nil {
			return opts, fmt.Errorf("--disable: %w", err)
		}
	}
	for _, s := range f.severity {
		name, level, ok := strings.Cut(s, "=")
		if !ok {
			return opts, fmt.Errorf("--severity %q: want RULE=LEVEL, e.g. lint=error", s)
		}
		sev, err := check.ParseSeverity(strings.TrimSpace(level))
		if err != nil {
			return opts, fmt.Errorf("--severity %q: %w", s, err)
		}
		name = strings.TrimSpace(name)
		if err := check.ValidateRuleNames([]string{name}); err != nil {
			return opts, fmt.Errorf("--severity: %w", err)
		}
		if opts.Severities == nil {
			opts.Severities = make(map[string]check.Severity)
		}
		opts.Severities[name] = sev
	}
	return opts, nil
}

// validNamespace accepts what can prefix a metric name (or nothing).
func validNamespace(ns string) error {
	for i, c := range ns {
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return fmt.Errorf("--namespace %q: want a metric name prefix ([a-zA-Z_][a-zA-Z0-9_]*) or empty", ns)
	}
	return nil
}

// scrapeOptions builds the request options, reading secrets from files.
func scrapeOptions(ctx context.Context, f *checkFlags) (scrape.Options, error) {
	// A non-2xx answer is a failed scrape, as in Prometheus: its body is an
	// error page, not an exposition to judge.
	opts := scrape.Options{MaxBytes: f.maxBytes, UserAgent: "promcheck/" + version, RejectStatus: true}
	if len(f.headers) > 0 {
		opts.Header = http.Header{}
	}
	for i, h := range f.headers {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || !scrape.ValidHeaderName(name) {
			// Never echoed: "Authorization Bearer X", a missing colon,
			// is a secret.
			return opts, fmt.Errorf("--header number %d of %d: want \"Name: value\" with Name a header name, e.g. \"X-Tenant: blue\" (the header is not shown: it may hold a secret)", i+1, len(f.headers))
		}
		opts.Header.Add(name, strings.TrimSpace(value))
	}
	if f.bearerTokenFile != "" && (f.basicAuthUser != "" || f.basicAuthPassFile != "") {
		return opts, errors.New("--bearer-token-file and basic auth exclude each other: give one")
	}
	if f.bearerTokenFile != "" {
		token, err := sidefile.ReadSecret(ctx, "--bearer-token-file", f.bearerTokenFile)
		if err != nil {
			return opts, err
		}
		opts.BearerToken = token
	}
	switch {
	case f.basicAuthUser != "" && f.basicAuthPassFile == "":
		return opts, errors.New("--basic-auth-user needs --basic-auth-password-file (passwords never go on the command line)")
	case f.basicAuthUser == "" && f.basicAuthPassFile != "":
		return opts, errors.New("--basic-auth-password-file needs --basic-auth-user")
	case f.basicAuthUser != "":
		password, err := sidefile.ReadSecret(ctx, "--basic-auth-password-file", f.basicAuthPassFile)
		if err != nil {
			return opts, err
		}
		opts.BasicAuthUser, opts.BasicAuthPassword = f.basicAuthUser, password
	}
	return opts, nil
}

// tlsConfig builds the TLS configuration from the TLS flags, reading
// their files through the bounded reader.
func tlsConfig(ctx context.Context, f *checkFlags) (*tls.Config, error) {
	files, err := sidefile.ReadAll(ctx, sidefile.Limit,
		sidefile.Named{What: "--ca-file", Path: f.caFile}, sidefile.Named{What: "--cert-file", Path: f.certFile}, sidefile.Named{What: "--key-file", Path: f.keyFile})
	if err != nil {
		return nil, err
	}
	cfg, err := scrape.TLSFiles{
		CAFile: f.caFile, CertFile: f.certFile, KeyFile: f.keyFile,
		InsecureSkipVerify: f.insecureSkipVerify,
		ReadFile:           func(path string) ([]byte, error) { return files[path], nil },
	}.Config()
	if err != nil {
		return nil, fmt.Errorf("TLS: %w", err)
	}
	return cfg, nil
}

// positionalTargets sorts the command line's targets into URLs and files,
// keeping their order. With sequence, the files (and stdin) are one target
// where the first of them stood.
func positionalTargets(args []string, sequence bool) ([]target, error) {
	var targets []target
	seq := -1 // index of the sequence target
	stdin := 0
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "http://") || strings.HasPrefix(a, "https://"):
			targets = append(targets, target{Name: scrape.Redact(a), URL: a})
			continue
		case strings.Contains(a, "://"):
			return nil, fmt.Errorf("target %q: only http:// and https:// URLs can be scraped", scrape.Redact(a))
		case a == "":
			return nil, errors.New("an empty target: give a URL, a file or - (stdin)")
		case a == "-":
			stdin++
			if stdin > 1 {
				return nil, errors.New("- (stdin) can be given only once")
			}
		}
		switch {
		case !sequence:
			targets = append(targets, target{Name: a, Files: []string{a}})
		case seq < 0:
			seq = len(targets)
			targets = append(targets, target{Name: a, Files: []string{a}})
		default:
			t := &targets[seq]
			t.Files = append(t.Files, a)
			t.Name = strings.Join(t.Files, " ")
		}
	}
	return targets, nil
}
