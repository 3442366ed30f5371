package main

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/deploymetrics/deploymetrics/conformance/check"
)

// An example is shown whole up to showWhole lines a scrape; a longer one
// is cut to the lines that matter, with context lines around each.
const (
	showWhole    = 24
	contextLines = 2
	// showHead is how many lines of a long scrape with no line that
	// matters are shown.
	showHead = 12
)

// exampleLines shows a case readably, scrape by scrape: an .http case's
// request and response head, then the body with its line numbers, the
// lines a finding of the case's rule points at marked ">", invisible and
// invalid characters made visible; a protobuf body described message by
// message. A long body is cut to the lines that matter (full: never).
func exampleLines(x check.Example, report *check.Report, full bool) []string {
	var out []string
	var v visibility
	bodies := make([][]string, len(x.Scrapes))
	for i, s := range x.Scrapes {
		bodies[i] = splitLines(s.Input.Body)
	}
	marked := map[int]bool{}
	for _, f := range report.Rule(x.Rule) {
		if f.Line > 0 {
			marked[f.Line] = true
		}
	}
	for i, s := range x.Scrapes {
		if len(x.Scrapes) > 1 {
			if i > 0 {
				out = append(out, "")
			}
			out = append(out, fmt.Sprintf("scrape %d of %d (%s):", i+1, len(x.Scrapes), path.Base(s.File)))
		}
		if path.Ext(s.File) == ".http" {
			out = append(out, httpHead(s, &v)...)
		}
		if isProtobuf(s) {
			desc := describeProtobuf(s.Input.Body)
			if !full && len(desc) > showWhole {
				desc = append(desc[:showHead:showHead], "  … "+plural(len(desc)-showHead, "more line"))
			}
			out = append(out, desc...)
			continue
		}
		lines := bodies[i]
		if len(lines) == 0 {
			out = append(out, "(empty body)")
			continue
		}
		// The lines that matter: those a finding points at (in the scrape
		// the findings are of, the last), and those that differ from the
		// same line of the scrape before or after.
		matter := map[int]bool{}
		for n := range lines {
			last := i == len(x.Scrapes)-1
			if last && marked[n+1] || differs(bodies, i, n) {
				matter[n] = true
			}
		}
		head := showHead
		if strings.HasPrefix(x.Rule, "http.") {
			// The response is what an http.* rule judges; its body is
			// context.
			head = 4
		}
		out = append(out, numberedLines(lines, matter, marked, i == len(x.Scrapes)-1, full, head, &v)...)
		if body := s.Input.Body; len(body) > 0 && body[len(body)-1] != '\n' {
			out = append(out, "       (the last line ends without a line feed)")
		}
	}
	if legend := v.legend(); legend != "" {
		out = append(out, legend)
	}
	return out
}

// splitLines splits a body into its lines, without the line feeds.
func splitLines(body []byte) []string {
	if len(body) == 0 {
		return nil
	}
	lines := strings.Split(string(body), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// differs reports whether line n of scrape i differs from line n of the
// scrape before or after it.
func differs(bodies [][]string, i, n int) bool {
	for _, j := range []int{i - 1, i + 1} {
		if j < 0 || j >= len(bodies) {
			continue
		}
		if n >= len(bodies[j]) || bodies[j][n] != bodies[i][n] {
			return true
		}
	}
	return false
}

// numberedLines shows lines numbered from 1, marking those in marked (when
// mark), cut to those that matter and their context unless full or short;
// to the first head lines when none matters.
func numberedLines(lines []string, matter, marked map[int]bool, mark, full bool, head int, v *visibility) []string {
	show := make([]bool, len(lines))
	switch {
	case full || len(lines) <= showWhole:
		for n := range show {
			show[n] = true
		}
	case len(matter) == 0:
		for n := range min(head, len(lines)) {
			show[n] = true
		}
	default:
		for n := range matter {
			for k := max(0, n-contextLines); k <= min(len(lines)-1, n+contextLines); k++ {
				show[k] = true
			}
		}
	}
	var out []string
	skipped := 0
	flush := func() {
		if skipped > 0 {
			out = append(out, "       … "+plural(skipped, "line"))
			skipped = 0
		}
	}
	for n, line := range lines {
		if !show[n] {
			skipped++
			continue
		}
		flush()
		marker := "  "
		if mark && marked[n+1] {
			marker = "> "
		}
		out = append(out, fmt.Sprintf("%s%4d | %s", marker, n+1, v.show(line)))
	}
	flush()
	return out
}

// httpHead shows the request lines and the response head of an .http case
// as written, and says when the body on the wire was compressed.
func httpHead(s check.ExampleScrape, v *visibility) []string {
	head, _, _ := strings.Cut(string(s.Raw), "\n\n")
	var out []string
	for _, l := range strings.Split(head, "\n") {
		out = append(out, v.show(strings.TrimSuffix(l, "\r")))
	}
	if h := s.Input.HTTP; h != nil && h.Header.Get("Content-Encoding") != "" && h.DecodeError == "" {
		out = append(out, "(the body is "+h.Header.Get("Content-Encoding")+"-compressed on the wire; shown decoded)")
	}
	out = append(out, "")
	return out
}

// isProtobuf reports whether the scrape's body is protobuf.
func isProtobuf(s check.ExampleScrape) bool {
	if path.Ext(s.File) == ".pb" {
		return true
	}
	ct, err := check.ParseContentType(s.Input.ContentType)
	return err == nil && ct.Format == check.FormatProtobuf
}

// describeProtobuf describes a protobuf body message by message: each
// length-delimited MetricFamily with its metrics, or where and why the
// body stops being one.
func describeProtobuf(body []byte) []string {
	out := []string{fmt.Sprintf("a protobuf body of %d bytes, length-delimited MetricFamily messages:", len(body))}
	for i := 1; len(body) > 0; i++ {
		n, l := protowire.ConsumeVarint(body)
		if l < 0 {
			out = append(out, fmt.Sprintf("then %d bytes that are no length prefix (%v)", len(body), protowire.ParseError(l)))
			break
		}
		body = body[l:]
		if n > uint64(len(body)) {
			out = append(out, fmt.Sprintf("message %d claims %d bytes, but only %d follow", i, n, len(body)))
			break
		}
		msg := body[:n]
		body = body[n:]
		var mf dto.MetricFamily
		if err := proto.Unmarshal(msg, &mf); err != nil {
			out = append(out, fmt.Sprintf("message %d (%d bytes) does not decode as a MetricFamily: %v", i, n, err))
			continue
		}
		out = append(out, describeFamily(i, len(msg), &mf)...)
	}
	return out
}

// describeFamily describes one MetricFamily message.
func describeFamily(i, size int, mf *dto.MetricFamily) []string {
	head := fmt.Sprintf("message %d (%d bytes): family %q, %s", i, size, mf.GetName(), mf.GetType())
	if mf.Help != nil {
		head += fmt.Sprintf(", help %q", mf.GetHelp())
	}
	if mf.Unit != nil {
		head += fmt.Sprintf(", unit %q", mf.GetUnit())
	}
	if len(mf.Metric) == 0 {
		head += ", no metrics"
	}
	out := []string{head}
	if unknown := len(mf.ProtoReflect().GetUnknown()); unknown > 0 {
		out = append(out, fmt.Sprintf("  and %d bytes of fields MetricFamily does not define (skipped, as protobuf allows)", unknown))
	}
	for _, m := range mf.Metric {
		var labels []string
		for _, l := range m.Label {
			labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
		}
		line := "  metric {" + strings.Join(labels, ",") + "}: " + describeValue(m)
		if m.TimestampMs != nil {
			line += ", timestamp " + formatMillis(m.GetTimestampMs())
		}
		out = append(out, line)
	}
	return out
}

// describeValue describes the value a metric carries.
func describeValue(m *dto.Metric) string {
	num := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
	switch {
	case m.Counter != nil:
		s := "counter " + num(m.Counter.GetValue())
		if m.Counter.CreatedTimestamp != nil {
			s += ", created " + m.Counter.CreatedTimestamp.AsTime().Format(time.RFC3339)
		}
		return s
	case m.Gauge != nil:
		return "gauge " + num(m.Gauge.GetValue())
	case m.Untyped != nil:
		return "untyped " + num(m.Untyped.GetValue())
	case m.Summary != nil:
		s := m.Summary
		var qs []string
		for _, q := range s.Quantile {
			qs = append(qs, num(q.GetQuantile())+": "+num(q.GetValue()))
		}
		return fmt.Sprintf("summary count %d, sum %s, quantiles [%s]", s.GetSampleCount(), num(s.GetSampleSum()), strings.Join(qs, ", "))
	case m.Histogram != nil:
		return describeHistogram(m.Histogram, num)
	}
	return "no value"
}

// describeHistogram describes a classic or native histogram: its count and
// sum, its buckets, and for a native one its schema, zero bucket and spans.
func describeHistogram(h *dto.Histogram, num func(float64) string) string {
	var parts []string
	if h.SampleCountFloat != nil {
		parts = append(parts, "count "+num(h.GetSampleCountFloat())+" (float)")
	} else {
		parts = append(parts, fmt.Sprintf("count %d", h.GetSampleCount()))
	}
	parts = append(parts, "sum "+num(h.GetSampleSum()))
	if len(h.Bucket) > 0 {
		var bs []string
		for _, b := range h.Bucket {
			c := fmt.Sprintf("%d", b.GetCumulativeCount())
			if b.CumulativeCountFloat != nil {
				c = num(b.GetCumulativeCountFloat())
			}
			bs = append(bs, "le "+num(b.GetUpperBound())+": "+c)
		}
		parts = append(parts, "buckets ["+strings.Join(bs, ", ")+"]")
	}
	if h.Schema != nil || h.ZeroThreshold != nil || len(h.PositiveSpan)+len(h.NegativeSpan) > 0 {
		parts = append(parts, fmt.Sprintf("native: schema %d, zero threshold %s", h.GetSchema(), num(h.GetZeroThreshold())))
		if h.ZeroCountFloat != nil {
			parts = append(parts, "zero count "+num(h.GetZeroCountFloat()))
		} else {
			parts = append(parts, fmt.Sprintf("zero count %d", h.GetZeroCount()))
		}
		side := func(name string, spans []*dto.BucketSpan, deltas []int64, counts []float64) {
			if len(spans)+len(deltas)+len(counts) == 0 {
				return
			}
			var ss []string
			for _, s := range spans {
				ss = append(ss, fmt.Sprintf("offset %d length %d", s.GetOffset(), s.GetLength()))
			}
			s := name + " spans [" + strings.Join(ss, "; ") + "]"
			if len(deltas) > 0 {
				s += fmt.Sprintf(", deltas %v", deltas)
			}
			if len(counts) > 0 {
				s += fmt.Sprintf(", counts %v", counts)
			}
			parts = append(parts, s)
		}
		side("positive", h.PositiveSpan, h.PositiveDelta, h.PositiveCount)
		side("negative", h.NegativeSpan, h.NegativeDelta, h.NegativeCount)
	}
	if h.CreatedTimestamp != nil {
		parts = append(parts, "created "+h.CreatedTimestamp.AsTime().Format(time.RFC3339))
	}
	return "histogram " + strings.Join(parts, ", ")
}

// formatMillis renders a timestamp in milliseconds since the epoch.
func formatMillis(ms int64) string {
	return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
}

// visibility makes invisible and invalid characters of an example visible,
// and remembers which it replaced, for a legend.
type visibility struct {
	control, invalid bool
}

// show returns line with each control character as its Unicode control
// picture (a tab as ␉, a NUL as ␀, a carriage return as ␍) and each byte
// that is not UTF-8 as ⟨ff⟩.
func (v *visibility) show(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		r, size := utf8.DecodeRuneInString(line[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, "⟨%02x⟩", line[i])
			v.invalid = true
		case r < 0x20:
			b.WriteRune(0x2400 + r)
			v.control = true
		case r == 0x7f:
			b.WriteRune('␡')
			v.control = true
		case r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&b, "⟨U+%04X⟩", r)
			v.control = true
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// legend says what the replacements mean, "" when there were none.
func (v *visibility) legend() string {
	var parts []string
	if v.control {
		parts = append(parts, "control characters are shown as their symbols (␉ a tab, ␀ a NUL, ␍ a carriage return)")
	}
	if v.invalid {
		parts = append(parts, "⟨ff⟩ is a byte that is not UTF-8")
	}
	if parts == nil {
		return ""
	}
	return "(" + strings.Join(parts, "; ") + ")"
}
