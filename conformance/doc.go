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
// fresh one for every spec and declares what the emitter can do:
//
//	func TestMyEmitter(t *testing.T) {
//		cfg := conformance.NewConfig() // namespace certctl, the known target types, 3 scrapes, ...
//		cfg.NewEmitter = func() (*conformance.Emitter, error) {
//			e := myemitter.New()
//			return &conformance.Emitter{
//				Tick: func(c conformance.Counter, targetType string) {
//					switch c {
//					case conformance.AttemptSuccess:
//						e.IncAttemptSuccess(targetType)
//					// ... one case per counter
//					}
//				},
//				Handler: e.MetricsHandler(),
//			}, nil
//		}
//		cfg.Normalize = myemitter.Normalize // what it exports a hostile target type as
//		cfg.MaxTargetTypes = 512            // its cardinality cap, 0 if none
//		conformance.Run(t, cfg)
//	}
//
// A capability the emitter lacks is declared, not hidden: a nil
// Emitter.Record, a nil Emitter.Snapshot, Config.OpenMetrics or
// Config.Gzip false, Config.MaxTargetTypes zero. The specs that need it
// Skip, saying which capability is missing, and Ginkgo counts them as
// skipped, never as passed. clientgolang_test.go plugs a client_golang
// registry in, in under 30 lines; ReferenceConfig plugs in the reference
// emitter.
//
// Run runs the whole suite as one go test. Register only registers the
// specs, for a team that embeds them in its own Ginkgo tree (next to its
// own specs, or once per configuration) and may change the config in a
// BeforeEach; the config is read when each spec starts. DescribeConformance
// is how each spec file adds itself, and how a team adds specs that share
// the suite's TestContext.
//
// # Running
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
//	passive-text                passive                         -
//	passive-openmetrics         passive openmetrics             Config.OpenMetrics
//	passive-negotiation         passive http                    HTTP
//	passive-gzip                passive gzip http               HTTP, Config.Gzip
//	passive-methods             passive http                    HTTP
//	active-model                active                          Tick
//	active-outcomes             active outcomes                 Tick, Record
//	active-new-target-type      active                          Tick
//	active-snapshot-isolation   active snapshot                 Tick, Snapshot
//	active-body-isolation       active                          Tick
//	active-hostile              active hostile                  Tick
//	active-cardinality          active hostile cardinality      Tick, Config.MaxTargetTypes
//	active-concurrency          active concurrency              Tick
//	active-invariants           active concurrency outcomes     Tick, Record
//
// What each spec holds the emitter to:
//
//   - passive-text, passive-openmetrics: Config.Scrapes scrapes of one
//     format, with deploy traffic before and between them, each clean under
//     the engine and compared with the one before.
//   - passive-negotiation: Prometheus 3's and 2's own Accept headers get a
//     format they allow, OpenMetrics when the emitter declares it.
//   - passive-gzip: gzip when Accept-Encoding allows it, identity when it
//     does not, the same exposition either way.
//   - passive-methods: HEAD answers like GET; POST, PUT and DELETE get 405
//     Method Not Allowed with an Allow header naming GET and HEAD.
//   - active-model: after random deployments ticked counter by counter,
//     every exposed value equals the model's, in every declared format.
//   - active-outcomes: Record ticks exactly the counters of DESIGN §2.
//   - active-new-target-type: a new target type sorting first, in the
//     middle or last appears in its sorted place in every family, zeros
//     included.
//   - active-snapshot-isolation, active-body-isolation: writing into a
//     returned snapshot or a scraped body changes nothing the emitter
//     exposes or returns later.
//   - active-hostile: target types with quotes, backslashes, line breaks,
//     tabs, NUL, invalid UTF-8, %q bait, empty and huge (HostileTargetTypes)
//     never break the exposition (no format.* or spec.* finding), and each
//     is exported as Config.Normalize says.
//   - active-cardinality: beyond the declared cap, ticks are counted under
//     Config.OverflowTargetType, and no more target types are exposed.
//   - active-concurrency: while Config.Goroutines goroutines tick, every
//     scrape is clean and monotonic, and the final totals are exact.
//   - active-invariants: while goroutines Record whole outcomes, every
//     scrape keeps the invariants I1 and I2 (as errors).
//
// A failure message lists the engine's findings, each with the exposition
// line it points at, or the suite's own verdict tagged [suite.model] (a
// count differs from the model), [suite.snapshot], [suite.gzip],
// [suite.cardinality] or [suite.format]. The package mutants proves that
// each spec can fail: deliberately broken emitters, each caught by its
// spec.
//
// # Matchers
//
// HaveFamily, HaveSeries, BeSortedBy, ConformToSchema and PassCheck are
// Gomega matchers for a team's own tests, on a scraped exposition:
//
//	g.Expect(in).To(conformance.HaveSeries("certctl_deploy_attempts_total",
//		map[string]string{"target_type": "NGINX", "result": "success"}, 1))
package conformance
