package check

import (
	"fmt"
	"net/http"
	"strings"
)

// Input is one exposition to check.
type Input struct {
	// Body is the exposition, already decoded (not gzip). Check copies it
	// once and never writes to it: the caller may reuse its buffer as soon
	// as Check returns, without changing the Report or a later check's
	// Previous. BorrowBody skips the copy.
	Body []byte
	// BorrowBody lets Check use Body in place instead of copying it. The
	// Report's Exposition then refers into Body (its names, series and
	// label values are views of it), so a caller that changes Body while
	// the Report is in use, or while its Exposition is the Previous of a
	// later check, silently changes both. Set it only for a buffer that
	// is never reused, as promcheck and package scrape do with the fresh
	// buffer each read gets. The copy costs the body's size in memory
	// again and, measured on the bench/ check benchmarks (2-core AMD
	// EPYC, benchstat), about 8% of a check's CPU time.
	BorrowBody bool
	// ContentType is the media type the exposition was served with, e.g.
	// "text/plain; version=0.0.4". It picks the parser as textparse.New
	// picks it, and says the protocol and escaping scheme the rules judge
	// the body by. Empty means unknown: the format is sniffed from the body
	// (a file), unless HTTP is set, where an empty Content-Type is itself a
	// finding.
	ContentType string
	// Format, when set, is the format to parse the body as, whatever
	// ContentType says (promcheck's --format). ContentType still says
	// the protocol and escaping when it names the same format.
	Format Format
	// HTTP describes the response the body came in, when it came over HTTP.
	HTTP *HTTPFacts
	// Previous is the exposition of the previous scrape of the same target
	// (Report.Exposition of the previous check), enabling the scrape.* rules.
	Previous *Exposition
}

// HTTPFacts are what a scraper saw of an HTTP response, for the http.* rules.
type HTTPFacts struct {
	// URL is the address scraped.
	URL string
	// Accept is the Accept header the request sent. A request that sent
	// several Accept lines is given them joined with ", " in the order
	// sent: RFC 9110 §5.3 reads them as one list.
	Accept string
	// AcceptEncoding is the Accept-Encoding header the request sent,
	// several lines joined with ", " as Accept's are.
	AcceptEncoding string
	// StatusCode is the response status.
	StatusCode int
	// Header is the response header.
	Header http.Header
	// WireBytes counts the body bytes as received, before any decoding.
	WireBytes int64
	// TooLarge is set when the body (decoded) exceeded the scraper's limit
	// and was cut there; Body then holds only the first part.
	TooLarge bool
	// Limit is the scraper's limit on the decoded body, in bytes.
	Limit int64
	// DecodeError is set when Content-Encoding named an encoding the body
	// was not in (or one the scraper does not know).
	DecodeError string
	// ServedProtocols lists the protocols this target served in other
	// scrapes of the same run (the caller fills it: promcheck collects the
	// Content-Types of its scrapes of one target). A target that showed it
	// can serve a protocol the Accept header preferred over the one served
	// draws http.negotiation-preference; one that only ever served text
	// does not.
	ServedProtocols []Protocol
}

// Options configure a check. Start from NewOptions.
type Options struct {
	// Schema is what the exposition must contain; nil checks no schema
	// (any valid exposition from any exporter passes).
	Schema *Schema
	// Disabled lists rule IDs or groups ("lint.*" or "lint") never reported.
	Disabled []string
	// Severities overrides the default severity of rules or groups, keyed
	// like Disabled.
	Severities map[string]Severity
	// Strict makes warnings fail the check; it also raises invariant.*
	// findings to errors, as SPEC.md §2.3 says.
	Strict bool
	// MaxFindingsPerRule, when positive, keeps only the first findings of
	// each rule (in the order the rule reports them, mostly by line) and
	// counts the rest in Report.Omitted, so that a line repeated millions
	// of times costs a few findings, not millions. Counts and the verdict
	// include the omitted findings. Zero keeps every finding.
	MaxFindingsPerRule int
}

// NewOptions returns the defaults: the deploy schema with the certctl
// namespace, every rule enabled at its default severity, not strict.
func NewOptions() Options {
	return Options{Schema: DeploySchema(DefaultNamespace)}
}

// Check judges one exposition. It never panics on any input and always
// returns a report.
func Check(in Input, opts Options) *Report {
	p := &pass{in: &in, opts: &opts}
	if in.ContentType != "" {
		// A Content-Type that does not parse says nothing; the http.*
		// rules report it when it came over HTTP.
		p.ct, _ = ParseContentType(in.ContentType)
	}
	format := p.format()
	p.exp = parse(in.Body, format, in.BorrowBody)
	if p.ct.Format == format {
		p.exp.Protocol, p.exp.Escaping = p.ct.Protocol, p.ct.Escaping
	}
	p.quoting = quotingOf(p.exp)
	checkHTTP(p)
	checkFormat(p)
	checkSpec(p)
	checkNameEscaping(p)
	checkEscaping(p)
	if p.exp.ParseError == nil {
		// The rules below judge the series Prometheus would ingest; when
		// textparse rejects the exposition nothing is ingested, and
		// judging a prefix would only add noise to the format.* error.
		checkLint(p)
		checkSchema(p)
		checkOrder(p)
		checkInvariants(p)
		checkScrape(p)
	}
	p.attributeFamilies()
	p.attributeMessages()
	r := &Report{Findings: p.findings, Exposition: p.exp, Strict: opts.Strict, Omitted: p.omissions()}
	r.sort()
	return r
}

// pass is the state one Check shares between its rule groups.
type pass struct {
	in   *Input
	opts *Options
	// ct is what Input.ContentType says (zero when it is empty or does
	// not parse).
	ct      ParsedContentType
	exp     *Exposition
	quoting quotingPolicy
	// served is what the http.* rules learned of the response's protocol,
	// nil without HTTP facts or a usable Content-Type; utf8Name the first
	// UTF-8 name of the exposition, found by the spec rules.
	served   *served
	utf8Name utf8Name
	findings []Finding
	// schema is the schema's reading of exp, shared by the schema, order
	// and invariant rules (schemaView).
	schema *schemaView
	// kept and omitted count the findings of each rule kept and left out
	// under Options.MaxFindingsPerRule (nil when there is no cap).
	kept, omitted map[string]int
}

// attributeFamilies names the family of findings that point at a sample
// or metadata line but were reported without one (rules that read raw
// lines know the line, not the family), so that reports can group them.
func (p *pass) attributeFamilies() {
	var byLine map[int]string
	for i := range p.findings {
		f := &p.findings[i]
		if f.Family != "" || f.Line == 0 {
			continue
		}
		if byLine == nil {
			byLine = p.exp.familyLines()
		}
		f.Family = byLine[f.Line]
	}
}

// attributeMessages points the findings about a family of a protobuf
// exposition, which has no lines, at the message the family (or the
// finding's series) came in.
func (p *pass) attributeMessages() {
	if p.exp.Format != FormatProtobuf {
		return
	}
	for i := range p.findings {
		f := &p.findings[i]
		if f.MessageIndex != 0 || f.Family == "" {
			continue
		}
		fam := p.exp.Family(f.Family)
		if fam == nil || len(fam.messages) == 0 {
			continue
		}
		f.MessageIndex = fam.messages[0].index
		if f.Series == "" || len(fam.messages) == 1 {
			continue
		}
		for _, m := range fam.messages {
			for _, s := range p.exp.Samples[m.first:m.end] {
				if s.Series == f.Series {
					f.MessageIndex = m.index
				}
			}
		}
	}
}

// format decides how to parse the body: Input.Format when set, else the
// served Content-Type when it names a format textparse knows, else a sniff
// of the body.
func (p *pass) format() Format {
	if knownFormat(p.in.Format) {
		return p.in.Format
	}
	if p.ct.Format != FormatUnknown {
		return p.ct.Format
	}
	return Sniff(p.in.Body)
}

// report records a finding of rule at line (0: the whole exposition),
// unless the rule is disabled. Severity comes from the registry and the
// options.
func (p *pass) report(rule string, line int, family, series, format string, args ...any) {
	// The message is formatted only for a finding that is kept.
	sev, keep := p.admit(rule)
	if !keep {
		return
	}
	p.findings = append(p.findings, Finding{Rule: rule, Severity: sev, Line: line, Family: family, Series: series, Message: fmt.Sprintf(format, args...)})
}

// reportAt records f (Rule, Line and Message set; Severity is filled in).
func (p *pass) reportAt(f Finding) {
	sev, keep := p.admit(f.Rule)
	if !keep {
		return
	}
	f.Severity = sev
	p.findings = append(p.findings, f)
}

// admit returns the severity of a finding of rule and whether to keep it:
// not when the rule is disabled, nor when Options.MaxFindingsPerRule of
// its findings are already kept (then it is counted as omitted).
func (p *pass) admit(rule string) (Severity, bool) {
	sev, enabled := p.severity(rule)
	if !enabled {
		return 0, false
	}
	if max := p.opts.MaxFindingsPerRule; max > 0 {
		if p.kept == nil {
			p.kept, p.omitted = map[string]int{}, map[string]int{}
		}
		if p.kept[rule] >= max {
			p.omitted[rule]++
			return 0, false
		}
		p.kept[rule]++
	}
	return sev, true
}

// omissions lists the findings left out by Options.MaxFindingsPerRule,
// by rule ID.
func (p *pass) omissions() []Omission {
	var out []Omission
	for _, rule := range sortedKeys(p.omitted) {
		sev, _ := p.severity(rule)
		out = append(out, Omission{Rule: rule, Severity: sev, Count: p.omitted[rule]})
	}
	return out
}

// severity returns the severity of rule under the options, and false when
// the rule is disabled.
func (p *pass) severity(rule string) (Severity, bool) {
	for _, d := range p.opts.Disabled {
		if matchRule(d, rule) {
			return 0, false
		}
	}
	r, ok := LookupRule(rule)
	if !ok {
		// A rule missing from the registry is a bug in the engine; make it
		// loud rather than silently dropping the finding.
		r = Rule{ID: rule, Severity: Error}
	}
	sev := r.Severity
	if p.opts.Strict && r.Group() == "invariant" {
		sev = Error
	}
	// The most specific override wins: an exact ID over a group.
	best := -1
	for key, s := range p.opts.Severities {
		if matchRule(key, rule) && len(key) > best {
			best, sev = len(key), s
		}
	}
	return sev, true
}

// ValidateRuleNames returns an error naming the first entry of names that
// is neither a rule ID nor a group, so a typo in --disable is not silently
// ignored.
func ValidateRuleNames(names []string) error {
	for _, n := range names {
		if _, ok := LookupRule(n); ok {
			continue
		}
		group := strings.TrimSuffix(n, ".*")
		known := false
		for _, g := range Groups() {
			known = known || g == group
		}
		if !known {
			return fmt.Errorf("unknown rule %q: `promcheck rules` lists them", n)
		}
	}
	return nil
}
