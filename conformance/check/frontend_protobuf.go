package check

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math/bits"
	"slices"
	"strings"
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
	b := protoBuilder{e: e, frames: frames, arena: stringArena{chunk: min(max(len(e.Body)/4, 1<<10), maxArenaChunk)}}
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
	// utf8Label is the first label name of its samples outside the legacy
	// set, "" when there is none (for http.escaping).
	utf8Label string
	// labelRuns are the samples (indexes into Exposition.Samples) whose
	// labels lint must read, in order: each that starts a run of samples
	// with the same label names (the message's first always does) and
	// each with an empty label value. The others tell it nothing new.
	labelRuns []int32
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
// Exposition. Each sample's Series is written out in the text syntax into
// an arena, and its name and label values are views of that rendering
// (textparse's bytes are reused from sample to sample, so they are copied
// once, there); label names the last sample had are its strings again. A
// sample then costs no allocation of its own.
type protoBuilder struct {
	e      *Exposition
	frames []protoFrame
	next   int // the frame the next family comes from
	msg    *protoMessage
	lset   labels.Labels
	ex     exemplar.Exemplar
	// chunks hold the samples, in order; n counts them. Exposition.Samples
	// is built once they are all in (index).
	chunks [][]Sample
	n      int
	labels []Label
	arena  stringArena
	// quoted says whether the text syntax quotes each label name of the
	// last sample, and nameQuoted its name: the next sample's names
	// mostly repeat the last's (which decode takes from the sample itself,
	// not from a copy here: a pointer stored for every sample would cost
	// a write barrier while the garbage collector runs).
	quoted     []bool
	nameQuoted bool
	// seps are the separators of the series being decoded, kept for
	// their memory.
	seps []int
	// hashes are the series hashes of the samples (seriesHashes), in
	// chunks beside the samples'.
	hashes [][]uint64
}

// stringArena holds strings in chunks of bytes written once, each string a
// view of its bytes (as strings.Builder makes them): a string costs no
// allocation of its own, and a chunk lives as long as a string of it.
type stringArena struct {
	buf []byte
	// chunk is the size of the next chunk.
	chunk int
}

// maxArenaChunk is the largest chunk of an arena: chunks start at a
// fraction of the body, so that a small exposition stays small, and
// double up to this.
const maxArenaChunk = 256 << 10

// reserve makes room for n more bytes in the current chunk, so that
// appending up to n bytes to buf keeps its strings where they are.
func (a *stringArena) reserve(n int) {
	if cap(a.buf)-len(a.buf) >= n {
		return
	}
	a.buf = make([]byte, 0, max(a.chunk, n))
	a.chunk = min(2*a.chunk, maxArenaChunk)
}

// commit makes dst, appended to the current chunk, the chunk. Only its
// length is stored when it is still in the chunk reserved, as it should
// be: storing a pointer costs a write barrier while the garbage collector
// runs.
func (a *stringArena) commit(dst []byte) {
	if cap(dst) == cap(a.buf) && len(dst) >= len(a.buf) {
		a.buf = a.buf[:len(dst)]
		return
	}
	a.buf = dst
}

func (b *protoBuilder) run(p textparse.Parser) error {
	defer b.index()
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
	f.messages = append(f.messages, protoMessage{index: b.next, family: f, first: b.n})
	b.msg = &f.messages[len(f.messages)-1]
}

// closeMessage ends the current message at the last sample and records it
// in message order.
func (b *protoBuilder) closeMessage() {
	if b.msg == nil {
		return
	}
	b.msg.end = b.n
	b.e.messages = append(b.e.messages, *b.msg)
	b.msg = nil
}

// index lists the samples in Exposition.Samples, and each family's in its
// Samples: a window of Exposition.Samples when the family came in one
// message (capped, so that an append to it copies), a slice of its own
// when it came in several.
func (b *protoBuilder) index() {
	all := make([]*Sample, 0, b.n)
	for _, chunk := range b.chunks {
		for i := range chunk {
			all = append(all, &chunk[i])
		}
	}
	b.e.Samples = all
	hashes := make([]uint64, 0, b.n)
	for k, chunk := range b.chunks {
		hashes = append(hashes, b.hashes[k][:len(chunk)]...)
	}
	b.e.seriesHashes = hashes
	for _, f := range b.e.Families {
		for _, m := range f.messages {
			switch {
			case m.first == m.end:
			case f.Samples == nil:
				f.Samples = all[m.first:m.end:m.end]
			default:
				f.Samples = append(slices.Clip(f.Samples), all[m.first:m.end]...)
			}
		}
	}
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

// newSample returns a zeroed sample from the current chunk. Chunks double
// with what has been allocated so far, from small, so that a small
// exposition stays small and the waste stays under half.
func (b *protoBuilder) newSample() *Sample {
	k := len(b.chunks) - 1
	if k < 0 || len(b.chunks[k]) == cap(b.chunks[k]) {
		size := min(max(b.n, firstChunk), 4096)
		b.chunks = append(b.chunks, make([]Sample, 0, size))
		b.hashes = append(b.hashes, make([]uint64, size))
		k++
	}
	b.chunks[k] = b.chunks[k][:len(b.chunks[k])+1]
	b.n++
	return &b.chunks[k][len(b.chunks[k])-1]
}

// sample adds the sample of the current entry, whose series textparse
// returned: a float sample, or a native histogram when h is set.
func (b *protoBuilder) sample(p textparse.Parser, series []byte, ts *int64, v float64, h *nativeHist) {
	s := b.newSample()
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
}

// decode sets the name, labels and Series of s. textparse's series is the
// name then, for each label, a 0xff byte, its name, a 0xff byte and its
// value, sorted by name (names and values are UTF-8, which has no 0xff);
// a label whose name sorts before __name__ would come before the name, and
// then textparse's Labels says which is which.
//
// The Series is written straight into the arena, and the name, the label
// names and the label values are views of it where it holds them as they
// are (not escaped); names the last sample had are its strings again, so
// that comparing them later is comparing pointers.
func (b *protoBuilder) decode(p textparse.Parser, s *Sample, series []byte) {
	seps := separators(b.seps[:0], series)
	if cap(seps) > cap(b.seps) {
		b.seps = seps
	}
	if len(series) == 0 || series[0] == model.SeparatorByte || len(seps)%2 != 0 {
		b.decodeLabels(p, s)
		return
	}
	n := len(seps) / 2
	name := series
	if n > 0 {
		name = series[:seps[0]]
	}
	var lastName string
	var last []Label
	if prev := b.previous(); prev != nil {
		lastName, last = prev.Name, prev.Labels
	}
	sameName := ""
	switch {
	case string(name) == lastName:
		sameName = lastName
	case string(name) == b.msg.family.Name:
		sameName = b.msg.family.Name
		b.nameQuoted = !model.IsValidLegacyMetricName(sameName)
	default:
		b.nameQuoted = !model.IsValidLegacyMetricName(unsafeString(name))
	}
	// Room for the longest rendering first (every byte escaped, every
	// name quoted: two bytes a byte, and three a separator for the
	// quotes, the comma and the equals sign), so that the rendering stays
	// in one chunk. (Were it to outgrow it, append would move it to a new
	// array, and the views already taken would still hold what they
	// should, in the old one.)
	b.arena.reserve(2*len(series) + 3*len(seps) + 4)
	dst := b.arena.buf
	start := len(dst)
	quoteName := b.nameQuoted
	if quoteName {
		dst = append(dst, '{')
	}
	dst, written := appendText(dst, unsafeString(name), quoteName)
	if sameName == "" {
		sameName = written
	}
	if n > 0 && !quoteName {
		dst = append(dst, '{')
	}
	ls := b.newLabels(n)
	quoted := b.quoted[:0]
	hasEmpty := false
	sameNames := n == len(last)
	for k := range n {
		lname, value := labelAt(series, seps, k)
		same := k < len(last) && k < len(b.quoted) && lname == last[k].Name
		sameNames = sameNames && same
		if same {
			quoted = append(quoted, b.quoted[k])
		} else {
			quoted = append(quoted, !model.LabelName(lname).IsValidLegacy())
		}
		if quoted[k] && b.msg.utf8Label == "" {
			b.msg.utf8Label = strings.Clone(lname)
		}
		if k > 0 || quoteName {
			dst = append(dst, ',')
		}
		var l Label
		dst, l.Name = appendText(dst, lname, quoted[k])
		if same {
			l.Name = last[k].Name
		}
		dst = append(dst, '=')
		dst, l.Value = appendText(dst, value, true)
		hasEmpty = hasEmpty || value == ""
		ls = append(ls, l)
	}
	if quoteName || n > 0 {
		dst = append(dst, '}')
	}
	b.labelRun(sameNames && !hasEmpty)
	if !hasEmpty {
		// textparse's series is the sample's series key (appendSeriesKey)
		// as long as no label is dropped for its empty value.
		k := len(b.chunks) - 1
		b.hashes[k][len(b.chunks[k])-1] = maphash.Bytes(b.e.seed, series)
	}
	b.arena.commit(dst)
	s.Name, s.Series, s.Labels = sameName, unsafeString(dst[start:]), ls
	if cap(quoted) == cap(b.quoted) {
		b.quoted = b.quoted[:len(quoted)] // the length alone
	} else {
		b.quoted = quoted
	}
}

// labelRun notes the newest sample in the message's labelRuns unless
// repeat says it has the label names of the sample before it and no empty
// value; the message's first sample is always noted.
func (b *protoBuilder) labelRun(repeat bool) {
	if i := b.n - 1; !repeat || i == b.msg.first {
		b.msg.labelRuns = append(b.msg.labelRuns, int32(i))
	}
}

// previous returns the sample before the newest, nil when there is none.
func (b *protoBuilder) previous() *Sample {
	k := len(b.chunks) - 1
	if c := b.chunks[k]; len(c) >= 2 {
		return &c[len(c)-2]
	}
	if k > 0 {
		c := b.chunks[k-1]
		return &c[len(c)-1]
	}
	return nil
}

// labelAt returns the name and value of the k-th label of a series of
// textparse's, whose separators are at seps, as views of its bytes: valid
// until the next entry.
func labelAt(series []byte, seps []int, k int) (name, value string) {
	end := len(series)
	if 2*k+2 < len(seps) {
		end = seps[2*k+2]
	}
	return unsafeString(series[seps[2*k]+1 : seps[2*k+1]]), unsafeString(series[seps[2*k+1]+1 : end])
}

// separators appends the offsets of the 0xff bytes of series to pos,
// looking at eight bytes at a time.
func separators(pos []int, series []byte) []int {
	i := 0
	for ; i+8 <= len(series); i += 8 {
		for m := zeroBytes(binary.LittleEndian.Uint64(series[i:]) ^ ^uint64(0)); m != 0; m &= m - 1 {
			pos = append(pos, i+bits.TrailingZeros64(m)/8)
		}
	}
	for ; i < len(series); i++ {
		if series[i] == model.SeparatorByte {
			pos = append(pos, i)
		}
	}
	return pos
}

// zeroBytes flags (with its high bit) every byte of x that is zero, and no
// other: exact, unlike the cheaper test of bytesEqual, since every
// separator counts here, not only the first.
func zeroBytes(x uint64) uint64 {
	const low7 = 0x7f7f7f7f7f7f7f7f
	return ^((x&low7 + low7) | x | low7)
}

// appendText appends s to dst, quoted and escaped when quote says so, and
// returns it as dst holds it: a view of dst's bytes, or a copy of s when
// dst holds it escaped.
func appendText(dst []byte, s string, quote bool) ([]byte, string) {
	start := len(dst)
	if !quote {
		dst = append(dst, s...)
		return dst, unsafeString(dst[start:])
	}
	dst, escaped := appendQuoted(dst, s)
	if escaped {
		return dst, strings.Clone(s)
	}
	return dst, unsafeString(dst[start+1 : len(dst)-1])
}

// unsafeString returns a view of b as a string, for the time b is not
// modified: only to look at or copy textparse's bytes within one entry.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
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
	for _, l := range s.Labels {
		if b.msg.utf8Label == "" && !model.LabelName(l.Name).IsValidLegacy() {
			b.msg.utf8Label = l.Name
		}
	}
	s.Series = renderSeries(s.Name, s.Labels)
	b.labelRun(false)
	b.nameQuoted = !model.IsValidLegacyMetricName(s.Name)
	b.quoted = b.quoted[:0]
	for _, l := range s.Labels {
		b.quoted = append(b.quoted, !model.LabelName(l.Name).IsValidLegacy())
	}
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
