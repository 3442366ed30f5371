package check

import (
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/common/model"
)

// UTF-8 names. Prometheus 3 takes metric and label names of any UTF-8; a
// target writes those outside the legacy set [a-zA-Z_:][a-zA-Z0-9_:]* (label
// names: no colon) the way the escaping scheme of the response says
// (escaping_schemes.md): quoted as they are under allow-utf-8, escaped into
// the legacy set under underscores, dots and values. The text formats quote
// such names (text 1.0.0: {"my.metric","my.label"="v"}); protobuf carries
// them as they are. A scraper that did not ask for allow-utf-8 (Prometheus 2
// never does) fails the scrape on a quoted name.
//
// spec.quoted-name (in the strict lexer) judges the quoting syntax of the
// text formats against the Content-Type, spec.name-escaping the names
// against the escaping scheme, and http.escaping the response against the
// request.

// quotingPolicy says whether the protocol an exposition was served with
// allows quoted (UTF-8) names, and why not when it does not.
type quotingPolicy struct {
	allowed bool
	why     string
}

// quotingOf returns the quoting policy of an exposition's protocol and
// escaping scheme. Quoted names are part of the grammar of text 1.0.0 and
// OpenMetrics 2.0, and of any text format under escaping=allow-utf-8
// (client_golang serves them as text 0.0.4 that way); the other escaping
// schemes never quote, and text 0.0.4 and OpenMetrics 0.0.1 and 1.0.0
// have no quoted names otherwise. With no known protocol (a file given no
// Content-Type) the engine cannot tell, and takes them.
func quotingOf(e *Exposition) quotingPolicy {
	switch {
	case e.Format == FormatOpenMetrics2, e.Escaping == EscapingAllowUTF8:
		return quotingPolicy{allowed: true}
	case e.Escaping != "":
		return quotingPolicy{why: fmt.Sprintf("the Content-Type says escaping=%s, which writes every name in [a-zA-Z_:][a-zA-Z0-9_:]*, escaping what lies outside it, and never quotes one (escaping_schemes.md); quote names only under escaping=allow-utf-8", e.Escaping)}
	case e.Protocol == PrometheusText1_0_0, e.Protocol == "":
		return quotingPolicy{allowed: true}
	}
	return quotingPolicy{why: fmt.Sprintf("%s has quoted (UTF-8) names only when the Content-Type says escaping=allow-utf-8 (a scraper that did not ask for them, Prometheus 2 among them, fails the scrape); escape the name into [a-zA-Z_:][a-zA-Z0-9_:]*, or serve it quoted as %q when the scraper asks for UTF-8 names",
		e.Protocol, PrometheusText1_0_0.ContentType(EscapingAllowUTF8))}
}

var nameRules = []Rule{
	{ID: "spec.name-escaping", Severity: Error, Description: "names follow the escaping scheme the Content-Type names (escaping_schemes.md): under escaping=values a name starting with U__ decodes to a name; protobuf served without escaping=allow-utf-8 has only names in [a-zA-Z_:][a-zA-Z0-9_:]* (text formats: spec.quoted-name)",
		Spec: "§4.5", Source: "escaping_schemes.md, Value Encoding Escaping (values)", Quote: "The name MUST be prefixed with `U__`."},
}

// checkNameEscaping judges every metric and label name against the
// escaping scheme of the response.
func checkNameEscaping(p *pass) {
	e := p.exp
	values := e.Escaping == EscapingValues
	legacy := e.Format == FormatProtobuf && e.Protocol != "" && e.Escaping != EscapingAllowUTF8
	if !values && !legacy {
		return
	}
	report := func(f *Family, s *Sample, what, name, problem string) {
		fd := Finding{Rule: "spec.name-escaping", Family: f.Name, Message: fmt.Sprintf("%s %q %s", what, name, problem)}
		if s != nil {
			fd.Line, fd.Series = s.Line, s.Series
		} else {
			fd.Line = familyLine(f)
		}
		p.reportAt(fd)
	}
	judge := func(name string, label bool) string {
		if values && strings.HasPrefix(name, "U__") && model.UnescapeName(name, model.ValueEncodingEscaping) == name {
			return "starts with U__ but does not decode: under escaping=values a name outside [a-zA-Z_:][a-zA-Z0-9_:]* is written U__ then its characters, an underscore doubled and any other as _<hex code point>_ (U__my_2e_metric is my.metric)"
		}
		valid := model.IsValidLegacyMetricName(name)
		if label {
			valid = model.LabelName(name).IsValidLegacy()
		}
		if legacy && !valid {
			scheme := "no escaping parameter"
			if e.Escaping != "" {
				scheme = "escaping=" + string(e.Escaping)
			}
			return fmt.Sprintf("is outside [a-zA-Z_:][a-zA-Z0-9_:]*, but the Content-Type says %s: a scraper that did not ask for UTF-8 names (Prometheus 2 never does) fails the scrape; escape it (%s) unless the request said escaping=allow-utf-8",
				scheme, model.EscapeName(name, model.UnderscoreEscaping))
		}
		return ""
	}
	// The protobuf front end notes each message's first label name
	// outside [a-zA-Z_][a-zA-Z0-9_]*: when no message has one, no label
	// name can break the legacy set, and only escaping=values has label
	// names left to judge.
	labels := values || slices.ContainsFunc(e.messages, func(m protoMessage) bool { return m.utf8Label != "" })
	for _, f := range e.Families {
		if problem := judge(f.Name, false); problem != "" {
			report(f, nil, "metric name", f.Name, problem)
		}
		if !labels {
			continue
		}
		// Label names repeat from sample to sample, mostly as the same
		// string: judge each name once. A name the last sample had at
		// the same place was judged with it, which a comparison of the
		// two strings (mostly one pointer) tells before the map does.
		judged := make(map[string]bool)
		var last []Label
		for _, s := range f.Samples {
			for k, l := range s.Labels {
				if k < len(last) && last[k].Name == l.Name || judged[l.Name] {
					continue
				}
				judged[l.Name] = true
				if problem := judge(l.Name, true); problem != "" {
					report(f, s, "label name", l.Name, problem)
				}
			}
			last = s.Labels
		}
	}
}

// escapedExample renders name as the underscores scheme escapes it, for
// messages that suggest escaping.
func escapedExample(name string) string {
	return model.EscapeName(name, model.UnderscoreEscaping)
}
