package conformance

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/conformance/scrape"
	"github.com/deploymetrics/deploymetrics/counters"
)

// Run runs the whole suite against the emitters cfg makes, as one go test:
//
//	func TestMyEmitter(t *testing.T) {
//		cfg := conformance.NewConfig()
//		cfg.NewEmitter = newMyEmitter
//		conformance.Run(t, cfg)
//	}
//
// Ginkgo runs specs once per process, so a test binary calls Run at most
// once; to run the suite for several configs, or next to specs of your
// own, use Register in one Ginkgo tree. Ginkgo's flags work through go
// test, e.g. `go test -run TestMyEmitter -ginkgo.label-filter='!concurrency'
// -ginkgo.junit-report=conformance.xml`.
func Run(t *testing.T, cfg Config) {
	t.Helper()
	if err := cfg.validate(); err != nil {
		t.Fatalf("conformance.Config:\n%v", err)
	}
	Describe("deploy metric emitter conformance", func() { Register(&cfg) })
	RegisterFailHandler(Fail)
	RunSpecs(t, "deploy metric emitter conformance")
}

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
		Fail("conformance.Config:\n" + err.Error())
	}
	e, err := tc.Config.NewEmitter()
	if err != nil {
		Fail("Config.NewEmitter: " + err.Error())
	}
	if err := validateEmitter(e); err != nil {
		Fail("Config.NewEmitter: " + err.Error())
	}
	tc.Emitter = e
	if e.Close != nil {
		DeferCleanup(e.Close)
	}
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
// Config.MaxBytes). A response the engine should judge (a wrong status or
// Content-Type) is returned.
func (tc *TestContext) Scrape(accept string) check.Input {
	return tc.scrape(scrape.Options{Accept: accept})
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
		if tc.Config.OpenMetrics && in.HTTP != nil {
			// The emitter declares OpenMetrics, so it can serve it: text
			// where the scraper preferred OpenMetrics is a missed
			// preference, not the text fallback of a text-only target.
			in.HTTP.ServedProtocols = []check.Protocol{check.OpenMetricsText1_0_0, check.PrometheusText0_0_4}
		}
		return in
	}
	body, contentType, err := tc.Emitter.Scrape(ctx, opts.Accept)
	if err != nil {
		Fail(fmt.Sprintf("Emitter.Scrape(%q): %v", opts.Accept, err))
	}
	if int64(len(body)) > tc.Config.MaxBytes {
		Fail(fmt.Sprintf("Emitter.Scrape(%q): the body has %d bytes, over Config.MaxBytes (%d)", opts.Accept, len(body), tc.Config.MaxBytes))
	}
	if want := formatOfAccept(opts.Accept); check.FormatOf(contentType) != want {
		// Over HTTP the engine's http.negotiation judges this; without
		// HTTP facts the suite has to.
		Fail(fmt.Sprintf("[suite.format] Emitter.Scrape(%q) returned Content-Type %q, not the %s format asked for", opts.Accept, contentType, want))
	}
	return check.Input{Body: body, ContentType: contentType}
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

// requireRecord skips a spec on outcome recording for an emitter without.
func (tc *TestContext) requireRecord() {
	if tc.Emitter.Record == nil {
		Skip("outcome recording not supported by this emitter: Emitter.Record is nil (it ticks counters one by one)")
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
