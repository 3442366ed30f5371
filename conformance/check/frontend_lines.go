package check

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"unsafe"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
)

// linesDialect is what the line-oriented formats differ in for the walker.
type linesDialect struct {
	// startTimestamps says whether textparse's StartTimestamp is cheap and
	// worth asking for every sample (OpenMetrics 2.0's st@). The
	// OpenMetrics 1.0 parser finds a start timestamp by reading ahead for
	// the _created sample, which would read the body again; that front end
	// takes them from the _created samples once the model is built.
	startTimestamps bool
	// composite says a line may hold a composite value (OpenMetrics 2.0),
	// which textparse explodes into a sample per bucket, quantile, count
	// and sum: many samples a line.
	composite bool
}

// runLines walks p over buf, the owned body (a line feed added for the
// text format), into e.
func runLines(e *Exposition, buf []byte, p textparse.Parser, d linesDialect) {
	e.lines = linesOf(e.Body)
	b := linesBuilder{e: e, dialect: d, buf: buf, body: unsafe.String(unsafe.SliceData(e.Body), len(e.Body)), line: 1}
	// At most one sample a line, but for OpenMetrics 2.0's composite
	// values: size the index once.
	e.Samples = make([]*Sample, 0, e.lines)
	b.run(p)
}

// offsetIn returns the offset in buf of the slice s, and whether s lies in
// buf at all (textparse returns slices of its input, but also of buffers
// of its own, for exploded composite values and unescaped text).
func offsetIn(buf, s []byte) (int, bool) {
	if cap(s) == 0 || len(buf) == 0 {
		return 0, false
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	at := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	if at < base || at-base+uintptr(len(s)) > uintptr(len(buf)) {
		return 0, false
	}
	return int(at - base), true
}

// linesBuilder walks the entries of textparse's line-oriented parsers (text,
// OpenMetrics 1.0 and 2.0) into an Exposition, each entry tied to its line.
// It allocates samples and labels in chunks and takes every Series from a
// string view of the body, so that building the model costs few
// allocations beyond textparse's own.
type linesBuilder struct {
	e        *Exposition
	dialect  linesDialect
	buf      []byte
	body     string           // the body as a string (a view of it), which Series are cut from
	line     int              // the line of the last entry (1-based)
	counted  int              // the offset line feeds are counted up to for line
	current  *Family          // the family of the most recent metadata line
	entered  bool             // whether lineOf has seen an entry
	sliceEnd int              // offset just past the last slice textparse returned
	mtype    model.MetricType // the type of the last TYPE line, as textparse tracks it
	// typeName is the name the OpenMetrics 2.0 parser keeps mtype for:
	// it forgets the type at any entry naming another name.
	typeName string
	decoder  seriesDecoder
	ex       exemplar.Exemplar
	comp     composite // the composite value line being exploded
	pairs    []Label   // labels taken from textparse, reused
	samples  []Sample  // the chunk new samples are cut from
	labels   []Label   // the chunk new label sets are cut from
	nSamples int       // samples in earlier chunks
	nLabels  int       // labels in earlier chunks
	// lastFamily is familyOf's last answer.
	lastFamily familyOfName
	// lastHelp and lastHelpLine are the text and line of the last HELP
	// line, for retype.
	lastHelp     string
	lastHelpLine int
}

// retype handles a second TYPE line for family f that declares another
// type: a second family of the same name, as client_golang writes in
// OpenMetrics for the gauge go_memstats_alloc_bytes and the counter
// go_memstats_alloc_bytes_total (both family go_memstats_alloc_bytes).
// The samples that follow belong to that second family, with its own
// TYPE and the HELP line just before it, so that the rules judge them
// as written instead of as samples with no metadata. byName and the
// repeat lists (helpLines, typeLines) stay with the first family; the
// spec rules report the clash.
func (b *linesBuilder) retype(f *Family, typ model.MetricType, line int) {
	twin := &Family{Name: f.Name, Type: typ, TypeLine: line}
	if b.lastHelpLine > f.HelpLine && b.lastHelpLine < line {
		twin.Help, twin.HasHelp, twin.HelpLine = b.lastHelp, true, b.lastHelpLine
	}
	b.e.Families = append(b.e.Families, twin)
	b.current = twin
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
	// minEntryBytes is the least a bucket or quantile of a composite
	// value takes: "1:1," (OpenMetrics 2.0).
	minEntryBytes = 4
)

// samplesLeft bounds the samples still to come: one a line, plus, where
// a line may hold a composite value, one per minEntryBytes of what is left.
func (b *linesBuilder) samplesLeft() int {
	left := b.e.lines - b.line + 1
	if b.dialect.composite {
		left += (len(b.body) - b.counted) / minEntryBytes
	}
	return left
}

// newSample returns a zeroed sample from the current chunk.
func (b *linesBuilder) newSample() *Sample {
	if len(b.samples) == cap(b.samples) {
		b.nSamples += cap(b.samples)
		b.samples = make([]Sample, 0, max(min(max(b.nSamples, firstChunk), b.samplesLeft()), 1))
	}
	b.samples = b.samples[:len(b.samples)+1]
	return &b.samples[len(b.samples)-1]
}

// newLabels returns an empty label slice with room for exactly n labels,
// cut from the current chunk (its capacity is n, so appending beyond it
// can never write into a neighbour's labels).
func (b *linesBuilder) newLabels(n int) []Label {
	if cap(b.labels)-len(b.labels) < n {
		b.nLabels += len(b.labels)
		// The samples to come have as many labels as those so far, on
		// average, give or take a chunk.
		samples := b.nSamples + len(b.samples)
		expected := firstChunk + b.nLabels*b.samplesLeft()/max(samples, 1)
		bound := (len(b.body) - b.lastEnd()) / minLabelBytes
		if b.dialect.composite {
			// The samples of a composite value repeat its labels.
			bound = expected
		}
		b.labels = make([]Label, 0, max(min(max(b.nLabels, firstChunk), expected, bound), n))
	}
	start := len(b.labels)
	b.labels = b.labels[:start+n]
	return b.labels[start : start : start+n]
}

func (b *linesBuilder) run(p textparse.Parser) {
	for {
		entry, err := p.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			line, col, shape := locateParseError(b.e, b.buf, b.sliceEnd, b.lastEnd(), err)
			b.e.ParseError = &ParseError{Line: line, Column: col, Err: err, shape: shape}
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
			b.lastHelp, b.lastHelpLine = string(text), line
		case textparse.EntryType:
			name, typ := p.Type()
			f := b.metadataFamily(name)
			b.mtype = typ
			line := b.lineOf(name)
			if f.TypeLine == 0 {
				f.Type, f.TypeLine = typ, line
			} else if typ != f.Type {
				b.retype(f, typ, line)
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
			series, ts, value := p.Series()
			if _, inBody := offsetIn(b.buf, series); inBody {
				b.sample(p, series, ts, value, nil)
			} else {
				// OpenMetrics 2.0 explodes a composite value (a classic
				// histogram or a summary) into one series per bucket,
				// quantile, count and sum, whose bytes are its own.
				b.compositeSample(p, series, ts, value)
			}
		case textparse.EntryHistogram:
			series, ts, h, fh := p.Histogram()
			b.sample(p, series, ts, 0, nativeHistogram(h, fh))
		}
	}
}

// lineOf returns the line of a slice textparse returned, and notes that
// parsing got past that slice and the rest of its line.
func (b *linesBuilder) lineOf(s []byte) int {
	off, ok := offsetIn(b.buf, s)
	if !ok {
		// Not a slice of buf (textparse copied it): keep the last position.
		return b.e.LineAt(max(b.lastEnd()-1, 0))
	}
	if off+len(s) == b.sliceEnd && off == b.counted {
		// The slice of the last entry again: the exploded samples of an
		// OpenMetrics 2.0 composite value share its line, which may be
		// megabytes long, so it is not scanned once per sample.
		return b.line
	}
	b.sliceEnd, b.entered = min(off+len(s), len(b.e.Body)), true
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

// lastEnd returns the offset just past the line of the last entry, 0
// before the first. No token after a name or series spans a line feed, so
// the entry ends at the first one after the last slice textparse returned.
// Only errors and the sizing of chunks ask, so it is not found for every
// entry.
func (b *linesBuilder) lastEnd() int {
	if !b.entered {
		return 0
	}
	if nl := bytes.IndexByte(b.e.Body[b.sliceEnd:], '\n'); nl >= 0 {
		return b.sliceEnd + nl + 1
	}
	return len(b.e.Body)
}

// metadataFamily returns the family a HELP/TYPE/UNIT line names: the
// current one when it has that name, else the family of that name (a
// repeated or late metadata line; spec rules judge that), else a new one.
func (b *linesBuilder) metadataFamily(name []byte) *Family {
	b.lineOf(name)
	// The metadata may change what family a sample name belongs to.
	b.lastFamily = familyOfName{}
	if b.dialect.composite && string(name) != b.typeName {
		b.mtype, b.typeName = model.MetricTypeUnknown, string(name)
	}
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

func (b *linesBuilder) newFamily(name string) *Family {
	f := &Family{Name: name, Type: model.MetricTypeUnknown}
	b.e.Families = append(b.e.Families, f)
	b.e.byName[name] = f
	return f
}

// sample adds the sample of the entry whose series, as written, is series:
// a float sample, or a native histogram when h is set.
func (b *linesBuilder) sample(p textparse.Parser, series []byte, ts *int64, value float64, h *nativeHist) {
	s := b.newSample()
	s.Line, s.Value = b.lineOf(series), value
	s.Series = b.seriesString(series)
	if ts != nil {
		t := *ts
		s.Timestamp = &t
	}
	mtype := b.mtype
	if b.dialect.composite {
		// The type normalizes le and quantile values only while the
		// sample goes by the name the type was declared for.
		mtype = model.MetricTypeUnknown
	}
	name, pairs := b.decoder.decode(s.Series, mtype)
	if strings.IndexByte(s.Series, 0) >= 0 {
		// textparse's lexer takes a NUL byte for the end of its input
		// and reads on from there in ways the decoder does not follow:
		// take its own labels (rare: no valid exposition has a NUL
		// outside a label value).
		name, pairs = b.parserLabels(p)
	}
	if b.dialect.composite {
		if name != b.typeName {
			b.mtype, b.typeName = model.MetricTypeUnknown, name
		}
		for i := range pairs {
			if l := &pairs[i]; l.Name == model.BucketLabel || l.Name == model.QuantileLabel {
				l.Value = normalizeFloatLabel(b.mtype, l.Name, l.Value)
			}
		}
	}
	s.Name = name
	if n := len(pairs) - 1; n > 0 {
		s.Labels = b.newLabels(n)
		for _, l := range pairs {
			if l.Name != model.MetricNameLabel {
				s.Labels = append(s.Labels, l)
			}
		}
	}
	if h != nil {
		s.Value = h.float.Count
	}
	b.finish(p, s, h)
}

// parserLabels returns the name and labels of the current entry as
// textparse's Labels gives them, __name__ among them, in b.pairs.
func (b *linesBuilder) parserLabels(p textparse.Parser) (string, []Label) {
	var ls labels.Labels
	p.Labels(&ls)
	b.pairs = b.pairs[:0]
	name := ""
	ls.Range(func(l labels.Label) {
		if l.Name == model.MetricNameLabel {
			name = l.Value
		}
		b.pairs = append(b.pairs, Label{Name: l.Name, Value: l.Value})
	})
	return name, b.pairs
}

// compositeSample adds a sample OpenMetrics 2.0 exploded from a composite
// value: its labels are textparse's (le or quantile added), its line the
// composite's, and its Series is written out in the text syntax, since no
// line holds it as such.
func (b *linesBuilder) compositeSample(p textparse.Parser, series []byte, ts *int64, value float64) {
	s := b.newSample()
	// The OpenMetrics 2.0 parser's Histogram returns the series of the
	// line the composite value is on, also while it serves the exploded
	// series (TestOpenMetrics2CompositeLine pins that).
	line, _, _, _ := p.Histogram()
	s.Line, s.Value = b.lineOf(line), value
	if ts != nil {
		t := *ts
		s.Timestamp = &t
	}
	c := &b.comp
	if off, _ := offsetIn(b.buf, line); off != c.at || c.name == "" {
		// A new composite line: its name and labels, decoded once for
		// all the samples it explodes into (not normalized: textparse
		// leaves the labels of exploded series as written).
		name, pairs := b.decoder.decode(b.seriesString(line), model.MetricTypeUnknown)
		*c = composite{at: off, name: name, base: c.base[:0], names: c.names[:0]}
		for _, l := range pairs {
			if l.Name != model.MetricNameLabel {
				c.base = append(c.base, l)
			}
		}
	}
	// series is the exploded sample's name (the line's, a suffix added)
	// and labels joined by 0xff bytes (label names and values are UTF-8,
	// which has none): its labels are the line's, plus le or quantile
	// last when textparse added one.
	fields := bytes.Count(series, []byte{model.SeparatorByte})
	nameEnd := bytes.IndexByte(series, model.SeparatorByte)
	if nameEnd < 0 {
		nameEnd = len(series)
	}
	s.Name = c.intern(series[:nameEnd])
	s.Labels = b.newLabels(len(c.base) + 1)
	s.Labels = append(s.Labels, c.base...)
	if fields/2 > len(c.base) {
		valueStart := bytes.LastIndexByte(series, model.SeparatorByte)
		keyStart := bytes.LastIndexByte(series[:valueStart], model.SeparatorByte)
		added := Label{Name: c.intern(series[keyStart+1 : valueStart]), Value: string(series[valueStart+1:])}
		i := len(s.Labels)
		for i > 0 && s.Labels[i-1].Name > added.Name {
			i--
		}
		s.Labels = slices.Insert(s.Labels, i, added)
	}
	s.Series = renderSeries(s.Name, s.Labels)
	b.finish(p, s, nil)
}

// composite is what the walker keeps of the composite value line being
// exploded: where its series starts, its name and labels, and the few
// names its samples and added labels take, shared between them.
type composite struct {
	at    int
	name  string
	base  []Label
	names []string
}

// intern returns b as a string, the same string for the same bytes within
// one composite line.
func (c *composite) intern(b []byte) string {
	for _, n := range c.names {
		if n == string(b) {
			return n
		}
	}
	n := string(b)
	c.names = append(c.names, n)
	return n
}

// finish adds what every sample has besides its series: its start
// timestamp, its exemplars, its family.
func (b *linesBuilder) finish(p textparse.Parser, s *Sample, h *nativeHist) {
	if b.dialect.startTimestamps {
		s.StartTimestamp = p.StartTimestamp()
	}
	var exemplars []Exemplar
	for p.Exemplar(&b.ex) {
		exemplars = append(exemplars, exemplarOf(&b.ex))
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
	if h != nil {
		if f.histograms == nil {
			f.histograms = make(map[*Sample]*nativeHist)
		}
		f.histograms[s] = h
	}
	b.e.Samples = append(b.e.Samples, s)
	b.addToFamily(f, len(b.e.Samples)-1)
}

// addToFamily adds sample i of the exposition to f. A family's samples are
// nearly always written together, so f.Samples is a window of
// Exposition.Samples (capped, so an append to it copies) until a sample
// of f comes after another family's; only then does it get its own slice.
func (b *linesBuilder) addToFamily(f *Family, i int) {
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
func (b *linesBuilder) seriesString(series []byte) string {
	off, ok := offsetIn(b.buf, series)
	if !ok || off+len(series) > len(b.body) {
		return string(series)
	}
	return b.body[off : off+len(series)]
}

// familyOf returns the family a sample named name belongs to: the current
// family when the name is its name plus a suffix its type allows, else an
// earlier family it fits that way (an interleaved family; spec rules judge
// that), else a new family with no metadata.
func (b *linesBuilder) familyOf(name string) *Family {
	// Consecutive samples mostly have one name (mostly one string, so
	// that comparing them is comparing pointers): the answer for the last
	// name holds until the current family changes or a metadata line
	// comes.
	if c := &b.lastFamily; c.family != nil && c.current == b.current && c.name == name {
		return c.family
	}
	f := b.findFamily(name)
	b.lastFamily = familyOfName{name: name, current: b.current, family: f}
	return f
}

// familyOfName is the answer of familyOf for a name, while current was
// the current family.
type familyOfName struct {
	name            string
	current, family *Family
}

// findFamily is familyOf without the memory of the last answer.
func (b *linesBuilder) findFamily(name string) *Family {
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
