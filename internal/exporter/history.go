package exporter

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/conformance/scrape"
)

// probeRecord is what one probe found: what /probe writes and what the
// status page shows. It holds no exposition and at most maxFindingsShown
// findings per scrape, so that the history's memory is bounded whatever
// the targets serve.
type probeRecord struct {
	ID       uint64
	Time     time.Time
	Module   string
	Target   string // redacted: no password, no secret-looking query values
	Duration time.Duration
	// Checked is true when every scrape returned an exposition to judge.
	Checked bool
	// Success is true when every scrape was checked and passed.
	Success bool
	Scrapes []scrapeRecord
}

// scrapeRecord is one scrape of a probe (one per accept of the module).
type scrapeRecord struct {
	Accept      string // the accept name: text, openmetrics, or a header
	ContentType string // as served, cut to maxContentTypeBytes
	Format      string // text, openmetrics or unknown, as the engine parsed it
	StatusCode  int
	// Redirects are the redirects the scrape followed (or refused), their
	// URLs redacted and cut to maxFindingText.
	Redirects []scrape.Redirect
	Samples   int
	Families  int
	BodyBytes int
	// Compared is true when the scrape was judged against the previous
	// probe's (the scrape.* rules ran).
	Compared bool
	// Err says why the scrape could not be checked; ErrKind classifies it
	// (package scrape's kinds, or "refused" for the allowlist, or
	// "credentials").
	Err, ErrKind string
	// Failed is true when the check failed (Report.Failed).
	Failed bool
	// Counts are the findings by rule and severity, every rule that fired,
	// those past the engine's cap included.
	Counts []ruleCount
	// Findings are the first maxFindingsShown findings, errors first.
	Findings []check.Finding
	// Errors, Warnings and Infos count all findings by severity, those
	// past the engine's cap included.
	Errors, Warnings, Infos int
}

// ruleCount is how many findings one rule made, at one severity.
type ruleCount struct {
	Rule     string
	Severity check.Severity
	N        int
}

// Bounds of the findings.
const (
	// maxFindingsPerRule is the engine's cap (check.Options.
	// MaxFindingsPerRule), promcheck check's default: a rule that fires on
	// every line of a broken exposition costs 20 findings, not millions,
	// and the rest are counted (Report.Omitted).
	maxFindingsPerRule = 20
	// maxFindingsShown bounds the findings a record keeps for the status
	// page: enough to see what is wrong, not a copy of a broken
	// exposition; the counts say how many there are of each rule.
	maxFindingsShown = 20
	// maxFindingText bounds each text the status page keeps: a finding
	// quotes the target's series, which may be a line of megabytes.
	maxFindingText = 400
	// maxContentTypeBytes bounds the Content-Type kept and written as a
	// label value: a hostile target chooses it.
	maxContentTypeBytes = 256
)

// newScrapeRecord summarises a report: counts by rule, the findings worth
// showing, and the exposition's size.
func newScrapeRecord(accept string, in check.Input, report *check.Report) scrapeRecord {
	sr := scrapeRecord{
		Accept:      accept,
		ContentType: truncateUTF8(in.ContentType, maxContentTypeBytes),
		BodyBytes:   len(in.Body),
		Compared:    in.Previous != nil && in.Previous.ParseError == nil,
		Failed:      report.Failed(),
	}
	if in.HTTP != nil {
		sr.StatusCode = in.HTTP.StatusCode
	}
	if e := report.Exposition; e != nil {
		sr.Format = e.Format.String()
		sr.Samples, sr.Families = len(e.Samples), len(e.Families)
	}
	sr.Errors, sr.Warnings, sr.Infos = report.Count(check.Error), report.Count(check.Warning), report.Count(check.Info)
	counts := map[ruleCount]int{}
	for _, f := range report.Findings {
		counts[ruleCount{Rule: f.Rule, Severity: f.Severity}]++
	}
	for _, o := range report.Omitted {
		counts[ruleCount{Rule: o.Rule, Severity: o.Severity}] += o.Count
	}
	for k, n := range counts {
		k.N = n
		sr.Counts = append(sr.Counts, k)
	}
	sortCounts(sr.Counts)
	// Errors first, then warnings, then info, each in line order (the
	// report's order): the first few say why the probe failed.
	sorted := slices.Clone(report.Findings)
	slices.SortStableFunc(sorted, func(a, b check.Finding) int { return cmp.Compare(b.Severity, a.Severity) })
	// A copy of the first few, so that the record holds no more.
	kept := slices.Clone(sorted[:min(len(sorted), maxFindingsShown)])
	for i := range kept {
		kept[i].Message = truncateText(kept[i].Message, maxFindingText)
		kept[i].Series = truncateText(kept[i].Series, maxFindingText)
		kept[i].Family = truncateText(kept[i].Family, maxFindingText)
	}
	sr.Findings = kept
	return sr
}

// sortCounts orders counts by rule, then severity: /probe writes them so.
func sortCounts(counts []ruleCount) {
	slices.SortFunc(counts, func(a, b ruleCount) int {
		return cmp.Or(strings.Compare(a.Rule, b.Rule), cmp.Compare(a.Severity, b.Severity))
	})
}

// Total is the number of findings of every severity.
func (s *scrapeRecord) Total() int { return s.Errors + s.Warnings + s.Infos }

// truncateText cuts s to about n bytes, saying that it did.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return truncateUTF8(s, n) + fmt.Sprintf("... (%d bytes more)", len(s)-len(truncateUTF8(s, n)))
}

// truncateUTF8 cuts s to at most n bytes, at a character boundary.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// history keeps the latest probes for the status page, as
// blackbox_exporter does: the most recent max probes, and the most recent
// max failures among those that fell out, so that a failure is still there
// to read when its alert fires after a run of successful probes.
type history struct {
	max int

	mu     sync.Mutex
	nextID uint64
	recent []*probeRecord // oldest first
	failed []*probeRecord // oldest first, all unsuccessful
}

func newHistory(max int) *history { return &history{max: max} }

func (h *history) add(r *probeRecord) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r.ID = h.nextID
	h.nextID++
	h.recent = append(h.recent, r)
	if len(h.recent) <= h.max {
		return
	}
	out := h.recent[0]
	h.recent = slices.Delete(h.recent, 0, 1)
	if out.Success {
		return
	}
	h.failed = append(h.failed, out)
	if len(h.failed) > h.max {
		h.failed = slices.Delete(h.failed, 0, 1)
	}
}

// len returns how many probes are kept.
func (h *history) len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.recent) + len(h.failed)
}

// list returns the kept probes, newest first.
func (h *history) list() []*probeRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	all := make([]*probeRecord, 0, len(h.recent)+len(h.failed))
	all = append(all, h.failed...)
	all = append(all, h.recent...)
	slices.SortFunc(all, func(a, b *probeRecord) int { return cmp.Compare(b.ID, a.ID) })
	return all
}
