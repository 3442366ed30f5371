package conformance

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/conformance/scrape"
)

// protocolCase is one request of passive-negotiation: an Accept header a
// scraper sends, with the protocols it prefers, and an Accept-Encoding
// header. The engine judges the answer by content_negotiation.md
// (http.negotiation: a protocol Accept does not allow, q=0 included;
// http.negotiation-preference, an error in the suite: a declared protocol
// Accept names with a higher q than the one served;
// http.content-type-params, an error in the suite: the version and
// escaping parameters; http.content-encoding: a coding Accept-Encoding
// refuses). The suite judges what only the declarations say: the answer is
// the first protocol of prefers the emitter declares ([suite.declared]).
type protocolCase struct {
	// id names the case in Config.NegotiationWaivers.
	id, name       string
	accept         string
	acceptEncoding string
	// prefers lists protocols in the order Accept prefers them, each with
	// a q above the next: the emitter must serve the first it declares.
	// When it declares none, the engine alone judges the answer (the text
	// fallback, or a protocol the emitter serves without declaring it).
	prefers []check.Protocol
	// refusesText: the header refuses the text format 0.0.4, so that an
	// emitter that declares none of prefers has no answer to give (RFC
	// 9110 would have it answer 406); the case is not sent to it.
	refusesText bool
}

// The Accept-Encoding headers of protocolCases: Prometheus's default, and
// gzip refused outright (which the emitter must honour whatever it
// declares).
const (
	encodingPrometheus = "gzip"
	encodingNoGzip     = "gzip;q=0, identity"
)

// protocolCases are the requests of passive-negotiation: Prometheus 2's
// and 3's own Accept headers (the protobuf-first one too), then for each
// protocol of suiteProtocols a header naming it alone and one refusing it
// with q=0.
func protocolCases() []protocolCase {
	t004, om1, om001, t1, proto := check.PrometheusText0_0_4, check.OpenMetricsText1_0_0, check.OpenMetricsText0_0_1, check.PrometheusText1_0_0, check.PrometheusProto
	cases := []protocolCase{
		{id: "prometheus3", name: "Prometheus 3's default Accept header", accept: check.AcceptPrometheus3, acceptEncoding: encodingPrometheus,
			prefers: []check.Protocol{om1, om001, t1, t004}},
		{id: "prometheus3-proto", name: "Prometheus 3's Accept header with protobuf first", accept: check.AcceptPrometheus3Proto, acceptEncoding: encodingPrometheus,
			prefers: []check.Protocol{proto, om1, om001, t1, t004}},
		{id: "prometheus2", name: "Prometheus 2's default Accept header", accept: check.AcceptPrometheus2, acceptEncoding: encodingPrometheus,
			prefers: []check.Protocol{om1, om001, t004}},
	}
	for _, sp := range suiteProtocols() {
		p := sp.protocol
		cases = append(cases, protocolCase{
			id: "only-" + string(p), name: string(p) + " alone", accept: p.AcceptRange(check.EscapingAllowUTF8), acceptEncoding: encodingNoGzip,
			prefers: []check.Protocol{p},
		})
	}
	for _, sp := range suiteProtocols() {
		p := sp.protocol
		c := protocolCase{id: "without-" + string(p), name: string(p) + " refused with q=0", acceptEncoding: encodingNoGzip}
		if p == t004 {
			// Text refused; the others as Prometheus 3 lists them.
			others := []check.Protocol{proto, om1, om001, t1}
			c.accept = p.AcceptRange("") + ";q=0," + check.AcceptHeader(others, check.EscapingAllowUTF8)
			c.prefers, c.refusesText = others, true
		} else {
			// Refused where it would win, beside the text fallback.
			c.accept = p.AcceptRange(check.EscapingAllowUTF8) + ";q=0," + t004.AcceptRange("") + ";q=0.5"
			c.prefers = []check.Protocol{t004}
		}
		cases = append(cases, c)
	}
	return cases
}

// preferred returns the first protocol of c.prefers the emitter declares,
// "" when it declares none.
func (tc *TestContext) preferred(c protocolCase) check.Protocol {
	for _, p := range c.prefers {
		if tc.Config.declaresProtocol(p) {
			return p
		}
	}
	return ""
}

var _ = DescribeConformance("negotiation", func(tc *TestContext) {
	It("serves the protocol Prometheus's Accept headers, single-protocol headers and q=0 exclusions select",
		Label("passive", "http"), SpecID("passive-negotiation"), func() {
			if !tc.HTTP() {
				Skip("HTTP negotiation not testable for this emitter: it is scraped through Emitter.Scrape, not over HTTP")
			}
			tc.traffic(tc.Config.Deployments)
			opts := tc.Options()
			var prev *check.Exposition
			sent := 0
			for _, c := range protocolCases() {
				want := tc.preferred(c)
				if want == "" && c.refusesText {
					GinkgoWriter.Printf("case %s (%s) not sent: it refuses the text format, and the emitter declares none of %v\n", c.id, c.name, c.prefers)
					continue
				}
				if reason, waived := tc.Config.NegotiationWaivers[c.id]; waived {
					GinkgoWriter.Printf("case %s (%s) waived by Config.NegotiationWaivers: %s\n", c.id, c.name, reason)
					continue
				}
				in := tc.scrapeWithHeaders([]string{c.accept}, []string{c.acceptEncoding})
				what := fmt.Sprintf("case %s, %s (Accept: %s; Accept-Encoding: %s)", c.id, c.name, c.accept, c.acceptEncoding)
				// At rest, every answer shows the same counts, whatever its
				// protocol: each is checked as the successor of the one
				// before.
				prev = tc.Check(in, prev, opts, what).Exposition
				if got := servedProtocol(in.ContentType); want != "" && got != want {
					tc.disagree(string(want), fmt.Sprintf("%s: the emitter answered Content-Type %q (%s), though the header prefers %s to every other protocol the emitter declares",
						what, in.ContentType, protocolName(got), want))
				}
				if c.acceptEncoding == encodingPrometheus && tc.declares("gzip") && !strings.EqualFold(in.HTTP.Header.Get("Content-Encoding"), "gzip") {
					tc.disagree("gzip", fmt.Sprintf("%s: the emitter answered with Content-Encoding %q", what, in.HTTP.Header.Get("Content-Encoding")))
				}
				sent++
			}
			GinkgoWriter.Printf("%d negotiation cases sent\n", sent)
		})
})

// negotiationCase is one request of passive-negotiation-edge: the Accept
// and Accept-Encoding header lines it sends, and what the answer must be.
// The engine judges what the headers refuse (http.negotiation: a protocol
// Accept refuses; http.content-encoding: a coding Accept-Encoding refuses;
// http.negotiation-preference, an error in the suite: a declared protocol
// Accept names with a higher q than the one served). The suite judges what
// only the declarations say: that an emitter declaring a capability uses
// it when the request asks for it ([suite.declared]).
type negotiationCase struct {
	// id names the case in Config.NegotiationWaivers.
	id   string
	name string
	// accept and acceptEncoding are header lines, sent as given, each
	// value on a line of its own. RFC 9110 §5.3 reads several lines of one
	// field as one list, so the engine is given them joined with ", ".
	accept, acceptEncoding []string
	// needs names the capability the case is for, "" for every emitter. A
	// case whose only acceptable answers are in protocols the emitter does
	// not declare is not sent to it: the text format is then its fallback
	// (content_negotiation.md, "Selection of Format"), which the engine
	// would report as refused.
	needs string
	// want lists the formats the answer may be in; nil allows any.
	want []check.Format
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
	om := string(check.OpenMetricsText1_0_0)
	text, openMetrics := []check.Format{check.FormatText}, []check.Format{check.FormatOpenMetrics}
	// Where a wildcard is what allows OpenMetrics, it allows protobuf too.
	notText := []check.Format{check.FormatOpenMetrics, check.FormatProtobuf}
	return []negotiationCase{
		{id: "om-q0", name: "OpenMetrics refused with q=0", accept: []string{rangeOpenMetrics + ";q=0," + rangeText + ";q=0.5"}, want: text},
		{id: "om-q0-wildcard", name: "OpenMetrics refused with q=0 beside a wildcard", accept: []string{"application/openmetrics-text;q=0, */*;q=0.1"}, want: []check.Format{check.FormatText, check.FormatProtobuf}},
		{id: "om-q0.000", name: "OpenMetrics refused with q=0.000", accept: []string{rangeOpenMetrics + ";q=0.000," + rangeText + ";q=0.1"}, want: text},
		{id: "om-q0-odd-case", name: "OpenMetrics refused with Q=0 in odd case and spacing", accept: []string{"APPLICATION/OpenMetrics-TEXT ; VERSION=1.0.0 ; Q=0 , " + rangeText}, want: text},
		{id: "om-q0-second-line", name: "OpenMetrics refused in the second of two Accept lines", accept: []string{rangeText + ";q=0.5", rangeOpenMetrics + ";q=0"}, want: text},
		{id: "any", name: "any format", accept: []string{"*/*"}},
		{id: "text-q0-wildcard", name: "text refused with q=0 beside a wildcard", accept: []string{"text/plain;q=0, */*;q=0.3"}, needs: om, want: notText},
		{id: "application-wildcard", name: "an application/* wildcard", accept: []string{"application/*"}, needs: om, want: notText},
		{id: "om-odd-case", name: "OpenMetrics named in odd case and spacing", accept: []string{`Application/OpenMetrics-Text ; Version="1.0.0" ; Q=0.9 ,Text/Plain; Version=0.0.4 ;q=0.5`}, needs: om, want: openMetrics},
		{id: "om-second-line", name: "OpenMetrics preferred in the second of two Accept lines", accept: []string{rangeText + ";q=0.5", rangeOpenMetrics}, needs: om, want: openMetrics},
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
				case nc.want == nil || slices.Contains(nc.want, got):
				case nc.needs != "":
					// Reached where the engine has no rule for it: a
					// preference expressed through a wildcard.
					tc.disagree(nc.needs, fmt.Sprintf("%s: the emitter answered Content-Type %q, not %s", what, in.ContentType, formatsText(nc.want)))
				default:
					Fail(fmt.Sprintf("[suite.negotiation] %s: the emitter answered Content-Type %q, which the request refuses; want %s (seed %d)", what, in.ContentType, formatsText(nc.want), tc.Seed))
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

// negotiationCaseIDs returns the IDs of every case of passive-negotiation
// and passive-negotiation-edge, for validating Config.NegotiationWaivers.
func negotiationCaseIDs() []string {
	var ids []string
	for _, c := range protocolCases() {
		ids = append(ids, c.id)
	}
	for _, nc := range negotiationCases() {
		ids = append(ids, nc.id)
	}
	return ids
}

// formatsText lists formats for a message: "openmetrics or protobuf".
func formatsText(formats []check.Format) string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = f.String()
	}
	return strings.Join(names, " or ")
}
