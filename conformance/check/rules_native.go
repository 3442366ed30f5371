package check

import (
	"math"
	"strconv"

	"github.com/prometheus/common/model"
)

// Native histograms and start timestamps: what protobuf and OpenMetrics 2.0
// carry and the older text formats do not.
var nativeRules = []Rule{
	{ID: "spec.native-histogram", Severity: Error, Description: "a native histogram (protobuf; OpenMetrics 2.0, experimental) is valid: schema -4 to 8, a zero threshold that is a non-negative number, spans whose offsets only advance after the first and cover exactly the buckets, no negative count, a count equal to the zero and native buckets together (at least them when the sum is NaN); Prometheus's storage rejects an invalid one (model/histogram's Validate) and fails the scrape",
		Spec: "§7.11", Source: "OpenMetrics 2.0, Native Buckets", Quote: "Schema values outside the -4 to 8 range are reserved for future use and MUST NOT be used."},
	{ID: "spec.start-timestamp", Severity: Warning, Description: "a start timestamp (OpenMetrics 2.0 st@, protobuf created_timestamp) is only on counters, histograms and summaries, and not after the sample's own timestamp (OpenMetrics 2.0, experimental: a start timestamp is when the measured period started)",
		Spec: "§7.11", Source: "OpenMetrics 2.0, Sample", Quote: "If present, a Sample's Start Timestamp SHOULD specify when the measurement period started."},
}

// nativeRules judges the native histogram of sample s: what Prometheus's
// storage checks before it appends it (Validate, on the integer form when
// the exposition had one, as textparse returns it), then what the specs
// add: the schema range and the zero threshold.
func (sp *specPass) nativeRules(f *specFamily, s *Sample) {
	nh := s.Family.histograms[s]
	if nh == nil {
		return
	}
	report := func(format string, args ...any) {
		sp.find("spec.native-histogram", f, s, 0, "native histogram %s: "+format, append([]any{s.Series}, args...)...)
	}
	var err error
	if nh.integer != nil {
		err = nh.integer.Validate()
	} else {
		err = nh.float.Validate()
	}
	if err != nil {
		report("%v: Prometheus's storage rejects it and fails the scrape", err)
		return
	}
	h := nh.float
	switch {
	case h.Schema < -4 || h.Schema > 8:
		report("schema %d is outside -4 to 8, the exponential schemas an exposition may use", h.Schema)
	case math.IsNaN(h.ZeroThreshold) || h.ZeroThreshold < 0:
		report("zero threshold %v: it is a non-negative number", h.ZeroThreshold)
	}
	// The integer form's Validate compares count and buckets; a float
	// histogram's does not, though the specs ask the same of it.
	if nh.integer == nil {
		buckets := h.ZeroCount
		for _, c := range h.PositiveBuckets {
			buckets += c
		}
		for _, c := range h.NegativeBuckets {
			buckets += c
		}
		switch {
		case math.IsNaN(h.Sum) && h.Count < buckets:
			report("count %v is less than the %v observations its buckets hold: the count takes every observation, NaN ones too", h.Count, buckets)
		case !math.IsNaN(h.Sum) && math.Abs(h.Count-buckets) > 1e-9*math.Max(1, math.Abs(buckets)):
			report("count %v differs from the %v observations its buckets hold: they are equal unless NaN was observed (then the sum is NaN)", h.Count, buckets)
		}
	}
}

// startRules judges the start timestamp of sample s: only the cumulative
// types have one, and it is not after the sample's own timestamp.
func (sp *specPass) startRules(f *specFamily, s *Sample) {
	st := s.StartTimestamp
	if st == 0 || sp.format == FormatOpenMetrics {
		// OpenMetrics 1.0 start timestamps come from _created samples,
		// which spec.type-suffix already limits to the cumulative types.
		return
	}
	switch f.typ {
	case model.MetricTypeCounter, model.MetricTypeHistogram, model.MetricTypeSummary:
	default:
		sp.find("spec.start-timestamp", f, s, 0, "%s (a %s) has a start timestamp: only counters, histograms and summaries measure from a start", s.Series, f.typ)
		return
	}
	if s.Timestamp != nil && st > *s.Timestamp {
		sp.find("spec.start-timestamp", f, s, 0, "%s starts at %s, after its own timestamp %s: the start timestamp is when the measured period began", s.Series, formatMillis(st), formatMillis(*s.Timestamp))
	}
}

// formatMillis renders a timestamp in milliseconds as OpenMetrics writes
// timestamps: seconds.
func formatMillis(ms int64) string {
	return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)
}
