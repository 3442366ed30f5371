package check

import (
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
)

// buildOpenMetrics is the front end of OpenMetrics 0.0.1 and 1.0.0 (one
// grammar: Prometheus 2 and 3 ask for both and parse them alike). Every
// sample is a line; a counter, histogram or summary may carry its start as
// a _created sample, which becomes the StartTimestamp of its metric's
// other samples.
func buildOpenMetrics(e *Exposition) {
	buf := e.Body[:len(e.Body):len(e.Body)]
	runLines(e, buf, textparse.NewOpenMetricsParser(buf, labels.NewSymbolTable()), linesDialect{})
	for _, f := range e.Families {
		startsFromCreated(f)
	}
}

// startsFromCreated sets the StartTimestamp of the samples of every metric
// of f that has a _created sample: its value, in seconds, is when the
// metric started counting (OpenMetrics 1.0: "the corresponding Created
// time"). A histogram's buckets and a summary's quantiles share it.
func startsFromCreated(f *Family) {
	switch f.Type {
	case model.MetricTypeCounter, model.MetricTypeHistogram, model.MetricTypeSummary:
	default:
		return
	}
	created := f.Name + "_created"
	var starts map[string]int64
	for _, s := range f.Samples {
		if s.Name != created {
			continue
		}
		st, ok := millis(s.Value)
		if !ok {
			continue
		}
		if starts == nil {
			starts = make(map[string]int64)
		}
		starts[metricKey(s.Labels)] = st
	}
	if starts == nil {
		return
	}
	for _, s := range f.Samples {
		if st, ok := starts[metricKey(s.Labels)]; ok {
			s.StartTimestamp = st
		}
	}
}

// metricKey identifies the metric of a sample of a histogram or summary by
// its labels, le and quantile left out.
func metricKey(ls []Label) string {
	key := make([]byte, 0, 64)
	for _, l := range ls {
		if l.Name == model.BucketLabel || l.Name == model.QuantileLabel {
			continue
		}
		key = append(key, l.Name...)
		key = append(key, 0)
		key = append(key, l.Value...)
		key = append(key, 0)
	}
	return string(key)
}
