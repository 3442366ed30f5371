package check

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"unsafe"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
)

// An Exposition is what textparse made of a body: the families and samples
// Prometheus would ingest, each tied to the line it came from, plus the raw
// lines for rules that must see what textparse hides (escapes, spacing).
type Exposition struct {
	// Format is the format the body was parsed as.
	Format Format
	// Protocol is the content-negotiation protocol the Content-Type named
	// (for the format the body was parsed as), "" when it named none.
	Protocol Protocol
	// Escaping is the escaping scheme the Content-Type named, "" when it
	// named none.
	Escaping EscapingScheme
	// Body is a copy of Input.Body that the Exposition owns: the strings
	// of the model are views of it, so it must not be modified.
	Body []byte
	// Families in order of first appearance (a metadata line or a sample).
	Families []*Family
	// Samples in the order they were written.
	Samples []*Sample
	// ParseError is textparse's verdict when it rejects the body, with the
	// line it failed on; nil when the body parses. Families and Samples
	// then hold what came before the failure.
	ParseError *ParseError

	lines  int        // the number of lines
	index  *lineIndex // the start of every line, indexed on first use
	byName map[string]*Family
}

// lineIndex is the byte offset of the start of every line of a body. Only
// findings need it, so it is built on first use, once.
type lineIndex struct {
	once   sync.Once
	starts []int
}

// lineStarts returns the offset of the start of every line of the body.
func (e *Exposition) lineStarts() []int {
	if e.index == nil {
		return lineStartsOf(e.Body)
	}
	e.index.once.Do(func() { e.index.starts = lineStartsOf(e.Body) })
	return e.index.starts
}

// linesOf returns the number of lines of body (a final line without a
// newline counts).
func linesOf(body []byte) int {
	n := bytes.Count(body, []byte{'\n'})
	if len(body) > 0 && body[len(body)-1] != '\n' {
		n++
	}
	return n
}

// ParseError is textparse's rejection of a body, located.
type ParseError struct {
	// Line is the 1-based line textparse failed on.
	Line int
	// Column is the 1-based byte column of the token textparse failed on,
	// 0 when not known.
	Column int
	// Err is textparse's own error.
	Err error
}

func (e *ParseError) Error() string { return e.Err.Error() }

// A Family is one metric family: its metadata and its samples.
type Family struct {
	// Name is the family name: as written in its HELP/TYPE lines, or for
	// samples with no metadata, the sample's metric name.
	Name string
	// Type is the declared type; model.MetricTypeUnknown when none.
	Type model.MetricType
	// Help is the unescaped HELP text; HasHelp says whether there was one.
	Help    string
	HasHelp bool
	// Unit is the OpenMetrics UNIT, if any.
	Unit string
	// HelpLine, TypeLine and UnitLine are the 1-based lines of the first
	// HELP, TYPE and UNIT lines, 0 when absent.
	HelpLine, TypeLine, UnitLine int
	// Samples of the family, in written order.
	Samples []*Sample

	// helpLines and typeLines are the lines of every HELP and TYPE line
	// naming the family, repeats included, for the rules that judge
	// repeats.
	helpLines, typeLines []int
	// Samples is a window of Exposition.Samples while the family's
	// samples are contiguous there (viewEnd is the index after its last),
	// and a slice of its own once they are not (ownSamples).
	viewEnd    int
	ownSamples bool
	// exemplars are the exemplars of the samples that have any.
	exemplars map[*Sample][]Exemplar
}

// A Sample is one sample line.
type Sample struct {
	// Line is the 1-based line the sample is on.
	Line int
	// Family is the family the sample belongs to.
	Family *Family
	// Name is the metric name, suffix included (e.g. "x_total", "x_bucket").
	Name string
	// Labels are the sample's labels as textparse decoded them (unescaped),
	// sorted by name, without __name__.
	Labels []Label
	// Series is the series as written: the name and the braces, raw.
	Series string
	// Value is the sample value.
	Value float64
	// Timestamp is the sample timestamp in milliseconds, nil when none.
	Timestamp *int64
}

// Exemplars returns the exemplars attached to the sample (OpenMetrics
// only). Few samples have any, so they are kept beside the samples, which
// are smaller for it.
func (s *Sample) Exemplars() []Exemplar {
	if s.Family == nil {
		return nil
	}
	return s.Family.exemplars[s]
}

// A Label is one label pair.
type Label struct {
	Name, Value string
}

// An Exemplar is one exemplar as textparse decoded it.
type Exemplar struct {
	Labels    []Label
	Value     float64
	Timestamp *int64 // milliseconds
}

// Label returns the value of the named label and whether the sample has it.
func (s *Sample) Label(name string) (string, bool) {
	for _, l := range s.Labels {
		if l.Name == name {
			return l.Value, true
		}
	}
	return "", false
}

// LabelNames returns the sample's label names, sorted.
func (s *Sample) LabelNames() []string {
	names := make([]string, len(s.Labels))
	for i, l := range s.Labels {
		names[i] = l.Name
	}
	return names
}

// Family returns the family with the given name, or nil.
func (e *Exposition) Family(name string) *Family { return e.byName[name] }

// Lines returns the number of lines in the body (a final line without a
// newline counts).
func (e *Exposition) Lines() int { return e.lines }

// Line returns line n (1-based) of the body without its newline, or nil
// when n is out of range.
func (e *Exposition) Line(n int) []byte {
	starts := e.lineStarts()
	if n < 1 || n > len(starts) {
		return nil
	}
	start := starts[n-1]
	end := len(e.Body)
	if n < len(starts) {
		end = starts[n]
	}
	return bytes.TrimSuffix(e.Body[start:end], []byte("\n"))
}

// familyLines maps every line that textparse tied to a family (samples and
// the first HELP, TYPE and UNIT lines) to the family's name.
func (e *Exposition) familyLines() map[int]string {
	lines := make(map[int]string, len(e.Samples)+3*len(e.Families))
	for _, f := range e.Families {
		for _, line := range []int{f.HelpLine, f.TypeLine, f.UnitLine} {
			if line > 0 {
				lines[line] = f.Name
			}
		}
	}
	for _, s := range e.Samples {
		lines[s.Line] = s.Family.Name
	}
	return lines
}

// LineAt returns the 1-based line holding byte offset off of the body.
func (e *Exposition) LineAt(off int) int {
	// The first line whose start is beyond off, minus one.
	n := sort.SearchInts(e.lineStarts(), off+1)
	return max(n, 1)
}

// lineStartsOf indexes the start of every line of body.
func lineStartsOf(body []byte) []int {
	if len(body) == 0 {
		return nil
	}
	starts := make([]int, 1, bytes.Count(body, []byte{'\n'})+1)
	for off := 0; ; {
		nl := bytes.IndexByte(body[off:], '\n')
		if nl < 0 || off+nl+1 == len(body) {
			return starts
		}
		off += nl + 1
		starts = append(starts, off)
	}
}

// parse runs textparse over body and builds the Exposition.
func parse(body []byte, format Format) *Exposition {
	// The Exposition owns a copy of the body: the strings of the model are
	// views of it, so a caller that reuses its buffer cannot change an
	// earlier Report or the Previous of a later check. The copy has room
	// for the line feed textparse's text parser wants at the end (it would
	// otherwise append one itself, copying the body again), and every
	// slice textparse returns lies in it, so its capacity locates the
	// slice (offset = cap(buf) - cap(slice)).
	owned := make([]byte, len(body), len(body)+1)
	copy(owned, body)
	body = owned
	e := &Exposition{Format: format, Body: body, lines: linesOf(body), index: new(lineIndex), byName: make(map[string]*Family)}
	buf := body
	if format == FormatText && (len(buf) == 0 || buf[len(buf)-1] != '\n') {
		buf = append(buf, '\n')
	}
	buf = buf[:len(buf):len(buf)]
	ct := format.ContentType()
	if ct == "" {
		ct = ContentTypeText
	}
	parser, err := textparse.New(buf, ct, labels.NewSymbolTable(), textparse.ParserOptions{})
	if parser == nil {
		// No parser for the content type: no line is at fault.
		e.ParseError = &ParseError{Err: err}
		return e
	}
	// The strings of the model are views of the owned body, which nothing
	// writes to once it is copied.
	b := builder{e: e, buf: buf, body: unsafe.String(unsafe.SliceData(body), len(body)), line: 1}
	// At most one sample a line: size the index once.
	e.Samples = make([]*Sample, 0, e.lines)
	b.run(parser)
	return e
}

// builder walks textparse's entries into an Exposition. It allocates
// samples and labels in chunks and takes every Series from a string view
// of the body, so that building the model costs few allocations beyond
// textparse's own (its Labels makes one string per sample).
type builder struct {
	e        *Exposition
	buf      []byte
	body     string           // the body as a string (a view of it), which Series are cut from
	line     int              // the line of the last entry (1-based)
	counted  int              // the offset line feeds are counted up to for line
	current  *Family          // the family of the most recent metadata line
	lastEnd  int              // offset just past the line of the last entry
	sliceEnd int              // offset just past the last slice textparse returned
	mtype    model.MetricType // the type of the last TYPE line, as textparse tracks it
	decoder  seriesDecoder
	ex       exemplar.Exemplar
	samples  []Sample // the chunk new samples are cut from
	labels   []Label  // the chunk new label sets are cut from
	nSamples int      // samples in earlier chunks
	nLabels  int      // labels in earlier chunks
}

// Chunks double with what has been allocated so far, starting small, so
// that a small exposition stays small and waste stays under half, and are
// cut to what the rest of the body can hold: a sample needs a line of its
// own, a label at least minLabelBytes bytes. Label chunks are cut further
// to what the samples to come need at the rate of those so far. On a body
// of samples the last chunks then end close to its last sample.
const (
	firstChunk    = 16
	minLabelBytes = 4 // a="" and a comma or a brace
)

// newSample returns a zeroed sample from the current chunk.
func (b *builder) newSample() *Sample {
	if len(b.samples) == cap(b.samples) {
		linesLeft := b.e.lines - b.line + 1
		b.nSamples += cap(b.samples)
		b.samples = make([]Sample, 0, max(min(max(b.nSamples, firstChunk), linesLeft), 1))
	}
	b.samples = b.samples[:len(b.samples)+1]
	return &b.samples[len(b.samples)-1]
}

// newLabels returns an empty label slice with room for exactly n labels,
// cut from the current chunk (its capacity is n, so appending beyond it
// can never write into a neighbour's labels).
func (b *builder) newLabels(n int) []Label {
	if cap(b.labels)-len(b.labels) < n {
		b.nLabels += len(b.labels)
		// The samples to come have as many labels as those so far, on
		// average, give or take a chunk.
		samples := b.nSamples + len(b.samples)
		expected := firstChunk + b.nLabels*(b.e.lines-b.line+1)/max(samples, 1)
		bytesLeft := len(b.body) - b.lastEnd
		b.labels = make([]Label, 0, max(min(max(b.nLabels, firstChunk), expected, bytesLeft/minLabelBytes), n))
	}
	start := len(b.labels)
	b.labels = b.labels[:start+n]
	return b.labels[start : start : start+n]
}

func (b *builder) run(p textparse.Parser) {
	for {
		entry, err := p.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			line, col := locateParseError(b.e, b.buf, b.sliceEnd, b.lastEnd, err)
			b.e.ParseError = &ParseError{Line: line, Column: col, Err: err}
			return
		}
		switch entry {
		case textparse.EntryHelp:
			name, text := p.Help()
			f := b.metadataFamily(name)
			line := b.lineOf(name)
			if f.HelpLine == 0 {
				f.Help, f.HasHelp, f.HelpLine = string(text), true, line
			}
			f.helpLines = append(f.helpLines, line)
		case textparse.EntryType:
			name, typ := p.Type()
			b.mtype = typ
			f := b.metadataFamily(name)
			line := b.lineOf(name)
			if f.TypeLine == 0 {
				f.Type, f.TypeLine = typ, line
			}
			f.typeLines = append(f.typeLines, line)
		case textparse.EntryUnit:
			name, unit := p.Unit()
			f := b.metadataFamily(name)
			if f.UnitLine == 0 {
				f.Unit, f.UnitLine = string(unit), b.lineOf(name)
			}
		case textparse.EntryComment:
			b.lineOf(p.Comment())
		case textparse.EntrySeries:
			b.sample(p)
		case textparse.EntryHistogram:
			// Native histograms only come in protobuf, which the engine
			// does not parse; count the line as consumed.
			series, _, _, _ := p.Histogram()
			b.lineOf(series)
		}
	}
}

// lineOf returns the line of a slice textparse returned, and notes that
// parsing got past that slice and the rest of its line.
func (b *builder) lineOf(s []byte) int {
	off := cap(b.buf) - cap(s)
	if s == nil || off < 0 || off > len(b.buf) {
		// Not a slice of buf (textparse copied it): keep the last position.
		return b.e.LineAt(max(b.lastEnd-1, 0))
	}
	// No token after a name or series spans a line feed, so the entry
	// ends at the first one after the slice.
	b.sliceEnd = min(off+len(s), len(b.e.Body))
	if nl := bytes.IndexByte(b.e.Body[b.sliceEnd:], '\n'); nl >= 0 {
		b.lastEnd = b.sliceEnd + nl + 1
	} else {
		b.lastEnd = len(b.e.Body)
	}
	// Entries come in body order, so the line is found by counting the
	// line feeds since the last entry.
	off = min(off, len(b.e.Body))
	if off < b.counted {
		b.line, b.counted = 1, 0
	}
	b.line += bytes.Count(b.e.Body[b.counted:off], []byte{'\n'})
	b.counted = off
	return b.line
}

// metadataFamily returns the family a HELP/TYPE/UNIT line names: the
// current one when it has that name, else the family of that name (a
// repeated or late metadata line; spec rules judge that), else a new one.
func (b *builder) metadataFamily(name []byte) *Family {
	b.lineOf(name)
	if b.current != nil && b.current.Name == string(name) {
		return b.current
	}
	f := b.e.byName[string(name)]
	if f == nil {
		f = b.newFamily(string(name))
	}
	b.current = f
	return f
}

func (b *builder) newFamily(name string) *Family {
	f := &Family{Name: name, Type: model.MetricTypeUnknown}
	b.e.Families = append(b.e.Families, f)
	b.e.byName[name] = f
	return f
}

func (b *builder) sample(p textparse.Parser) {
	series, ts, value := p.Series()
	s := b.newSample()
	s.Line, s.Value = b.lineOf(series), value
	s.Series = b.seriesString(series)
	if ts != nil {
		t := *ts
		s.Timestamp = &t
	}
	name, pairs := b.decoder.decode(s.Series, b.mtype)
	s.Name = name
	if n := len(pairs) - 1; n > 0 {
		s.Labels = b.newLabels(n)
		for _, l := range pairs {
			if l.Name != model.MetricNameLabel {
				s.Labels = append(s.Labels, l)
			}
		}
	}
	var exemplars []Exemplar
	for p.Exemplar(&b.ex) {
		ex := Exemplar{Value: b.ex.Value}
		if b.ex.HasTs {
			t := b.ex.Ts
			ex.Timestamp = &t
		}
		b.ex.Labels.Range(func(l labels.Label) { ex.Labels = append(ex.Labels, Label{Name: l.Name, Value: l.Value}) })
		exemplars = append(exemplars, ex)
		b.ex = exemplar.Exemplar{}
	}
	f := b.familyOf(s.Name)
	s.Family = f
	if exemplars != nil {
		if f.exemplars == nil {
			f.exemplars = make(map[*Sample][]Exemplar)
		}
		f.exemplars[s] = exemplars
	}
	b.e.Samples = append(b.e.Samples, s)
	b.addToFamily(f, len(b.e.Samples)-1)
}

// addToFamily adds sample i of the exposition to f. A family's samples are
// nearly always written together, so f.Samples is a window of
// Exposition.Samples (capped, so an append to it copies) until a sample
// of f comes after another family's; only then does it get its own slice.
func (b *builder) addToFamily(f *Family, i int) {
	all := b.e.Samples
	switch n := len(f.Samples); {
	case n == 0 || !f.ownSamples && f.viewEnd == i:
		f.Samples, f.viewEnd = all[i-n:i+1:i+1], i+1
	case !f.ownSamples:
		f.Samples = append(slices.Clone(f.Samples), all[i])
		f.ownSamples = true
	default:
		f.Samples = append(f.Samples, all[i])
	}
}

// seriesString returns the series textparse returned as a string, cut from
// the body's string rather than copied.
func (b *builder) seriesString(series []byte) string {
	off := cap(b.buf) - cap(series)
	if off < 0 || off+len(series) > len(b.body) {
		return string(series)
	}
	return b.body[off : off+len(series)]
}

// familyOf returns the family a sample named name belongs to: the current
// family when the name is its name plus a suffix its type allows, else an
// earlier family it fits that way (an interleaved family; spec rules judge
// that), else a new family with no metadata.
func (b *builder) familyOf(name string) *Family {
	if b.current != nil && belongsTo(b.e.Format, b.current, name) {
		return b.current
	}
	if f := b.e.byName[name]; f != nil && belongsTo(b.e.Format, f, name) {
		return f
	}
	for _, suffix := range allSuffixes {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		if f := b.e.byName[base]; f != nil && belongsTo(b.e.Format, f, name) {
			return f
		}
	}
	f := b.newFamily(name)
	b.current = f
	return f
}

// allSuffixes are every suffix a sample name may add to its family name.
var allSuffixes = []string{"_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info"}

// Suffix tables, shared read-only by Suffixes.
var (
	suffixesBare           = []string{""}
	suffixesTextHistogram  = []string{"_bucket", "_count", "_sum"}
	suffixesTextSummary    = []string{"", "_count", "_sum"}
	suffixesCounter        = []string{"_total", "_created"}
	suffixesHistogram      = []string{"_bucket", "_count", "_sum", "_created"}
	suffixesGaugeHistogram = []string{"_bucket", "_gcount", "_gsum"}
	suffixesSummary        = []string{"", "_count", "_sum", "_created"}
	suffixesInfo           = []string{"_info"}
)

// Suffixes returns the suffixes a sample name may add to the name of a
// family of type t in format f ("" means the bare family name). The slice
// is shared: callers must not modify it. It is called once per sample, so
// it does not allocate.
func Suffixes(f Format, t model.MetricType) []string {
	if f == FormatText {
		switch t {
		case model.MetricTypeHistogram:
			return suffixesTextHistogram
		case model.MetricTypeSummary:
			return suffixesTextSummary
		}
		return suffixesBare
	}
	switch t {
	case model.MetricTypeCounter:
		return suffixesCounter
	case model.MetricTypeHistogram:
		return suffixesHistogram
	case model.MetricTypeGaugeHistogram:
		return suffixesGaugeHistogram
	case model.MetricTypeSummary:
		return suffixesSummary
	case model.MetricTypeInfo:
		return suffixesInfo
	}
	return suffixesBare
}

// belongsTo reports whether a sample named name belongs to family f.
func belongsTo(format Format, f *Family, name string) bool {
	rest, ok := strings.CutPrefix(name, f.Name)
	return ok && slices.Contains(Suffixes(format, f.Type), rest)
}
