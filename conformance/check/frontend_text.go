package check

import (
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
)

// buildText is the front end of the Prometheus text format, 0.0.4 and
// 1.0.0 (one grammar for textparse: 1.0.0 adds quoted UTF-8 names, which
// spec.quoted-name judges against the Content-Type). Every sample is a
// line.
func buildText(e *Exposition) {
	// textparse's text parser wants the body to end in a line feed, and
	// appends one itself otherwise; parse left room for it.
	buf := e.Body
	if len(buf) == 0 || buf[len(buf)-1] != '\n' {
		buf = append(buf, '\n')
	}
	buf = buf[:len(buf):len(buf)]
	runLines(e, buf, textparse.NewPromParser(buf, labels.NewSymbolTable(), false), linesDialect{})
}
