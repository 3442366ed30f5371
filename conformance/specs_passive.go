package conformance

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/conformance/scrape"
)

// The passive specs judge scrapes alone, with every engine rule: format,
// spec, lint, schema, order, invariants, http, and (each scrape against the
// one before) scrape.*. An emitter that can be driven gets deploy traffic
// before and between the scrapes, so that there is something to judge and
// the counters move; one that cannot (Emitter.Tick nil: a live endpoint)
// is judged as it is. There is one spec per protocol the emitter can
// declare (suiteProtocols), which skips when it is not declared.
var _ = DescribeConformance("passive", func(tc *TestContext) {
	for _, sp := range suiteProtocols() {
		p := sp.protocol
		It(fmt.Sprintf("serves %s clean under every engine rule, scrape after scrape", p),
			Label("passive", p.Format().String()), SpecID(sp.spec), func() {
				tc.require(string(p))
				tc.passive(AcceptFor(p))
			})
	}

	It("compresses with gzip when the scraper allows it, and only then",
		Label("passive", "gzip", "http"), SpecID("passive-gzip"), func() {
			tc.require("gzip")
			tc.traffic(tc.Config.Deployments)
			opts := tc.Options()
			for _, p := range tc.Protocols() {
				accept, what := AcceptFor(p), string(p)
				gz := tc.scrape(scrape.Options{Accept: accept})
				gzReport := tc.Check(gz, nil, opts, what+", Accept-Encoding: gzip")
				if enc := gz.HTTP.Header.Get("Content-Encoding"); enc != "gzip" {
					tc.disagree("gzip", fmt.Sprintf("%s, asked with Accept-Encoding: gzip, the emitter answered with Content-Encoding %q", what, enc))
				}
				plain := tc.scrape(scrape.Options{Accept: accept, NoGzip: true})
				// The engine's http.content-encoding rejects a gzip answer
				// to "Accept-Encoding: identity".
				tc.Check(plain, gzReport.Exposition, opts, what+", Accept-Encoding: identity")
				if string(plain.Body) != string(gz.Body) {
					Fail(fmt.Sprintf("[suite.gzip] %s: the gzip body, decoded, differs from the identity body of the same counters (%d and %d bytes)", what, len(gz.Body), len(plain.Body)))
				}
			}
		})

	It("answers GET and HEAD alike and refuses other methods with 405 and Allow",
		Label("passive", "http"), SpecID("passive-methods"), func() {
			tc.require("methods")
			get := tc.request(http.MethodGet)
			head := tc.request(http.MethodHead)
			// Whether a HEAD response carries a body is not observable:
			// net/http drops it on both ends. Its status and headers are.
			if head.StatusCode != http.StatusOK || head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
				tc.disagree("methods", fmt.Sprintf("HEAD got status %d and Content-Type %q, where GET got 200 and %q",
					head.StatusCode, head.Header.Get("Content-Type"), get.Header.Get("Content-Type")))
			}
			for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
				r := tc.request(method)
				allow := r.Header.Get("Allow")
				if r.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(allow, http.MethodGet) || !strings.Contains(allow, http.MethodHead) {
					tc.disagree("methods", fmt.Sprintf("%s got status %d and Allow %q, not 405 Method Not Allowed with Allow naming GET and HEAD (SPEC.md §1.11: a scrape endpoint only reads)",
						method, r.StatusCode, allow))
				}
			}
		})
})

// request sends one request with method to the emitter and drains (at
// most Config.MaxBytes of) its body.
func (tc *TestContext) request(method string) *http.Response {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), tc.Config.ScrapeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, tc.url, nil)
	if err != nil {
		Fail(err.Error())
	}
	resp, err := tc.client.Do(req)
	if err != nil {
		Fail(fmt.Sprintf("%s %s: %v", method, tc.url, err))
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, tc.Config.MaxBytes)); err != nil {
		Fail(fmt.Sprintf("%s %s: body: %v", method, tc.url, err))
	}
	return resp
}

// passive scrapes Config.Scrapes times with accept, each scrape checked
// against the previous one, with deploy traffic before the first scrape
// and a little between the others.
func (tc *TestContext) passive(accept string) {
	GinkgoHelper()
	opts := tc.Options()
	var prev *check.Exposition
	for i := range tc.Config.Scrapes {
		if i == 0 {
			tc.traffic(tc.Config.Deployments)
		} else {
			tc.traffic(tc.Config.Deployments/10 + 1)
		}
		in := tc.Scrape(accept)
		prev = tc.Check(in, prev, opts, fmt.Sprintf("scrape %d of %d", i+1, tc.Config.Scrapes)).Exposition
	}
}

// traffic drives n random deployments over the configured target types,
// when the emitter can be driven.
func (tc *TestContext) traffic(n int) {
	if tc.Emitter.Tick == nil {
		return
	}
	m := newModel(&tc.Config)
	for range n {
		tc.deploy(m, tc.randomTargetType(tc.Rand), randomOutcome(tc.Rand))
	}
}
