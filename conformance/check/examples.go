package check

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
)

// The rules' cases: every rule has good and bad cases under
// testdata/rules/<rule ID>/, which the engine's tests hold it to
// (TestEveryRuleHasGoodAndBadCases) and which promcheck explain shows as
// the rule's examples. They are embedded, so that a binary explains every
// rule without the source tree; a program that never calls RuleExamples
// links none of them.
//
//go:embed testdata/rules
var ruleCases embed.FS

// An Example is one case of a rule: an exposition (or a sequence of
// them, successive scrapes of one target) the rule must not report, or
// must report.
//
// A case is named for its file or directory under testdata/rules/<ID>/:
// a name starting with "good" draws no finding of the rule, one starting
// with "bad" at least one. A file is
//
//   - .prom (text format), .om (OpenMetrics), .om2 (OpenMetrics 2.0),
//     .pb (protobuf) or .txt (format sniffed, as for a file given to
//     promcheck);
//   - .http: a raw HTTP response (status line, headers, blank line, body),
//     optionally preceded by request header lines written "> Accept: ..."
//     that say what the scraper asked for (several lines of one header are
//     joined with ", ", as HTTPFacts has them); the body is treated as
//     package scrape treats it: a gzip Content-Encoding is decoded (a body
//     that is not gzip sets HTTPFacts.DecodeError), and "> Scrape-Limit: N"
//     cuts it at N bytes (HTTPFacts.TooLarge); "> Served-Protocols: P1, P2"
//     sets HTTPFacts.ServedProtocols (what the target served in other
//     scrapes of the run);
//   - a directory of such files, checked in name order as successive
//     scrapes of one target; the findings of the last one count.
//
// A case is checked with NewOptions() (the deploy schema, namespace
// certctl); one whose name contains ".noschema." with no schema, and one
// whose name contains ".strict." with Options.Strict.
type Example struct {
	// Rule is the ID of the rule the case is for.
	Rule string
	// Name is the case's file or directory name, e.g. "bad-q0.http".
	Name string
	// Good says whether the case must draw no finding of the rule.
	Good bool
	// Scrapes are the case's files, in the order they are checked.
	Scrapes []ExampleScrape
}

// An ExampleScrape is one file of an Example, as it is checked.
type ExampleScrape struct {
	// File is the file's name, relative to the case's rule directory
	// ("bad/2.prom" in a sequence).
	File string
	// Raw is the file as written: for .http, the request lines, the
	// response head and the body as sent.
	Raw []byte
	// Request holds the request header lines of an .http case.
	Request http.Header
	// Input is what the engine checks, Previous unset.
	Input Input
}

// Path returns where the case lives in the source tree, relative to the
// module root.
func (x Example) Path() string {
	return path.Join("conformance/check/testdata/rules", x.Rule, x.Name)
}

// Options returns the options the case is checked with: NewOptions(),
// without the schema for a ".noschema." case, strict for a ".strict." one.
func (x Example) Options() Options {
	opts := NewOptions()
	if strings.Contains(x.Name, ".noschema.") {
		opts.Schema = nil
	}
	opts.Strict = strings.Contains(x.Name, ".strict.")
	return opts
}

// Check checks the case's scrapes in order, each as the successor of the
// one before, and returns the report of the last.
func (x Example) Check() *Report {
	opts := x.Options()
	var report *Report
	for _, s := range x.Scrapes {
		in := s.Input
		if report != nil {
			in.Previous = report.Exposition
		}
		report = Check(in, opts)
	}
	return report
}

// RuleExamples returns the cases of the rule with the given ID, in name
// order, and an error when one cannot be read: a malformed case is a bug
// the engine's tests catch.
func RuleExamples(id string) ([]Example, error) {
	if _, ok := LookupRule(id); !ok {
		return nil, fmt.Errorf("unknown rule %q: `promcheck rules` lists them", id)
	}
	dir := path.Join("testdata/rules", id)
	entries, err := fs.ReadDir(ruleCases, dir)
	if err != nil {
		return nil, fmt.Errorf("rule %s: no cases: %w", id, err)
	}
	var out []Example
	for _, e := range entries {
		name := e.Name()
		good := strings.HasPrefix(name, "good")
		if !good && !strings.HasPrefix(name, "bad") {
			continue
		}
		x := Example{Rule: id, Name: name, Good: good}
		files := []string{name}
		if e.IsDir() {
			inner, err := fs.ReadDir(ruleCases, path.Join(dir, name))
			if err != nil {
				return nil, err
			}
			files = files[:0]
			for _, f := range inner {
				files = append(files, path.Join(name, f.Name()))
			}
			slices.Sort(files)
		}
		for _, f := range files {
			s, err := readExampleScrape(dir, f)
			if err != nil {
				return nil, fmt.Errorf("rule %s, case %s: %w", id, f, err)
			}
			x.Scrapes = append(x.Scrapes, s)
		}
		out = append(out, x)
	}
	return out, nil
}

// readExampleScrape reads one case file into what the engine checks.
func readExampleScrape(dir, file string) (ExampleScrape, error) {
	data, err := ruleCases.ReadFile(path.Join(dir, file))
	if err != nil {
		return ExampleScrape{}, err
	}
	s := ExampleScrape{File: file, Raw: data}
	switch path.Ext(file) {
	case ".prom":
		s.Input = Input{Body: data, ContentType: ContentTypeText}
	case ".om":
		s.Input = Input{Body: data, ContentType: ContentTypeOpenMetrics}
	case ".om2":
		s.Input = Input{Body: data, ContentType: ContentTypeOpenMetrics2}
	case ".pb":
		s.Input = Input{Body: data, ContentType: ContentTypeProtobuf}
	case ".txt":
		s.Input = Input{Body: data}
	case ".http":
		s.Request, s.Input, err = readHTTPExample(path.Base(file), data)
	default:
		err = fmt.Errorf("unknown case extension %q", path.Ext(file))
	}
	return s, err
}

// readHTTPExample reads an .http case: request lines, then the response.
func readHTTPExample(name string, data []byte) (http.Header, Input, error) {
	request := http.Header{}
	for bytes.HasPrefix(data, []byte("> ")) {
		line, rest, _ := bytes.Cut(data, []byte("\n"))
		key, value, _ := strings.Cut(string(line[2:]), ":")
		request.Add(key, strings.TrimSpace(value))
		data = rest
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(data)), nil)
	if err != nil {
		return nil, Input{}, err
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, Input{}, fmt.Errorf("body: %w", err)
	}
	var servedProtocols []Protocol
	if list := request.Get("Served-Protocols"); list != "" {
		for name := range strings.SplitSeq(list, ",") {
			proto, err := ParseProtocol(strings.TrimSpace(name))
			if err != nil {
				return nil, Input{}, fmt.Errorf("Served-Protocols: %w", err)
			}
			servedProtocols = append(servedProtocols, proto)
		}
	}
	facts := &HTTPFacts{
		ServedProtocols: servedProtocols,
		URL:             "http://" + name + "/metrics",
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
			return nil, Input{}, fmt.Errorf("Scrape-Limit %q is not a byte count", limit)
		}
		facts.Limit = int64(n)
		if len(body) > n {
			body, facts.TooLarge = body[:n], true
		}
	}
	return request, Input{Body: body, ContentType: resp.Header.Get("Content-Type"), HTTP: facts}, nil
}

func gunzip(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}
