package main

import (
	"net/http"
	"slices"

	"github.com/deploymetrics/deploymetrics/conformance/check"
)

// http.negotiation-preference warns a target that answered with one
// protocol while the Accept header preferred another, but only when the
// target showed it can serve that other one (content_negotiation.md asks
// a target for the best protocol it supports; a text-only exporter must
// answer text). The evidence is what the target served in the run's other
// scrapes, HTTPFacts.ServedProtocols. A scrape is checked as soon as it
// arrives, knowing the protocols served so far; once the target's scrapes
// are done, those checked before a protocol first appeared are judged again
// on that rule alone, with every protocol the target served.

// preferenceRule is the rule judged again at the end of a target.
const preferenceRule = "http.negotiation-preference"

// servedProtocols collects the protocols one target served, in the order
// they first appeared.
type servedProtocols struct {
	protocols []check.Protocol
}

// add records the protocol a Content-Type names, if it names one.
func (s *servedProtocols) add(contentType string) {
	ct, err := check.ParseContentType(contentType)
	if err != nil || ct.Protocol == "" || slices.Contains(s.protocols, ct.Protocol) {
		return
	}
	s.protocols = append(s.protocols, ct.Protocol)
}

// list returns the protocols served so far, a copy the caller may keep.
func (s *servedProtocols) list() []check.Protocol {
	return slices.Clone(s.protocols)
}

// factsForRejudging keeps of a scrape's HTTP facts what the preference rule
// reads, and the protocols known when it was checked: a few strings, not
// the response's headers.
func factsForRejudging(h *check.HTTPFacts) *check.HTTPFacts {
	return &check.HTTPFacts{
		Accept:          h.Accept,
		StatusCode:      h.StatusCode,
		Header:          http.Header{"Content-Type": h.Header.Values("Content-Type")},
		ServedProtocols: h.ServedProtocols,
	}
}

// rejudgePreference judges again, on http.negotiation-preference alone,
// the scrapes of r that were checked before the target served every
// protocol it served in the run, and adds what that finds to them.
func (p *plan) rejudgePreference(r *targetResult, served *servedProtocols, limit *findingsCap) {
	all := served.list()
	for i := range r.Scrapes {
		s := &r.Scrapes[i]
		// The set only grows: a scrape that knew as many knew them all.
		if s.facts == nil || len(s.facts.ServedProtocols) == len(all) || s.hasRule(preferenceRule) {
			continue
		}
		facts := *s.facts
		facts.ServedProtocols = all
		// The rule reads the request and the response's Content-Type, not
		// the body: an empty one costs nothing to check.
		report := check.Check(check.Input{ContentType: s.ContentType, HTTP: &facts}, p.opts)
		for _, f := range report.Rule(preferenceRule) {
			limit.add(s, f)
		}
	}
}

// hasRule reports whether the scrape has a finding of rule, listed or
// omitted.
func (s *scrapeResult) hasRule(rule string) bool {
	for _, f := range s.Findings {
		if f.Rule == rule {
			return true
		}
	}
	for _, o := range s.Omitted {
		if o.Rule == rule {
			return true
		}
	}
	return false
}
