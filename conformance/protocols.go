package conformance

import (
	"fmt"
	"net/http"
	"slices"

	. "github.com/onsi/ginkgo/v2"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/conformance/scrape"
)

// An emitter declares the exposition protocols it serves in
// Config.Protocols: the five of content_negotiation.md, each a capability
// (see capabilities) with a passive spec of its own. The suite asks for
// each declared protocol with the Accept header AcceptFor gives, holds the
// answer to that protocol, and compares every declared protocol's values
// with the model.

// suiteProtocol is one protocol as the suite treats it: the passive spec
// that judges it alone, and whether the Full level requires it.
type suiteProtocol struct {
	protocol check.Protocol
	spec     string
	// required: SPEC.md §6.2 requires it at level Full; everyLevel: at
	// every level (text 0.0.4, every target's last resort).
	required, everyLevel bool
}

// suiteProtocols lists the protocols an emitter can declare, in the order
// the suite scrapes them: the two SPEC.md §6.2 requires (the text format
// 0.0.4, OpenMetrics 1.0.0), then the three Prometheus 3 added, as the
// reference handler orders them. OpenMetrics 2.0 is not among them: it is
// a release candidate Prometheus parses only behind a feature flag, and the
// suite does not hold emitters to it.
func suiteProtocols() []suiteProtocol {
	return []suiteProtocol{
		{protocol: check.PrometheusText0_0_4, spec: "passive-text", required: true, everyLevel: true},
		{protocol: check.OpenMetricsText1_0_0, spec: "passive-openmetrics", required: true},
		{protocol: check.OpenMetricsText0_0_1, spec: "passive-openmetrics-0.0.1"},
		{protocol: check.PrometheusText1_0_0, spec: "passive-text-1.0.0"},
		{protocol: check.PrometheusProto, spec: "passive-protobuf"},
	}
}

// referenceProtocols returns every protocol of suiteProtocols: what the
// reference handler serves.
func referenceProtocols() []check.Protocol {
	var out []check.Protocol
	for _, sp := range suiteProtocols() {
		out = append(out, sp.protocol)
	}
	return out
}

// AcceptFor returns the Accept header the suite asks for protocol p with,
// in every spec that scrapes p (and, through Emitter.Scrape, the header a
// Scrape function is given for p):
//
//	PrometheusText0.0.4   scrape.AcceptText         text/plain;version=0.0.4
//	OpenMetricsText1.0.0  scrape.AcceptOpenMetrics  OpenMetrics 1.0.0, text 0.0.4 at q=0.5
//	the others            what Prometheus 3 sends with scrape_protocols [p, PrometheusText0.0.4]:
//	                      p (escaping=allow-utf-8 for text 1.0.0), text 0.0.4, then */*
//
// e.g. AcceptFor(check.PrometheusProto) is
// "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.6,*/*;q=0.5".
// Each allows the text format 0.0.4 as a fallback, as a real scraper does;
// an emitter that declares p must not take it ([suite.declared]). The
// first two are the headers the suite sent before Config.Protocols
// existed, so that a Scrape function written for them keeps working.
func AcceptFor(p check.Protocol) string {
	switch p {
	case check.PrometheusText0_0_4:
		return scrape.AcceptText
	case check.OpenMetricsText1_0_0:
		return scrape.AcceptOpenMetrics
	}
	return check.AcceptHeader([]check.Protocol{p, check.PrometheusText0_0_4}, check.EscapingAllowUTF8)
}

// protocols returns the protocols the config declares, in the suite's
// order: Config.Protocols, or the text format 0.0.4 alone when the
// deprecated Config.OpenMetrics is false.
func (cfg *Config) protocols() []check.Protocol {
	var out []check.Protocol
	for _, sp := range suiteProtocols() {
		if cfg.declaresProtocol(sp.protocol) {
			out = append(out, sp.protocol)
		}
	}
	return out
}

// declaresProtocol reports whether the config declares protocol p.
func (cfg *Config) declaresProtocol(p check.Protocol) bool {
	if !cfg.OpenMetrics {
		return p == check.PrometheusText0_0_4
	}
	return slices.Contains(cfg.Protocols, p)
}

// protocolDeclaration says where the config declares p or not, for
// messages and the summary.
func (cfg *Config) protocolDeclaration(p check.Protocol) string {
	switch {
	case !cfg.OpenMetrics:
		return "Config.OpenMetrics is false: the text format 0.0.4 only"
	case slices.Contains(cfg.Protocols, p):
		return "Config.Protocols"
	}
	return "Config.Protocols does not list it"
}

// validateProtocols reports what is wrong with Config.Protocols.
func (cfg *Config) validateProtocols(fail func(format string, args ...any)) {
	seen := make(map[check.Protocol]bool)
	for _, p := range cfg.Protocols {
		switch {
		case p.Experimental():
			fail("Protocols: %s is a release candidate Prometheus parses only behind a feature flag; the suite does not hold emitters to it: leave it out", p)
		case p.Format() == check.FormatUnknown:
			fail("Protocols: %q is no protocol: list check.PrometheusText0_0_4, check.OpenMetricsText1_0_0, check.OpenMetricsText0_0_1, check.PrometheusText1_0_0 or check.PrometheusProto", string(p))
		case seen[p]:
			fail("Protocols: %s listed twice", p)
		}
		seen[p] = true
	}
	if cfg.OpenMetrics && !seen[check.PrometheusText0_0_4] {
		fail("Protocols: PrometheusText0.0.4 missing: every emitter serves the text format 0.0.4, the last resort of content negotiation (content_negotiation.md: MUST); add it (NewConfig lists it)")
	}
}

// Protocols returns the protocols the emitter declares (Config.Protocols),
// in the order the suite scrapes them: the text format 0.0.4 first.
func (tc *TestContext) Protocols() []check.Protocol { return tc.Config.protocols() }

// protocolOfAccept returns the declared protocol whose AcceptFor header
// accept is, false when accept is no such header.
func (tc *TestContext) protocolOfAccept(accept string) (check.Protocol, bool) {
	for _, p := range tc.Protocols() {
		if AcceptFor(p) == accept {
			return p, true
		}
	}
	return "", false
}

// servedProtocol returns the protocol a Content-Type names, "" when it
// names none.
func servedProtocol(contentType string) check.Protocol {
	ct, _ := check.ParseContentType(contentType)
	return ct.Protocol
}

// expectProtocol fails the spec when the answer to AcceptFor(p) of a
// protocol p the emitter declares is in another protocol: the text
// fallback the header allows is for emitters that do not declare p. An
// answer to any other header is the engine's to judge. A failed status is
// left to http.status.
func (tc *TestContext) expectProtocol(in check.Input, accept string) {
	GinkgoHelper()
	if in.HTTP != nil && in.HTTP.StatusCode != http.StatusOK {
		return
	}
	p, ok := tc.protocolOfAccept(accept)
	if !ok {
		return
	}
	if got := servedProtocol(in.ContentType); got != p {
		how := "the emitter answered"
		if in.HTTP == nil {
			how = "Emitter.Scrape returned"
		}
		tc.disagree(string(p), fmt.Sprintf("asked for it with Accept %q, %s Content-Type %q (%s)", accept, how, in.ContentType, protocolName(got)))
	}
}

// protocolName names a served protocol in a message.
func protocolName(p check.Protocol) string {
	if p == "" {
		return "no protocol of content_negotiation.md"
	}
	return string(p)
}
