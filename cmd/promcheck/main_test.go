package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// binary is the promcheck built once for every test: the tests run it as
// a user would. peakRSS is testdata/peakrss, which measures its memory.
var binary, peakRSS string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "promcheck-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "promcheck")
	peakRSS = filepath.Join(dir, "peakrss")
	for _, b := range [][]string{{"-o", binary, "."}, {"-o", peakRSS, "./testdata/peakrss"}} {
		build := exec.Command("go", append([]string{"build"}, b...)...)
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building", b[1], err)
			return 2
		}
	}
	return m.Run()
}

// result is what one run of the binary produced.
type result struct {
	stdout, stderr string
	code           int
	elapsed        time.Duration
	// maxRSS is the peak resident memory of promcheck in bytes, and
	// maxLiveHeap the largest heap the collector found live (its
	// gctrace), when run by promcheckMemory. The live heap is the steadier
	// figure: the peak RSS also depends on when the collector ran.
	maxRSS, maxLiveHeap int64
}

// output is stdout and stderr together, for messages that may be on either.
func (r result) output() string { return r.stdout + r.stderr }

func (r result) String() string {
	return fmt.Sprintf("exit %d after %s\n--- stdout:\n%s--- stderr:\n%s", r.code, r.elapsed.Round(time.Millisecond), r.stdout, r.stderr)
}

// promcheck runs the binary with args and stdin, bounded by a generous
// deadline so that a hang fails the test instead of the whole run.
func promcheck(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runBinary(t, stdin, binary, args...)
}

// promcheckMemory runs promcheck like promcheck does, under peakrss and
// with the collector's trace on, and sets result.maxRSS and maxLiveHeap
// (the trace is taken out of stderr). It skips the test where peak memory
// is not reported as on Linux.
func promcheckMemory(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("peak memory is measured on Linux only")
	}
	r := runBinaryEnv(t, stdin, []string{"GODEBUG=gctrace=1"}, peakRSS, append([]string{binary}, args...)...)
	i := strings.LastIndex(r.stderr, "peakrss: ")
	if i < 0 {
		t.Fatalf("peakrss did not report:\n%s", r)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(r.stderr[i+len("peakrss: "):]), 10, 64)
	if err != nil {
		t.Fatalf("peakrss: %v\n%s", err, r)
	}
	r.stderr, r.maxRSS = r.stderr[:i], n
	// "gc 3 @0.1s 2%: ... ms cpu, 80->81->45 MB, 90 MB goal, ...": the
	// last of the three is the heap found live.
	var rest []string
	for _, line := range strings.SplitAfter(r.stderr, "\n") {
		if m := gcTrace.FindStringSubmatch(line); m != nil {
			live, _ := strconv.ParseInt(m[1], 10, 64)
			r.maxLiveHeap = max(r.maxLiveHeap, live<<20)
			continue
		}
		rest = append(rest, line)
	}
	r.stderr = strings.Join(rest, "")
	return r
}

var gcTrace = regexp.MustCompile(`^gc \d+ @.* \d+->\d+->(\d+) MB`)

func runBinary(t *testing.T, stdin, binary string, args ...string) result {
	t.Helper()
	return runBinaryEnv(t, stdin, nil, binary, args...)
}

// runBinaryEnv runs binary with args, stdin and env added to the test's
// environment.
func runBinaryEnv(t *testing.T, stdin string, env []string, binary string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	r := finished(t, cmd.Run(), &stdout, &stderr, start, args)
	if ctx.Err() != nil {
		t.Fatalf("promcheck %s hung:\n%s", strings.Join(args, " "), r)
	}
	return r
}

// finished is the result of a run started at start that ended with err
// (cmd.Wait's), failing the test if it did not run at all.
func finished(t *testing.T, err error, stdout, stderr *bytes.Buffer, start time.Time, args []string) result {
	t.Helper()
	r := result{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		t.Fatalf("promcheck %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// wantExit fails the test unless the run exited with code.
func wantExit(t *testing.T, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("want exit %d, got:\n%s", code, r)
	}
}

// wantContains fails the test unless s contains every one of subs.
func wantContains(t *testing.T, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("output lacks %q:\n%s", sub, s)
		}
	}
}

func writeFile(t *testing.T, name, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// server starts a test server on loopback, its errors discarded (hostile
// clients and handshakes make it log).
func server(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// recorder is a handler that records each request's headers and serves
// with next.
type recorder struct {
	mu       sync.Mutex
	requests []http.Header
	next     http.Handler
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.requests = append(rec.requests, r.Header.Clone())
	rec.mu.Unlock()
	rec.next.ServeHTTP(w, r)
}

func (rec *recorder) headers() []http.Header {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]http.Header(nil), rec.requests...)
}

// decodeJSON decodes a --output json report into docReport, the shape as
// doc.go documents it, failing on unknown fields, so that the documentation
// and the code cannot drift apart.
func decodeJSON(t *testing.T, r result) docReport {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	var rep docReport
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("decoding the JSON report: %v\n%s", err, r)
	}
	return rep
}

// docReport is the JSON report as doc.go documents it, written out
// independently of the types that produce it.
type docReport struct {
	Version     int    `json:"version"`
	Verdict     string `json:"verdict"`
	ExitCode    int    `json:"exit_code"`
	Schema      string `json:"schema"`
	Strict      bool   `json:"strict"`
	MaxFindings int    `json:"max_findings"`
	Interrupted bool   `json:"interrupted"`
	Summary     struct {
		Targets  int `json:"targets"`
		Passed   int `json:"passed"`
		Failed   int `json:"failed"`
		Errored  int `json:"errored"`
		Skipped  int `json:"skipped"`
		Errors   int `json:"errors"`
		Warnings int `json:"warnings"`
		Infos    int `json:"infos"`
	} `json:"summary"`
	Targets []struct {
		Target  string            `json:"target"`
		URL     string            `json:"url"`
		Files   []string          `json:"files"`
		Labels  map[string]string `json:"labels"`
		Verdict string            `json:"verdict"`
		Error   string            `json:"error"`
		Scrapes []struct {
			Name         string `json:"name"`
			Accept       string `json:"accept"`
			AcceptHeader string `json:"accept_header"`
			ContentType  string `json:"content_type"`
			Format       string `json:"format"`
			Protocol     string `json:"protocol"`
			Escaping     string `json:"escaping"`
			StatusCode   int    `json:"status_code"`
			Redirects    []struct {
				Status int    `json:"status"`
				URL    string `json:"url"`
			} `json:"redirects"`
			Verdict  string `json:"verdict"`
			Findings []struct {
				Rule         string `json:"rule"`
				Severity     string `json:"severity"`
				Family       string `json:"family"`
				Series       string `json:"series"`
				Line         int    `json:"line"`
				Column       int    `json:"column"`
				MessageIndex int    `json:"message_index"`
				Message      string `json:"message"`
				Explain      string `json:"explain"`
				Doc          string `json:"doc"`
			} `json:"findings"`
			Omitted []struct {
				Rule     string `json:"rule"`
				Severity string `json:"severity"`
				Count    int    `json:"count"`
				Explain  string `json:"explain"`
				Doc      string `json:"doc"`
			} `json:"omitted"`
		} `json:"scrapes"`
	} `json:"targets"`
}

// rules returns the rule IDs of every finding of the report, in order.
func (d docReport) rules() []string {
	var ids []string
	for _, t := range d.Targets {
		for _, s := range t.Scrapes {
			for _, f := range s.Findings {
				ids = append(ids, f.Rule)
			}
		}
	}
	return ids
}

// promcheckInterrupted runs the binary with args and sends it SIGINT (a
// Ctrl-C) when trigger fires. It fails the test unless promcheck exits
// within 10 seconds of the signal, killing it then.
func promcheckInterrupted(t *testing.T, trigger <-chan time.Time, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
		t.Logf("promcheck exited before the interrupt")
	case <-trigger:
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("promcheck %s did not stop within 10s of SIGINT:\n--- stdout:\n%s--- stderr:\n%.2000s", strings.Join(args, " "), stdout.String(), stderr.String())
		}
	}
	return finished(t, err, &stdout, &stderr, start, args)
}
