package conformance

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/counters"
)

// HostileTargetTypes returns the target types the hostile spec ticks: names
// that break a careless renderer (quotes, backslashes, line breaks, control
// bytes, invalid UTF-8, Unicode that Go's %q escapes but the formats do
// not, label syntax, comment syntax), an empty one and a huge one. Some of
// them normalise to the same label value under the reference emitter's
// policy, which the model follows.
func HostileTargetTypes() []string {
	return []string{
		`say "hi"`,
		`back\slash`,
		`trailing\`,
		`\n`, // a backslash and an n, not a line feed
		"line\nfeed",
		"carriage\rreturn",
		"tab\there",
		"vertical\vtab", // normalises like the tab under the reference policy
		"nul\x00byte",
		"bell\x07",
		"del\x7f",
		"c1\u0085control",
		"invalid\xff\xfeutf8",
		"cut\xe2\x82", // a rune cut short
		"zero\u200bwidth",
		"line\u2028separator",
		"soft\u00adhyphen",
		"bom\ufeff",
		"\ufffdreplacement",
		"é-accent",
		"日本語",
		"emoji 🚀",
		" ",
		"",
		`{target_type="x"}`,
		`a",target_type="b`,
		"} 1\nfake_total 1",
		"# HELP injected",
		"%q%v%s",
		strings.Repeat("é", 200),
		strings.Repeat("h", 1<<16),
	}
}

var _ = DescribeConformance("hostile target types", func(tc *TestContext) {
	It("never breaks the exposition and exports each name as declared",
		Label("active", "hostile"), SpecID("active-hostile"), func() {
			tc.requireTick()
			m := newModel(&tc.Config)
			opts := tc.Options()
			for _, tt := range tc.Config.TargetTypes[:2] {
				tc.tickOutcome(m, tt, counters.OutcomeSucceeded)
			}
			for _, tt := range HostileTargetTypes() {
				tc.tickOutcome(m, tt, counters.OutcomeReloadFailedRestored)
			}
			for _, p := range tc.Protocols() {
				in := tc.Scrape(AcceptFor(p))
				what := fmt.Sprintf("%s with hostile target types", p)
				r := check.Check(check.Input{Body: in.Body, ContentType: in.ContentType, HTTP: in.HTTP}, opts)
				// A format.* or spec.* finding of any severity means a
				// hostile name broke the exposition itself; say so first.
				if broken := append(r.Rule("format.*"), r.Rule("spec.*")...); len(broken) > 0 {
					Fail(fmt.Sprintf("%s: a hostile target type breaks the exposition (seed %d):\n%s", what, tc.Seed, describeReport(r)))
				}
				r = tc.Check(in, nil, opts, what)
				tc.expectModel(r, m, what+" (each name under Config.Normalize)")
			}
		})

	It("folds target types beyond its cap into the overflow target type",
		Label("active", "hostile", "cardinality"), SpecID("active-cardinality"), func() {
			tc.requireTick()
			tc.require("cardinality-cap")
			limit := tc.Config.MaxTargetTypes
			m := newModel(&tc.Config)
			opts := tc.Options()
			beyond := max(limit/4, 8)
			names := make([]string, limit+beyond)
			for i := range names {
				names[i] = fmt.Sprintf("tenant-%06d", i)
				tc.Emitter.Tick(AttemptSuccess, names[i])
				m.add(names[i], AttemptSuccess, 1)
			}
			// Names kept before the cap keep counting; folded ones keep
			// folding.
			for _, tt := range []string{names[0], names[limit-1], names[limit], names[len(names)-1]} {
				tc.Emitter.Tick(IdempotentSkip, tt)
				m.add(tt, IdempotentSkip, 1)
			}
			for _, p := range tc.Protocols() {
				in := tc.Scrape(AcceptFor(p))
				what := fmt.Sprintf("%s after %d distinct target types, cap %d", p, len(names), limit)
				r := tc.Check(in, nil, opts, what)
				tc.expectModel(r, m, what)
				if n := len(exposedCounters(r.Exposition, tc.Config.Namespace)); n > limit+1 {
					Fail(fmt.Sprintf("[suite.cardinality] %s: %d distinct target types exposed, more than the cap and the overflow target type %q (%d)",
						what, n, tc.Config.OverflowTargetType, limit+1))
				}
			}
		})
})
