package conformance

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/deploymetrics/deploymetrics/conformance/check"
)

// maxFindingsShown bounds how many findings a failure message lists; the
// engine's summary line still counts them all.
const maxFindingsShown = 40

// maxLineShown bounds how much of one exposition line a message quotes: a
// hostile target type can make a line megabytes long.
const maxLineShown = 160

// describeReport renders a failing report for a failure message: every
// finding (up to maxFindingsShown) followed by the exposition line it
// points at, then the engine's summary line.
func describeReport(r *check.Report) string {
	var b strings.Builder
	for i, f := range r.Findings {
		if i == maxFindingsShown {
			fmt.Fprintf(&b, "... and %d more findings\n", len(r.Findings)-i)
			break
		}
		b.WriteString(f.String())
		b.WriteByte('\n')
		if f.Line > 0 && r.Exposition != nil {
			fmt.Fprintf(&b, "    %d | %s\n", f.Line, showLine(r.Exposition.Line(f.Line)))
		}
	}
	summary := r.String()
	if i := strings.LastIndexByte(summary, '\n'); i >= 0 {
		summary = summary[i+1:]
	}
	b.WriteString(summary)
	return b.String()
}

// showLine quotes an exposition line for a message: cut to maxLineShown
// bytes, with control bytes and invalid UTF-8 made visible, so that a
// hostile line cannot garble the terminal or the report.
func showLine(line []byte) string {
	cut := ""
	if len(line) > maxLineShown {
		cut = fmt.Sprintf(" ...(%d bytes)", len(line))
		line = line[:maxLineShown]
	}
	var b strings.Builder
	for len(line) > 0 {
		r, size := utf8.DecodeRune(line)
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, line[0])
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
		line = line[size:]
	}
	return b.String() + cut
}
