// Package conformance is the Ginkgo conformance suite any deploy metric
// emitter plugs into from its own go test: it drives the emitter, scrapes
// it, and judges every scrape with the check engine (package check), the
// counts against a model the suite keeps of its own ticks.
//
// # Plugging in
//
// An emitter is plugged in through an Emitter: a few functions around it.
// Tick increments one of the eight counters (Counter) for a target type;
// one of Handler, URL or Scrape says how to scrape it; Record (whole
// outcomes), Snapshot and Close are optional. A Config says how to make a
// fresh one for every spec and declares what the emitter can do. An
// emitter with the eight Inc methods of SPEC.md §1.2 (an Incrementer) and
// a snapshot struct of its own with the field names of SPEC.md §1.2 needs no code of
// its own: TickFrom and SnapshotFrom adapt them.
//
//	func TestMyEmitter(t *testing.T) {
//		cfg := conformance.NewConfig() // namespace certctl, the known target types, level Full, ...
//		cfg.Name = "my emitter"
//		cfg.NewEmitter = func() (*conformance.Emitter, error) {
//			e := myemitter.New()
//			return &conformance.Emitter{
//				Tick:     conformance.TickFrom(e),          // e.IncAttemptSuccess(targetType), ...
//				Snapshot: conformance.SnapshotFrom(e.Snapshot), // []myemitter.DeploySnapshot, any order
//				Handler:  e.MetricsHandler(),
//			}, nil
//		}
//		cfg.Protocols = []check.Protocol{ // what it serves when asked
//			check.PrometheusText0_0_4, check.OpenMetricsText1_0_0, check.PrometheusProto,
//		}
//		cfg.Normalize = myemitter.Normalize // what it exports a hostile target type as
//		cfg.MaxTargetTypes = 512            // its cardinality cap
//		conformance.Run(t, cfg)
//	}
//
// example_certctl_test.go plugs in an emitter of the modelled system's
// shape (a map per counter behind a mutex, an unsorted snapshot struct) in
// under 25 lines; clientgolang_test.go plugs in a client_golang registry;
// ReferenceConfig plugs in the reference emitter. Ticks says which counters
// a deployment that ended in an outcome (Outcomes lists the eight) ticks,
// in the order the modelled system ticks them, e.g. to drive an emitter by
// whole deployments in a test of your own:
//
//	for _, c := range conformance.Ticks(counters.OutcomeReloadFailedRestored) {
//		e.Tick(c, "NGINX") // AttemptFailure, ReloadFailure, RollbackRestored
//	}
//
// Counters lists the eight counters; Counter.Name, LabelNames and
// LabelValues say how each is exposed.
//
// # Capabilities and levels
//
// What an emitter can do is declared, never guessed, and the suite holds
// the emitter to its declarations in both directions:
//
//	capability            declared by                           exercised by                          level Full  level Core
//	PrometheusText0.0.4   Config.Protocols (must list it)       passive-text                          required    required
//	OpenMetricsText1.0.0  Config.Protocols                      passive-openmetrics                   required    optional
//	OpenMetricsText0.0.1  Config.Protocols                      passive-openmetrics-0.0.1             optional    optional
//	PrometheusText1.0.0   Config.Protocols                      passive-text-1.0.0                    optional    optional
//	PrometheusProto       Config.Protocols                      passive-protobuf                      optional    optional
//	gzip                  Config.Gzip (HTTP only)               passive-gzip                          required    optional
//	cardinality-cap       Config.MaxTargetTypes > 0             active-cardinality                    required    optional
//	methods               Config.Methods (HTTP only)            passive-methods                       required    optional
//	record                Emitter.Record set                    active-outcomes, active-invariants    optional    optional
//	snapshot              Emitter.Snapshot set                  active-snapshot-isolation             optional    optional
//	sorted-snapshot       Config.SortedSnapshot                 active-snapshot-sorted                optional    optional
//
// A capability declared missing makes the specs that need it Skip, saying
// so; Ginkgo counts them as skipped, never as passed. A capability
// declared but not exercised fails the spec with [suite.declared]: asked
// for a declared protocol and answered in another (the text fallback
// included), asked for gzip and answered uncompressed, a "sorted"
// snapshot out of order. The Level (Config.Level) says which declarations
// a run requires: at Full, the default, the five SPEC.md §6.2 requires;
// conformance-level fails the run with one message naming each one
// declared missing. Core, for a text-only emitter that ticks its counters
// one by one, requires only the text format 0.0.4, which every target
// serves:
//
//	cfg.Level = conformance.Core
//	cfg.Protocols = []check.Protocol{check.PrometheusText0_0_4}
//	cfg.Gzip, cfg.Methods = false, false
//
// At the end of a run, ReportSummary prints one summary per config (its
// level, and per capability: required, declared, how its specs ended) and
// records it in the Ginkgo report, so that JSON and JUnit reports carry it.
//
// # Protocols
//
// Config.Protocols lists the protocols of content_negotiation.md the
// emitter serves when asked: the two SPEC.md §6.2 requires by default
// (NewConfig), all five for the reference emitter (ReferenceConfig). The
// passive spec of each declared protocol runs; the active specs scrape
// every declared protocol and compare each one's values with the model
// (protobuf bodies are read by the engine's protobuf front end, into the
// same check.Exposition as the text formats); the negotiation specs hold
// the emitter to serving a declared protocol wherever the Accept header
// prefers it. The suite asks for protocol p with AcceptFor(p), which
// allows the text format 0.0.4 as a fallback, as real scrapers do; an
// emitter that declares p must not take it. An emitter scraped through
// Emitter.Scrape is called with AcceptFor(p) for each declared protocol
// p, and returns p (Emitter.Scrape lists what each header asks for).
// TestContext.Protocols lists the declared protocols, in the order the
// suite scrapes them.
//
// Config.OpenMetrics is deprecated: configs written before Protocols
// existed keep their meaning (false: the text format 0.0.4 only).
//
// # Running
//
// Run runs the whole suite as one go test, for one config or several;
// Ginkgo runs specs once per process, so a test binary calls Run once,
// with every config:
//
//	conformance.Run(t, textOnlyConfig, fullConfig) // each in a container named by its Config.Name
//
// Register only registers the specs, for a team that embeds them in its
// own Ginkgo tree (next to its own specs) and may change the config in a
// BeforeEach; the config is read when each spec starts. Such a tree adds
// the summary itself:
//
//	var _ = Describe("my emitter", func() {
//		cfg := conformance.ReferenceConfig(0)
//		conformance.Register(&cfg)
//	})
//	var _ = ReportAfterSuite("conformance summary", conformance.ReportSummary)
//
// DescribeConformance is how each spec file adds itself, and how a team
// adds specs that share the suite's TestContext (its Config, Emitter and
// seeded Rand, and the helpers HTTP, Protocols, Accepts, Scrape, Options
// and Check);
// SpecID labels a spec with its ID:
//
//	var _ = conformance.DescribeConformance("my group", func(tc *conformance.TestContext) {
//		It("serves my family", conformance.SpecID("my-family"), func() {
//			in := tc.Scrape(scrape.AcceptText)
//			tc.Check(in, nil, tc.Options(), "first scrape")
//		})
//	})
//
// The suite runs under go test and under the ginkgo CLI. Every spec has a
// stable ID and group labels, for --label-filter (through go test, prefix
// Ginkgo's flags with -ginkgo.):
//
//	go test -race ./... -ginkgo.label-filter='passive || hostile'
//	ginkgo -race --label-filter='!concurrency' --junit-report=conformance.xml ./...
//
// The random sequences are seeded by Config.Seed, or Ginkgo's --seed when
// it is zero; every spec logs the seed it used.
//
// # What the suite asserts
//
// Passive specs judge scrapes alone, with every engine rule (format, spec,
// lint at its severity, schema, order, invariants, http, and scrape.*
// across successive scrapes). Active specs drive the emitter through the
// real target types and compare every scrape with the model.
//
//	spec ID                     labels                          needs
//	conformance-level           level                           -
//	passive-text                passive text                    -
//	passive-openmetrics         passive openmetrics             OpenMetricsText1.0.0
//	passive-openmetrics-0.0.1   passive openmetrics             OpenMetricsText0.0.1
//	passive-text-1.0.0          passive text                    PrometheusText1.0.0
//	passive-protobuf            passive protobuf                PrometheusProto
//	passive-gzip                passive gzip http               gzip
//	passive-methods             passive http                    methods
//	passive-negotiation         passive http                    HTTP
//	passive-negotiation-edge    passive http                    HTTP
//	active-model                active                          Tick
//	active-outcomes             active outcomes                 Tick, record
//	active-new-target-type      active                          Tick
//	active-snapshot-isolation   active snapshot                 Tick, snapshot
//	active-snapshot-sorted      active snapshot                 Tick, sorted-snapshot
//	active-body-isolation       active                          Tick
//	active-hostile              active hostile                  Tick
//	active-cardinality          active hostile cardinality      Tick, cardinality-cap
//	active-concurrency          active concurrency              Tick
//	active-invariants           active concurrency outcomes     Tick, record
//	active-first-tick           active concurrency              Tick
//
// What each spec holds the emitter to:
//
//   - conformance-level: every capability the level requires is declared.
//   - passive-text, passive-openmetrics, passive-openmetrics-0.0.1,
//     passive-text-1.0.0, passive-protobuf: Config.Scrapes scrapes of one
//     protocol, asked for with AcceptFor, with deploy traffic before and
//     between them, each clean under the engine and compared with the one
//     before; the protocol asked for is the protocol served.
//   - passive-gzip: gzip when Accept-Encoding allows it, identity when it
//     does not, the same exposition either way, in every declared protocol.
//   - passive-methods: HEAD answers like GET; POST, PUT and DELETE get 405
//     Method Not Allowed with an Allow header naming GET and HEAD.
//   - passive-negotiation: Prometheus 3's and 2's own Accept headers
//     (check.AcceptPrometheus3, check.AcceptPrometheus3Proto,
//     check.AcceptPrometheus2) with Accept-Encoding: gzip, then for each of
//     the five protocols a header naming it alone and one refusing it with
//     q=0, with Accept-Encoding: gzip;q=0, identity. The engine judges each
//     answer by content_negotiation.md (http.*), and the answer must be the
//     protocol the header prefers among those the emitter declares. The
//     cases, by ID: prometheus3, prometheus3-proto, prometheus2,
//     only-<protocol> and without-<protocol> for each protocol (e.g.
//     only-PrometheusProto, without-OpenMetricsText1.0.0).
//   - passive-negotiation-edge: q=0 refuses a format or a coding, also
//     beside a wildcard and written "Q=0" or "q=0.000"; wildcard ranges;
//     media types, parameters and codings in odd case and spacing; several
//     Accept and Accept-Encoding lines read as one list (RFC 9110 §5.3,
//     §12.4.2, §12.5). The cases, by ID: om-q0, om-q0-wildcard, om-q0.000,
//     om-q0-odd-case, om-q0-second-line, any, text-q0-wildcard,
//     application-wildcard, om-odd-case, om-second-line (these four
//     emitters that declare OpenMetricsText1.0.0 only), gzip-q0,
//     gzip-q0-odd-case, identity-only, gzip-q0-second-line, gzip-odd-case,
//     gzip-second-line (these two gzip emitters only).
//     Config.NegotiationWaivers names cases of both negotiation specs.
//   - active-model: after random deployments ticked counter by counter,
//     every exposed value equals the model's, in every declared protocol.
//   - active-outcomes: Record ticks exactly the counters of SPEC.md §2.1.
//   - active-new-target-type: a new target type sorting first, in the
//     middle or last appears in its sorted place in every family, zeros
//     included.
//   - active-snapshot-isolation, active-body-isolation: writing into a
//     returned snapshot or a scraped body changes nothing the emitter
//     exposes or returns later. (Snapshots are compared sorted.)
//   - active-snapshot-sorted: Snapshot returns its entries in bytewise
//     order of target type, each once, new ones included.
//   - active-hostile: target types with quotes, backslashes, line breaks,
//     tabs, NUL, invalid UTF-8, %q bait, empty and huge (HostileTargetTypes)
//     never break the exposition (no format.* or spec.* finding) in any
//     declared protocol, and each is exported as Config.Normalize says.
//   - active-cardinality: beyond the declared cap, ticks are counted under
//     Config.OverflowTargetType, and no more target types are exposed.
//   - active-concurrency: while Config.Goroutines goroutines tick, every
//     scrape is clean and monotonic, and the final totals are exact.
//   - active-invariants: while goroutines Record whole outcomes, every
//     scrape keeps the invariants I1 and I2 (as errors).
//   - active-first-tick: goroutines released together race to the first
//     ticks of target types the emitter has never seen, round after round;
//     each appears once in every family, with exact counts.
//
// Every spec judges with TestContext.Options, which make three engine
// warnings errors: invariant.* for an emitter that records whole outcomes,
// http.negotiation-preference (it fires only for a protocol the emitter
// declares) and http.content-type-params (content_negotiation.md's MUST on
// the version and escaping parameters).
//
// # Race detection
//
// active-concurrency, active-invariants and active-first-tick look for
// defects that last nanoseconds: a lost tick, a scrape between two ticks
// of one deployment, a row created twice. They pace nothing: for
// Config.RaceFor (default 1s), the goroutines tick or record in tight
// loops while the suite scrapes in process (the Handler called directly,
// or the Scrape function) as fast as it can, each scrape in the next
// declared protocol, judging every scrape. A goroutine the scheduler
// preempts stops wherever it was, often inside a deployment, and the next
// scrape sees it there: torn snapshots and lost ticks are caught even when
// the goroutines never run side by side. A row created twice needs two
// goroutines inside the same few instructions at once, so
// active-first-tick needs two cores that actually run the test in
// parallel; it runs many short rounds to get them.
//
// Detection, measured against the sleep-free mutants of package mutants,
// which declare and serve the five protocols (30 runs each, only the spec
// meant for the mutant: DEPLOYMETRICS_MUTANT=<mutant> go test
// ./conformance/mutants/ -run '^TestSuiteAgainstMutant$'
// -ginkgo.label-filter=<spec>), on the project's 2-core machine while
// other jobs shared it (load average 3 to 4), time into the race of the
// failing scrape or round:
//
//	mutant                spec                  runs caught   median   max      (-race: caught, median, max)
//	torn-record           active-invariants     30 of 30      8 ms     76 ms    30 of 30, 25 ms, 119 ms
//	lost-ticks            active-concurrency    30 of 30      40 ms    267 ms   30 of 30, 109 ms, 309 ms
//	duplicate-first-tick  active-first-tick     30 of 30      22 ms    202 ms   29 of 30, 81 ms, 346 ms
//
// Under -race duplicate-first-tick was then caught in 189 of 190 more runs
// (30, 100 and 60): about 1 in 100 runs, on a busy machine, no round of
// the second gets two goroutines onto both cores at once. Interleaved run
// for run with the suite as it was before Config.Protocols, both caught
// 60 of 60, at the same median round. With GOMAXPROCS=1
// (one thread, as on a machine with no second core to give): torn-record
// 30 of 30 (median 100 ms), lost-ticks 30 of 30 (4 in the race, 26 by the
// final count), duplicate-first-tick 0 of 30. The five configs of
// TestConformance (the reference emitter three ways, client_golang, the
// certctl-shaped emitter) passed the three specs in 30 runs of 30, with
// and without -race (-ginkgo.label-filter=concurrency).
//
// A failure message lists the engine's findings, each with the exposition
// line it points at, or the suite's own verdict tagged [suite.model] (a
// count differs from the model), [suite.snapshot], [suite.declared] (a
// declared capability not exercised, e.g. a declared protocol not served
// when asked), [suite.level], [suite.cardinality], [suite.gzip] or
// [suite.negotiation]. The package mutants
// proves that each spec can fail: deliberately broken emitters, each caught
// by its spec.
//
// # Matchers
//
// HaveFamily, HaveSeries, BeSortedBy, ConformToSchema and PassCheck are
// Gomega matchers for a team's own tests, on a scraped exposition:
//
//	g.Expect(in).To(conformance.HaveSeries("certctl_deploy_attempts_total",
//		map[string]string{"target_type": "NGINX", "result": "success"}, 1))
//	g.Expect(in).To(conformance.HaveFamily("certctl_deploy_rollback_total"))
//	g.Expect(in).To(conformance.BeSortedBy("target_type"))
//	g.Expect(in).To(conformance.ConformToSchema(check.DeploySchema("certctl")))
//	g.Expect(in).To(conformance.PassCheck(check.NewOptions()))
//
// HostileTargetTypes returns the hostile names active-hostile ticks, for a
// team's own tests of its escaping and normalisation.
package conformance
