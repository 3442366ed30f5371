// Command corpusgen captures the deploymetrics real-world corpus: the
// /metrics of Debian's Prometheus server and exporters and of services
// instrumented with client_golang, VictoriaMetrics/metrics, the
// OpenTelemetry Prometheus exporter and Python's prometheus_client, each
// scraped over loopback HTTP with the Accept headers Prometheus 3 sends,
// plus sequences of scrapes (a reset with _created, a restart, deleted
// series, a changed HELP). It writes the files and manifest.json into the
// corpus directory; the check engine's corpus test reads them.
//
// It lives in its own module so that its dependencies (the OpenTelemetry
// exporter) stay out of the deploymetrics go.mod. Run it through
// ../refresh.sh, which also says how to review the result.
//
//	go run . -out ..
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The Accept headers of a Prometheus 3 server (built from v0.316.0): its
// default, which asks for OpenMetrics first, and the one it sends with
// scrape_protocols: [PrometheusText0.0.4].
const (
	acceptOpenMetrics = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.7,application/openmetrics-text;version=0.0.1;q=0.6,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.3"
	acceptText        = "text/plain;version=0.0.4;q=0.7,*/*;q=0.6"
)

// Manifest describes the corpus; the corpus test reads the same shape.
type Manifest struct {
	Note    string            `json:"note"`
	Accept  map[string]string `json:"accept"`
	Sources []*Source         `json:"sources"`
}

// Source is one real exporter or client library.
type Source struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Origin  string `json:"origin"`
	// Serves says which formats the source answered with.
	Serves    string      `json:"serves"`
	Scrapes   []Scrape    `json:"scrapes"`
	Sequences []*Sequence `json:"sequences,omitempty"`
}

// Scrape is one captured response body.
type Scrape struct {
	File        string `json:"file"`
	Accept      string `json:"accept"` // "text" or "openmetrics": a key of Manifest.Accept
	ContentType string `json:"contentType"`
}

// Sequence is successive scrapes of one target, in order.
type Sequence struct {
	Name    string   `json:"name"`
	What    string   `json:"what"`
	Scrapes []Scrape `json:"scrapes"`
}

func main() {
	out := flag.String("out", "..", "the corpus directory to write")
	only := flag.String("only", "", "comma-separated source names to capture (default: all); the others keep their manifest entries")
	flag.Parse()
	if err := run(*out, *only); err != nil {
		log.Fatal(err)
	}
}

func run(out, only string) error {
	manifest := &Manifest{
		Note: "Captured by gen (refresh.sh) on loopback; every file is a response body as served. " +
			"expected.txt in each source directory holds the reviewed findings of the engine with no schema.",
		Accept: map[string]string{"text": acceptText, "openmetrics": acceptOpenMetrics},
	}
	old, err := readManifest(filepath.Join(out, "manifest.json"))
	if err != nil {
		return err
	}
	want := func(name string) bool {
		return only == "" || slices.Contains(strings.Split(only, ","), name)
	}
	for _, src := range sources() {
		if !want(src.name) {
			if prev := old[src.name]; prev != nil {
				manifest.Sources = append(manifest.Sources, prev)
			}
			continue
		}
		log.Printf("capturing %s", src.name)
		dir := filepath.Join(out, src.name)
		if err := os.RemoveAll(filepath.Join(dir, "scrapes")); err != nil {
			return err
		}
		c := &capturer{dir: dir, source: &Source{Name: src.name, Origin: src.origin}}
		if err := src.capture(c); err != nil {
			return fmt.Errorf("%s: %w", src.name, err)
		}
		c.source.Serves = c.serves()
		manifest.Sources = append(manifest.Sources, c.source)
	}
	data, err := json.MarshalIndent(manifest, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "manifest.json"), append(data, '\n'), 0o644)
}

// readManifest returns the sources of an existing manifest by name, so
// that -only keeps the others.
func readManifest(path string) (map[string]*Source, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	bySource := make(map[string]*Source)
	for _, s := range m.Sources {
		bySource[s.Name] = s
	}
	return bySource, nil
}

// source is one thing to capture.
type source struct {
	name, origin string
	capture      func(c *capturer) error
}

// sources lists every source of the corpus, in manifest order.
func sources() []source {
	return append(debianSources(), librarySources()...)
}
