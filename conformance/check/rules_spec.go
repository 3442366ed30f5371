package check

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// The spec.* rules judge what the exposition formats forbid but textparse
// lets through: the text format (0.0.4 and 1.0.0), OpenMetrics 1.0 (0.0.1
// and 1.0.0), OpenMetrics 2.0 (a release candidate: its rules are
// experimental) and protobuf. They judge the model the front ends build,
// and, in the text formats, the bytes as the strict lexer reads them. A
// rule that applies to some formats only names them in its description;
// "OpenMetrics" means both versions. They are errors, except
// spec.escape-undefined and spec.canonical-number, which judge what
// OpenMetrics says exposers SHOULD (NOT) do.
var specRules = []Rule{
	{ID: "spec.syntax", Severity: Error, Description: "every line follows the format's grammar where textparse reads on regardless (OpenMetrics: no trailing comma, no CR line ending; text: commas between labels, no NUL where a line starts)",
		Spec: "§7.2", Source: "OpenMetrics 1.0, Overall Structure", Quote: "Line endings MUST be signalled with line feed (\\n) and MUST NOT contain carriage returns (\\r)."},
	{ID: "spec.quoted-name", Severity: Error, Description: "text formats: a metric or label name is quoted (UTF-8 syntax {\"my.metric\",\"my.label\"=\"v\"}) only where the Content-Type allows it: text 1.0.0, OpenMetrics 2.0 (experimental), or any text format with escaping=allow-utf-8; never under escaping=underscores, dots or values, nor in text 0.0.4 or OpenMetrics 0.0.1/1.0.0 without escaping=allow-utf-8 (Prometheus 2 fails such a scrape)",
		Spec: "§4.5", Source: "escaping_schemes.md, No Escaping (allow-utf-8)", Quote: "This scheme MUST only be used when both the producer and consumer support UTF-8 names."},
	{ID: "spec.escape", Severity: Error, Description: `label values and HELP texts use only the format's escapes (text 0.0.4: \\ \" \n in label values, \\ \n in HELP), no raw line feed in a label value, no lone backslash`,
		Spec: "§7.2", Source: "exposition_formats.md, Comments, help text, and type information", Quote: "`label_value` can be any sequence of UTF-8 characters, but the backslash (`\\`), double-quote (`\"`), and line feed (`\\n`) characters have to be escaped as `\\\\`, `\\\"`, and `\\n`, respectively."},
	{ID: "spec.escape-go-quote", Severity: Error, Description: "text format: no label value or HELP text carries Go's %q escapes (\\t, \\x00, \\u00e9, ...): Prometheus stores the backslash literally, expfmt rejects the scrape",
		Spec: "§7.2", Source: "exposition_formats.md, Comments, help text, and type information", Quote: "`escaped_string` consists of any UTF-8 characters, but backslash, double-quote, and line feed must be escaped."},
	{ID: "spec.escape-undefined", Severity: Warning, Description: "OpenMetrics: no backslash before anything but n, \" and \\ (the spec says SHOULD NOT; it reads as a literal backslash)",
		Spec: "§7.2", Source: "OpenMetrics 1.0, Escaping", Quote: "A single backslash SHOULD NOT be used for undefined escape sequences."},
	{ID: "spec.utf8", Severity: Error, Description: "the exposition is valid UTF-8 everywhere, comments and names included",
		Spec: "§7.2", Source: "OpenMetrics 1.0, Strings", Quote: "Strings MUST only consist of valid UTF-8 characters and MAY be zero length."},
	{ID: "spec.reserved-name", Severity: Error, Description: "OpenMetrics: no metric or label name starts with an underscore (reserved by the spec)",
		Spec: "§7.3", Source: "OpenMetrics 1.0, Label", Quote: "Label names beginning with underscores are RESERVED and MUST NOT be used unless specified by this standard."},
	{ID: "spec.duplicate-label", Severity: Error, Description: "no label name appears twice in one label set",
		Spec: "§7.5", Source: "OpenMetrics 1.0, LabelSet", Quote: "Label names MUST be unique within a LabelSet."},
	{ID: "spec.duplicate-series", Severity: Error, Description: "every series (name and labels, empty labels dropped) appears once; OpenMetrics allows a repeat only with increasing timestamps",
		Spec: "§7.5", Source: "exposition_formats.md, Grouping and sorting", Quote: "Each line must have a unique combination of a metric name and labels."},
	{ID: "spec.interleaved-family", Severity: Error, Description: "each family is one uninterrupted group: its metadata, then its samples, never resumed after another family (protobuf: one MetricFamily message, no two messages of one name)",
		Spec: "§7.4", Source: "OpenMetrics 1.0, MetricFamily", Quote: "MetricFamilies MUST NOT be interleaved."},
	{ID: "spec.interleaved-metric", Severity: Error, Description: "OpenMetrics: the samples of one metric (label set) of a family are contiguous, never resumed after another metric",
		Spec: "§7.5", Source: "OpenMetrics 1.0, MetricFamily", Quote: "Metrics MUST NOT be interleaved."},
	{ID: "spec.metadata-repeated", Severity: Error, Description: "a family has at most one HELP, one TYPE and (OpenMetrics) one UNIT line",
		Spec: "§7.4", Source: "OpenMetrics 1.0, MetricFamily metadata", Quote: "There MUST NOT be more than one of each type of metadata line for a MetricFamily."},
	{ID: "spec.metadata-after-samples", Severity: Error, Description: "a family's HELP, TYPE and UNIT lines come before its first sample",
		Spec: "§7.4", Source: "exposition_formats.md, Comments, help text, and type information", Quote: "The `TYPE` line for a metric name must appear before the first sample is reported for that metric name."},
	{ID: "spec.type-suffix", Severity: Error, Description: "a sample named like a typed family carries a suffix that type allows (OpenMetrics counter x: x_total, x_created; info x: x_info)",
		Spec: "§7.3", Source: "OpenMetrics 1.0, Counter (text format)", Quote: "The MetricPoint's Total Value Sample MetricName MUST have the suffix \"_total\"."},
	{ID: "spec.name-clash", Severity: Error, Description: "OpenMetrics: no two families can produce the same sample name (a counter x and a gauge x_created)",
		Spec: "§7.3", Source: "OpenMetrics 1.0, Suffixes", Quote: "The name of a MetricFamily MUST NOT result in a potential clash for sample metric names as per the ABNF with another MetricFamily in the Text Format within a MetricSet."},
	{ID: "spec.counter-value", Severity: Error, Description: "a counter's total is never NaN or negative",
		Spec: "§7.6", Source: "OpenMetrics 1.0, Counter", Quote: "A Total is a non-NaN and MUST be monotonically non-decreasing over time, starting from 0."},
	{ID: "spec.histogram-le", Severity: Error, Description: "every _bucket sample has an le label that is a number (not NaN), +Inf written \"+Inf\" in OpenMetrics; OpenMetrics: no le label on other histogram samples",
		Spec: "§7.7", Source: "OpenMetrics 1.0, Histogram", Quote: "Bucket thresholds MUST NOT equal NaN."},
	{ID: "spec.canonical-number", Severity: Warning, Description: "OpenMetrics: le and quantile label values use the canonical rendering (Go's %g, .0 added to integers: 1.0, 0.25, 1e-05), which the spec asks of exposers and parsers must not demand",
		Spec: "§7.7", Source: "OpenMetrics 1.0, Numbers", Quote: "Arbitrary integer and floating point rendering of numbers MUST NOT be used for \"quantile\" and \"le\" label values as in section \"Canonical Numbers\"."},
	{ID: "spec.histogram-buckets", Severity: Error, Description: "histogram buckets are in increasing le order, unique, cumulative, and include le=\"+Inf\"",
		Spec: "§7.7", Source: "OpenMetrics 1.0, Histogram", Quote: "Buckets MUST be cumulative."},
	{ID: "spec.histogram-count", Severity: Error, Description: "a histogram's _count equals its +Inf bucket; OpenMetrics: _count and _sum (_gcount and _gsum) come together",
		Spec: "§7.7", Source: "exposition_formats.md, Histograms and summaries", Quote: "Its value _must_ be identical to the value of `x_count`."},
	{ID: "spec.histogram-value", Severity: Error, Description: "histogram bucket and count values are never NaN or negative (OpenMetrics: integers; _sum never NaN or negative, absent with negative buckets; _gsum never NaN)",
		Spec: "§7.7", Source: "OpenMetrics 1.0, Histogram", Quote: "Semantically, Sum, and buckets values are counters so MUST NOT be NaN or negative."},
	{ID: "spec.summary-quantile", Severity: Error, Description: "every bare summary sample has a quantile label between 0 and 1 (text: in increasing order); OpenMetrics: none on _sum and _count",
		Spec: "§7.8", Source: "OpenMetrics 1.0, Summary", Quote: "Quantiles MUST be between 0 and 1 inclusive."},
	{ID: "spec.summary-value", Severity: Error, Description: "a summary's _count is never NaN or negative (OpenMetrics: an integer; _sum and quantile values never negative, _sum never NaN)",
		Spec: "§7.8", Source: "OpenMetrics 1.0, Summary", Quote: "Semantically, Count and Sum values are counters so MUST NOT be NaN or negative."},
	{ID: "spec.stateset", Severity: Error, Description: "OpenMetrics: every stateset sample has a label named after its family and the value 0 or 1",
		Spec: "§7.9", Source: "OpenMetrics 1.0, StateSet (text format)", Quote: "The State sample's value MUST be 1 if the State is true and MUST be 0 if the State is false."},
	{ID: "spec.info", Severity: Error, Description: "OpenMetrics: every info sample has the value 1",
		Spec: "§7.9", Source: "OpenMetrics 1.0, Info (text format)", Quote: "The Sample value MUST always be 1."},
	{ID: "spec.unit", Severity: Error, Description: "OpenMetrics: info and stateset families have no unit",
		Spec: "§7.9", Source: "OpenMetrics 1.0, Info", Quote: "MetricFamilies of type Info MUST have an empty Unit string."},
	{ID: "spec.exemplar", Severity: Error, Description: "OpenMetrics: exemplars only on counter _total and histogram _bucket samples (2.0, experimental: counter and histogram samples), with a value within the bucket; OpenMetrics 1.0: at most 128 characters of labels",
		Spec: "§7.10", Source: "OpenMetrics 1.0, Exemplars", Quote: "The combined length of the label names and values of an Exemplar's LabelSet MUST NOT exceed 128 UTF-8 character code points."},
	{ID: "spec.timestamp", Severity: Error, Description: "OpenMetrics: the timestamps of a series and of a metric's points never go back, and a series has them on all its samples or none",
		Spec: "§7.5", Source: "OpenMetrics 1.0, Metric", Quote: "If more than one MetricPoint is exposed for a Metric, then its MetricPoints MUST have monotonically increasing timestamps."},
	{ID: "spec.trailing-newline", Severity: Error, Description: "text format: the last line ends with a line feed",
		Spec: "§7.2", Source: "exposition_formats.md, Details", Quote: "The last line must end with a line feed character."},
}

func checkSpec(p *pass) {
	switch {
	case p.exp == nil:
	case p.exp.Format == FormatProtobuf:
		newSpecPass(p).runMessages()
	case len(p.exp.Body) > 0:
		newSpecPass(p).run()
	}
}

// specPass is the state of the spec rules over one exposition: families
// as the format delimits them, and the series and metrics seen so far.
type specPass struct {
	p *pass
	e *Exposition
	b []byte
	// format is the format judged. om says OpenMetrics, 1.0 or 2.0: the
	// rules of metrics, timestamps, statesets and info; om1 OpenMetrics
	// 1.0 alone: _created samples, canonical numbers, integer counts,
	// clashing family names.
	format  Format
	om, om1 bool
	fams    map[string]*specFamily
	cur     *specFamily
	// owners maps every sample name a closed OpenMetrics family can
	// produce to that family, for spec.name-clash.
	owners map[string]*specFamily
	nfams  uint64

	num    []byte // a number being rendered canonically
	seed   maphash.Seed
	key    []byte   // a series or metric key being hashed
	hashes []uint64 // the series hash of every sample (hashSeries)
	// touched sums what touchAhead loads, so that the loads are made.
	touched   int32
	seriesIdx hashIndex // hash of name and labels → series
	// series are the records of the series in OpenMetrics, where a series
	// keeps its timestamps. In the other formats a series is only its
	// latest sample, which seriesIdx holds itself.
	series    []seriesRec
	metricIdx hashIndex // hash of family and metric labels → metrics
	metrics   []metricRec
}

// specFamily is one metric family as the spec delimits it.
type specFamily struct {
	name string
	id   uint64
	typ  model.MetricType
	// line is the first line of the family; helpLine, typeLine and
	// unitLine its metadata lines (0: none).
	line, helpLine, typeLine, unitLine int
	unit                               string
	message                            int // protobuf: the message it came in
	samples                            int
	lastLine                           int   // the last line seen of the family
	curMetric                          int32 // the metric being written, -1 none
	// prev is the last sample of the family, an index into
	// Exposition.Samples, -1 for none (an index: a pointer stored for
	// every sample would cost a write barrier while the garbage
	// collector runs).
	prev       int32
	hasCreated bool     // an OpenMetrics counter with _created samples
	points     []*point // histogram and summary points not judged yet
	clashed    bool     // spec.name-clash reported
}

// seriesRec is what the spec rules remember of a series. It holds no
// pointer, so that a large exposition's table of them costs the garbage
// collector nothing to scan.
type seriesRec struct {
	sample int32   // its latest sample, an index into Exposition.Samples
	hasTs  bool    // whether it had a timestamp
	ts     float64 // its latest timestamp, in seconds
}

// metricRec is what the spec rules remember of a metric of a histogram,
// summary or stateset.
type metricRec struct {
	s     *Sample // the first sample of the metric
	fam   *specFamily
	skip  string  // the label its samples differ by
	ts    float64 // the latest timestamp of the metric's samples
	hasTs bool
	pt    *point // the point (histogram, summary) being written
}

// point is one MetricPoint of a histogram, gauge histogram or summary.
type point struct {
	line      int
	series    string
	ts        float64
	hasTs     bool
	done      bool
	buckets   int
	lastLe    float64
	lastValue float64
	hasInf    bool
	inf       float64
	negLe     bool
	hasCount  bool
	count     float64
	countLine int
	hasSum    bool
	sum       float64
	sumLine   int
	hasQ      bool
	lastQ     float64
}

// sampleKind is what a sample is to its family.
type sampleKind uint8

const (
	kindNone     sampleKind = iota // fits no family: spec.type-suffix
	kindValue                      // the bare name of a gauge, unknown or stateset
	kindTotal                      // a counter's total
	kindCreated                    // _created
	kindBucket                     // _bucket
	kindCount                      // _count
	kindSum                        // _sum
	kindGCount                     // _gcount
	kindGSum                       // _gsum
	kindQuantile                   // the bare name of a summary
	kindInfo                       // _info
	kindNative                     // a native histogram (protobuf, OpenMetrics 2.0)
)

func newSpecPass(p *pass) *specPass {
	sp := &specPass{
		p:         p,
		e:         p.exp,
		b:         p.exp.Body,
		format:    p.exp.Format,
		om:        p.exp.Format == FormatOpenMetrics || p.exp.Format == FormatOpenMetrics2,
		om1:       p.exp.Format == FormatOpenMetrics,
		fams:      make(map[string]*specFamily),
		owners:    make(map[string]*specFamily),
		seed:      p.exp.seed,
		seriesIdx: newHashIndex(len(p.exp.Samples)),
	}
	if sp.om {
		// At most one series a sample: room for them all, so that the
		// table never grows.
		sp.series = make([]seriesRec, 0, len(p.exp.Samples))
	}
	sp.hashSeries()
	return sp
}

func (sp *specPass) run() {
	e := sp.e
	stop := len(sp.b)
	if pe := e.ParseError; pe != nil && pe.Line >= 1 && pe.Line <= e.Lines() {
		stop = e.lineStarts()[pe.Line-1]
	}
	lex := newRawLexer(sp.b, sp.format, sp.p.quoting, stop, sp.lexFinding)
	var ent rawEntry
	next := 0 // the next textparse sample to pair with a sample line
	for lex.next(&ent) {
		switch ent.kind {
		case entryHelp, entryType, entryUnit:
			sp.metadata(&ent)
		case entrySample, entryBroken:
			for next < len(e.Samples) && e.Samples[next].Line < ent.line {
				next++
			}
			// One sample a line, but for the samples OpenMetrics 2.0
			// explodes a composite value into.
			for next < len(e.Samples) && e.Samples[next].Line == ent.line {
				sp.sample(int32(next), &ent)
				next++
			}
		}
	}
	sp.p.utf8Name = lex.firstQuoted
	// A family cut short by textparse's rejection is not judged whole:
	// the format.* error says what is wrong there.
	if sp.cur != nil && e.ParseError == nil {
		sp.close(sp.cur)
	}
	if sp.format == FormatText && len(sp.b) > 0 && sp.b[len(sp.b)-1] != '\n' {
		last := e.Lines()
		sp.p.reportAt(Finding{Rule: "spec.trailing-newline", Line: last, Column: len(e.Line(last)) + 1,
			Message: "the last line does not end with a line feed: the text format ends every line with \\n"})
	}
}

// runMessages judges a protobuf exposition message by message: there are
// no lines to lex, and each message is a family with its metadata.
func (sp *specPass) runMessages() {
	var ent rawEntry // no spans: findings carry no column
	for i := range sp.e.messages {
		m := &sp.e.messages[i]
		sp.findUTF8Name(m)
		f := sp.fams[m.family.Name]
		if f == nil {
			f = sp.newFamily(m.family.Name, 0)
			f.typ, f.unit, f.message = m.typ, m.unit, m.index
		} else {
			sp.p.reportAt(Finding{Rule: "spec.interleaved-family", Family: f.name, MessageIndex: m.index,
				Message: fmt.Sprintf("family %s comes again in message %d (it was message %d): a family is one MetricFamily message, and no two messages share a name", f.name, m.index, f.message)})
		}
		sp.switchTo(f)
		for si := m.first; si < m.end; si++ {
			sp.sample(int32(si), &ent)
		}
	}
	if sp.cur != nil && sp.e.ParseError == nil {
		sp.close(sp.cur)
	}
}

// findUTF8Name notes the first name outside the legacy set of a protobuf
// exposition, for http.escaping (in the text formats, the lexer notes the
// first quoted name): the family name of a message, else the first such
// label name of its samples, which the front end noted.
func (sp *specPass) findUTF8Name(m *protoMessage) {
	if sp.p.utf8Name.name != "" {
		return
	}
	if name := m.family.Name; !model.IsValidLegacyMetricName(name) {
		sp.p.utf8Name = utf8Name{name: name, family: name}
		return
	}
	if m.utf8Label != "" {
		sp.p.utf8Name = utf8Name{name: m.utf8Label, family: m.family.Name}
	}
}

func (sp *specPass) lexFinding(rule string, line, col int, msg string) {
	sp.p.reportAt(Finding{Rule: rule, Line: line, Column: col, Message: msg})
}

// find reports rule about sample s of family f, at column col (0: none).
func (sp *specPass) find(rule string, f *specFamily, s *Sample, col int, format string, args ...any) {
	fd := Finding{Rule: rule, Line: s.Line, Column: col, Series: s.Series, Message: fmt.Sprintf(format, args...)}
	if f != nil {
		fd.Family = f.name
	}
	sp.p.reportAt(fd)
}

// col returns the column of offset off within the entry's first line.
func col(ent *rawEntry, s span) int {
	if s.start == 0 && s.end == 0 {
		return 0 // not known: the lexer did not get that far
	}
	return s.start - ent.start + 1
}

func (sp *specPass) text(s span) string { return string(sp.b[s.start:s.end]) }

// ---- families ----

func (sp *specPass) newFamily(name string, line int) *specFamily {
	sp.nfams++
	f := &specFamily{name: name, id: sp.nfams, typ: model.MetricTypeUnknown, line: line, curMetric: -1, prev: -1}
	sp.fams[name] = f
	return f
}

// switchTo makes f the current family, closing the one it interrupts.
func (sp *specPass) switchTo(f *specFamily) {
	if sp.cur != nil && sp.cur != f {
		sp.close(sp.cur)
	}
	sp.cur = f
}

var metaNames = [...]string{entryHelp: "HELP", entryType: "TYPE", entryUnit: "UNIT"}

func (sp *specPass) metadata(ent *rawEntry) {
	nameBytes := sp.b[ent.name.start:ent.name.end]
	f := sp.fams[string(nameBytes)]
	kind := metaNames[ent.kind]
	report := func(rule, format string, args ...any) {
		sp.p.reportAt(Finding{Rule: rule, Line: ent.line, Family: f.name, Message: fmt.Sprintf(format, args...)})
	}
	if f == nil {
		f = sp.newFamily(string(nameBytes), ent.line)
		sp.switchTo(f)
	} else {
		first := f.metaLine(ent.kind)
		switch {
		case first > 0 && f.samples > 0:
			report("spec.metadata-repeated", "second # %s line for %s (the first is on line %d), after its samples: a family has one, and no two families share a name", kind, f.name, first)
		case first > 0:
			report("spec.metadata-repeated", "second # %s line for %s (the first is on line %d): a family has one", kind, f.name, first)
		case f.samples > 0:
			report("spec.metadata-after-samples", "# %s for %s comes after its samples (from line %d): metadata comes first", kind, f.name, f.line)
		case f != sp.cur:
			report("spec.interleaved-family", "# %s for %s resumes a family left on line %d: a family is one uninterrupted group", kind, f.name, f.lastLine)
		}
		sp.switchTo(f)
	}
	f.lastLine = ent.line
	switch ent.kind {
	case entryHelp:
		if f.helpLine == 0 {
			f.helpLine = ent.line
		}
	case entryType:
		if f.typeLine == 0 {
			f.typeLine = ent.line
			f.typ = metricType(sp.b[ent.text.start:ent.text.end])
		}
	case entryUnit:
		if f.unitLine == 0 {
			f.unitLine = ent.line
			f.unit = sp.text(ent.text)
		}
	}
}

func (f *specFamily) metaLine(k entryKind) int {
	switch k {
	case entryHelp:
		return f.helpLine
	case entryType:
		return f.typeLine
	}
	return f.unitLine
}

func metricType(b []byte) model.MetricType {
	switch string(b) {
	case "counter":
		return model.MetricTypeCounter
	case "gauge":
		return model.MetricTypeGauge
	case "histogram":
		return model.MetricTypeHistogram
	case "gaugehistogram":
		return model.MetricTypeGaugeHistogram
	case "summary":
		return model.MetricTypeSummary
	case "info":
		return model.MetricTypeInfo
	case "stateset":
		return model.MetricTypeStateset
	}
	return model.MetricTypeUnknown
}

// fits returns what a sample named name is to family f, if it belongs.
func (sp *specPass) fits(f *specFamily, name string) (sampleKind, bool) {
	rest, ok := strings.CutPrefix(name, f.name)
	if !ok {
		return kindNone, false
	}
	k := kindOf(sp.format, f.typ, rest)
	return k, k != kindNone
}

// kindOf returns what suffix makes of a sample of a family of type t in
// format f.
func kindOf(f Format, t model.MetricType, suffix string) sampleKind {
	switch f {
	case FormatText:
		return kindOfText(t, suffix)
	case FormatOpenMetrics:
		return kindOfOpenMetrics(t, suffix)
	}
	// Protobuf and OpenMetrics 2.0: the family name is the metric name, a
	// native histogram goes by it, and classic histograms and summaries
	// are exploded into suffixed series (OpenMetrics 2.0 names a gauge
	// histogram's count and sum _gcount and _gsum, protobuf _count and
	// _sum).
	switch t {
	case model.MetricTypeCounter:
		if suffix == "" {
			return kindTotal
		}
	case model.MetricTypeHistogram, model.MetricTypeGaugeHistogram:
		gauge := t == model.MetricTypeGaugeHistogram && f == FormatOpenMetrics2
		switch {
		case suffix == "":
			return kindNative
		case suffix == "_bucket":
			return kindBucket
		case suffix == "_count" && !gauge:
			return kindCount
		case suffix == "_sum" && !gauge:
			return kindSum
		case suffix == "_gcount" && gauge:
			return kindGCount
		case suffix == "_gsum" && gauge:
			return kindGSum
		}
	case model.MetricTypeSummary:
		switch suffix {
		case "":
			return kindQuantile
		case "_count":
			return kindCount
		case "_sum":
			return kindSum
		}
	case model.MetricTypeInfo:
		if suffix == "" {
			return kindInfo
		}
	default:
		if suffix == "" {
			return kindValue
		}
	}
	return kindNone
}

// kindOfText is kindOf for the text format.
func kindOfText(t model.MetricType, suffix string) sampleKind {
	switch t {
	case model.MetricTypeCounter:
		if suffix == "" {
			return kindTotal
		}
	case model.MetricTypeHistogram:
		switch suffix {
		case "_bucket":
			return kindBucket
		case "_count":
			return kindCount
		case "_sum":
			return kindSum
		}
	case model.MetricTypeSummary:
		switch suffix {
		case "":
			return kindQuantile
		case "_count":
			return kindCount
		case "_sum":
			return kindSum
		}
	default:
		if suffix == "" {
			return kindValue
		}
	}
	return kindNone
}

// kindOfOpenMetrics is kindOf for OpenMetrics 1.0.
func kindOfOpenMetrics(t model.MetricType, suffix string) sampleKind {
	switch t {
	case model.MetricTypeCounter:
		switch suffix {
		case "_total":
			return kindTotal
		case "_created":
			return kindCreated
		}
	case model.MetricTypeHistogram:
		switch suffix {
		case "_bucket":
			return kindBucket
		case "_count":
			return kindCount
		case "_sum":
			return kindSum
		case "_created":
			return kindCreated
		}
	case model.MetricTypeGaugeHistogram:
		switch suffix {
		case "_bucket":
			return kindBucket
		case "_gcount":
			return kindGCount
		case "_gsum":
			return kindGSum
		}
	case model.MetricTypeSummary:
		switch suffix {
		case "":
			return kindQuantile
		case "_count":
			return kindCount
		case "_sum":
			return kindSum
		case "_created":
			return kindCreated
		}
	case model.MetricTypeInfo:
		if suffix == "_info" {
			return kindInfo
		}
	default:
		if suffix == "" {
			return kindValue
		}
	}
	return kindNone
}

// fitting returns a family other than the current one that a sample
// named name belongs to.
func (sp *specPass) fitting(name string) (*specFamily, sampleKind, bool) {
	if f := sp.fams[name]; f != nil && f != sp.cur {
		if k, ok := sp.fits(f, name); ok {
			return f, k, true
		}
	}
	for _, suffix := range allSuffixes {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		if f := sp.fams[base]; f != nil && f != sp.cur {
			if k, ok := sp.fits(f, name); ok {
				return f, k, true
			}
		}
	}
	return nil, kindNone, false
}

// attribute finds the family of sample s the way the format delimits
// families: the current one if the name fits it, else the sample starts a
// new family (untyped, named as the sample). A name that fits an earlier
// family resumes it; one that is an earlier family's name but does not fit
// its type is a suffix error.
func (sp *specPass) attribute(s *Sample) (*specFamily, sampleKind) {
	if c := sp.cur; c != nil {
		if k, ok := sp.fits(c, s.Name); ok {
			return c, k
		}
	}
	if f, k, ok := sp.fitting(s.Name); ok {
		sp.find("spec.interleaved-family", f, s, 0, "sample of %s resumes a family left on line %d: a family is one uninterrupted group", f.name, f.lastLine)
		sp.switchTo(f)
		return f, k
	}
	if f := sp.fams[s.Name]; f != nil {
		sp.find("spec.type-suffix", f, s, 0, "family %s has type %s, whose samples are named %s: a sample named %s belongs to no family", f.name, f.typ, suffixList(sp.format, f), s.Name)
		sp.switchTo(f)
		return f, kindNone
	}
	f := sp.newFamily(s.Name, s.Line)
	sp.switchTo(f)
	return f, kindValue
}

func suffixList(format Format, f *specFamily) string {
	names := make([]string, 0, 4)
	for _, suffix := range Suffixes(format, f.typ) {
		names = append(names, f.name+suffix)
	}
	return strings.Join(names, ", ")
}

// close judges what can only be judged once a family is complete.
func (sp *specPass) close(f *specFamily) {
	for _, pt := range f.points {
		if !pt.done {
			sp.point(f, pt)
			pt.done = true
		}
	}
	f.points = f.points[:0]
	if !sp.om {
		return
	}
	if f.unit != "" && (f.typ == model.MetricTypeInfo || f.typ == model.MetricTypeStateset) {
		sp.p.reportAt(Finding{Rule: "spec.unit", Line: f.unitLine, Family: f.name,
			Message: fmt.Sprintf("family %s has type %s, which has no unit: drop the # UNIT line", f.name, f.typ)})
	}
	if !sp.om1 {
		return
	}
	for _, suffix := range Suffixes(FormatOpenMetrics, f.typ) {
		name := f.name + suffix
		switch other := sp.owners[name]; {
		case other == nil:
			sp.owners[name] = f
		case other != f && !f.clashed:
			f.clashed = true
			sp.p.reportAt(Finding{Rule: "spec.name-clash", Line: f.line, Family: f.name,
				Message: fmt.Sprintf("%s (%s) and %s (%s, line %d) can both produce samples named %s: family names must not clash", f.name, f.typ, other.name, other.typ, other.line, name)})
		}
	}
}

// ---- samples ----

// sample judges sample i of the exposition, which ent lexed.
func (sp *specPass) sample(i int32, ent *rawEntry) {
	s := sp.e.Samples[i]
	f, kind := sp.attribute(s)
	f.samples++
	f.lastLine = s.Line
	for i := 1; i < len(s.Labels); i++ {
		if s.Labels[i].Name == s.Labels[i-1].Name {
			sp.find("spec.duplicate-label", f, s, 0, "label %s appears twice: label names are unique within a label set", s.Labels[i].Name)
			break
		}
	}
	ts, hasTs := sp.timestamp(s, ent)
	// A metric is the label set without the label that tells the samples
	// of one point apart; histograms, summaries and statesets keep an
	// index of them. Gauges, unknown and info families have one series
	// per metric, and counters two (_total and _created), so their series
	// stand for their metrics: an index of metrics would double the cost
	// of the most common samples.
	skip, metric := "", false
	switch f.typ {
	case model.MetricTypeHistogram, model.MetricTypeGaugeHistogram:
		skip, metric = model.BucketLabel, true
	case model.MetricTypeSummary:
		skip, metric = model.QuantileLabel, true
	case model.MetricTypeStateset:
		skip, metric = f.name, sp.om
	}
	metric = metric && kind != kindNone
	sp.touchAhead(i)
	_, repeated := sp.seriesRules(f, i, sp.hashes[i], ts, hasTs)
	if kind == kindNone {
		return
	}
	var pt *point
	switch {
	case metric:
		pt = sp.metricRules(f, s, sp.metricKey(f, s.Labels, skip), skip, ts, hasTs, repeated, kind == kindNative)
	case sp.om1 && f.typ == model.MetricTypeCounter:
		sp.counterMetric(f, s, kind, repeated, ts, hasTs)
	case sp.om:
		if repeated && !sp.continues(f, s) {
			sp.find("spec.interleaved-metric", f, s, 0, "%s resumes its metric after other metrics of %s: the samples of one metric are contiguous", s.Series, f.name)
		}
	}
	f.prev = i
	sp.valueRules(f, s, ent, kind, pt)
	// The OpenMetrics 1.0 lexer sees an exemplar textparse may drop; the
	// OpenMetrics 2.0 parser gives each exploded bucket the exemplars
	// that fall in it, so there the model's exemplars are all there is.
	if sp.om && (len(s.Exemplars()) > 0 || sp.om1 && ent.exemplar) {
		sp.exemplarRules(f, s, ent, kind)
	}
	sp.startRules(f, s)
}

// continues reports whether s has the labels of the last sample of f, so
// that it continues that sample's metric.
func (sp *specPass) continues(f *specFamily, s *Sample) bool {
	return f.prev >= 0 && sameLabels(sp.e.Samples[f.prev].Labels, s.Labels, "")
}

// timestamp returns the sample's timestamp in seconds, read from the raw
// token in OpenMetrics (textparse truncates it to milliseconds).
func (sp *specPass) timestamp(s *Sample, ent *rawEntry) (float64, bool) {
	if s.Timestamp == nil {
		return 0, false
	}
	if sp.om && ent.hasTs {
		if ts, err := strconv.ParseFloat(string(sp.b[ent.ts.start:ent.ts.end]), 64); err == nil {
			return ts, true
		}
	}
	return float64(*s.Timestamp) / 1000, true
}

// counterMetric judges the grouping and time order of an OpenMetrics
// counter's metric: its _total series and its _created series, so the
// sibling series (same labels, the other suffix) stands for the rest of
// the metric. The sibling is looked up for _created samples, and for
// _total samples only in families that have _created samples at all.
func (sp *specPass) counterMetric(f *specFamily, s *Sample, kind sampleKind, repeated bool, ts float64, hasTs bool) {
	sib := int32(-1)
	if kind == kindCreated || f.hasCreated {
		other := "_created"
		if kind == kindCreated {
			other = "_total"
		}
		sib = sp.lookupSeries(f, f.name, other, s.Labels)
	}
	if kind == kindCreated {
		f.hasCreated = true
	}
	if (repeated || sib >= 0) && !sp.continues(f, s) {
		sp.find("spec.interleaved-metric", f, s, 0, "%s resumes its metric after other metrics of %s: the samples of one metric are contiguous", s.Series, f.name)
	}
	if sib >= 0 && !repeated && hasTs {
		if r := &sp.series[sib]; r.hasTs && ts < r.ts {
			sp.find("spec.timestamp", f, s, 0, "the timestamp of %s goes back from %v to %v within its metric: MetricPoints are not interleaved and their timestamps increase", s.Series, r.ts, ts)
		}
	}
}

// lookupSeries returns the record of the series named name+suffix with
// labels, -1 when there is none.
func (sp *specPass) lookupSeries(f *specFamily, name, suffix string, labels []Label) int32 {
	h := sp.seriesKey(name, suffix, labels)
	for pos := sp.seriesIdx.home(h); ; pos = sp.seriesIdx.step(pos) {
		i, ok := sp.seriesIdx.at(pos, h)
		if i < 0 {
			return -1
		}
		if !ok {
			continue
		}
		rs := sp.e.Samples[sp.series[i].sample]
		n := rs.Name
		if len(n) == len(name)+len(suffix) && strings.HasPrefix(n, name) && strings.HasSuffix(n, suffix) && sameLabels(rs.Labels, labels, "") {
			return i
		}
	}
}

// seriesKey hashes the key of the series named name+suffix with labels.
func (sp *specPass) seriesKey(name, suffix string, labels []Label) uint64 {
	sp.key = appendSeriesKey(sp.key[:0], name, suffix, labels)
	return maphash.Bytes(sp.seed, sp.key)
}

// appendSeriesKey appends the key of the series named name+suffix with
// labels to k: the name, then each label as a 0xff byte, its name, a 0xff
// byte and its value, empty label values counting as absent, as
// Prometheus drops them. (UTF-8 has no 0xff byte; a key that is not UTF-8
// may equal another's, which only costs the comparison that follows a
// hash match.) It is textparse's series of a protobuf sample, so that the
// protobuf front end hashes those bytes as they come (seriesHashes).
func appendSeriesKey(k []byte, name, suffix string, labels []Label) []byte {
	k = append(k, name...)
	k = append(k, suffix...)
	for _, l := range labels {
		if l.Value != "" {
			k = append(k, 0xff)
			k = append(k, l.Name...)
			k = append(k, 0xff)
			k = append(k, l.Value...)
		}
	}
	return k
}

// metricKey hashes the key of the metric of family f with labels: the
// family and the labels but skip, empty label values counting as absent.
func (sp *specPass) metricKey(f *specFamily, labels []Label, skip string) uint64 {
	k := binary.LittleEndian.AppendUint64(sp.key[:0], f.id)
	for _, l := range labels {
		if l.Value != "" && l.Name != skip {
			k = append(k, 0xff)
			k = append(k, l.Name...)
			k = append(k, 0xff)
			k = append(k, l.Value...)
		}
	}
	sp.key = k
	return maphash.Bytes(sp.seed, k)
}

// hashSeries hashes the series key of every sample ahead of the pass, so
// that sample can touch the index slot of a sample a few ahead of it. The
// protobuf front end hashed most of them already, with the exposition's
// seed: those it left 0 are hashed here.
func (sp *specPass) hashSeries() {
	hashes := sp.e.seriesHashes
	if len(hashes) != len(sp.e.Samples) {
		hashes = make([]uint64, len(sp.e.Samples))
	}
	// A local buffer: stored in sp for every sample, its pointer would
	// cost a write barrier each time while the garbage collector runs.
	var key []byte
	for i, s := range sp.e.Samples {
		if hashes[i] == 0 {
			key = appendSeriesKey(key[:0], s.Name, "", s.Labels)
			hashes[i] = maphash.Bytes(sp.seed, key)
		}
	}
	sp.hashes = hashes
}

// lookahead is how many samples ahead sample touches the series index,
// and how many at a time. A large exposition's index is larger than the
// processor's caches, and a slot is found at random, so that each lookup
// would wait for memory: loads issued together overlap, and wait once.
const lookahead = 16

// touchAhead loads, every lookahead samples, the index slots of the series
// of the next lookahead samples but those.
func (sp *specPass) touchAhead(i int32) {
	if i%lookahead != 0 {
		return
	}
	ahead := sp.hashes[min(int(i)+lookahead, len(sp.hashes)):min(int(i)+2*lookahead, len(sp.hashes))]
	slots := sp.seriesIdx.slots
	mask := uint64(len(slots) - 1)
	var sum int32
	for _, h := range ahead {
		sum += slots[h&mask].idx
	}
	sp.touched += sum
}

// seriesRules judges repeats of the series of sample si, whose key hashes
// to h; it returns the series' record (OpenMetrics) and whether si
// repeats an earlier sample.
func (sp *specPass) seriesRules(f *specFamily, si int32, h uint64, ts float64, hasTs bool) (int32, bool) {
	s := sp.e.Samples[si]
	pos := sp.seriesIdx.home(h)
	for ; ; pos = sp.seriesIdx.step(pos) {
		i, ok := sp.seriesIdx.at(pos, h)
		if i < 0 {
			break
		}
		if !ok {
			continue
		}
		latest := i
		if sp.om {
			latest = sp.series[i].sample
		}
		rs := sp.e.Samples[latest]
		if rs.Name != s.Name || !sameLabels(rs.Labels, s.Labels, "") {
			continue
		}
		if !sp.om {
			sp.find("spec.duplicate-series", f, s, 0, "%s is already %s: every series appears once", s.Series, sp.e.where(int(latest)))
			sp.seriesIdx.replace(pos, si)
			return si, true
		}
		r := &sp.series[i]
		switch {
		case !r.hasTs && !hasTs:
			sp.find("spec.duplicate-series", f, s, 0, "%s is already on line %d, and neither has a timestamp: a series appears once, or with increasing timestamps", s.Series, rs.Line)
		case r.hasTs != hasTs:
			sp.find("spec.timestamp", f, s, 0, "%s has a timestamp on one of its samples and none on another (line %d): all or none", s.Series, rs.Line)
		case ts < r.ts:
			sp.find("spec.timestamp", f, s, 0, "the timestamp of %s goes back from %v (line %d) to %v: a series' timestamps increase", s.Series, r.ts, rs.Line, ts)
		}
		if hasTs && (!r.hasTs || ts > r.ts) {
			r.ts = ts
		}
		r.sample, r.hasTs = si, hasTs
		return i, true
	}
	idx := si
	if sp.om {
		sp.series = append(sp.series, seriesRec{sample: si, ts: ts, hasTs: hasTs})
		idx = int32(len(sp.series) - 1)
	}
	if sp.seriesIdx.set(pos, h, idx) {
		sp.seriesIdx.grow(sp.seriesHash)
	}
	return idx, false
}

// sameLabels compares two sorted label sets, ignoring empty values and
// the label named skip.
func sameLabels(a, b []Label, skip string) bool {
	i, j := 0, 0
	for {
		for i < len(a) && (a[i].Value == "" || a[i].Name == skip) {
			i++
		}
		for j < len(b) && (b[j].Value == "" || b[j].Name == skip) {
			j++
		}
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		if a[i] != b[j] {
			return false
		}
		i, j = i+1, j+1
	}
}

// metricRules finds the metric (the label set without the label that
// tells a family's samples of one point apart) of s and judges its
// grouping and time order; it returns the point s belongs to.
// A repeated series has been judged for time order already.
func (sp *specPass) metricRules(f *specFamily, s *Sample, h uint64, skip string, ts float64, hasTs, repeated, native bool) *point {
	idx := int32(-1)
	if sp.metricIdx.slots == nil {
		// Only histograms, summaries and statesets have metrics, seldom
		// many: start small and grow.
		sp.metricIdx = newHashIndex(64)
	}
	pos := sp.metricIdx.home(h)
	for ; ; pos = sp.metricIdx.step(pos) {
		i, ok := sp.metricIdx.at(pos, h)
		if i < 0 {
			break
		}
		if m := &sp.metrics[i]; ok && m.fam == f && sameLabels(m.s.Labels, s.Labels, skip) {
			idx = i
			break
		}
	}
	if idx < 0 {
		sp.metrics = append(sp.metrics, metricRec{s: s, fam: f, skip: skip})
		idx = int32(len(sp.metrics) - 1)
		if sp.metricIdx.set(pos, h, idx) {
			sp.metricIdx.grow(func(i int32) uint64 { return sp.metricHash(&sp.metrics[i]) })
		}
	} else if sp.om && f.curMetric != idx {
		sp.find("spec.interleaved-metric", f, s, 0, "%s resumes its metric after other metrics of %s: the samples of one metric are contiguous", s.Series, f.name)
	}
	m := &sp.metrics[idx]
	f.curMetric = idx
	if sp.om && hasTs {
		if m.hasTs && ts < m.ts && !repeated {
			sp.find("spec.timestamp", f, s, 0, "the timestamp of %s goes back from %v to %v within its metric: MetricPoints are not interleaved and their timestamps increase", s.Series, m.ts, ts)
		}
		if !m.hasTs || ts > m.ts {
			m.ts, m.hasTs = ts, true
		}
	}
	// A native histogram is judged whole on its own (spec.native-histogram):
	// only classic buckets, and quantiles, make a point.
	if skip != model.BucketLabel && skip != model.QuantileLabel || native {
		return nil
	}
	pt := m.pt
	if pt == nil || pt.done || sp.om && (pt.hasTs != hasTs || pt.ts != ts) {
		pt = &point{line: s.Line, series: metricString(f.name, s.Labels, skip), ts: ts, hasTs: hasTs}
		m.pt = pt
		f.points = append(f.points, pt)
	}
	return pt
}

// metricString renders a metric of a family: its name and the labels of
// its label set (skip excluded), for messages about a whole point.
func metricString(name string, labels []Label, skip string) string {
	var b strings.Builder
	b.WriteString(name)
	n := 0
	for _, l := range labels {
		if l.Name == skip {
			continue
		}
		if n == 0 {
			b.WriteByte('{')
		} else {
			b.WriteByte(',')
		}
		n++
		fmt.Fprintf(&b, "%s=%q", l.Name, l.Value)
	}
	if n > 0 {
		b.WriteByte('}')
	}
	return b.String()
}

// badCount says what is wrong with a value that counts something: "NaN",
// "negative" or "" (nothing).
func badCount(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case v < 0:
		return "negative"
	}
	return ""
}

// valueRules judges the value of s and its labels against the type of f,
// and feeds histogram and summary points.
func (sp *specPass) valueRules(f *specFamily, s *Sample, ent *rawEntry, kind sampleKind, pt *point) {
	v := s.Value
	vcol := col(ent, ent.value)
	switch f.typ {
	case model.MetricTypeCounter:
		if kind == kindTotal {
			if bad := badCount(v); bad != "" {
				sp.find("spec.counter-value", f, s, vcol, "counter %s is %s: a counter's total is never NaN or negative", s.Series, bad)
			}
		}
	case model.MetricTypeHistogram, model.MetricTypeGaugeHistogram:
		sp.histogramRules(f, s, ent, kind, pt)
	case model.MetricTypeSummary:
		sp.summaryRules(f, s, ent, kind, pt)
	case model.MetricTypeInfo:
		if sp.om && v != 1 {
			sp.find("spec.info", f, s, vcol, "info sample %s has the value %v: info samples are always 1", s.Series, v)
		}
	case model.MetricTypeStateset:
		if !sp.om {
			return
		}
		if _, ok := s.Label(f.name); !ok {
			sp.find("spec.stateset", f, s, 0, "stateset sample %s has no label %s naming its state", s.Series, f.name)
		}
		if v != 0 && v != 1 {
			sp.find("spec.stateset", f, s, vcol, "stateset sample %s has the value %v: a state is 0 (false) or 1 (true)", s.Series, v)
		}
	}
}

func (sp *specPass) histogramRules(f *specFamily, s *Sample, ent *rawEntry, kind sampleKind, pt *point) {
	v := s.Value
	vcol := col(ent, ent.value)
	countValue := func(what string) {
		if bad := badCount(v); bad != "" {
			sp.find("spec.histogram-value", f, s, vcol, "%s %s is %s: histogram counts are never NaN or negative", what, s.Series, bad)
		} else if sp.om1 && v != math.Trunc(v) {
			sp.find("spec.histogram-value", f, s, vcol, "%s %s is %v: OpenMetrics histogram counts are integers", what, s.Series, v)
		}
	}
	if kind != kindBucket {
		if _, ok := s.Label(model.BucketLabel); ok && (sp.om || sp.format == FormatProtobuf) {
			sp.find("spec.histogram-le", f, s, 0, "%s has an le label: only _bucket samples have one", s.Series)
		}
	}
	switch kind {
	case kindNative:
		sp.nativeRules(f, s)
	case kindBucket:
		countValue("bucket")
		leText, ok := s.Label(model.BucketLabel)
		if !ok {
			sp.find("spec.histogram-le", f, s, 0, "bucket %s has no le label", s.Series)
			return
		}
		le, err := strconv.ParseFloat(leText, 64)
		switch {
		case err != nil:
			sp.find("spec.histogram-le", f, s, col(ent, ent.le), "bucket %s has le=%q, which is not a number", s.Series, leText)
			return
		case math.IsNaN(le):
			sp.find("spec.histogram-le", f, s, col(ent, ent.le), "bucket %s has le=NaN: a bucket's upper bound is a number", s.Series)
			return
		case sp.om && math.IsInf(le, 1) && ent.hasLe && string(sp.b[ent.le.start:ent.le.end]) != "+Inf":
			sp.find("spec.histogram-le", f, s, col(ent, ent.le), "bucket %s writes positive infinity as %q: OpenMetrics writes it +Inf", s.Series, sp.b[ent.le.start:ent.le.end])
		case sp.om && ent.hasLe:
			sp.canonical(f, s, ent, ent.le, "le", le)
		}
		if pt.buckets > 0 {
			switch {
			case le <= pt.lastLe:
				sp.find("spec.histogram-buckets", f, s, col(ent, ent.le), "bucket le=%s follows le=%v: buckets are unique and in increasing le order", leText, pt.lastLe)
			case v < pt.lastValue:
				sp.find("spec.histogram-buckets", f, s, vcol, "bucket le=%s holds %v, less than the %v of the bucket before: buckets are cumulative", leText, v, pt.lastValue)
			}
		}
		pt.buckets++
		pt.lastLe, pt.lastValue = le, v
		if math.IsInf(le, 1) {
			pt.hasInf, pt.inf = true, v
		}
		if le < 0 {
			pt.negLe = true
		}
		if exemplars := s.Exemplars(); sp.om && len(exemplars) > 0 && exemplars[0].Value > le {
			sp.find("spec.exemplar", f, s, 0, "exemplar value %v is above the bucket's le=%s: an exemplar lies within its bucket", exemplars[0].Value, leText)
		}
	case kindCount, kindGCount:
		countValue("count")
		pt.hasCount, pt.count, pt.countLine = true, v, s.Line
	case kindSum:
		pt.hasSum, pt.sum, pt.sumLine = true, v, s.Line
		if bad := badCount(v); sp.om1 && bad != "" {
			sp.find("spec.histogram-value", f, s, vcol, "histogram sum %s is %s: an OpenMetrics histogram's sum is never NaN or negative", s.Series, bad)
		}
	case kindGSum:
		pt.hasSum, pt.sum, pt.sumLine = true, v, s.Line
		if math.IsNaN(v) {
			sp.find("spec.histogram-value", f, s, vcol, "gauge histogram sum %s is NaN", s.Series)
		}
	}
}

func (sp *specPass) summaryRules(f *specFamily, s *Sample, ent *rawEntry, kind sampleKind, pt *point) {
	v := s.Value
	vcol := col(ent, ent.value)
	if kind != kindQuantile {
		if _, ok := s.Label(model.QuantileLabel); ok && (sp.om || sp.format == FormatProtobuf) {
			sp.find("spec.summary-quantile", f, s, 0, "%s has a quantile label: only the bare summary samples have one", s.Series)
		}
	}
	switch kind {
	case kindQuantile:
		qText, ok := s.Label(model.QuantileLabel)
		if !ok {
			sp.find("spec.summary-quantile", f, s, 0, "summary sample %s has no quantile label: the bare name is for quantiles", s.Series)
			return
		}
		q, err := strconv.ParseFloat(qText, 64)
		switch {
		case err != nil || math.IsNaN(q):
			sp.find("spec.summary-quantile", f, s, col(ent, ent.quantile), "quantile=%q is not a number", qText)
			return
		case q < 0 || q > 1:
			sp.find("spec.summary-quantile", f, s, col(ent, ent.quantile), "quantile=%s is outside [0, 1]", qText)
		case sp.om && ent.hasQuantile:
			sp.canonical(f, s, ent, ent.quantile, "quantile", q)
		}
		if sp.format == FormatText {
			if pt.hasQ && q <= pt.lastQ {
				sp.find("spec.summary-quantile", f, s, col(ent, ent.quantile), "quantile=%s follows quantile=%v: the text format lists quantiles once each, in increasing order", qText, pt.lastQ)
			}
			pt.hasQ, pt.lastQ = true, q
		}
		if sp.om && v < 0 {
			sp.find("spec.summary-value", f, s, vcol, "quantile value %s is negative: OpenMetrics quantile values are never negative", s.Series)
		}
	case kindCount:
		if bad := badCount(v); bad != "" {
			sp.find("spec.summary-value", f, s, vcol, "summary count %s is %s: a count is never NaN or negative", s.Series, bad)
		} else if sp.om && v != math.Trunc(v) {
			sp.find("spec.summary-value", f, s, vcol, "summary count %s is %v: OpenMetrics counts are integers", s.Series, v)
		}
	case kindSum:
		if bad := badCount(v); sp.om && bad != "" {
			sp.find("spec.summary-value", f, s, vcol, "summary sum %s is %s: an OpenMetrics summary's sum is never NaN or negative", s.Series, bad)
		}
	}
}

// canonical judges the raw spelling of an le or quantile value v.
func (sp *specPass) canonical(f *specFamily, s *Sample, ent *rawEntry, raw span, label string, v float64) {
	sp.num = labels.AppendOpenMetricsFloat(sp.num[:0], v)
	if written := sp.b[raw.start:raw.end]; string(written) != string(sp.num) {
		sp.find("spec.canonical-number", f, s, col(ent, raw), "%s=%q is not the canonical rendering %q: OpenMetrics asks exposers to write le and quantile values one way, so that the label is the same string everywhere", label, written, sp.num)
	}
}

// point judges a complete histogram point.
func (sp *specPass) point(f *specFamily, pt *point) {
	if f.typ != model.MetricTypeHistogram && f.typ != model.MetricTypeGaugeHistogram {
		return
	}
	report := func(rule string, line int, format string, args ...any) {
		sp.p.reportAt(Finding{Rule: rule, Line: line, Family: f.name, Series: pt.series, Message: fmt.Sprintf(format, args...)})
	}
	gauge := f.typ == model.MetricTypeGaugeHistogram
	count, sum := "_count", "_sum"
	if gauge {
		count, sum = "_gcount", "_gsum"
	}
	if !pt.hasInf {
		report("spec.histogram-buckets", pt.line, "histogram %s has no le=\"+Inf\" bucket: every histogram point has one", pt.series)
	}
	// A NaN count or bucket is spec.histogram-value's.
	if pt.hasCount && pt.hasInf && pt.count != pt.inf && !math.IsNaN(pt.count) && !math.IsNaN(pt.inf) {
		report("spec.histogram-count", pt.countLine, "%s: %s is %v but the +Inf bucket holds %v: they are equal", pt.series, count, pt.count, pt.inf)
	}
	if !sp.om1 {
		return
	}
	switch {
	case pt.hasSum && !pt.hasCount:
		report("spec.histogram-count", pt.sumLine, "%s has %s but no %s: OpenMetrics has both or neither", pt.series, sum, count)
	case pt.hasCount && !pt.hasSum:
		report("spec.histogram-count", pt.countLine, "%s has %s but no %s: OpenMetrics has both or neither", pt.series, count, sum)
	}
	switch {
	case !gauge && pt.hasSum && pt.negLe:
		report("spec.histogram-value", pt.sumLine, "%s has buckets with negative thresholds and a _sum: such a histogram has no sum", pt.series)
	case gauge && pt.hasSum && pt.sum < 0 && !pt.negLe:
		report("spec.histogram-value", pt.sumLine, "%s has a negative _gsum but no bucket with a negative threshold", pt.series)
	}
}

// exemplarRules judges where an exemplar is and how long it is.
func (sp *specPass) exemplarRules(f *specFamily, s *Sample, ent *rawEntry, kind sampleKind) {
	ecol := 0
	if ent.exemplar {
		ecol = ent.exStart - ent.start + 1
	}
	if kind != kindTotal && kind != kindBucket && kind != kindNative {
		sp.find("spec.exemplar", f, s, ecol, "exemplar on %s (a %s sample): only counter _total and histogram _bucket samples have exemplars (OpenMetrics 2.0: counter and histogram samples)", s.Series, f.typ)
	}
	if ent.exRunes > 128 {
		sp.find("spec.exemplar", f, s, ecol, "the exemplar's label names and values are %d characters long: at most 128", ent.exRunes)
	}
}

// seriesHash and metricHash hash a record's key again, for hashIndex to
// grow.
func (sp *specPass) seriesHash(i int32) uint64 {
	if sp.om {
		i = sp.series[i].sample
	}
	return sp.hashes[i]
}

func (sp *specPass) metricHash(r *metricRec) uint64 {
	return sp.metricKey(r.fam, r.s.Labels, r.skip)
}

// hashIndex maps 64-bit hashes to record indexes: open addressing with
// linear probing, sized for the number of samples so that it seldom grows
// (a Go map of 100k entries cost a tenth of the spec rules in lookups
// alone). Records whose hashes collide each take a slot; the caller tells
// them apart by their keys.
type hashIndex struct {
	slots []hashSlot
	n     int
}

type hashSlot struct {
	tag uint32 // the high half of the hash
	idx int32  // the record's index + 1; 0 for an empty slot
}

func newHashIndex(records int) hashIndex {
	size := 16
	for size < 2*records {
		size *= 2
	}
	return hashIndex{slots: make([]hashSlot, size)}
}

// home returns the first slot a hash is looked for in; step the next one.
func (t *hashIndex) home(h uint64) int { return int(h & uint64(len(t.slots)-1)) }

func (t *hashIndex) step(pos int) int { return (pos + 1) & (len(t.slots) - 1) }

// at returns the record in slot pos, -1 when the slot is empty (the hash
// is not in the index), and whether the record may have hash h.
func (t *hashIndex) at(pos int, h uint64) (int32, bool) {
	s := t.slots[pos]
	return s.idx - 1, s.tag == uint32(h>>32)
}

// replace puts record idx in slot pos instead of the one there, which has
// the same key.
func (t *hashIndex) replace(pos int, idx int32) { t.slots[pos].idx = idx + 1 }

// set puts record idx with hash h in the empty slot pos, where a lookup of
// h ended. It returns true when the index is half full and must grow.
func (t *hashIndex) set(pos int, h uint64, idx int32) bool {
	t.slots[pos] = hashSlot{tag: uint32(h >> 32), idx: idx + 1}
	t.n++
	return 2*t.n > len(t.slots)
}

// grow doubles the index; hashOf hashes a record again.
func (t *hashIndex) grow(hashOf func(int32) uint64) {
	old := t.slots
	t.slots = make([]hashSlot, 2*len(old))
	for _, s := range old {
		if s.idx == 0 {
			continue
		}
		rh := hashOf(s.idx - 1)
		p := t.home(rh)
		for t.slots[p].idx != 0 {
			p = t.step(p)
		}
		t.slots[p] = hashSlot{tag: uint32(rh >> 32), idx: s.idx}
	}
}
