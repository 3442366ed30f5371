package check

import (
	"bytes"
	"hash/maphash"
	"iter"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
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
	// messages are the MetricFamily messages of a protobuf body, in order.
	messages []protoMessage
	// seed seeds the hashes of series keys (appendSeriesKey);
	// seriesHashes are those of the samples, 0 for one not hashed yet.
	// The protobuf front end hashes textparse's series as they come, and
	// the spec rules the rest.
	seed         maphash.Seed
	seriesHashes []uint64
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
	// Line is the 1-based line textparse failed on (0 for protobuf).
	Line int
	// Message is, for protobuf, the 1-based index of the length-delimited
	// message textparse failed on; 0 for the text formats.
	Message int
	// Column is the 1-based byte column of the token textparse failed on,
	// 0 when not known.
	Column int
	// Err is textparse's own error.
	Err error
	// shape names the form of textparse's message the position was read
	// from (parseErrorShapes), "" when none: for the tests that pin them.
	shape string
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
	// exemplars are the exemplars of the samples that have any;
	// histograms the native histograms of the samples that hold one.
	exemplars  map[*Sample][]Exemplar
	histograms map[*Sample]*nativeHist
	// messages are the protobuf messages the family came in, in order:
	// more than one when a name repeats (spec.interleaved-family).
	messages []protoMessage
}

// Message returns the 1-based index of the protobuf message (one
// length-delimited MetricFamily) the family came in, its first when it
// came in several; 0 for the text formats.
func (f *Family) Message() int {
	if len(f.messages) == 0 {
		return 0
	}
	return f.messages[0].index
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
	// StartTimestamp is when the sample's count started, in milliseconds
	// (textparse's StartTimestamp): OpenMetrics 2.0's st@, protobuf's
	// created_timestamp, or the value of the OpenMetrics 1.0 _created
	// sample of the sample's metric. 0 when there is none, as textparse
	// has it. A start timestamp that moves forward between scrapes is the
	// evidence of a counter reset.
	StartTimestamp int64
}

// labelSamples yields the samples of f whose labels say something the
// samples before them did not: for protobuf, where the front end noted
// them (protoMessage.labelRuns), the first of each run of samples with the
// same label names and each with an empty label value; otherwise every
// sample. The first sample with a label name, and every empty value, are
// among them.
func (e *Exposition) labelSamples(f *Family) iter.Seq[*Sample] {
	return func(yield func(*Sample) bool) {
		if len(f.messages) == 0 {
			for _, s := range f.Samples {
				if !yield(s) {
					return
				}
			}
			return
		}
		for _, m := range f.messages {
			for _, i := range m.labelRuns {
				if !yield(e.Samples[i]) {
					return
				}
			}
		}
	}
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

// Histogram returns the native histogram the sample holds (protobuf and
// OpenMetrics 2.0), nil for a float sample. Its Value is then the
// histogram's count. An integer histogram is returned in its float form,
// which keeps every count it has.
func (s *Sample) Histogram() *histogram.FloatHistogram {
	if s.Family == nil || s.Family.histograms[s] == nil {
		return nil
	}
	return s.Family.histograms[s].float
}

// nativeHist is a native histogram as textparse returned it: in float
// form, and in integer form too when it came as one (which Prometheus's
// storage validates as such).
type nativeHist struct {
	float   *histogram.FloatHistogram
	integer *histogram.Histogram
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

// where says where sample i of the exposition is, for messages: "on line
// 12", or in protobuf "in message 3".
func (e *Exposition) where(i int) string {
	if s := e.Samples[i]; s.Line > 0 || e.Format != FormatProtobuf {
		return "on line " + strconv.Itoa(s.Line)
	}
	k, _ := slices.BinarySearchFunc(e.messages, i, func(m protoMessage, i int) int {
		switch {
		case m.end <= i:
			return -1
		case m.first > i:
			return 1
		}
		return 0
	})
	if k < len(e.messages) {
		return "in message " + strconv.Itoa(e.messages[k].index)
	}
	return "earlier"
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
	// Protobuf and OpenMetrics 2.0: a native histogram goes by the
	// family name, its classic buckets by the suffixes.
	suffixesNativeHistogram = []string{"", "_bucket", "_count", "_sum"}
	suffixesOM2GaugeHist    = []string{"", "_bucket", "_gcount", "_gsum"}
)

// Suffixes returns the suffixes a sample name may add to the name of a
// family of type t in format f ("" means the bare family name). The slice
// is shared: callers must not modify it. It is called once per sample, so
// it does not allocate.
func Suffixes(f Format, t model.MetricType) []string {
	switch f {
	case FormatText:
		switch t {
		case model.MetricTypeHistogram:
			return suffixesTextHistogram
		case model.MetricTypeSummary:
			return suffixesTextSummary
		}
		return suffixesBare
	case FormatProtobuf, FormatOpenMetrics2:
		// The family name is the metric name; textparse explodes classic
		// histograms and summaries into suffixed series.
		switch {
		case t == model.MetricTypeGaugeHistogram && f == FormatOpenMetrics2:
			return suffixesOM2GaugeHist
		case t == model.MetricTypeHistogram, t == model.MetricTypeGaugeHistogram:
			return suffixesNativeHistogram
		case t == model.MetricTypeSummary:
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
