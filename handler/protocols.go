package handler

import "github.com/deploymetrics/deploymetrics/internal/contenttype"

// The protocols of Prometheus's content negotiation
// (prometheus-docs/content_negotiation.md), their Content-Types and the
// name escaping schemes (escaping_schemes.md) a 1.0.0 text format names.

// Content types of the exposition protocols served, as the handler writes
// them. For text 1.0.0 and OpenMetrics 1.0.0 and 2.0.0 the handler appends
// "; escaping=<scheme>", the name escaping scheme the body follows, which
// content_negotiation.md requires of those formats; the deploy family and
// label names are legacy names, which every scheme leaves alone, so the body
// is the same under all four. The constants without it are what a renderer's
// output can be parsed as (textparse ignores the escaping parameter).
// Package contenttype writes them out, for the check engine too.
const (
	// ContentTypeText is PrometheusText0.0.4, the text format every scraper
	// reads and the last resort of the negotiation.
	ContentTypeText = contenttype.Text
	// ContentTypeTextV1 is PrometheusText1.0.0: the text format with quoted
	// UTF-8 names allowed. The deploy names need no quoting, so its body is
	// the text format 0.0.4's.
	ContentTypeTextV1 = contenttype.TextV1
	// ContentTypeOpenMetrics is OpenMetricsText1.0.0.
	ContentTypeOpenMetrics = contenttype.OpenMetrics
	// ContentTypeOpenMetricsV0 is OpenMetricsText0.0.1, which Prometheus 2
	// asks for second; its body is OpenMetrics 1.0.0's.
	ContentTypeOpenMetricsV0 = contenttype.OpenMetricsV0
	// ContentTypeOpenMetricsV2 is OpenMetrics 2.0 (a release candidate),
	// served only by a handler made WithOpenMetrics2.
	ContentTypeOpenMetricsV2 = contenttype.OpenMetricsV2
	// ContentTypeProtobuf is PrometheusProto: length-delimited
	// io.prometheus.client.MetricFamily messages.
	ContentTypeProtobuf = contenttype.Protobuf
)

// protocol is an exposition protocol the handler serves. The order is the
// handler's preference where an Accept header leaves the choice open: a
// wildcard, or a media type without a version, matching several protocols
// at the same q. Text 0.0.4 comes first, so that "*/*" (curl, a browser)
// gets the format every tool reads; among the OpenMetrics versions 1.0.0
// comes first, as exposition_formats.md says a missing version means and
// OpenMetrics 2.0 says exposers default to; protobuf, which no person
// reads, only when named.
type protocol uint8

const (
	protoText protocol = iota
	protoOpenMetrics
	protoOpenMetricsV0
	protoTextV1
	protoOpenMetricsV2
	protoProtobuf
	numProtocols
)

// body is the renderer a protocol's body comes from: protocols whose bodies
// are the same bytes share one (text 0.0.4 and 1.0.0; OpenMetrics 0.0.1 and
// 1.0.0).
type body uint8

const (
	bodyText body = iota
	bodyOpenMetrics
	bodyOpenMetricsV2
	bodyProtobuf
	numBodies
)

// protocolInfo is what the handler knows of a protocol.
type protocolInfo struct {
	name        string // as Prometheus's scrape_protocols calls it, for messages and tests
	contentType string // without escaping
	body        body
	escaping    bool // the Content-Type names the escaping scheme
}

var protocols = [numProtocols]protocolInfo{
	protoText:          {"PrometheusText0.0.4", ContentTypeText, bodyText, false},
	protoOpenMetrics:   {"OpenMetricsText1.0.0", ContentTypeOpenMetrics, bodyOpenMetrics, true},
	protoOpenMetricsV0: {"OpenMetricsText0.0.1", ContentTypeOpenMetricsV0, bodyOpenMetrics, false},
	protoTextV1:        {"PrometheusText1.0.0", ContentTypeTextV1, bodyText, true},
	protoOpenMetricsV2: {"OpenMetricsText2.0.0", ContentTypeOpenMetricsV2, bodyOpenMetricsV2, true},
	protoProtobuf:      {"PrometheusProto", ContentTypeProtobuf, bodyProtobuf, false},
}

func (p protocol) String() string { return protocols[p].name }

// escaping is a name escaping scheme of escaping_schemes.md.
type escaping uint8

const (
	// escUnderscores is the default: "If no escaping scheme is specified in
	// the Accept header, underscores escaping SHOULD be used."
	escUnderscores escaping = iota
	escAllowUTF8
	escDots
	escValues
	numEscapings
)

var escapingNames = [numEscapings]string{
	escUnderscores: "underscores",
	escAllowUTF8:   "allow-utf-8",
	escDots:        "dots",
	escValues:      "values",
}

// parseEscaping returns the scheme an escaping parameter names. Scheme
// names are case-sensitive, as Prometheus writes and reads them.
func parseEscaping(s string) (escaping, bool) {
	for e, name := range escapingNames {
		if s == name {
			return escaping(e), true
		}
	}
	return 0, false
}

// choice is the outcome of a negotiation: the protocol served and, for the
// protocols whose Content-Type names it, the escaping scheme.
type choice struct {
	proto protocol
	esc   escaping
}

// contentTypes[p][e] is the Content-Type header value of protocol p served
// under scheme e, as a shared, read-only slice (see hdrGzip): assigning it
// to a header map allocates nothing. Built once; protocols without an
// escaping parameter have the same value under every scheme.
var contentTypes = func() (ct [numProtocols][numEscapings][]string) {
	for p, info := range protocols {
		for e, name := range escapingNames {
			v := info.contentType
			if info.escaping {
				v += "; escaping=" + name
			}
			ct[p][e] = []string{v}
		}
	}
	return ct
}()

// contentType returns the Content-Type header value of c.
func (c choice) contentType() []string { return contentTypes[c.proto][c.esc] }
