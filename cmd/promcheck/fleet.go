package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/deploymetrics/deploymetrics/conformance/scrape"
	"github.com/deploymetrics/deploymetrics/internal/sidefile"
)

// targetsFileLimit bounds a targets file: 32 MiB list about half a million
// targets. Other files flags name are bounded by sidefile.Limit (1 MiB),
// expositions by --max-bytes; all are read through package sidefile, which
// also gives up when the run is interrupted (a named pipe nobody writes
// to).
const targetsFileLimit = 32 << 20

// fileSDGroup is one group of a Prometheus file_sd file.
type fileSDGroup struct {
	Targets []string          `json:"targets" yaml:"targets"`
	Labels  map[string]string `json:"labels,omitempty" yaml:"labels,omitempty"`
}

// loadTargetsFile reads a file_sd file (JSON, or YAML for .yml/.yaml) into
// targets: each address becomes scheme://address/path, where __scheme__
// (default http) and __metrics_path__ (default /metrics) come from the
// group's labels and __param_<name> labels become query parameters, as in
// Prometheus. Unknown keys are errors, so a typo is not silently a
// different fleet.
func loadTargetsFile(ctx context.Context, path string) ([]target, error) {
	data, err := sidefile.ReadFile(ctx, "--targets-file", path, targetsFileLimit)
	if err != nil {
		return nil, err
	}
	var groups []fileSDGroup
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yml", ".yaml":
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&groups); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("--targets-file %s: %w", path, err)
		}
	default:
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&groups); err != nil {
			return nil, fmt.Errorf("--targets-file %s: %w (a JSON file_sd list; name YAML files .yml or .yaml)", path, err)
		}
	}
	var targets []target
	for i, g := range groups {
		for _, addr := range g.Targets {
			t, err := fileSDTarget(addr, g.Labels)
			if err != nil {
				return nil, fmt.Errorf("--targets-file %s: group %d: %w", path, i+1, err)
			}
			targets = append(targets, t)
		}
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("--targets-file %s: no targets in it", path)
	}
	return targets, nil
}

func fileSDTarget(addr string, labels map[string]string) (target, error) {
	if at := strings.LastIndex(addr, "@"); at >= 0 {
		// The part before '@' is a password, never to be printed.
		return target{}, fmt.Errorf("target %q: credentials do not go in the address; use --bearer-token-file, or --basic-auth-user and --basic-auth-password-file", "xxxxx"+addr[at:])
	}
	if addr == "" || strings.ContainsAny(addr, "/?#") {
		return target{}, fmt.Errorf("target %q: want host:port (set the path with the __metrics_path__ label, the scheme with __scheme__)", addr)
	}
	scheme := labels["__scheme__"]
	if scheme == "" {
		scheme = "http"
	}
	if scheme != "http" && scheme != "https" {
		return target{}, fmt.Errorf("target %q: __scheme__ %q: want http or https", addr, scheme)
	}
	path := labels["__metrics_path__"]
	if path == "" {
		path = "/metrics"
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u := url.URL{Scheme: scheme, Host: addr, Path: path}
	query := url.Values{}
	shown := map[string]string{}
	for name, value := range labels {
		if param, ok := strings.CutPrefix(name, "__param_"); ok {
			query.Set(param, value)
			continue
		}
		if !strings.HasPrefix(name, "__") {
			shown[name] = value
		}
	}
	u.RawQuery = query.Encode()
	if _, ok := shown["instance"]; !ok {
		shown["instance"] = addr
	}
	s := u.String()
	if _, err := url.Parse(s); err != nil {
		return target{}, fmt.Errorf("target %q: %w", addr, err)
	}
	return target{Name: scrape.Redact(s), URL: s, Labels: shown}, nil
}

// prometheusTargets is the part of /api/v1/targets promcheck reads.
type prometheusTargets struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Data   struct {
		ActiveTargets []struct {
			Labels    map[string]string `json:"labels"`
			ScrapeURL string            `json:"scrapeUrl"`
		} `json:"activeTargets"`
	} `json:"data"`
}

// discoverPrometheus asks a Prometheus server for its active targets and
// returns each scrape URL as a target labelled with its job and instance.
// The request goes through the bounded scraper, so a misbehaving server
// cannot hang or flood promcheck either.
func discoverPrometheus(ctx context.Context, client *http.Client, base string, timeout time.Duration, maxBytes int64) ([]target, error) {
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return nil, fmt.Errorf("--prometheus %q: want an http:// or https:// URL", scrape.Redact(base))
	}
	api := strings.TrimRight(base, "/") + "/api/v1/targets?state=active"
	// api is scraped; shown is what errors print.
	shown := scrape.Redact(api)
	in, err := scrape.Get(ctx, client, api, scrape.Options{Accept: "application/json", Timeout: timeout, MaxBytes: maxBytes, UserAgent: "promcheck/" + version})
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", withHint(err, scrape.Options{}))
	}
	if code := in.HTTP.StatusCode; code != http.StatusOK {
		return nil, fmt.Errorf("prometheus %s: HTTP %d %s: %s", shown, code, http.StatusText(code), firstLine(in.Body))
	}
	if in.HTTP.DecodeError != "" {
		return nil, fmt.Errorf("prometheus %s: %s", shown, in.HTTP.DecodeError)
	}
	var resp prometheusTargets
	if err := json.Unmarshal(in.Body, &resp); err != nil {
		return nil, fmt.Errorf("prometheus %s: not a targets API response: %w", shown, err)
	}
	if resp.Status != "success" {
		return nil, fmt.Errorf("prometheus %s: status %q: %s", shown, resp.Status, resp.Error)
	}
	var targets []target
	for _, at := range resp.Data.ActiveTargets {
		if at.ScrapeURL == "" {
			continue
		}
		labels := map[string]string{}
		for _, name := range []string{"job", "instance"} {
			if v, ok := at.Labels[name]; ok {
				labels[name] = v
			}
		}
		targets = append(targets, target{Name: scrape.Redact(at.ScrapeURL), URL: at.ScrapeURL, Labels: labels})
	}
	// Prometheus lists targets in no promised order; reports should not
	// shuffle between runs.
	sort.SliceStable(targets, func(i, j int) bool { return targets[i].Name < targets[j].Name })
	return targets, nil
}

// firstLine returns the first line of b, cut to a readable length.
func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	const max = 200
	if len(line) > max {
		line = append(line[:max:max], "..."...)
	}
	return strings.TrimSpace(string(line))
}
