package conformance

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/conformance/scrape"
	"github.com/deploymetrics/deploymetrics/counters"
)

// Run runs the whole suite against the emitters cfg makes, and against
// those of every further config, as one go test: each config's specs run
// in a container named by Config.Name, and ReportSummary prints one
// summary per config at the end.
//
//	func TestMyEmitter(t *testing.T) {
//		cfg := conformance.NewConfig()
//		cfg.NewEmitter = newMyEmitter
//		conformance.Run(t, cfg)
//	}
//
// Ginkgo runs specs once per process, so Run takes every config at once
// and a test binary calls it once: a second call fails its test, saying
// so, instead of letting Ginkgo end the process. To run the suite next to
// specs of your own, use Register in your own Ginkgo tree. Ginkgo's flags
// work through go test, e.g. `go test -run TestMyEmitter
// -ginkgo.label-filter='!concurrency' -ginkgo.junit-report=conformance.xml`.
func Run(t *testing.T, cfg Config, more ...Config) {
	t.Helper()
	cfgs := append([]Config{cfg}, more...)
	names := make(map[string]bool, len(cfgs))
	for i := range cfgs {
		if err := cfgs[i].validate(); err != nil {
			t.Fatalf("conformance.Config %q:\n%v", cfgs[i].name(), err)
		}
		if names[cfgs[i].name()] {
			t.Fatalf("conformance.Run: two configs are named %q: give each its own Config.Name, so that the summary and the reports tell them apart", cfgs[i].name())
		}
		names[cfgs[i].name()] = true
	}
	if !runOnce.CompareAndSwap(false, true) {
		t.Fatal("conformance.Run was already called in this test binary: Ginkgo runs specs once per process. Pass every config to one call, conformance.Run(t, cfgA, cfgB), or use conformance.Register in one Ginkgo tree")
	}
	for i := range cfgs {
		Describe(cfgs[i].name(), func() { Register(&cfgs[i]) })
	}
	ReportAfterSuite(summaryEntry, ReportSummary)
	RegisterFailHandler(Fail)
	RunSpecs(t, "deploy metric emitter conformance")
}

// runOnce mirrors Ginkgo's own once-per-process state (which it does not
// export): RunSpecs ends the process when called twice, and Run turns that
// into a failed test that says what to do.
var runOnce atomic.Bool

// Register only registers the suite's specs in the Ginkgo tree being built,
// for a team that runs them inside its own suite. cfg is read when each
// spec starts, not when Register is called, so a BeforeEach of the
// enclosing container may change it:
//
//	var _ = Describe("my emitter", func() {
//		cfg := conformance.NewConfig()
//		BeforeEach(func() { cfg.NewEmitter = newMyEmitter })
//		conformance.Register(&cfg)
//	})
//
// An invalid config fails every spec with the reason.
func Register(cfg *Config) {
	for _, r := range registry {
		tc := &TestContext{cfg: cfg}
		Describe(r.text, func() {
			BeforeEach(tc.setup)
			r.body(tc)
		})
	}
}

// registered is one DescribeConformance call.
type registered struct {
	text string
	body func(tc *TestContext)
}

// registry holds the spec groups in the order their files declare them. It
// is appended to only while packages initialise (DescribeConformance is
// called from package-level var declarations) and read after.
var registry []registered

// DescribeConformance adds a group of specs to the suite, the way each spec
// file of this package adds itself:
//
//	var _ = conformance.DescribeConformance("my group", func(tc *conformance.TestContext) {
//		It("...", conformance.SpecID("my-spec"), func() { ... tc.Emitter ... })
//	})
//
// body runs when the tree is built, once per Register call; the specs it
// declares read tc when they run, after a fresh emitter was made. Call it
// only from package-level declarations, before any Register.
func DescribeConformance(text string, body func(tc *TestContext)) bool {
	registry = append(registry, registered{text: text, body: body})
	return true
}

// SpecID returns the Ginkgo label that names a spec: stable, so that a
// label filter, a mutant's expectation or a CI log can refer to it. The IDs
// of the suite's specs are listed in the package documentation.
func SpecID(id string) Labels { return Label(id) }

// TestContext is what a spec works with: the config in effect, a fresh
// emitter, and a seeded random source. A new emitter is made before every
// spec and closed after it.
type TestContext struct {
	// Config is the config in effect for the running spec (a copy).
	Config Config
	// Emitter is the fresh emitter made for the running spec.
	Emitter *Emitter
	// Seed is the seed of the run; Rand is the running spec's source,
	// derived from Seed and the spec's text.
	Seed int64
	Rand *rand.Rand

	cfg    *Config
	url    string // where to scrape, for Handler and URL emitters
	client *http.Client
}

// setup makes the fresh emitter of a spec. It is a BeforeEach.
func (tc *TestContext) setup() {
	tc.Config = *tc.cfg
	if err := tc.Config.validate(); err != nil {
		Fail(fmt.Sprintf("conformance.Config %q:\n%s", tc.Config.name(), err))
	}
	e := tc.newEmitter()
	tc.Emitter = e
	tc.url = e.URL
	if e.Handler != nil {
		srv := httptest.NewServer(e.Handler)
		DeferCleanup(srv.Close)
		tc.url = srv.URL + "/metrics/prometheus"
	}
	tc.client = scrape.NewClient(nil)
	DeferCleanup(tc.client.CloseIdleConnections)

	tc.Seed = tc.Config.Seed
	if tc.Seed == 0 {
		tc.Seed = GinkgoRandomSeed()
	}
	h := fnv.New64a()
	h.Write([]byte(CurrentSpecReport().FullText()))
	tc.Rand = rand.New(rand.NewPCG(uint64(tc.Seed), h.Sum64()))
	GinkgoWriter.Printf("seed %d: rerun with -ginkgo.seed=%d (or Config.Seed) to repeat this spec's sequence\n", tc.Seed, tc.Seed)
}

// newEmitter makes the spec's fresh emitter with makeEmitter, and closes
// it when the spec ends.
func (tc *TestContext) newEmitter() *Emitter {
	GinkgoHelper()
	e := tc.makeEmitter()
	if e.Close != nil {
		DeferCleanup(e.Close)
	}
	return e
}

// makeEmitter makes a fresh emitter with Config.NewEmitter, and fails the
// spec when it cannot. Closing it is the caller's.
func (tc *TestContext) makeEmitter() *Emitter {
	GinkgoHelper()
	e, err := tc.Config.NewEmitter()
	if err != nil {
		Fail("Config.NewEmitter: " + err.Error())
	}
	if err := validateEmitter(e); err != nil {
		Fail("Config.NewEmitter: " + err.Error())
	}
	return e
}

// HTTP reports whether the emitter is scraped over HTTP (Handler or URL),
// so that the http.* rules apply.
func (tc *TestContext) HTTP() bool { return tc.url != "" }

// Accepts returns the Accept headers the suite asks for the declared
// protocols with, AcceptFor(p) for each of Protocols, in that order.
func (tc *TestContext) Accepts() []string {
	var out []string
	for _, p := range tc.Protocols() {
		out = append(out, AcceptFor(p))
	}
	return out
}

// Scrape scrapes the emitter once with an Accept header and fails the spec
// when there is nothing to judge (no response, a body cut short or over
// Config.MaxBytes), or when accept is AcceptFor(p) of a declared protocol
// p and the answer is in another protocol ([suite.declared]: each of those
// headers allows the text format 0.0.4 as a fallback, which an emitter
// that declares p must not take). A response the engine should judge (a
// wrong status or Content-Type) is returned.
func (tc *TestContext) Scrape(accept string) check.Input {
	GinkgoHelper()
	in := tc.scrape(scrape.Options{Accept: accept})
	tc.expectProtocol(in, accept)
	return in
}

func (tc *TestContext) scrape(opts scrape.Options) check.Input {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), tc.Config.ScrapeTimeout)
	defer cancel()
	if tc.url != "" {
		opts.MaxBytes = tc.Config.MaxBytes
		in, err := scrape.Get(ctx, tc.client, tc.url, opts)
		if err != nil {
			Fail(err.Error())
		}
		tc.declareServed(in.HTTP)
		return in
	}
	return tc.scrapeFunc(ctx, tc.Emitter, opts.Accept)
}

// declareServed tells the engine which protocols the emitter can serve, as
// its configuration declares them (HTTPFacts.ServedProtocols): serving
// another where the scraper preferred a declared protocol is then a missed
// preference (http.negotiation-preference), not the text fallback of a
// target that cannot serve it.
func (tc *TestContext) declareServed(h *check.HTTPFacts) {
	if h != nil {
		h.ServedProtocols = tc.Protocols()
	}
}

// scrapeFunc scrapes e through its Scrape function.
func (tc *TestContext) scrapeFunc(ctx context.Context, e *Emitter, accept string) check.Input {
	GinkgoHelper()
	body, contentType, err := e.Scrape(ctx, accept)
	if err != nil {
		Fail(fmt.Sprintf("Emitter.Scrape(%q): %v", accept, err))
	}
	if int64(len(body)) > tc.Config.MaxBytes {
		Fail(fmt.Sprintf("Emitter.Scrape(%q): the body has %d bytes, over Config.MaxBytes (%d)", accept, len(body), tc.Config.MaxBytes))
	}
	return check.Input{Body: body, ContentType: contentType}
}

// inProcessURL is the URL an in-process scrape reports in its HTTP facts.
const inProcessURL = "http://in-process/metrics/prometheus"

// scrapeInProcess scrapes e as fast as the suite can, for the race specs:
// its Handler called in process (no socket, no connection to wait for),
// else its Scrape function; an emitter given by URL alone is scraped over
// HTTP. The answer is held to the format asked for, as Scrape does.
func (tc *TestContext) scrapeInProcess(e *Emitter, accept string) check.Input {
	GinkgoHelper()
	var in check.Input
	switch {
	case e.Handler != nil:
		req := httptest.NewRequest(http.MethodGet, inProcessURL, nil)
		req.Header.Set("Accept", accept)
		req.Header.Set("Accept-Encoding", "identity")
		rec := httptest.NewRecorder()
		e.Handler.ServeHTTP(rec, req)
		if int64(rec.Body.Len()) > tc.Config.MaxBytes {
			Fail(fmt.Sprintf("in-process GET (Accept: %s): the body has %d bytes, over Config.MaxBytes (%d)", accept, rec.Body.Len(), tc.Config.MaxBytes))
		}
		in = check.Input{Body: rec.Body.Bytes(), ContentType: rec.Header().Get("Content-Type"), HTTP: &check.HTTPFacts{
			URL: inProcessURL, Accept: accept, AcceptEncoding: "identity",
			StatusCode: rec.Code, Header: rec.Header(), WireBytes: int64(rec.Body.Len()), Limit: tc.Config.MaxBytes,
		}}
		tc.declareServed(in.HTTP)
	case e.Scrape != nil:
		ctx, cancel := context.WithTimeout(context.Background(), tc.Config.ScrapeTimeout)
		defer cancel()
		in = tc.scrapeFunc(ctx, e, accept)
	default:
		ctx, cancel := context.WithTimeout(context.Background(), tc.Config.ScrapeTimeout)
		defer cancel()
		var err error
		in, err = scrape.Get(ctx, tc.client, e.URL, scrape.Options{Accept: accept, NoGzip: true, MaxBytes: tc.Config.MaxBytes})
		if err != nil {
			Fail(err.Error())
		}
		tc.declareServed(in.HTTP)
	}
	tc.expectProtocol(in, accept)
	return in
}

// Options returns the engine options of the config (the deploy schema for
// the namespace unless Config.Options names another), as a copy a spec may
// change. Three warnings become errors, unless the config sets their
// severity itself (by rule or group):
//
//   - invariant.*, for an emitter that records whole outcomes: SPEC.md §2.3
//     excuses a torn snapshot only in an emitter that ticks counters one by
//     one.
//   - http.negotiation-preference: the suite tells the engine the declared
//     protocols (HTTPFacts.ServedProtocols), so it fires only where the
//     emitter served another protocol while the Accept header preferred
//     one it declares, which content_negotiation.md says it MUST serve.
//   - http.content-type-params: a Content-Type without its version, or a
//     1.0.0 text format's without the escaping scheme the request asked
//     for, which content_negotiation.md says it MUST include.
func (tc *TestContext) Options() check.Options {
	o := tc.Config.options()
	if tc.Emitter != nil && tc.Emitter.Record != nil {
		raise(o.Severities, tc.Config.Options.Severities, "invariant")
	}
	raise(o.Severities, tc.Config.Options.Severities, "http.negotiation-preference")
	raise(o.Severities, tc.Config.Options.Severities, "http.content-type-params")
	return o
}

// raise makes rule (an ID or a group) an error in sev, unless the config's
// own severities (configured) set it, its group, or a rule of the group.
func raise(sev, configured map[string]check.Severity, rule string) {
	group, _, _ := strings.Cut(rule, ".")
	for key := range configured {
		k := strings.TrimSuffix(key, ".*")
		if k == rule || k == group || strings.HasPrefix(k, rule+".") {
			return
		}
	}
	sev[rule] = check.Error
}

// Check judges one scrape with opts, as the successor of prev (nil for a
// first scrape), and fails the spec with every finding and the lines they
// point at when the report fails. what says which scrape it was.
func (tc *TestContext) Check(in check.Input, prev *check.Exposition, opts check.Options, what string) *check.Report {
	GinkgoHelper()
	in.Previous = prev
	r := check.Check(in, opts)
	if r.Failed() {
		Fail(fmt.Sprintf("%s: the check engine rejects the exposition (%s, seed %d):\n%s", what, tc.describeInput(in), tc.Seed, describeReport(r)))
	}
	return r
}

func (tc *TestContext) describeInput(in check.Input) string {
	where := "Emitter.Scrape"
	if in.HTTP != nil {
		where = in.HTTP.URL + " Accept: " + in.HTTP.Accept
	}
	return fmt.Sprintf("%s, Content-Type %q, %d bytes", where, in.ContentType, len(in.Body))
}

// expectModel fails the spec unless the exposition shows exactly what the
// model holds.
func (tc *TestContext) expectModel(r *check.Report, m *model, what string) {
	GinkgoHelper()
	if d := m.diff(r.Exposition, tc.Config.Namespace); len(d) > 0 {
		Fail(fmt.Sprintf("[suite.model] %s: the exposition differs from the model the suite kept of its ticks (seed %d):\n%s",
			what, tc.Seed, listMismatches(d)))
	}
}

// lastScrapes holds the last exposition of each protocol a spec scraped,
// the predecessor the next scrape of that protocol is checked against. A
// nil lastScrapes is empty.
type lastScrapes map[check.Protocol]*check.Exposition

// after returns lastScrapes in which exp is the predecessor of every
// declared protocol's next scrape: counters never go down, whatever the
// protocol they are read in.
func (tc *TestContext) after(exp *check.Exposition) lastScrapes {
	last := make(lastScrapes)
	for _, p := range tc.Protocols() {
		last[p] = exp
	}
	return last
}

// scrapeAll scrapes every declared protocol, checks each scrape as the
// successor of the last scrape of the same protocol in prev, and checks
// each against the model when m is not nil. Each protocol is compared with
// itself, so that a value one protocol gets wrong is the model's finding
// (the exposition differs), not a counter that seems to go down from one
// protocol to the next. It returns the new last scrapes, for the next
// call's prev.
func (tc *TestContext) scrapeAll(prev lastScrapes, opts check.Options, m *model, what string) lastScrapes {
	GinkgoHelper()
	last := make(lastScrapes)
	for _, p := range tc.Protocols() {
		in := tc.Scrape(AcceptFor(p))
		label := fmt.Sprintf("%s, %s", what, p)
		r := tc.Check(in, prev[p], opts, label)
		if m != nil {
			tc.expectModel(r, m, label)
		}
		last[p] = r.Exposition
	}
	return last
}

// requireTick skips a spec that must drive the emitter when it cannot be.
func (tc *TestContext) requireTick() {
	if tc.Emitter.Tick == nil {
		Skip("ticking not supported by this emitter: Emitter.Tick is nil, so only the passive specs run")
	}
}

// tickOutcome ticks the counters of outcome o one by one, as the modelled
// system does, and counts them in m.
func (tc *TestContext) tickOutcome(m *model, targetType string, o counters.Outcome) {
	for _, c := range Ticks(o) {
		tc.Emitter.Tick(c, targetType)
	}
	m.outcome(targetType, o)
}

// deploy counts one deployment: recorded whole when the emitter can, else
// ticked one counter at a time.
func (tc *TestContext) deploy(m *model, targetType string, o counters.Outcome) {
	if tc.Emitter.Record != nil {
		tc.Emitter.Record(targetType, o)
		m.outcome(targetType, o)
		return
	}
	tc.tickOutcome(m, targetType, o)
}

// randomOutcome draws one of the eight outcomes.
func randomOutcome(r *rand.Rand) counters.Outcome {
	return Outcomes()[r.IntN(len(Outcomes()))]
}

// randomTargetType draws one of the configured target types.
func (tc *TestContext) randomTargetType(r *rand.Rand) string {
	return tc.Config.TargetTypes[r.IntN(len(tc.Config.TargetTypes))]
}
