package conformance

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/conformance/scrape"
)

// negotiationCase is one request of passive-negotiation-edge: the Accept
// and Accept-Encoding header lines it sends, and what the answer must be.
// The engine judges what the headers refuse (http.negotiation: a format
// Accept refuses; http.content-encoding: a coding Accept-Encoding refuses;
// http.negotiation-preference, an error for an emitter that declares
// OpenMetrics: a format Accept names with a lower q than another it
// names). The suite judges what only the declarations say: that an
// emitter declaring a capability uses it when the request asks for it
// ([suite.declared]).
type negotiationCase struct {
	// id names the case in Config.NegotiationWaivers.
	id   string
	name string
	// accept and acceptEncoding are header lines, sent as given, each
	// value on a line of its own. RFC 9110 §5.3 reads several lines of one
	// field as one list, so the engine is given them joined with ", ".
	accept, acceptEncoding []string
	// needs names the capability the case is for, "" for every emitter. A
	// case whose only acceptable answer is a format the emitter does not
	// declare is not sent to it: the text format is then its fallback
	// (content_negotiation.md, "Selection of Format"), which the engine
	// would report as refused.
	needs string
	// want is the format the answer must be in; FormatUnknown (unset)
	// allows either.
	want check.Format
	// gzip: the answer must be compressed (the emitter declares gzip).
	gzip bool
}

// The text and OpenMetrics ranges the cases combine.
const (
	rangeOpenMetrics = "application/openmetrics-text;version=1.0.0"
	rangeText        = "text/plain;version=0.0.4"
)

// negotiationCases are the requests of passive-negotiation-edge: q=0 for
// media types and codings (RFC 9110 §12.4.2: "not acceptable"), wildcard
// ranges, parameters in odd case and spacing (type, subtype, parameter
// names and the codings are case-insensitive, RFC 9110 §8.3.1, §12.4.2,
// §8.4.1; whitespace around ";" is allowed, §5.6.6), and several header
// lines of one field (§5.3).
func negotiationCases() []negotiationCase {
	return []negotiationCase{
		{id: "om-q0", name: "OpenMetrics refused with q=0", accept: []string{rangeOpenMetrics + ";q=0," + rangeText + ";q=0.5"}, want: check.FormatText},
		{id: "om-q0-wildcard", name: "OpenMetrics refused with q=0 beside a wildcard", accept: []string{"application/openmetrics-text;q=0, */*;q=0.1"}, want: check.FormatText},
		{id: "om-q0.000", name: "OpenMetrics refused with q=0.000", accept: []string{rangeOpenMetrics + ";q=0.000," + rangeText + ";q=0.1"}, want: check.FormatText},
		{id: "om-q0-odd-case", name: "OpenMetrics refused with Q=0 in odd case and spacing", accept: []string{"APPLICATION/OpenMetrics-TEXT ; VERSION=1.0.0 ; Q=0 , " + rangeText}, want: check.FormatText},
		{id: "om-q0-second-line", name: "OpenMetrics refused in the second of two Accept lines", accept: []string{rangeText + ";q=0.5", rangeOpenMetrics + ";q=0"}, want: check.FormatText},
		{id: "any", name: "any format", accept: []string{"*/*"}},
		{id: "text-q0-wildcard", name: "text refused with q=0 beside a wildcard", accept: []string{"text/plain;q=0, */*;q=0.3"}, needs: "openmetrics", want: check.FormatOpenMetrics},
		{id: "application-wildcard", name: "an application/* wildcard", accept: []string{"application/*"}, needs: "openmetrics", want: check.FormatOpenMetrics},
		{id: "om-odd-case", name: "OpenMetrics named in odd case and spacing", accept: []string{`Application/OpenMetrics-Text ; Version="1.0.0" ; Q=0.9 ,Text/Plain; Version=0.0.4 ;q=0.5`}, needs: "openmetrics", want: check.FormatOpenMetrics},
		{id: "om-second-line", name: "OpenMetrics preferred in the second of two Accept lines", accept: []string{rangeText + ";q=0.5", rangeOpenMetrics}, needs: "openmetrics", want: check.FormatOpenMetrics},
		{id: "gzip-q0", name: "gzip refused with q=0", accept: []string{rangeText}, acceptEncoding: []string{"gzip;q=0"}},
		{id: "gzip-q0-odd-case", name: "gzip refused with Q=0 in odd case and spacing", accept: []string{rangeText}, acceptEncoding: []string{"identity, GZIP ; Q=0"}},
		{id: "identity-only", name: "every coding refused but identity", accept: []string{rangeText}, acceptEncoding: []string{"*;q=0, identity"}},
		{id: "gzip-q0-second-line", name: "gzip refused in the second of two Accept-Encoding lines", accept: []string{rangeText}, acceptEncoding: []string{"identity", "gzip;q=0"}},
		{id: "gzip-odd-case", name: "gzip named in odd case", accept: []string{rangeText}, acceptEncoding: []string{"GZip"}, needs: "gzip", gzip: true},
		{id: "gzip-second-line", name: "gzip in the second of two Accept-Encoding lines", accept: []string{rangeText}, acceptEncoding: []string{"identity;q=0.5", "gzip"}, needs: "gzip", gzip: true},
	}
}

var _ = DescribeConformance("negotiation edge cases", func(tc *TestContext) {
	It("honours q=0, wildcards, odd case and spacing, and repeated header lines",
		Label("passive", "http"), SpecID("passive-negotiation-edge"), func() {
			if !tc.HTTP() {
				Skip("HTTP negotiation not testable for this emitter: it is scraped through Emitter.Scrape, not over HTTP")
			}
			tc.traffic(tc.Config.Deployments / 4)
			opts := tc.Options()
			if tc.Config.OpenMetrics {
				opts.Severities["http.negotiation-preference"] = check.Error
			}
			sent := 0
			for _, nc := range negotiationCases() {
				if nc.needs != "" && !tc.declares(nc.needs) {
					continue
				}
				if reason, waived := tc.Config.NegotiationWaivers[nc.id]; waived {
					GinkgoWriter.Printf("case %s (%s) waived by Config.NegotiationWaivers: %s\n", nc.id, nc.name, reason)
					continue
				}
				in := tc.scrapeWithHeaders(nc.accept, nc.acceptEncoding)
				what := fmt.Sprintf("case %s, %s (Accept: %s; Accept-Encoding: %s)", nc.id, nc.name, strings.Join(nc.accept, " | "), strings.Join(nc.acceptEncoding, " | "))
				tc.Check(in, nil, opts, what)
				switch got := check.FormatOf(in.ContentType); {
				case nc.want == check.FormatUnknown || got == nc.want:
				case nc.needs != "":
					// Reached where the engine has no rule for it: a
					// preference expressed through a wildcard.
					tc.disagree(nc.needs, fmt.Sprintf("%s: the emitter answered Content-Type %q, not %s", what, in.ContentType, nc.want))
				default:
					Fail(fmt.Sprintf("[suite.negotiation] %s: the emitter answered Content-Type %q, which the request refuses; want %s (seed %d)", what, in.ContentType, nc.want, tc.Seed))
				}
				if enc := in.HTTP.Header.Get("Content-Encoding"); nc.gzip && !strings.EqualFold(enc, "gzip") {
					tc.disagree("gzip", fmt.Sprintf("%s: the emitter answered with Content-Encoding %q", what, enc))
				}
				sent++
			}
			GinkgoWriter.Printf("%d negotiation cases sent\n", sent)
		})
})

// declares reports whether the emitter declares capability name and the
// suite can check it on it.
func (tc *TestContext) declares(name string) bool {
	c := lookupCapability(name)
	declared, _ := c.declaration(&tc.Config, tc.Emitter)
	return declared && (!c.http || tc.HTTP())
}

// scrapeWithHeaders scrapes over HTTP with Accept and Accept-Encoding
// header lines sent exactly as given (none when nil). scrape.Get sends one
// line of each, with values of its own; the suite's transport puts the
// given lines in their place, and the HTTP facts are set to what was sent.
func (tc *TestContext) scrapeWithHeaders(accept, acceptEncoding []string) check.Input {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), tc.Config.ScrapeTimeout)
	defer cancel()
	lines := http.Header{"Accept": accept, "Accept-Encoding": acceptEncoding}
	client := &http.Client{Transport: rawHeaders{base: tc.client.Transport, lines: lines}}
	in, err := scrape.Get(ctx, client, tc.url, scrape.Options{MaxBytes: tc.Config.MaxBytes})
	if err != nil {
		Fail(err.Error())
	}
	in.HTTP.Accept = strings.Join(accept, ", ")
	in.HTTP.AcceptEncoding = strings.Join(acceptEncoding, ", ")
	tc.declareServed(in.HTTP)
	return in
}

// rawHeaders sends every request with the Accept and Accept-Encoding
// lines of lines in place of its own.
type rawHeaders struct {
	base  http.RoundTripper
	lines http.Header
}

func (t rawHeaders) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	for _, name := range []string{"Accept", "Accept-Encoding"} {
		req.Header.Del(name)
		for _, v := range t.lines[name] {
			req.Header.Add(name, v)
		}
	}
	return t.base.RoundTrip(req)
}

// negotiationCaseIDs returns the IDs of every case, for validating
// Config.NegotiationWaivers.
func negotiationCaseIDs() []string {
	var ids []string
	for _, nc := range negotiationCases() {
		ids = append(ids, nc.id)
	}
	return ids
}
