package check

import (
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
)

// buildOpenMetrics2 is the front end of the OpenMetrics 2.0 release
// candidate (experimental; Prometheus parses it only behind a feature
// flag). A histogram, gauge histogram or summary is one line with a
// composite value: textparse returns its native histogram as one sample,
// and explodes its classic buckets, quantiles, count and sum into a sample
// each (kept beside the native histogram, as Prometheus's
// always_scrape_classic_histograms keeps them), all on that line. A
// sample's st@ is its StartTimestamp.
func buildOpenMetrics2(e *Exposition) {
	buf := e.Body[:len(e.Body):len(e.Body)]
	p := textparse.NewOpenMetrics2Parser(buf, labels.NewSymbolTable(), textparse.ParserOptions{
		EnableOpenMetrics2:                      true,
		KeepClassicOnClassicAndNativeHistograms: true,
	})
	runLines(e, buf, p, linesDialect{startTimestamps: true, composite: true})
}
