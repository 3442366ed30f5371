package exporter

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/conformance/scrape"
	"github.com/deploymetrics/deploymetrics/handler"
	"github.com/deploymetrics/deploymetrics/internal/sidefile"
)

// Config is a module file: the named ways the exporter may probe a target.
// Build one with LoadConfig, ParseConfig or BuiltinConfig; every one of
// them validates it completely (schema files, TLS files and credential
// files are read), so a Config that exists can serve probes.
type Config struct {
	// Modules by name, as decoded, with defaults filled in.
	Modules map[string]*ModuleConfig `yaml:"modules"`
	// Source names where the config came from: a file, or "built-in".
	Source string `yaml:"-"`

	modules map[string]*module // compiled, by name
}

// ModuleConfig is one module of the file. Every field is optional; the
// zero module checks the deploy schema in the text format, allows only
// loopback targets and times out after DefaultTimeout.
type ModuleConfig struct {
	// Schema is what the exposition must hold: "deploy" (the default),
	// "none" (any valid exposition), or the path of a schema file (YAML or
	// JSON, as promcheck check --schema takes), relative to the config file.
	Schema string `yaml:"schema,omitempty"`
	// Namespace of the deploy families (schema deploy only); default certctl.
	Namespace *string `yaml:"namespace,omitempty"`
	// Accept lists what each probe asks for, one scrape each: "text",
	// "openmetrics", "both" (the two), or an Accept header of your own.
	// Default: text, as promcheck check.
	Accept AcceptList `yaml:"accept,omitempty"`
	// Strict makes warnings fail the probe, as promcheck check --strict.
	Strict bool `yaml:"strict,omitempty"`
	// Disable lists rules or groups never reported, as --disable.
	Disable []string `yaml:"disable,omitempty"`
	// Severity overrides rules' or groups' severities (info, warning,
	// error), as --severity.
	Severity map[string]string `yaml:"severity,omitempty"`
	// Timeout bounds a probe when Prometheus sends no scrape timeout, and
	// caps the one it sends. Default DefaultTimeout.
	Timeout time.Duration `yaml:"timeout,omitempty"`
	// MaxBytes bounds the body, on the wire and decoded. Default
	// scrape.DefaultMaxBytes.
	MaxBytes int64 `yaml:"max_bytes,omitempty"`
	// Headers are extra request headers. Credentials do not go here: use
	// BearerTokenFile or BasicAuth.
	Headers map[string]string `yaml:"headers,omitempty"`
	// BearerTokenFile is read on every probe (a rotated token is picked up
	// without a reload) and sent as "Authorization: Bearer".
	BearerTokenFile string `yaml:"bearer_token_file,omitempty"`
	// BasicAuth sends HTTP basic authentication, the password read from a
	// file on every probe.
	BasicAuth *BasicAuth `yaml:"basic_auth,omitempty"`
	// TLS configures https targets.
	TLS *TLSConfig `yaml:"tls,omitempty"`
	// AllowedTargets are the targets the module may probe. Omitted: loopback
	// addresses only (127.0.0.0/8 and ::1/128), see the package doc.
	AllowedTargets *AllowedTargets `yaml:"allowed_targets,omitempty"`
}

// BasicAuth is HTTP basic authentication with the password in a file.
type BasicAuth struct {
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
}

// TLSConfig names the files of a TLS client configuration, as Prometheus's
// tls_config does.
type TLSConfig struct {
	CAFile             string `yaml:"ca_file,omitempty"`
	CertFile           string `yaml:"cert_file,omitempty"`
	KeyFile            string `yaml:"key_file,omitempty"`
	ServerName         string `yaml:"server_name,omitempty"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify,omitempty"`
}

// AllowedTargets are the targets a module may probe. A target is allowed
// when its host matches one of Hosts (any host when Hosts is empty) and
// every address the exporter connects to for it, after DNS and on every
// redirect, lies in one of CIDRs (any address when CIDRs is empty). At
// least one of the two must be given: 0.0.0.0/0 and ::/0 allow any
// address, knowingly.
type AllowedTargets struct {
	// Hosts are host names: "metrics.example.com" exactly, or
	// "*.example.com" for any name under example.com (not example.com
	// itself), or "*" for any name. Compared without case.
	Hosts []string `yaml:"hosts,omitempty"`
	// CIDRs are address ranges, e.g. 10.0.0.0/8 or fd00::/8.
	CIDRs []string `yaml:"cidrs,omitempty"`
}

// AcceptList is the accept field: one word or header, or a list of them.
type AcceptList []string

// UnmarshalYAML takes a scalar or a sequence of scalars.
func (a *AcceptList) UnmarshalYAML(node *yaml.Node) error {
	switch node.Kind {
	case yaml.ScalarNode:
		*a = AcceptList{node.Value}
		return nil
	case yaml.SequenceNode:
		var list []string
		if err := node.Decode(&list); err != nil {
			return err
		}
		*a = list
		return nil
	}
	return fmt.Errorf("line %d: accept: want a word (text, openmetrics, both), an Accept header, or a list of them", node.Line)
}

// Defaults of a module.
const (
	DefaultTimeout = 10 * time.Second
	// MaxTimeout bounds a module's timeout: a probe holds a slot of the
	// concurrency limit for that long.
	MaxTimeout = 10 * time.Minute
	// configReadTimeout bounds reading a module file and every file it
	// names (schemas, TLS and credential files): one that never comes (a
	// named pipe nobody writes to) fails the load rather than hanging it,
	// or a SIGHUP reload.
	configReadTimeout = 10 * time.Second
)

// defaultAllowedCIDRs returns the addresses a module may probe when it
// names no allowed targets: loopback only.
func defaultAllowedCIDRs() []string { return []string{"127.0.0.0/8", "::1/128"} }

// BuiltinConfig returns the modules served when no file is given:
// "deploy" (the deploy schema, namespace certctl) and "generic" (no
// schema: any valid exposition passes), both in the text format and both
// limited to loopback targets.
func BuiltinConfig() *Config {
	none := "none"
	c := &Config{
		Source: "built-in",
		Modules: map[string]*ModuleConfig{
			"deploy":  {},
			"generic": {Schema: none},
		},
	}
	// The built-in modules are valid by construction; a failure here is a
	// bug a test catches, not a user error.
	if err := c.compile(context.Background(), ""); err != nil {
		panic("exporter: built-in modules: " + err.Error())
	}
	return c
}

// LoadConfig reads and validates a module file. Relative paths in it
// (schema files, credential and TLS files) are relative to the file's
// directory, as in Prometheus's configuration. Every file is read within
// sidefile.Limit (1 MiB), all of them within 10 seconds.
func LoadConfig(path string) (*Config, error) {
	ctx, cancel := context.WithTimeout(context.Background(), configReadTimeout)
	defer cancel()
	data, err := sidefile.ReadFile(ctx, "config", path, sidefile.Limit)
	if err != nil {
		return nil, err
	}
	c, err := parseConfig(ctx, data, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c.Source = path
	return c, nil
}

// ParseConfig decodes and validates a module file's contents; dir is the
// directory relative paths in it start from. Unknown fields are errors,
// so a misspelt key is never silently ignored.
func ParseConfig(data []byte, dir string) (*Config, error) {
	ctx, cancel := context.WithTimeout(context.Background(), configReadTimeout)
	defer cancel()
	return parseConfig(ctx, data, dir)
}

// parseConfig is ParseConfig reading the files the config names within
// ctx.
func parseConfig(ctx context.Context, data []byte, dir string) (*Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty file: want a modules: map")
		}
		return nil, fmt.Errorf("YAML: %w", err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("YAML: more than one document; a module file holds one")
	}
	if err := c.compile(ctx, dir); err != nil {
		return nil, err
	}
	return &c, nil
}

// ModuleNames returns the names of the modules, sorted.
func (c *Config) ModuleNames() []string {
	names := make([]string, 0, len(c.Modules))
	for name := range c.Modules {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// compile validates every module and builds what probes use, reading the
// files modules name within ctx. All problems are reported, each naming
// its module.
func (c *Config) compile(ctx context.Context, dir string) error {
	if len(c.Modules) == 0 {
		return errors.New("no modules: want a modules: map with at least one module")
	}
	c.modules = make(map[string]*module, len(c.Modules))
	var errs []error
	for _, name := range c.ModuleNames() {
		mc := c.Modules[name]
		if mc == nil {
			mc = &ModuleConfig{}
			c.Modules[name] = mc
		}
		m, err := compileModule(ctx, name, mc, dir)
		if err != nil {
			// One line per problem, each naming its module.
			problems := []error{err}
			if joined, ok := err.(interface{ Unwrap() []error }); ok {
				problems = joined.Unwrap()
			}
			for _, p := range problems {
				errs = append(errs, fmt.Errorf("module %q: %w", name, p))
			}
			continue
		}
		c.modules[name] = m
	}
	return errors.Join(errs...)
}

// validModuleName accepts what reads well in a URL and a label value.
func validModuleName(name string) error {
	if name == "" || len(name) > 64 {
		return errors.New("a module name has 1 to 64 characters")
	}
	for _, c := range []byte(name) {
		if c == '_' || c == '-' || c == '.' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			continue
		}
		return fmt.Errorf("character %q is not allowed in a module name (letters, digits, _ - .)", c)
	}
	return nil
}

// compileModule fills mc's defaults and builds the module, reading every
// file it names (within ctx) so that a broken path fails the load, not the
// first probe.
func compileModule(ctx context.Context, name string, mc *ModuleConfig, dir string) (*module, error) {
	if err := validModuleName(name); err != nil {
		return nil, err
	}
	m := &module{name: name, config: mc}
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if mc.Schema == "" {
		mc.Schema = "deploy"
	}
	switch mc.Schema {
	case "deploy":
		ns := check.DefaultNamespace
		if mc.Namespace != nil {
			ns = *mc.Namespace
		}
		if err := handler.ValidateNamespace(ns); err != nil {
			fail("namespace: %w", err)
		}
		m.opts.Schema = check.DeploySchema(ns)
	case "none":
		if mc.Namespace != nil {
			fail("namespace applies to schema deploy only (this module has schema none)")
		}
	default:
		if mc.Namespace != nil {
			fail("namespace applies to schema deploy only; a schema file names its families in full")
		}
		path := resolve(dir, mc.Schema)
		data, err := sidefile.ReadFile(ctx, "schema", path, sidefile.Limit)
		if err == nil {
			m.opts.Schema, err = check.ParseSchemaFile(path, data)
		}
		if err != nil {
			fail("%w", err)
		}
	}

	m.opts.Strict = mc.Strict
	m.opts.MaxFindingsPerRule = maxFindingsPerRule
	if err := check.ValidateRuleNames(mc.Disable); err != nil {
		fail("disable: %w", err)
	}
	m.opts.Disabled = mc.Disable
	for _, rule := range slices.Sorted(maps.Keys(mc.Severity)) {
		sev, err := check.ParseSeverity(mc.Severity[rule])
		if err != nil {
			fail("severity %s: %w", rule, err)
			continue
		}
		if err := check.ValidateRuleNames([]string{rule}); err != nil {
			fail("severity: %w", err)
			continue
		}
		if m.opts.Severities == nil {
			m.opts.Severities = make(map[string]check.Severity)
		}
		m.opts.Severities[rule] = sev
	}

	if len(mc.Accept) == 0 {
		mc.Accept = AcceptList{"text"}
	}
	accepts, err := resolveAccept(mc.Accept)
	if err != nil {
		fail("accept: %w", err)
	}
	m.accepts = accepts

	if mc.Timeout == 0 {
		mc.Timeout = DefaultTimeout
	}
	if mc.Timeout < 0 || mc.Timeout > MaxTimeout {
		fail("timeout %s: want more than 0 and at most %s", mc.Timeout, MaxTimeout)
	}
	if mc.MaxBytes == 0 {
		mc.MaxBytes = scrape.DefaultMaxBytes
	}
	if mc.MaxBytes < 0 {
		fail("max_bytes %d: want a positive number of bytes", mc.MaxBytes)
	}
	// A non-2xx answer cannot be checked, as Prometheus fails such a
	// scrape (and promcheck check): its body is an error page.
	m.scrape = scrape.Options{MaxBytes: mc.MaxBytes, RejectStatus: true}

	for _, h := range slices.Sorted(maps.Keys(mc.Headers)) {
		if !scrape.ValidHeaderName(h) {
			fail("headers: %q is not a header name", h)
			continue
		}
		switch http.CanonicalHeaderKey(h) {
		case "Authorization", "Proxy-Authorization", "Cookie":
			fail("headers: %s: credentials never go inline; use bearer_token_file or basic_auth.password_file", h)
			continue
		case "Accept", "Accept-Encoding", "Host":
			fail("headers: %s is set by the exporter (use accept for Accept)", h)
			continue
		}
		if strings.ContainsAny(mc.Headers[h], "\r\n\x00") {
			fail("headers: %s: the value has a line break or NUL", h)
			continue
		}
		if m.scrape.Header == nil {
			m.scrape.Header = http.Header{}
		}
		m.scrape.Header.Set(h, mc.Headers[h])
	}

	if err := m.compileCredentials(ctx, mc, dir); err != nil {
		errs = append(errs, err)
	}

	tlsConfig, err := compileTLS(ctx, mc.TLS, dir)
	if err != nil {
		fail("%w", err)
	}

	allowed := mc.AllowedTargets
	if allowed == nil {
		allowed = &AllowedTargets{CIDRs: defaultAllowedCIDRs()}
	}
	m.allow, err = parseAllowlist(allowed)
	if err != nil {
		fail("allowed_targets: %w", err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	m.client = newClient(m, tlsConfig)
	return m, nil
}

// compileTLS builds the TLS configuration of a module (t nil: none),
// reading its files within ctx.
func compileTLS(ctx context.Context, t *TLSConfig, dir string) (*tls.Config, error) {
	if t == nil {
		t = &TLSConfig{}
	}
	files := scrape.TLSFiles{
		CAFile: resolve(dir, t.CAFile), CertFile: resolve(dir, t.CertFile), KeyFile: resolve(dir, t.KeyFile),
		ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify,
	}
	read, err := sidefile.ReadAll(ctx, sidefile.Limit,
		sidefile.Named{What: "tls.ca_file", Path: files.CAFile}, sidefile.Named{What: "tls.cert_file", Path: files.CertFile}, sidefile.Named{What: "tls.key_file", Path: files.KeyFile})
	if err != nil {
		return nil, err
	}
	files.ReadFile = func(path string) ([]byte, error) { return read[path], nil }
	cfg, err := files.Config()
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	return cfg, nil
}

// compileCredentials checks the credential settings and that their files
// can be read now (within ctx); probes read them again each time.
func (m *module) compileCredentials(ctx context.Context, mc *ModuleConfig, dir string) error {
	var errs []error
	if mc.BearerTokenFile != "" && mc.BasicAuth != nil {
		errs = append(errs, errors.New("bearer_token_file and basic_auth exclude each other: give one"))
	}
	if mc.BearerTokenFile != "" {
		m.bearerTokenFile = resolve(dir, mc.BearerTokenFile)
		if _, err := sidefile.ReadSecret(ctx, "bearer_token_file", m.bearerTokenFile); err != nil {
			errs = append(errs, err)
		}
	}
	if b := mc.BasicAuth; b != nil {
		switch {
		case b.Username == "":
			errs = append(errs, errors.New("basic_auth: username is empty"))
		case b.PasswordFile == "":
			errs = append(errs, errors.New("basic_auth: password_file is empty (passwords never go inline)"))
		default:
			m.basicAuthUser, m.basicAuthPasswordFile = b.Username, resolve(dir, b.PasswordFile)
			if _, err := sidefile.ReadSecret(ctx, "basic_auth.password_file", m.basicAuthPasswordFile); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// acceptChoice is one scrape of a probe: what it asks for, and the name
// its metrics are labelled with.
type acceptChoice struct {
	name, header string
}

// resolveAccept turns the accept words into Accept headers.
func resolveAccept(list AcceptList) ([]acceptChoice, error) {
	var out []acceptChoice
	add := func(c acceptChoice) error {
		for _, o := range out {
			if o.name == c.name {
				return fmt.Errorf("%q is listed twice", c.name)
			}
		}
		out = append(out, c)
		return nil
	}
	for _, a := range list {
		var err error
		switch a = strings.TrimSpace(a); a {
		case "text":
			err = add(acceptChoice{"text", scrape.AcceptText})
		case "openmetrics":
			err = add(acceptChoice{"openmetrics", scrape.AcceptOpenMetrics})
		case "both":
			if err = add(acceptChoice{"text", scrape.AcceptText}); err == nil {
				err = add(acceptChoice{"openmetrics", scrape.AcceptOpenMetrics})
			}
		default:
			if !strings.Contains(a, "/") {
				return nil, fmt.Errorf("%q: want text, openmetrics, both, or an Accept header such as application/openmetrics-text;version=1.0.0", a)
			}
			if len(a) > 1024 || strings.ContainsFunc(a, func(r rune) bool { return r < ' ' || r >= 0x7f }) {
				return nil, fmt.Errorf("%q: an Accept header is printable ASCII, at most 1024 bytes", a)
			}
			// A header of the user's own is named by itself: the user
			// wrote it, so it is a bounded label value.
			err = add(acceptChoice{a, a})
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// resolve makes a path from the config file relative to its directory.
func resolve(dir, path string) string {
	if path == "" || dir == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}
