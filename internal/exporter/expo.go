package exporter

import (
	"math"
	"net/http"
	"strconv"

	"github.com/deploymetrics/deploymetrics/handler"
)

// kind is a metric family's type as the exporter writes it.
type kind uint8

const (
	gauge kind = iota
	counter
	info
)

// expoWriter appends an exposition in the text format 0.0.4 or OpenMetrics
// 1.0.0, with the reference handler's escaping. Family names are given as
// OpenMetrics names them (a counter "x" is written x_total, an info "x"
// x_info); the writer adds what each format wants:
//
//	text:        # TYPE x_total counter    x_total 1    # TYPE y_info gauge   y_info{...} 1
//	OpenMetrics: # TYPE x counter          x_total 1    # TYPE y info         y_info{...} 1
//
// HELP texts are constants of this package that need no escaping.
type expoWriter struct {
	buf         []byte
	contentType string // as negotiated, with the escaping scheme where one is due
	openMetrics bool
}

// family writes the HELP and TYPE lines of a family.
func (w *expoWriter) family(name string, k kind, help string) {
	w.buf = append(w.buf, "# HELP "...)
	w.familyName(name, k)
	w.buf = append(w.buf, ' ')
	w.buf = append(w.buf, help...)
	w.buf = append(w.buf, "\n# TYPE "...)
	w.familyName(name, k)
	switch {
	case k == counter:
		w.buf = append(w.buf, " counter\n"...)
	case k == info && w.openMetrics:
		w.buf = append(w.buf, " info\n"...)
	default:
		w.buf = append(w.buf, " gauge\n"...)
	}
}

func (w *expoWriter) familyName(name string, k kind) {
	w.buf = append(w.buf, name...)
	if w.openMetrics {
		return
	}
	switch k {
	case counter:
		w.buf = append(w.buf, "_total"...)
	case info:
		w.buf = append(w.buf, "_info"...)
	}
}

// sample writes one sample of family name; labels are name, value pairs,
// written in the order given (callers give them sorted by name).
func (w *expoWriter) sample(name string, k kind, value float64, labels ...string) {
	w.buf = append(w.buf, name...)
	switch k {
	case counter:
		w.buf = append(w.buf, "_total"...)
	case info:
		w.buf = append(w.buf, "_info"...)
	}
	if len(labels) > 0 {
		w.buf = append(w.buf, '{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.buf = append(w.buf, labels[i]...)
			w.buf = append(w.buf, '=', '"')
			w.buf = handler.AppendLabelValue(w.buf, labels[i+1])
			w.buf = append(w.buf, '"')
		}
		w.buf = append(w.buf, '}')
	}
	w.buf = append(w.buf, ' ')
	w.buf = appendValue(w.buf, value)
	w.buf = append(w.buf, '\n')
}

// end closes the exposition (OpenMetrics ends with # EOF).
func (w *expoWriter) end() {
	if w.openMetrics {
		w.buf = append(w.buf, "# EOF\n"...)
	}
}

// appendValue writes integers as integers (counts read better that way)
// and other values in Go's shortest float form, which both formats parse.
func appendValue(dst []byte, v float64) []byte {
	if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
		return strconv.AppendInt(dst, int64(v), 10)
	}
	return strconv.AppendFloat(dst, v, 'g', -1, 64)
}

// newExpoWriter negotiates the format of a response as the reference
// handler does, so that the exporter can be checked like any target
// (including by itself).
func newExpoWriter(r *http.Request, buf []byte) *expoWriter {
	ct, openMetrics := handler.NegotiateText(r.Header.Values("Accept"))
	return &expoWriter{buf: buf[:0], contentType: ct, openMetrics: openMetrics}
}

// write sends the exposition with its Content-Type and length.
func (w *expoWriter) write(rw http.ResponseWriter, r *http.Request) {
	h := rw.Header()
	h.Set("Content-Type", w.contentType)
	h.Set("Vary", "Accept")
	h.Set("Content-Length", strconv.Itoa(len(w.buf)))
	h.Set("Cache-Control", "no-store")
	rw.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	// A failed write means the scraper has gone; there is no one to tell.
	_, _ = rw.Write(w.buf)
}
