package exporter

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/conformance/scrape"
	"github.com/deploymetrics/deploymetrics/internal/sidefile"
)

func TestBuiltinConfig(t *testing.T) {
	c := BuiltinConfig()
	if got := strings.Join(c.ModuleNames(), ","); got != "deploy,generic" {
		t.Fatalf("built-in modules %s, want deploy,generic", got)
	}
	deploy, generic := c.modules["deploy"], c.modules["generic"]
	if deploy.opts.Schema == nil || deploy.opts.Schema.Name != check.DeploySchema(check.DefaultNamespace).Name {
		t.Errorf("deploy module schema %+v, want the deploy schema", deploy.opts.Schema)
	}
	if generic.opts.Schema != nil {
		t.Errorf("generic module has a schema: %+v", generic.opts.Schema)
	}
	for _, m := range []*module{deploy, generic} {
		if got := m.allow.String(); got != "addresses in 127.0.0.0/8, ::1/128" {
			t.Errorf("module %s allows %s, want loopback only", m.name, got)
		}
		if len(m.accepts) != 1 || m.accepts[0].header != scrape.AcceptText {
			t.Errorf("module %s accepts %+v, want the text format", m.name, m.accepts)
		}
		if m.config.Timeout != DefaultTimeout || m.config.MaxBytes != scrape.DefaultMaxBytes {
			t.Errorf("module %s: timeout %s, max bytes %d: want the defaults", m.name, m.config.Timeout, m.config.MaxBytes)
		}
	}
}

// writeFiles writes name -> content into a new directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	writeFilesIn(t, dir, files)
	return dir
}

// writeFilesIn writes name -> content into dir.
func writeFilesIn(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestParseConfigGood(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"token":   "s3cret\n",
		"pass":    "hunter2\n",
		"q.yaml":  "name: queue\nkey_label: queue\nfamilies:\n  - name: queue_depth\n    type: gauge\n    labels: [queue]\n",
		"ca.pem":  testCAPEM(t),
		"mod.yml": "",
	})
	c, err := ParseConfig([]byte(`
modules:
  deploy-acme:
    namespace: acme
    accept: both
    strict: true
    disable: [lint]
    severity: {invariant: error, scrape.help-changed: warning}
    timeout: 3s
    max_bytes: 1048576
    headers: {X-Tenant: blue}
    bearer_token_file: token
    allowed_targets:
      hosts: ["*.svc.cluster.local", metrics.example.com]
      cidrs: [10.0.0.0/8, "fd00::/8"]
  queue:
    schema: q.yaml
    accept: [openmetrics, "text/plain;version=0.0.4"]
    basic_auth: {username: prom, password_file: pass}
    tls: {ca_file: ca.pem, server_name: queue.internal}
  generic:
    schema: none
`), dir)
	if err != nil {
		t.Fatal(err)
	}
	acme := c.modules["deploy-acme"]
	if acme.opts.Schema.Families[0].Name != "acme_deploy_attempts_total" {
		t.Errorf("namespace not applied: %s", acme.opts.Schema.Families[0].Name)
	}
	if !acme.opts.Strict || acme.opts.Disabled[0] != "lint" || acme.opts.Severities["invariant"] != check.Error || acme.opts.Severities["scrape.help-changed"] != check.Warning {
		t.Errorf("check options not applied: %+v", acme.opts)
	}
	if len(acme.accepts) != 2 || acme.accepts[0].name != "text" || acme.accepts[1].name != "openmetrics" {
		t.Errorf("accept both: %+v", acme.accepts)
	}
	if acme.config.Timeout != 3*time.Second || acme.scrape.MaxBytes != 1<<20 || acme.scrape.Header.Get("X-Tenant") != "blue" {
		t.Errorf("timeout %s, max bytes %d, header %v", acme.config.Timeout, acme.scrape.MaxBytes, acme.scrape.Header)
	}
	opts, err := acme.requestOptions(context.Background(), "ua")
	if err != nil || opts.BearerToken != "s3cret" {
		t.Errorf("bearer token %q, %v: want it read from the file relative to the config", opts.BearerToken, err)
	}
	if got := acme.allow.String(); got != "hosts *.svc.cluster.local, metrics.example.com; addresses in 10.0.0.0/8, fd00::/8" {
		t.Errorf("allowed targets: %s", got)
	}
	queue := c.modules["queue"]
	if queue.opts.Schema == nil || queue.opts.Schema.Name != "queue" {
		t.Errorf("schema file not loaded: %+v", queue.opts.Schema)
	}
	if len(queue.accepts) != 2 || queue.accepts[1].name != "text/plain;version=0.0.4" || queue.accepts[1].header != "text/plain;version=0.0.4" {
		t.Errorf("accept list: %+v", queue.accepts)
	}
	opts, err = queue.requestOptions(context.Background(), "ua")
	if err != nil || opts.BasicAuthUser != "prom" || opts.BasicAuthPassword != "hunter2" {
		t.Errorf("basic auth %q:%q, %v", opts.BasicAuthUser, opts.BasicAuthPassword, err)
	}
	if c.modules["generic"].opts.Schema != nil {
		t.Error("schema none has a schema")
	}
	// A module without allowed_targets gets the loopback default.
	if got := queue.allow.String(); got != "addresses in 127.0.0.0/8, ::1/128" {
		t.Errorf("default allowed targets: %s", got)
	}
}

// Every mistake is reported, naming the module and the field.
func TestParseConfigErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{"empty": "\n", "token": "t\n", "two-lines": "a\nb\n"})
	for _, c := range []struct{ name, yaml, want string }{
		{"empty file", "", "empty file"},
		{"no modules", "modules: {}\n", "no modules"},
		{"unknown top-level field", "modules: {a: {}}\nmodule: {}\n", "field module not found"},
		{"unknown module field", "modules:\n  a:\n    schemas: none\n", "field schemas not found"},
		{"duplicate key", "modules:\n  a: {}\n  a: {}\n", "already defined"},
		{"two documents", "modules: {a: {}}\n---\nmodules: {b: {}}\n", "more than one document"},
		{"bad module name", "modules:\n  \"a b\": {}\n", `module "a b": character ' '`},
		{"namespace with none", "modules:\n  a: {schema: none, namespace: x}\n", "namespace applies to schema deploy only"},
		{"bad namespace", "modules:\n  a: {namespace: 9x}\n", "namespace"},
		{"missing schema file", "modules:\n  a: {schema: nope.yaml}\n", "nope.yaml"},
		{"unknown rule", "modules:\n  a: {disable: [lint.nope]}\n", `unknown rule "lint.nope"`},
		{"bad severity", "modules:\n  a: {severity: {lint: fatal}}\n", `unknown severity "fatal"`},
		{"bad accept word", "modules:\n  a: {accept: json}\n", `accept: "json": want text, openmetrics, both`},
		{"accept twice", "modules:\n  a: {accept: [text, both]}\n", `"text" is listed twice`},
		{"accept map", "modules:\n  a: {accept: {x: y}}\n", "accept: want a word"},
		{"negative timeout", "modules:\n  a: {timeout: -1s}\n", "timeout -1s"},
		{"huge timeout", "modules:\n  a: {timeout: 1h}\n", "timeout 1h0m0s"},
		{"bad timeout", "modules:\n  a: {timeout: soon}\n", "soon"},
		{"negative max bytes", "modules:\n  a: {max_bytes: -5}\n", "max_bytes -5"},
		{"inline authorization", "modules:\n  a: {headers: {authorization: Bearer x}}\n", "credentials never go inline"},
		{"accept header", "modules:\n  a: {headers: {Accept: x}}\n", "set by the exporter"},
		{"bad header name", "modules:\n  a: {headers: {\"a b\": x}}\n", "not a header name"},
		{"header line break", "modules:\n  a: {headers: {X-A: \"a\\nb\"}}\n", "line break"},
		{"missing token file", "modules:\n  a: {bearer_token_file: nope}\n", "bearer_token_file DIR/nope: no such file or directory"},
		{"empty token file", "modules:\n  a: {bearer_token_file: empty}\n", "is empty"},
		{"two-line token file", "modules:\n  a: {bearer_token_file: two-lines}\n", "more than one line"},
		{"token file is a directory", "modules:\n  a: {bearer_token_file: .}\n", "bearer_token_file DIR: is a directory, not a file"},
		{"token file is a device", "modules:\n  a: {bearer_token_file: /dev/zero}\n", "bearer_token_file /dev/zero: larger than 1 MiB: is this the right file?"},
		{"password file is a device", "modules:\n  a: {basic_auth: {username: u, password_file: /dev/zero}}\n", "basic_auth.password_file /dev/zero: larger than 1 MiB: is this the right file?"},
		{"schema file is a device", "modules:\n  a: {schema: /dev/zero}\n", "schema /dev/zero: larger than 1 MiB: is this the right file?"},
		{"CA file is a device", "modules:\n  a: {tls: {ca_file: /dev/zero}}\n", "tls.ca_file /dev/zero: larger than 1 MiB: is this the right file?"},
		{"key file is a device", "modules:\n  a: {tls: {cert_file: token, key_file: /dev/zero}}\n", "tls.key_file /dev/zero: larger than 1 MiB: is this the right file?"},
		{"token and basic auth", "modules:\n  a: {bearer_token_file: token, basic_auth: {username: u, password_file: token}}\n", "exclude each other"},
		{"basic auth without password file", "modules:\n  a: {basic_auth: {username: u}}\n", "password_file is empty"},
		{"basic auth without user", "modules:\n  a: {basic_auth: {password_file: token}}\n", "username is empty"},
		{"cert without key", "modules:\n  a: {tls: {cert_file: token}}\n", "needs its key file"},
		{"missing CA", "modules:\n  a: {tls: {ca_file: nope.pem}}\n", "tls.ca_file DIR/nope.pem: no such file or directory"},
		{"CA file without a certificate", "modules:\n  a: {tls: {ca_file: token}}\n", "tls: CA file DIR/token: no PEM certificate in it"},
		{"empty allowed targets", "modules:\n  a: {allowed_targets: {}}\n", "lists neither hosts nor cidrs"},
		{"bad cidr", "modules:\n  a: {allowed_targets: {cidrs: [10.0.0.0]}}\n", `"10.0.0.0" is not an address range`},
		{"unmasked cidr", "modules:\n  a: {allowed_targets: {cidrs: [10.1.2.3/8]}}\n", "did you mean 10.0.0.0/8"},
		{"host with port", "modules:\n  a: {allowed_targets: {hosts: [\"a.example:80\"]}}\n", "a port does not go here"},
		{"inner wildcard", "modules:\n  a: {allowed_targets: {hosts: [\"a.*.example\"]}}\n", "wildcard stands only first"},
		{"address in hosts", "modules:\n  a: {allowed_targets: {hosts: [10.0.0.1]}}\n", "goes in cidrs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(c.yaml), dir)
			if err == nil {
				t.Fatalf("accepted:\n%s", c.yaml)
			}
			if want := strings.ReplaceAll(c.want, "DIR", dir); !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		})
	}
}

// All of a module's problems are reported at once, each named.
func TestParseConfigReportsEveryProblem(t *testing.T) {
	_, err := ParseConfig([]byte("modules:\n  a: {timeout: -1s, accept: json}\n  b: {max_bytes: -1}\n"), "")
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{`module "a": timeout -1s`, `module "a": accept`, `module "b": max_bytes -1`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	dir := writeFiles(t, map[string]string{"m.yml": "modules:\n  x: {schema: none}\n", "big.yml": strings.Repeat("#", sidefile.Limit+1)})
	c, err := LoadConfig(filepath.Join(dir, "m.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Source != filepath.Join(dir, "m.yml") || c.ModuleNames()[0] != "x" {
		t.Errorf("source %q, modules %v", c.Source, c.ModuleNames())
	}
	if _, err := LoadConfig(filepath.Join(dir, "nope.yml")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := LoadConfig(filepath.Join(dir, "big.yml")); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("huge file: %v", err)
	}
}

// The example module file of examples/prometheus is valid.
func TestExampleModules(t *testing.T) {
	path := filepath.Join("..", "..", "examples", "prometheus", "promcheck.yml")
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"deploy", "generic"} {
		if c.modules[name] == nil {
			t.Errorf("the example has no module %s (the Prometheus example uses it)", name)
		}
	}
}
