package check

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"
	"unsafe"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// buildProtobuf is the front end of Prometheus's protobuf format: the body
// is a sequence of io.prometheus.client.MetricFamily messages, each
// preceded by its length as a varint. textparse turns each family into the
// samples Prometheus ingests (a classic histogram into its _bucket, _count
// and _sum series, a summary into its quantiles, _count and _sum, a native
// histogram into one sample), and the model keeps them, each tied to the
// index of the message it came in, since there are no lines. A Series is
// written out in the text syntax.
func buildProtobuf(e *Exposition) {
	frames, framing := protoFrames(e.Body)
	// Keep the classic buckets of a histogram that also has native ones,
	// as Prometheus's always_scrape_classic_histograms does, so both are
	// judged.
	p := textparse.NewProtobufParser(e.Body, false, true, false, false, labels.NewSymbolTable())
	b := protoBuilder{e: e, frames: frames}
	if err := b.run(p); err != nil {
		index, problem := failingMessage(e.Body, frames, b.next, framing)
		e.ParseError = &ParseError{Message: index, Err: err}
		if problem != "" {
			e.ParseError.Err = fmt.Errorf("%w (%s)", err, problem)
		}
	}
}

// protoMessage is one MetricFamily message of a protobuf body, as the
// model keeps it: the family it named, its metadata as that message had
// it, and the samples it held (a range of Exposition.Samples).
type protoMessage struct {
	index       int // 1-based
	family      *Family
	help, unit  string
	typ         model.MetricType
	first, end  int
	hasMetadata bool
}

// protoFrame is where one length-delimited message lies in the body.
type protoFrame struct {
	at, start, end int  // its length prefix, its first byte, the byte after it
	metrics        bool // it has a Metric; textparse skips families without
}

// framingProblem is the first message whose length prefix is broken.
type framingProblem struct {
	index   int
	problem string
}

// protoFrames finds the messages of a body by their length prefixes. It
// stops at the first prefix that is broken or claims more bytes than
// follow (a body cut short, corrupt, or a length-prefix bomb), which it
// returns: memory is never sized by what a prefix claims.
func protoFrames(body []byte) ([]protoFrame, *framingProblem) {
	var frames []protoFrame
	for at := 0; at < len(body); {
		index := len(frames) + 1
		n, k := protowire.ConsumeVarint(body[at:])
		switch {
		case k < 0:
			return frames, &framingProblem{index, fmt.Sprintf("message %d, at byte %d: its length prefix is not a varint", index, at)}
		case k > binaryMaxVarintLen32:
			return frames, &framingProblem{index, fmt.Sprintf("message %d, at byte %d: its length prefix is %d bytes long, more than a 32-bit length takes (5)", index, at, k)}
		case n > uint64(len(body)-at-k):
			return frames, &framingProblem{index, fmt.Sprintf("message %d, at byte %d: its length prefix says %d bytes, but only %d follow: the body is cut short, or the prefix is corrupt", index, at, n, len(body)-at-k)}
		}
		f := protoFrame{at: at, start: at + k, end: at + k + int(n)}
		f.metrics = hasField(body[f.start:f.end], 4)
		frames = append(frames, f)
		at = f.end
	}
	return frames, nil
}

// binaryMaxVarintLen32 is the longest length prefix textparse's decoder
// takes (binary.MaxVarintLen32).
const binaryMaxVarintLen32 = 5

// hasField reports whether a message holds the length-delimited field num
// at its top level (a MetricFamily's Metric is field 4). A message that
// does not parse is reported as holding it: textparse will say what is
// wrong with it.
func hasField(msg []byte, num protowire.Number) bool {
	for len(msg) > 0 {
		n, typ, k := protowire.ConsumeTag(msg)
		if k < 0 {
			return true
		}
		if n == num && typ == protowire.BytesType {
			return true
		}
		msg = msg[k:]
		k = protowire.ConsumeFieldValue(n, typ, msg)
		if k < 0 {
			return true
		}
		msg = msg[k:]
	}
	return false
}

// protoBuilder walks textparse's entries over a protobuf body into an
// Exposition. It keeps the strings of the model in an arena, and lends
// the next sample the name and label names of the last one when they are
// the same, so that a sample costs no allocation of its own (the text
// front ends cut theirs from the body; here textparse's bytes are reused
// from sample to sample, so they are copied).
type protoBuilder struct {
	e      *Exposition
	frames []protoFrame
	next   int // the frame the next family comes from
	msg    *protoMessage
	lset   labels.Labels
	ex     exemplar.Exemplar
	chunk  []Sample
	labels []Label
	arena  stringArena
	// last is the last sample's labels and whether each name is quoted
	// in the text syntax, which the next sample's mostly repeat.
	last       []Label
	lastQuoted []bool
	// lastName is the last sample's name, and whether it is quoted.
	lastName       string
	lastNameQuoted bool
}

// stringArena holds strings in chunks of bytes written once, each string a
// view of its bytes (as strings.Builder makes them): a string costs no
// allocation of its own, and a chunk lives as long as a string of it.
type stringArena struct{ buf []byte }

// arenaChunk is the size of a chunk of the arena.
const arenaChunk = 64 << 10

// appendString writes a string of at most size bytes with write, which
// appends it to the slice it is given, and returns it.
func (a *stringArena) appendString(size int, write func([]byte) []byte) string {
	if cap(a.buf)-len(a.buf) < size {
		a.buf = make([]byte, 0, max(arenaChunk, size))
	}
	start := len(a.buf)
	a.buf = write(a.buf)
	if len(a.buf) == start {
		return ""
	}
	return unsafe.String(&a.buf[start], len(a.buf)-start)
}

func (a *stringArena) string(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if cap(a.buf)-len(a.buf) < len(b) {
		a.buf = make([]byte, 0, max(arenaChunk, len(b)))
	}
	start := len(a.buf)
	a.buf = append(a.buf, b...)
	return unsafe.String(&a.buf[start], len(b))
}

func (b *protoBuilder) run(p textparse.Parser) error {
	defer b.closeMessage()
	for {
		entry, err := p.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch entry {
		case textparse.EntryHelp:
			// textparse starts every family (but an empty one, which it
			// skips) with its HELP, empty or not.
			name, help := p.Help()
			b.openMessage(string(name))
			b.msg.help = string(help)
		case textparse.EntryUnit:
			_, unit := p.Unit()
			b.msg.unit = string(unit)
		case textparse.EntryType:
			_, typ := p.Type()
			b.msg.typ = typ
			b.metadata()
		case textparse.EntrySeries:
			series, ts, v := p.Series()
			b.sample(p, series, ts, v, nil)
		case textparse.EntryHistogram:
			series, ts, h, fh := p.Histogram()
			nh := nativeHistogram(h, fh)
			if nh == nil {
				continue
			}
			b.sample(p, series, ts, nh.float.Count, nh)
		}
	}
}

// openMessage starts the message of the next family, named name.
func (b *protoBuilder) openMessage(name string) {
	b.closeMessage()
	for b.next < len(b.frames) && !b.frames[b.next].metrics {
		b.next++
	}
	b.next++
	f := b.e.byName[name]
	if f == nil {
		f = &Family{Name: name, Type: model.MetricTypeUnknown}
		b.e.Families = append(b.e.Families, f)
		b.e.byName[name] = f
	}
	f.messages = append(f.messages, protoMessage{index: b.next, family: f, first: len(b.e.Samples)})
	b.msg = &f.messages[len(f.messages)-1]
}

// closeMessage ends the current message at the last sample and records it
// in message order.
func (b *protoBuilder) closeMessage() {
	if b.msg == nil {
		return
	}
	b.msg.end = len(b.e.Samples)
	b.e.messages = append(b.e.messages, *b.msg)
	b.msg = nil
}

// metadata gives the family the metadata of its first message.
func (b *protoBuilder) metadata() {
	m, f := b.msg, b.msg.family
	m.hasMetadata = true
	if len(f.messages) == 1 {
		// In protobuf an empty HELP is no HELP: proto3 strings have no
		// absent state.
		f.Help, f.HasHelp, f.Unit, f.Type = m.help, m.help != "", m.unit, m.typ
	}
	if m.help != "" {
		f.helpLines = append(f.helpLines, 0)
	}
	f.typeLines = append(f.typeLines, 0)
}

// sample adds the sample of the current entry, whose series textparse
// returned: a float sample, or a native histogram when h is set.
func (b *protoBuilder) sample(p textparse.Parser, series []byte, ts *int64, v float64, h *nativeHist) {
	if len(b.chunk) == cap(b.chunk) {
		b.chunk = make([]Sample, 0, min(max(2*cap(b.chunk), firstChunk), 4096))
	}
	b.chunk = b.chunk[:len(b.chunk)+1]
	s := &b.chunk[len(b.chunk)-1]
	s.Value = v
	if ts != nil {
		t := *ts
		s.Timestamp = &t
	}
	s.StartTimestamp = p.StartTimestamp()
	b.decode(p, s, series)
	f := b.msg.family
	s.Family = f
	for p.Exemplar(&b.ex) {
		if f.exemplars == nil {
			f.exemplars = make(map[*Sample][]Exemplar)
		}
		f.exemplars[s] = append(f.exemplars[s], exemplarOf(&b.ex))
		b.ex = exemplar.Exemplar{}
	}
	if h != nil {
		if f.histograms == nil {
			f.histograms = make(map[*Sample]*nativeHist)
		}
		f.histograms[s] = h
	}
	b.e.Samples = append(b.e.Samples, s)
	// A family's samples are a window of Exposition.Samples until the
	// family comes back in a later message.
	all := b.e.Samples
	i := len(all) - 1
	switch k := len(f.Samples); {
	case k == 0 || !f.ownSamples && f.viewEnd == i:
		f.Samples, f.viewEnd = all[i-k:i+1:i+1], i+1
	case !f.ownSamples:
		f.Samples = append(slices.Clone(f.Samples), s)
		f.ownSamples = true
	default:
		f.Samples = append(f.Samples, s)
	}
}

// decode sets the name, labels and Series of s. textparse's series is the
// name then, for each label, a 0xff byte, its name, a 0xff byte and its
// value, sorted by name (names and values are UTF-8, which has no 0xff);
// a label whose name sorts before __name__ would come before the name, and
// then textparse's Labels says which is which.
func (b *protoBuilder) decode(p textparse.Parser, s *Sample, series []byte) {
	n := bytes.Count(series, []byte{model.SeparatorByte})
	if len(series) == 0 || series[0] == model.SeparatorByte || n%2 != 0 {
		b.decodeLabels(p, s)
		return
	}
	n /= 2
	end := bytes.IndexByte(series, model.SeparatorByte)
	if end < 0 {
		end = len(series)
	}
	s.Name = b.lastName
	if string(series[:end]) != s.Name {
		s.Name = b.msg.family.Name
		if string(series[:end]) != s.Name {
			s.Name = b.arena.string(series[:end])
		}
	}
	s.Labels = b.newLabels(n)
	rest := series[end:]
	for k := range n {
		rest = rest[1:]
		i := bytes.IndexByte(rest, model.SeparatorByte)
		name, value := rest[:i], rest[i+1:]
		if j := bytes.IndexByte(value, model.SeparatorByte); j >= 0 {
			value, rest = value[:j], value[j:]
		} else {
			rest = nil
		}
		var l Label
		if k < len(b.last) && string(name) == b.last[k].Name {
			l.Name = b.last[k].Name
		} else {
			l.Name = b.arena.string(name)
		}
		if k < len(b.last) && string(value) == b.last[k].Value {
			l.Value = b.last[k].Value
		} else {
			l.Value = b.arena.string(value)
		}
		s.Labels = append(s.Labels, l)
	}
	b.render(s)
}

// decodeLabels sets the name, labels and Series of s from textparse's
// Labels, for the series decode cannot read.
func (b *protoBuilder) decodeLabels(p textparse.Parser, s *Sample) {
	p.Labels(&b.lset)
	s.Labels = b.newLabels(b.lset.Len() - 1)
	b.lset.Range(func(l labels.Label) {
		if l.Name == model.MetricNameLabel {
			s.Name = l.Value
			return
		}
		s.Labels = append(s.Labels, Label{Name: l.Name, Value: l.Value})
	})
	b.render(s)
}

// newLabels returns an empty label slice with room for n labels, cut from
// the current chunk.
func (b *protoBuilder) newLabels(n int) []Label {
	if n <= 0 {
		return nil
	}
	if cap(b.labels)-len(b.labels) < n {
		b.labels = make([]Label, 0, max(min(max(2*cap(b.labels), firstChunk), 8192), n))
	}
	start := len(b.labels)
	b.labels = b.labels[:start+n]
	return b.labels[start : start : start+n]
}

// render writes the Series of s out in the text syntax, judging whether
// each label name needs quoting only when it is not the last sample's.
func (b *protoBuilder) render(s *Sample) {
	quoted := b.lastQuoted[:0]
	for k, l := range s.Labels {
		if k < len(b.last) && k < len(b.lastQuoted) && l.Name == b.last[k].Name {
			quoted = append(quoted, b.lastQuoted[k])
		} else {
			quoted = append(quoted, !model.LabelName(l.Name).IsValidLegacy())
		}
	}
	if s.Name != b.lastName {
		b.lastName, b.lastNameQuoted = s.Name, !model.IsValidLegacyMetricName(s.Name)
	}
	// Written straight into the arena: room for the longest rendering
	// (every byte escaped, every name quoted) first.
	size := 2*len(s.Name) + 4
	for _, l := range s.Labels {
		size += 2*(len(l.Name)+len(l.Value)) + 6
	}
	s.Series = b.arena.appendString(size, func(dst []byte) []byte {
		return appendSeries(dst, s.Name, b.lastNameQuoted, s.Labels, quoted)
	})
	b.last, b.lastQuoted = s.Labels, quoted
}

// failingMessage returns the 1-based index of the message textparse
// failed on, and what is wrong with it when the engine can say more than
// textparse. textparse does not say which message it was; the engine
// decodes the messages from the one it had reached on, holding each to
// what textparse checks, and takes the first that fails, else the first
// broken length prefix, else the message textparse had reached.
func failingMessage(body []byte, frames []protoFrame, reached int, framing *framingProblem) (int, string) {
	for i := max(reached-1, 0); i < len(frames); i++ {
		f := frames[i]
		if err := protoMessageProblem(body[f.start:f.end]); err != nil {
			return i + 1, fmt.Sprintf("message %d, at byte %d: %v", i+1, f.at, err)
		}
	}
	if framing != nil {
		return framing.index, framing.problem
	}
	return max(reached, 1), ""
}

// protoMessageProblem decodes one MetricFamily message and holds it to
// what textparse checks: valid UTF-8 names, help and label values, a known
// type, native histogram spans that cover their buckets.
func protoMessageProblem(msg []byte) error {
	var mf dto.MetricFamily
	if err := proto.Unmarshal(msg, &mf); err != nil {
		return err
	}
	if !model.UTF8Validation.IsValidMetricName(mf.GetName()) || !utf8.ValidString(mf.GetHelp()) {
		return errors.New("invalid name or help")
	}
	if _, ok := dto.MetricType_name[int32(mf.GetType())]; !ok {
		return errors.New("unknown type")
	}
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			if !model.UTF8Validation.IsValidLabelName(l.GetName()) || !utf8.ValidString(l.GetValue()) {
				return errors.New("invalid label")
			}
		}
		if h := m.GetHistogram(); h != nil {
			if spansCover(h.GetPositiveSpan(), len(h.GetPositiveDelta())+len(h.GetPositiveCount())) != nil ||
				spansCover(h.GetNegativeSpan(), len(h.GetNegativeDelta())+len(h.GetNegativeCount())) != nil {
				return errors.New("spans do not cover the buckets")
			}
		}
	}
	return nil
}

// spansCover returns an error when the lengths of spans do not add up to
// buckets.
func spansCover(spans []*dto.BucketSpan, buckets int) error {
	total := 0
	for _, s := range spans {
		total += int(s.GetLength())
	}
	if total != buckets {
		return fmt.Errorf("spans cover %d buckets, there are %d", total, buckets)
	}
	return nil
}
