//go:build unix

package e2e

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// deployFamilies are the six families of the deploy schema (SPEC.md §1.2)
// in the default namespace, as the text format and PromQL name them.
var deployFamilies = []string{
	"certctl_deploy_attempts_total",
	"certctl_deploy_validate_failures_total",
	"certctl_deploy_reload_failures_total",
	"certctl_deploy_post_verify_failures_total",
	"certctl_deploy_rollback_total",
	"certctl_deploy_idempotent_skip_total",
}

// buildPromcheck builds the promcheck binary into dir, once per test run.
func buildPromcheck(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "promcheck")
	began := time.Now()
	args := []string{"build", "-o", bin}
	if raceEnabled {
		// Under go test -race the emitters run with the race detector
		// while a real Prometheus scrapes them (a race fails the test at
		// teardown), and the build reuses the race-built packages that
		// go test -race ./... compiles anyway instead of compiling every
		// dependency a second time.
		args = append(args, "-race")
	}
	args = append(args, "../cmd/promcheck")
	// go test puts its own go first on PATH, so this is the toolchain under test.
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("go %s: %s", strings.Join(args, " "), time.Since(began).Round(time.Millisecond))
	return bin
}

// emitter is a running "promcheck serve".
type emitter struct {
	name string
	url  string // of /metrics/prometheus
	addr string // host:port
	proc *proc
}

// startEmitter runs "promcheck serve" on a port the kernel picks (port 0)
// and reads the URL it prints first, so there is no window in which the
// port could be taken.
func startEmitter(t *testing.T, promcheck, name string, args ...string) *emitter {
	t.Helper()
	p := startProc(t, name, promcheck, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	line, err := p.firstLine(15 * time.Second)
	if err != nil {
		t.Fatalf("%s: %v; last output:\n%s", name, err, p.output.tail(20))
	}
	u, err := url.Parse(line)
	if err != nil || u.Scheme != "http" || u.Path != "/metrics/prometheus" || u.Hostname() != "127.0.0.1" {
		t.Fatalf("%s: first line %q is not the http://127.0.0.1:PORT/metrics/prometheus URL serve promises", name, line)
	}
	if err := waitReady(p, line, 15*time.Second); err != nil {
		t.Fatalf("%s: %v; last output:\n%s", name, err, p.output.tail(20))
	}
	// Registered after startProc's cleanup, so it runs first: stop the
	// emitter, then look at everything it wrote.
	t.Cleanup(func() {
		p.kill(t)
		if out := p.output.String(); strings.Contains(out, "WARNING: DATA RACE") {
			t.Errorf("%s: the race detector reported a data race:\n%s", name, p.output.tail(60))
		}
		if code, err := exitCode(p.err); code != 0 {
			t.Errorf("%s: exit status %d (%v) after SIGTERM, want 0 (a graceful shutdown)", name, code, err)
		}
	})
	return &emitter{name: name, url: line, addr: u.Host, proc: p}
}

// reading is what an emitter reported in one scrape: family -> series
// (labelSig) -> value.
type reading struct {
	families map[string]map[string]float64
	samples  int
}

// read scrapes the emitter in the text format and parses it with
// prometheus/common's expfmt, a parser independent of both the check engine
// and Prometheus's textparse, so a shared parser bug cannot hide a
// mismatch.
func (e *emitter) read() (reading, error) {
	req, err := http.NewRequest(http.MethodGet, e.url, nil)
	if err != nil {
		return reading{}, err
	}
	req.Header.Set("Accept", acceptText)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return reading{}, fmt.Errorf("%s: %w", e.name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return reading{}, fmt.Errorf("%s: read: %w", e.name, err)
	}
	if resp.StatusCode != http.StatusOK {
		return reading{}, fmt.Errorf("%s: %s", e.name, resp.Status)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/plain" {
		return reading{}, fmt.Errorf("%s: asked for text, got Content-Type %q", e.name, resp.Header.Get("Content-Type"))
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		return reading{}, fmt.Errorf("%s: parse: %w", e.name, err)
	}
	r := reading{families: map[string]map[string]float64{}}
	for name, mf := range mfs {
		series := map[string]float64{}
		for _, m := range mf.GetMetric() {
			if m.GetCounter() == nil {
				return reading{}, fmt.Errorf("%s: %s is %s, want counter", e.name, name, mf.GetType())
			}
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			series[labelSig(labels)] = m.GetCounter().GetValue()
			r.samples++
		}
		r.families[name] = series
	}
	if got := sortedKeys(r.families); strings.Join(got, " ") != strings.Join(sortedStrings(deployFamilies), " ") {
		return reading{}, fmt.Errorf("%s: families %v, want the deploy families %v", e.name, got, sortedStrings(deployFamilies))
	}
	return r, nil
}

// labelSig is a canonical, unambiguous name of a label set.
func labelSig(labels map[string]string) string {
	var b strings.Builder
	for i, name := range sortedKeys(labels) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(labels[name]))
	}
	return "{" + b.String() + "}"
}

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
