package check

import (
	"bytes"
	"fmt"
	"mime"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/deploymetrics/deploymetrics/internal/contenttype"
)

// Format is an exposition format the engine parses: which textparse
// parser reads the body, and so which front end builds the model.
type Format uint8

const (
	// FormatUnknown is no format: the Content-Type names something else.
	FormatUnknown Format = iota
	// FormatText is the Prometheus text format, 0.0.4 and 1.0.0 (one
	// grammar for textparse; 1.0.0 adds quoted UTF-8 names).
	FormatText
	// FormatOpenMetrics is OpenMetrics text 0.0.1 and 1.0.0.
	FormatOpenMetrics
	// FormatProtobuf is Prometheus's protobuf format: length-delimited
	// io.prometheus.client.MetricFamily messages.
	FormatProtobuf
	// FormatOpenMetrics2 is the OpenMetrics 2.0 release candidate
	// (experimental): composite values, st@ start timestamps.
	FormatOpenMetrics2
)

// Content types as the reference emitter serves them, and the canonical
// ones of the other formats (package contenttype writes them out).
const (
	ContentTypeText         = contenttype.Text
	ContentTypeOpenMetrics  = contenttype.OpenMetrics
	ContentTypeOpenMetrics2 = contenttype.OpenMetricsV2
	ContentTypeProtobuf     = contenttype.Protobuf
)

// formatNames are the formats' short names, as String returns them and
// ParseFormat takes them.
var formatNames = [...]string{FormatUnknown: "unknown", FormatText: "text", FormatOpenMetrics: "openmetrics", FormatProtobuf: "protobuf", FormatOpenMetrics2: "openmetrics2"}

// String returns "text", "openmetrics", "protobuf", "openmetrics2" or
// "unknown".
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return "unknown"
}

// ParseFormat returns the format a short name names: "text",
// "openmetrics", "protobuf" or "openmetrics2".
func ParseFormat(name string) (Format, error) {
	for f, n := range formatNames {
		if n == name && Format(f) != FormatUnknown {
			return Format(f), nil
		}
	}
	return FormatUnknown, fmt.Errorf("unknown format %q: want text, openmetrics, protobuf or openmetrics2", name)
}

// ContentType returns the canonical Content-Type of the format, as textparse
// selects its parser by it.
func (f Format) ContentType() string {
	switch f {
	case FormatText:
		return ContentTypeText
	case FormatOpenMetrics:
		return ContentTypeOpenMetrics
	case FormatProtobuf:
		return ContentTypeProtobuf
	case FormatOpenMetrics2:
		return ContentTypeOpenMetrics2
	}
	return ""
}

// FormatOf returns the format a Content-Type names, the way textparse picks
// its parser: by media type, and OpenMetrics version 2.0.0 for OpenMetrics
// 2.0. It returns FormatUnknown for an empty, unparsable or foreign media
// type.
func FormatOf(contentType string) Format {
	if contentType == "" {
		return FormatUnknown
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return FormatUnknown
	}
	f, _ := formatAndProtocol(mediaType, params)
	return f
}

// Sniff guesses the format of a body with no Content-Type (a file, stdin):
// protobuf when it is binary and starts with a length-delimited message
// whose first field is a name, OpenMetrics when a line is "# EOF" or a
// "# UNIT" line, else text. OpenMetrics 2.0 is never guessed: it is
// experimental, and asked for by name.
func Sniff(body []byte) Format {
	if looksLikeProtobuf(body) {
		return FormatProtobuf
	}
	for line := range bytes.Lines(body) {
		line = bytes.TrimRight(line, "\n")
		if bytes.Equal(line, []byte("# EOF")) || bytes.HasPrefix(line, []byte("# UNIT ")) {
			return FormatOpenMetrics
		}
	}
	return FormatText
}

// looksLikeProtobuf reports whether body starts with a varint length that
// fits the body followed by field 1 of a MetricFamily (its name, tag 0x0a)
// whose length fits the message, and holds a byte no text exposition
// holds (a control character other than tab, line feed and carriage
// return, or invalid UTF-8). The last test keeps a text body that happens
// to start with such bytes ("#\n" is a length of 35 and a tag) text.
func looksLikeProtobuf(body []byte) bool {
	n, k := protowire.ConsumeVarint(body)
	if k <= 0 || n == 0 || n > uint64(len(body)-k) {
		return false
	}
	msg := body[k : k+int(n)]
	if msg[0] != 0x0a {
		return false
	}
	name, j := protowire.ConsumeVarint(msg[1:])
	if j <= 0 || name > uint64(len(msg)-1-j) {
		return false
	}
	if !utf8.Valid(body) {
		return true
	}
	for _, c := range body {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return true
		}
	}
	return false
}
