package mutants

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/deploymetrics/deploymetrics/conformance"
	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
)

// envMutant names the emitter TestSuiteAgainstMutant runs the suite
// against: a mutant's name, "reference" or "control".
const envMutant = "DEPLOYMETRICS_MUTANT"

// envSeed fixes the Ginkgo seed of the meta-test's runs, to reproduce one.
const envSeed = "DEPLOYMETRICS_MUTANT_SEED"

// TestSuiteAgainstMutant runs the whole suite, through conformance.Run, for
// the emitter envMutant names. TestMutantsAreKilled runs it in a child
// process per emitter; alone it skips.
func TestSuiteAgainstMutant(t *testing.T) {
	name := os.Getenv(envMutant)
	if name == "" {
		t.Skip("run by TestMutantsAreKilled, once per emitter, with " + envMutant + " naming it")
	}
	cfg, ok := configOf(name)
	if !ok {
		t.Fatalf("%s=%q names no mutant, and is neither reference nor control", envMutant, name)
	}
	conformance.Run(t, cfg)
}

func configOf(name string) (conformance.Config, bool) {
	switch name {
	case "reference":
		return conformance.ReferenceConfig(MaxTargetTypes), true
	case "control":
		return Control(), true
	}
	m, ok := Lookup(name)
	return m.Config(), ok
}

// run is the outcome of one child run of the suite.
type run struct {
	name    string
	failed  map[string]string // spec ID -> failure message, for failed specs
	skipped []string
	passed  int
	specs   []string // the IDs of every spec in the report
	output  string
	err     error // the child could not be run or left no report
}

// TestMutantsAreKilled runs the real suite against every mutant, the
// reference emitter and the defect-free scaffold, each in a child process
// (the test binary itself, so -race carries over), two at a time. Every
// mutant must fail its declared spec with its declared rule in the
// message; the reference and the control must pass every spec, none
// skipped.
// raceRuns is how many runs of its race spec a race mutant gets before it
// counts as surviving (see TestMutantsAreKilled).
const raceRuns = 3

func TestMutantsAreKilled(t *testing.T) {
	if os.Getenv(envMutant) != "" {
		t.Skip("inside a child run")
	}
	seed := rand.Int64N(1<<31) + 1
	if s := os.Getenv(envSeed); s != "" {
		var err error
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", envSeed, s, err)
		}
	}
	t.Logf("Ginkgo seed %d (set %s=%d to repeat)", seed, envSeed, seed)

	all := All()
	names := []string{"reference", "control"}
	for _, m := range all {
		names = append(names, m.Name)
	}
	runs := make([]run, len(names))
	dir := t.TempDir()
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			runs[i] = runSuite(dir, name, seed)
		})
	}
	wg.Wait()
	// A race mutant's defect shows only when two goroutines run side by
	// side at the right nanosecond. One run of the race specs (1 s) caught
	// each in 218 to 220 of 220 measured runs under -race (conformance
	// doc.go), but on a CI machine whose two cores other test packages
	// keep busy, a run can go by without the goroutines ever overlapping.
	// Such a mutant gets up to raceRuns runs: the meta-test proves the spec
	// can catch it, and the table says how many runs it took.
	attempts := make([]int, len(all))
	for i, m := range all {
		r := &runs[i+2]
		survived := func() bool { _, caught := r.failed[m.Spec]; return r.err == nil && !caught }
		attempts[i] = 1
		for m.Race && survived() && attempts[i] < raceRuns {
			t.Logf("mutant %s survived run %d of its race spec %s; running it again", m.Name, attempts[i], m.Spec)
			attempts[i]++
			*r = runSuite(dir, m.Name, seed+int64(attempts[i]))
		}
	}

	for _, r := range runs[:2] {
		switch {
		case r.err != nil:
			t.Errorf("%s: %v\n%s", r.name, r.err, tail(r.output))
		case len(r.failed) > 0:
			t.Errorf("%s: must pass the whole suite, but failed %s:\n%s", r.name, strings.Join(slices.Sorted(maps.Keys(r.failed)), ", "), tail(r.output))
		case len(r.skipped) > 0:
			t.Errorf("%s: declares every capability, but the suite skipped %s", r.name, strings.Join(r.skipped, ", "))
		case r.passed == 0:
			t.Errorf("%s: no spec ran", r.name)
		}
	}

	// A mutant must name a spec the suite has (the reference ran them
	// all), and every spec must have a mutant: the proof that it can fail.
	if runs[0].err == nil {
		for _, m := range all {
			if !slices.Contains(runs[0].specs, m.Spec) {
				t.Errorf("mutant %s: spec %q is not a spec of the suite (its specs: %v)", m.Name, m.Spec, runs[0].specs)
			}
		}
		for _, id := range runs[0].specs {
			if !slices.ContainsFunc(all, func(m Mutant) bool { return m.Spec == id }) {
				t.Errorf("spec %s has no mutant: nothing proves it can fail; add one to All", id)
			}
		}
	}

	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "mutant\tmust fail\twith\tverdict\talso failed")
	killed := 0
	for i, m := range all {
		r := runs[i+2]
		verdict := "killed"
		msg, failed := r.failed[m.Spec]
		switch {
		case r.err != nil:
			verdict = "ERROR"
			t.Errorf("mutant %s: %v\n%s", m.Name, r.err, tail(r.output))
		case !failed:
			verdict = "SURVIVED"
			t.Errorf("mutant %s (%s) survived: spec %s did not fail (failed: %v)", m.Name, m.Defect, m.Spec, slices.Sorted(maps.Keys(r.failed)))
		case !m.Names(msg):
			verdict = "WRONG RULE"
			t.Errorf("mutant %s: spec %s failed, but its message does not name %s:\n%s", m.Name, m.Spec, m.Rule, msg)
		default:
			killed++
			if attempts[i] > 1 {
				verdict = fmt.Sprintf("killed in run %d", attempts[i])
			}
		}
		var also []string
		for id := range r.failed {
			if id != m.Spec {
				also = append(also, id)
			}
		}
		slices.Sort(also)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Name, m.Spec, m.Rule, verdict, strings.Join(also, " "))
	}
	tw.Flush()
	summary := fmt.Sprintf("mutants killed: %d/%d", killed, len(all))
	t.Logf("\n%s%s", table.String(), summary)
	fmt.Println(summary)
}

// runSuite runs TestSuiteAgainstMutant in a child process for one emitter
// and reads the specs' states from its Ginkgo JSON report.
func runSuite(dir, name string, seed int64) run {
	r := run{name: name, failed: make(map[string]string)}
	report := filepath.Join(dir, name+".json")
	cmd := exec.Command(os.Args[0],
		"-test.run=^TestSuiteAgainstMutant$", "-test.count=1",
		"-ginkgo.seed="+strconv.FormatInt(seed, 10),
		"-ginkgo.json-report="+report,
		"-ginkgo.no-color")
	cmd.Env = append(os.Environ(), envMutant+"="+name)
	out, runErr := cmd.CombinedOutput()
	r.output = string(out)
	if strings.Contains(r.output, "WARNING: DATA RACE") {
		r.err = fmt.Errorf("the race detector reported a data race")
		return r
	}
	data, err := os.ReadFile(report)
	if err != nil {
		r.err = fmt.Errorf("no Ginkgo report (the child exited with %v): %w", runErr, err)
		return r
	}
	var reports []types.Report
	if err := json.Unmarshal(data, &reports); err != nil {
		r.err = fmt.Errorf("reading the Ginkgo report: %w", err)
		return r
	}
	for _, rep := range reports {
		for _, s := range rep.SpecReports {
			if s.LeafNodeType != types.NodeTypeIt {
				continue
			}
			id := specID(s.LeafNodeLabels)
			r.specs = append(r.specs, id)
			switch {
			case s.State == types.SpecStateFailed:
				r.failed[id] = s.Failure.Message
			case s.State == types.SpecStateSkipped:
				r.skipped = append(r.skipped, id)
			case s.State == types.SpecStatePassed:
				r.passed++
			case s.State.Is(types.SpecStateFailureStates):
				// A panic or a timeout is a suite or scaffold bug, never a
				// catch: the meta-test reports it as an error.
				r.err = fmt.Errorf("spec %s ended %s: %s %s", id, s.State, s.Failure.Message, s.Failure.ForwardedPanic)
			}
		}
	}
	if r.err == nil && runErr != nil && len(r.failed) == 0 {
		r.err = fmt.Errorf("the child failed (%v) with no failed spec", runErr)
	}
	return r
}

// specID picks the spec ID out of a spec's labels: the one with a dash.
// Group labels (passive, active, ...) have none.
func specID(labels []string) string {
	for _, l := range labels {
		if strings.Contains(l, "-") {
			return l
		}
	}
	return strings.Join(labels, ",")
}

// tail returns the end of a child's output, where Ginkgo summarises.
func tail(s string) string {
	const n = 3000
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// TestControlIsReference holds the scaffold to its claim: with no defect
// it serves, byte for byte, what the reference handler serves for the same
// counts, in every protocol, so that every mutant differs from the
// reference by its defect alone.
func TestControlIsReference(t *testing.T) {
	cfg := Control()
	e, err := cfg.NewEmitter()
	if err != nil {
		t.Fatal(err)
	}
	dc := counters.NewDeployCounters(counters.WithMaxTargetTypes(MaxTargetTypes))
	ref := handler.NewMetricsHandler()
	ref.SetDeployCounters(dc)
	names := append(counters.KnownTargetTypes(), conformance.HostileTargetTypes()...)
	for i, tt := range names {
		o := conformance.Outcomes()[i%len(conformance.Outcomes())]
		e.Record(tt, o)
		dc.Record(tt, o)
		e.Tick(conformance.IdempotentSkip, tt)
		dc.IncIdempotentSkip(tt)
	}
	// The suite's own Accept headers, Prometheus's, and those of
	// passive-negotiation and passive-negotiation-edge: each protocol
	// alone (under each escaping, or none) and refused with q=0, q=0
	// beside wildcards, wildcards, odd case and spacing, several lines.
	accepts := [][]string{
		{check.AcceptPrometheus2}, {check.AcceptPrometheus3}, {check.AcceptPrometheus3Proto},
		{"application/openmetrics-text;version=1.0.0;q=0.7,text/plain;version=0.0.4;q=0.4"},
		{"application/openmetrics-text;version=1.0.0;q=0,text/plain;version=0.0.4;q=0.5"},
		{"application/openmetrics-text;version=1.0.0;q=0.000,text/plain;version=0.0.4;q=0.1"},
		{"application/openmetrics-text;q=0, */*;q=0.1"},
		{"APPLICATION/OpenMetrics-TEXT ; VERSION=1.0.0 ; Q=0 , text/plain;version=0.0.4"},
		{"text/plain;q=0, */*;q=0.3"}, {"application/*"}, {"*/*"}, {"application/json"}, nil,
		{`Application/OpenMetrics-Text ; Version="1.0.0" ; Q=0.9 ,Text/Plain; Version=0.0.4 ;q=0.5`},
		{"text/plain;version=0.0.4;q=0.5", "application/openmetrics-text;version=1.0.0"},
		{"text/plain;version=0.0.4;q=0.5", "application/openmetrics-text;version=1.0.0;q=0"},
	}
	for _, p := range check.Protocols() {
		accepts = append(accepts, []string{conformance.AcceptFor(p)}, []string{p.AcceptRange("")})
		for _, esc := range []check.EscapingScheme{check.EscapingAllowUTF8, check.EscapingUnderscores, check.EscapingDots, check.EscapingValues} {
			accepts = append(accepts, []string{p.AcceptRange(esc)})
		}
		accepts = append(accepts,
			[]string{p.AcceptRange(check.EscapingAllowUTF8) + ";q=0," + check.PrometheusText0_0_4.AcceptRange("") + ";q=0.5"},
			[]string{p.AcceptRange("") + ";q=0," + check.AcceptPrometheus3Proto})
	}
	encodings := [][]string{
		{"identity"}, {"gzip"}, {"gzip;q=0"}, {"gzip;q=0, identity"}, nil, {"identity, GZIP ; Q=0"}, {"*;q=0, identity"}, {"*"},
		{"identity", "gzip;q=0"}, {"GZip"}, {"identity;q=0.5", "gzip"}, {"x-gzip"},
	}
	compared, served := 0, make(map[string]bool)
	for _, accept := range accepts {
		for _, encoding := range encodings {
			get := func(h http.Handler) *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodGet, "/metrics/prometheus", nil)
				req.Header["Accept"] = accept
				req.Header["Accept-Encoding"] = encoding
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec
			}
			want, got := get(ref), get(e.Handler)
			compared++
			for _, h := range []string{"Content-Type", "Content-Encoding"} {
				if got.Header().Get(h) != want.Header().Get(h) {
					t.Errorf("Accept %q, Accept-Encoding %q: %s %q, the reference sends %q", accept, encoding, h, got.Header().Get(h), want.Header().Get(h))
				}
			}
			if want.Header().Get("Content-Encoding") == "" && got.Body.String() != want.Body.String() {
				t.Errorf("Accept %q: the scaffold's body differs from the reference's:\n%q\nwant:\n%q", accept, got.Body, want.Body)
			}
			served[want.Header().Get("Content-Type")] = true
		}
	}
	// Every protocol the suite asks for was among the answers compared.
	for _, p := range conformance.ReferenceConfig(0).Protocols {
		if !slices.ContainsFunc(slices.Collect(maps.Keys(served)), func(ct string) bool { return protocolOf(ct) == p }) {
			t.Errorf("no header got the reference to serve %s: the comparison misses it", p)
		}
	}
	t.Logf("%d requests compared, %d Content-Types", compared, len(served))
}

// TestMutantsNeverSleep holds the racy mutants to real timing: no mutant
// may sleep or yield to widen its window, so that a race spec that kills
// one catches the defect as it shows in real code.
func TestMutantsNeverSleep(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); ok {
				switch pkg.Name + "." + sel.Sel.Name {
				case "time.Sleep", "time.After", "time.NewTimer", "time.Tick", "runtime.Gosched":
					t.Errorf("%s: %s.%s: a mutant must show its defect on real timing, without pausing", fset.Position(sel.Pos()), pkg.Name, sel.Sel.Name)
				}
			}
			return true
		})
	}
	if checked == 0 {
		t.Fatal("no source file checked")
	}
}

// TestMutantsAreDistinct keeps the list honest: unique names, and a spec,
// a rule and a defect for each.
func TestMutantsAreDistinct(t *testing.T) {
	seen := make(map[string]bool)
	for _, m := range All() {
		if seen[m.Name] {
			t.Errorf("mutant %s listed twice", m.Name)
		}
		seen[m.Name] = true
		if m.Spec == "" || m.Rule == "" || m.Defect == "" || (m.build == nil && m.configure == nil) {
			t.Errorf("mutant %s: Spec, Rule, Defect and the defect itself are required", m.Name)
		}
	}
	if n := len(All()); n < 15 {
		t.Errorf("%d mutants, want at least 15", n)
	}
}
