package check

import (
	"bytes"
	"mime"
)

// Format is an exposition format the engine checks.
type Format uint8

const (
	// FormatUnknown is neither format: the Content-Type names something else.
	FormatUnknown Format = iota
	// FormatText is the Prometheus text format 0.0.4.
	FormatText
	// FormatOpenMetrics is OpenMetrics 1.0 text.
	FormatOpenMetrics
)

// Content types as the reference emitter serves them.
const (
	ContentTypeText        = "text/plain; version=0.0.4; charset=utf-8"
	ContentTypeOpenMetrics = "application/openmetrics-text; version=1.0.0; charset=utf-8"
)

// String returns "text", "openmetrics" or "unknown".
func (f Format) String() string {
	switch f {
	case FormatText:
		return "text"
	case FormatOpenMetrics:
		return "openmetrics"
	}
	return "unknown"
}

// ContentType returns the canonical Content-Type of the format, as textparse
// selects its parser by it.
func (f Format) ContentType() string {
	switch f {
	case FormatText:
		return ContentTypeText
	case FormatOpenMetrics:
		return ContentTypeOpenMetrics
	}
	return ""
}

// FormatOf returns the format a Content-Type names, the way textparse picks
// its parser: by media type alone. It returns FormatUnknown for an empty,
// unparsable or foreign media type.
func FormatOf(contentType string) Format {
	if contentType == "" {
		return FormatUnknown
	}
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return FormatUnknown
	}
	switch mediaType {
	case "text/plain":
		return FormatText
	case "application/openmetrics-text":
		return FormatOpenMetrics
	}
	return FormatUnknown
}

// Sniff guesses the format of a body with no Content-Type (a file, stdin):
// OpenMetrics when a line is "# EOF" or a "# UNIT" line, else text.
func Sniff(body []byte) Format {
	for line := range bytes.Lines(body) {
		line = bytes.TrimRight(line, "\n")
		if bytes.Equal(line, []byte("# EOF")) || bytes.HasPrefix(line, []byte("# UNIT ")) {
			return FormatOpenMetrics
		}
	}
	return FormatText
}
