package check

import (
	"fmt"
	"mime"
	"strconv"
	"strings"

	"github.com/deploymetrics/deploymetrics/internal/contenttype"
)

// A Protocol is one of the exposition protocols Prometheus 3 negotiates,
// named as content_negotiation.md and Prometheus's scrape_protocols name
// them. OpenMetricsText2.0.0 is the OpenMetrics 2.0 release candidate,
// which Prometheus parses only behind a feature flag: experimental.
type Protocol string

// The protocols, in the order Protocols lists them.
const (
	PrometheusProto      Protocol = "PrometheusProto"
	PrometheusText0_0_4  Protocol = "PrometheusText0.0.4"
	PrometheusText1_0_0  Protocol = "PrometheusText1.0.0"
	OpenMetricsText0_0_1 Protocol = "OpenMetricsText0.0.1"
	OpenMetricsText1_0_0 Protocol = "OpenMetricsText1.0.0"
	OpenMetricsText2_0_0 Protocol = "OpenMetricsText2.0.0"
)

// Protocols lists every protocol the engine knows: the five of
// content_negotiation.md, then OpenMetrics 2.0 (experimental).
func Protocols() []Protocol {
	return []Protocol{PrometheusProto, PrometheusText0_0_4, PrometheusText1_0_0, OpenMetricsText0_0_1, OpenMetricsText1_0_0, OpenMetricsText2_0_0}
}

// protocolMedia is the media type and version of each protocol, as
// Prometheus writes them in its Accept header (config.ScrapeProtocolsHeaders
// of Prometheus v0.316.0).
var protocolMedia = map[Protocol]struct {
	mediaType, version, accept string
	format                     Format
}{
	PrometheusProto:      {mediaProtobuf, "", mediaProtobuf + ";proto=" + protoMessageName + ";encoding=delimited", FormatProtobuf},
	PrometheusText0_0_4:  {mediaText, "0.0.4", mediaText + ";version=0.0.4", FormatText},
	PrometheusText1_0_0:  {mediaText, "1.0.0", mediaText + ";version=1.0.0", FormatText},
	OpenMetricsText0_0_1: {mediaOpenMetrics, "0.0.1", mediaOpenMetrics + ";version=0.0.1", FormatOpenMetrics},
	OpenMetricsText1_0_0: {mediaOpenMetrics, "1.0.0", mediaOpenMetrics + ";version=1.0.0", FormatOpenMetrics},
	OpenMetricsText2_0_0: {mediaOpenMetrics, "2.0.0", mediaOpenMetrics + ";version=2.0.0", FormatOpenMetrics2},
}

// The media types of the exposition formats, and the message of the
// protobuf format.
const (
	mediaText        = contenttype.MediaText
	mediaOpenMetrics = contenttype.MediaOpenMetrics
	mediaProtobuf    = contenttype.MediaProtobuf
	protoMessageName = contenttype.ProtobufMessage
)

// ParseProtocol returns the protocol named name (case-sensitive, as
// Prometheus's configuration takes it).
func ParseProtocol(name string) (Protocol, error) {
	if _, ok := protocolMedia[Protocol(name)]; ok {
		return Protocol(name), nil
	}
	names := make([]string, 0, len(protocolMedia))
	for _, p := range Protocols() {
		names = append(names, string(p))
	}
	return "", fmt.Errorf("unknown protocol %q: want one of %s", name, strings.Join(names, ", "))
}

// Format returns the format the protocol's body is in (FormatUnknown for
// an unknown protocol).
func (p Protocol) Format() Format { return protocolMedia[p].format }

// Experimental reports whether the protocol is still a release candidate
// that Prometheus parses only behind a feature flag (OpenMetrics 2.0).
func (p Protocol) Experimental() bool { return p == OpenMetricsText2_0_0 }

// escaped reports whether the protocol carries an escaping parameter:
// Prometheus adds one to the 1.0.0 text formats and OpenMetrics 2.0 only
// (scrape.acceptHeader), and content_negotiation.md requires one on the
// response Content-Type of those.
func (p Protocol) escaped() bool {
	return p == PrometheusText1_0_0 || p == OpenMetricsText1_0_0 || p == OpenMetricsText2_0_0
}

// AcceptRange returns the protocol as one element of an Accept header, the
// way Prometheus writes it, with escaping appended where Prometheus appends
// it (the 1.0.0 text formats and OpenMetrics 2.0) unless escaping is empty.
func (p Protocol) AcceptRange(escaping EscapingScheme) string {
	r := protocolMedia[p].accept
	if escaping != "" && p.escaped() {
		r += ";escaping=" + string(escaping)
	}
	return r
}

// ContentType returns the Content-Type a target serving the protocol
// sends: media type, version (proto and encoding for protobuf), charset
// for the text formats, and escaping when it is not empty.
func (p Protocol) ContentType(escaping EscapingScheme) string {
	m, ok := protocolMedia[p]
	if !ok {
		return ""
	}
	var ct string
	if p == PrometheusProto {
		ct = contenttype.Protobuf
	} else {
		ct = m.mediaType + "; version=" + m.version + "; charset=utf-8"
	}
	if escaping != "" {
		ct += "; escaping=" + string(escaping)
	}
	return ct
}

// An EscapingScheme is how a target writes metric and label names outside
// the legacy character set [a-zA-Z_:][a-zA-Z0-9_:]* (escaping_schemes.md):
// quoted as they are (allow-utf-8), or escaped into that set.
type EscapingScheme string

// The escaping schemes of escaping_schemes.md.
const (
	EscapingAllowUTF8   EscapingScheme = "allow-utf-8"
	EscapingUnderscores EscapingScheme = "underscores"
	EscapingDots        EscapingScheme = "dots"
	EscapingValues      EscapingScheme = "values"
)

// ParseEscapingScheme returns the scheme named name.
func ParseEscapingScheme(name string) (EscapingScheme, error) {
	switch s := EscapingScheme(name); s {
	case EscapingAllowUTF8, EscapingUnderscores, EscapingDots, EscapingValues:
		return s, nil
	}
	return "", fmt.Errorf("unknown escaping scheme %q: want allow-utf-8, underscores, dots or values", name)
}

// ParsedContentType is what a Content-Type header says about the body it
// comes with.
type ParsedContentType struct {
	// MediaType is the media type, lower case, e.g. "text/plain".
	MediaType string
	// Params are the parameters, names lower case.
	Params map[string]string
	// Format is the format textparse parses the body as: chosen by media
	// type alone, except that OpenMetrics version 2.0.0 is OpenMetrics 2.0.
	// FormatUnknown for a media type textparse does not take.
	Format Format
	// Protocol is the content-negotiation protocol the media type and its
	// version name; a missing version is taken as textparse takes it
	// (text 0.0.4, OpenMetrics 1.0.0). Empty when they name none (an
	// unknown version, protobuf not length-delimited).
	Protocol Protocol
	// Version is the version parameter, "" when absent.
	Version string
	// Escaping is the escaping parameter, "" when absent.
	Escaping EscapingScheme
}

// ParseContentType parses a Content-Type header. It fails when the header
// does not parse as a media type (MediaType is then empty) or names an
// unknown escaping scheme (the rest is then filled in, Escaping empty).
func ParseContentType(contentType string) (ParsedContentType, error) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ParsedContentType{}, fmt.Errorf("Content-Type %q does not parse: %w", contentType, err)
	}
	ct := ParsedContentType{MediaType: mediaType, Params: params, Version: params["version"]}
	ct.Format, ct.Protocol = formatAndProtocol(mediaType, params)
	if e, ok := params["escaping"]; ok {
		if ct.Escaping, err = ParseEscapingScheme(e); err != nil {
			return ct, fmt.Errorf("Content-Type %q: %w", contentType, err)
		}
	}
	return ct, nil
}

// formatAndProtocol returns the format textparse parses a media type as and
// the protocol it names.
func formatAndProtocol(mediaType string, params map[string]string) (Format, Protocol) {
	version := params["version"]
	switch mediaType {
	case mediaText:
		switch version {
		case "", "0.0.4":
			return FormatText, PrometheusText0_0_4
		case "1.0.0":
			return FormatText, PrometheusText1_0_0
		}
		return FormatText, ""
	case mediaOpenMetrics:
		switch version {
		case "0.0.1":
			return FormatOpenMetrics, OpenMetricsText0_0_1
		case "", "1.0.0":
			return FormatOpenMetrics, OpenMetricsText1_0_0
		case "2.0.0":
			return FormatOpenMetrics2, OpenMetricsText2_0_0
		}
		return FormatOpenMetrics, ""
	case mediaProtobuf:
		if params["proto"] == protoMessageName && params["encoding"] == "delimited" {
			return FormatProtobuf, PrometheusProto
		}
		return FormatProtobuf, ""
	}
	return FormatUnknown, ""
}

// The Accept headers of Prometheus servers, byte for byte (SPEC.md §4.6).
const (
	// AcceptPrometheus2 is what Prometheus 2 sends by default.
	AcceptPrometheus2 = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
	// AcceptPrometheus3 is what Prometheus 3 (v0.316.0) sends by default.
	AcceptPrometheus3 = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.7,application/openmetrics-text;version=0.0.1;q=0.6,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.3"
	// AcceptPrometheus3Proto is what Prometheus 3 sends when its
	// scrape_protocols start with PrometheusProto, as they do when it
	// scrapes native histograms.
	AcceptPrometheus3Proto = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
)

// AcceptPreset returns the Accept header a preset names: "prometheus2",
// "prometheus3" or "prometheus3-proto".
func AcceptPreset(name string) (string, bool) {
	switch name {
	case "prometheus2":
		return AcceptPrometheus2, true
	case "prometheus3":
		return AcceptPrometheus3, true
	case "prometheus3-proto":
		return AcceptPrometheus3Proto, true
	}
	return "", false
}

// AcceptHeader builds the Accept header Prometheus 3 sends for a list of
// protocols in order of preference (scrape.acceptHeader in v0.316.0): each
// protocol's range, escaping appended to the 1.0.0 text formats and
// OpenMetrics 2.0, q falling by 0.1 from 0.7 (0.1 above the protocols
// Prometheus knows, six), then */* below the last. AcceptHeader(
// []Protocol{OpenMetricsText1_0_0, OpenMetricsText0_0_1,
// PrometheusText1_0_0, PrometheusText0_0_4}, EscapingAllowUTF8) is
// AcceptPrometheus3.
func AcceptHeader(protocols []Protocol, escaping EscapingScheme) string {
	var b strings.Builder
	weight := len(Protocols()) + 1
	for _, p := range protocols {
		b.WriteString(p.AcceptRange(escaping))
		b.WriteString(";q=0.")
		b.WriteString(strconv.Itoa(weight))
		b.WriteByte(',')
		weight--
	}
	b.WriteString("*/*;q=0.")
	b.WriteString(strconv.Itoa(weight))
	return b.String()
}

// ParseAcceptList turns a preset name (see AcceptPreset) or a
// comma-separated list of protocol names in order of preference
// ("PrometheusProto,OpenMetricsText1.0.0,PrometheusText0.0.4") into the
// Accept header Prometheus 3 would send for it, asking for UTF-8 names
// (escaping=allow-utf-8) as Prometheus 3 does by default.
func ParseAcceptList(list string) (string, error) {
	if h, ok := AcceptPreset(list); ok {
		return h, nil
	}
	var protocols []Protocol
	seen := make(map[Protocol]bool)
	for name := range strings.SplitSeq(list, ",") {
		p, err := ParseProtocol(strings.TrimSpace(name))
		if err != nil {
			return "", fmt.Errorf("accept list %q: %w (or a preset: prometheus2, prometheus3, prometheus3-proto)", list, err)
		}
		if seen[p] {
			return "", fmt.Errorf("accept list %q names %s twice", list, p)
		}
		seen[p] = true
		protocols = append(protocols, p)
	}
	if len(protocols) > len(Protocols()) {
		return "", fmt.Errorf("accept list %q names more protocols than there are", list)
	}
	return AcceptHeader(protocols, EscapingAllowUTF8), nil
}
