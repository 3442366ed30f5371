// Package deploymetrics carries the project's specification, SPEC.md, in
// the module's root, so that tools built from the module can quote it:
// promcheck explain names the section of SPEC.md each rule enforces, with
// its title, and says what it asks.
//
//	s, ok := deploymetrics.SpecSection("§1.6")
//	// s.Title == "Order"; s.Text is the section as written
//
// The packages of the module live below it: counters, handler,
// conformance, conformance/check and cmd/promcheck (README.md).
package deploymetrics

import (
	_ "embed"
	"regexp"
	"strings"
)

//go:embed SPEC.md
var spec string

// A Section is one numbered section of SPEC.md.
type Section struct {
	// ID is the section's number as the document and the rules cite it:
	// "§1.6", or "§1" for a part.
	ID string
	// Title is the heading after the number: "Order".
	Title string
	// Text is the section's Markdown, up to the next heading of its level
	// or above (a part's Text holds its sections).
	Text string
}

// specHeading matches a numbered heading of SPEC.md: "## §1 The deploy
// metrics contract", "### §1.6 Order".
var specHeading = regexp.MustCompile(`^(#{2,3}) (§\d+(?:\.\d+)?) (.+)$`)

// SpecSections returns every numbered section of SPEC.md in document
// order, parts and their sections alike.
func SpecSections() []Section {
	type heading struct {
		line, level int
		id, title   string
	}
	lines := strings.Split(spec, "\n")
	var heads []heading
	fenced := false
	for i, l := range lines {
		if strings.HasPrefix(l, "```") {
			fenced = !fenced
			continue
		}
		if m := specHeading.FindStringSubmatch(l); m != nil && !fenced {
			heads = append(heads, heading{line: i, level: len(m[1]), id: m[2], title: m[3]})
		}
	}
	out := make([]Section, len(heads))
	for k, h := range heads {
		end := len(lines)
		for _, next := range heads[k+1:] {
			if next.level <= h.level {
				end = next.line
				break
			}
		}
		out[k] = Section{ID: h.id, Title: h.title, Text: strings.TrimSpace(strings.Join(lines[h.line+1:end], "\n"))}
	}
	return out
}

// SpecSection returns the section of SPEC.md numbered id ("§1.6"), and
// false when there is none.
func SpecSection(id string) (Section, bool) {
	for _, s := range SpecSections() {
		if s.ID == id {
			return s, true
		}
	}
	return Section{}, false
}

// Spec returns SPEC.md as written.
func Spec() string { return spec }
