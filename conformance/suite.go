package conformance

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
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

// Accepts returns the Accept headers of the formats the emitter declares:
// text, and OpenMetrics when Config.OpenMetrics is set.
func (tc *TestContext) Accepts() []string {
	if tc.Config.OpenMetrics {
		return []string{scrape.AcceptText, scrape.AcceptOpenMetrics}
	}
	return []string{scrape.AcceptText}
}

// Scrape scrapes the emitter once with an Accept header and fails the spec
// when there is nothing to judge (no response, a body cut short or over
// Config.MaxBytes), or when the emitter was asked for a format it declares
// and answered in another ([suite.declared]; scrape.AcceptOpenMetrics
// allows the text format as a fallback, which an emitter that declares
// OpenMetrics must not take). A response the engine should judge (a wrong
// status or Content-Type) is returned.
func (tc *TestContext) Scrape(accept string) check.Input {
	GinkgoHelper()
	in := tc.scrape(scrape.Options{Accept: accept})
	tc.expectFormat(in, accept)
	return in
}

// expectFormat fails the spec when an answer to one of the suite's own
// Accept headers is not in the format asked for. Over HTTP a text request
// answered otherwise is the engine's (http.negotiation); without HTTP
// facts the suite judges it ([suite.format]).
func (tc *TestContext) expectFormat(in check.Input, accept string) {
	GinkgoHelper()
	if in.HTTP != nil && in.HTTP.StatusCode != http.StatusOK {
		return // http.status says it
	}
	want, got := formatOfAccept(accept), check.FormatOf(in.ContentType)
	switch {
	case got == want:
	case want == check.FormatOpenMetrics:
		tc.disagree("openmetrics", fmt.Sprintf("asked with Accept %q (OpenMetrics preferred, text allowed as a fallback), the emitter answered Content-Type %q", accept, in.ContentType))
	case in.HTTP == nil:
		Fail(fmt.Sprintf("[suite.format] Emitter.Scrape(%q) returned Content-Type %q, not the %s format asked for", accept, in.ContentType, want))
	}
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
// its configuration declares them (HTTPFacts.ServedProtocols): text where
// the scraper preferred a declared protocol is then a missed preference,
// not the text fallback of a text-only target.
func (tc *TestContext) declareServed(h *check.HTTPFacts) {
	if h != nil && tc.Config.OpenMetrics {
		h.ServedProtocols = []check.Protocol{check.OpenMetricsText1_0_0, check.PrometheusText0_0_4}
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
	}
	tc.expectFormat(in, accept)
	return in
}

func formatOfAccept(accept string) check.Format {
	if accept == scrape.AcceptOpenMetrics {
		return check.FormatOpenMetrics
	}
	return check.FormatText
}

// Options returns the engine options of the config (the deploy schema for
// the namespace unless Config.Options names another), as a copy a spec may
// change. For an emitter that records whole outcomes the invariant.*
// warnings become errors, unless the config sets their severity itself:
// DESIGN §2 excuses a torn snapshot only in an emitter that ticks counters
// one by one.
func (tc *TestContext) Options() check.Options {
	o := tc.Config.options()
	if tc.Emitter != nil && tc.Emitter.Record != nil {
		if _, set := o.Severities["invariant"]; !set {
			if _, set := o.Severities["invariant.*"]; !set {
				o.Severities["invariant"] = check.Error
			}
		}
	}
	return o
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

// scrapeAll scrapes every declared format, checks each scrape as the
// successor of the previous one (prev, then each other), and checks each
// against the model when m is not nil. It returns the last report's
// exposition, for the next call's prev.
func (tc *TestContext) scrapeAll(prev *check.Exposition, opts check.Options, m *model, what string) *check.Exposition {
	GinkgoHelper()
	for _, accept := range tc.Accepts() {
		in := tc.Scrape(accept)
		label := fmt.Sprintf("%s, %s format", what, formatOfAccept(accept))
		r := tc.Check(in, prev, opts, label)
		if m != nil {
			tc.expectModel(r, m, label)
		}
		prev = r.Exposition
	}
	return prev
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
