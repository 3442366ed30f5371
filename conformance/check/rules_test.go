package check

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Every rule has cases under testdata/rules/<rule ID>/: files whose names
// start with "good" must draw no finding of the rule, files starting with
// "bad" at least one. A case is
//
//   - a file ending in .prom (text format), .om (OpenMetrics), .om2
//     (OpenMetrics 2.0), .pb (protobuf, generated: see
//     protobuf_cases_test.go) or .txt (format sniffed, as for a file given
//     to promcheck);
//   - a file ending in .http: a raw HTTP response (status line, headers,
//     blank line, body), optionally preceded by request header lines
//     written "> Accept: ..." that say what the scraper asked for (several
//     lines of one header are joined with ", ", as HTTPFacts has them); the
//     body is treated as package scrape treats it: a gzip Content-Encoding is
//     decoded (a body that is not gzip sets HTTPFacts.DecodeError), and
//     "> Scrape-Limit: N" cuts it at N bytes (HTTPFacts.TooLarge);
//     "> Served-Protocols: P1, P2" sets HTTPFacts.ServedProtocols (what the
//     target served in other scrapes of the run);
//   - a directory of such files, checked in name order as successive
//     scrapes of one target; the findings of the last one count.
//
// All cases are checked with NewOptions() (the deploy schema, namespace
// certctl); a case whose name contains ".noschema." is checked with no
// schema, and one whose name contains ".strict." with Options.Strict.
func TestEveryRuleHasGoodAndBadCases(t *testing.T) {
	for _, rule := range Rules() {
		t.Run(rule.ID, func(t *testing.T) {
			dir := filepath.Join("testdata", "rules", rule.ID)
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatalf("rule %s has no cases: %v", rule.ID, err)
			}
			var good, bad int
			for _, entry := range entries {
				name := entry.Name()
				path := filepath.Join(dir, name)
				switch {
				case strings.HasPrefix(name, "good"):
					good++
					if got := runCase(t, path).Rule(rule.ID); len(got) > 0 {
						t.Errorf("%s: want no %s finding, got %v", path, rule.ID, got)
					}
				case strings.HasPrefix(name, "bad"):
					bad++
					if got := runCase(t, path).Rule(rule.ID); len(got) == 0 {
						t.Errorf("%s: want a %s finding, got none", path, rule.ID)
					}
				}
			}
			if good == 0 || bad == 0 {
				t.Errorf("rule %s: %d good and %d bad cases, want at least one of each", rule.ID, good, bad)
			}
		})
	}
}

// TestCasesNameKnownRules catches a case directory left behind by a
// renamed rule, which would otherwise test nothing.
func TestCasesNameKnownRules(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join("testdata", "rules"))
	if err != nil {
		t.Fatal(err)
	}
	for _, entry := range entries {
		if _, ok := LookupRule(entry.Name()); !ok {
			t.Errorf("testdata/rules/%s names no rule", entry.Name())
		}
	}
}

// runCase checks one case and returns the report of its last scrape.
func runCase(t *testing.T, path string) *Report {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	files := []string{path}
	if info.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			t.Fatal(err)
		}
		files = files[:0]
		for _, e := range entries {
			files = append(files, filepath.Join(path, e.Name()))
		}
		slices.Sort(files)
	}
	var report *Report
	for _, file := range files {
		in := readCase(t, file)
		if report != nil {
			in.Previous = report.Exposition
		}
		opts := NewOptions()
		if strings.Contains(filepath.Base(file), ".noschema.") || strings.Contains(filepath.Base(path), ".noschema.") {
			opts.Schema = nil
		}
		opts.Strict = strings.Contains(filepath.Base(file), ".strict.") || strings.Contains(filepath.Base(path), ".strict.")
		report = Check(in, opts)
	}
	return report
}

// readCase reads one case file into an Input.
func readCase(t *testing.T, file string) Input {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	switch filepath.Ext(file) {
	case ".prom":
		return Input{Body: data, ContentType: ContentTypeText}
	case ".om":
		return Input{Body: data, ContentType: ContentTypeOpenMetrics}
	case ".om2":
		return Input{Body: data, ContentType: ContentTypeOpenMetrics2}
	case ".pb":
		return Input{Body: data, ContentType: ContentTypeProtobuf}
	case ".txt":
		return Input{Body: data}
	case ".http":
		return readHTTPCase(t, file, data)
	}
	t.Fatalf("%s: unknown case extension", file)
	return Input{}
}

func readHTTPCase(t *testing.T, file string, data []byte) Input {
	t.Helper()
	request := http.Header{}
	for bytes.HasPrefix(data, []byte("> ")) {
		line, rest, _ := bytes.Cut(data, []byte("\n"))
		name, value, _ := strings.Cut(string(line[2:]), ":")
		request.Add(name, strings.TrimSpace(value))
		data = rest
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(data)), nil)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: body: %v", file, err)
	}
	var servedProtocols []Protocol
	if list := request.Get("Served-Protocols"); list != "" {
		for name := range strings.SplitSeq(list, ",") {
			proto, err := ParseProtocol(strings.TrimSpace(name))
			if err != nil {
				t.Fatalf("%s: Served-Protocols: %v", file, err)
			}
			servedProtocols = append(servedProtocols, proto)
		}
	}
	facts := &HTTPFacts{
		ServedProtocols: servedProtocols,
		URL:             "http://" + filepath.Base(file) + "/metrics",
		Accept:          strings.Join(request.Values("Accept"), ", "),
		AcceptEncoding:  strings.Join(request.Values("Accept-Encoding"), ", "),
		StatusCode:      resp.StatusCode,
		Header:          resp.Header,
		WireBytes:       int64(len(body)),
	}
	if enc := resp.Header.Get("Content-Encoding"); strings.EqualFold(enc, "gzip") || strings.EqualFold(enc, "x-gzip") {
		decoded, err := gunzip(body)
		if err != nil {
			facts.DecodeError = "Content-Encoding is gzip but the body is not: " + err.Error()
		} else {
			body = decoded
		}
	}
	if limit := request.Get("Scrape-Limit"); limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 0 {
			t.Fatalf("%s: Scrape-Limit %q is not a byte count", file, limit)
		}
		facts.Limit = int64(n)
		if len(body) > n {
			body, facts.TooLarge = body[:n], true
		}
	}
	return Input{Body: body, ContentType: resp.Header.Get("Content-Type"), HTTP: facts}
}

func gunzip(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}
