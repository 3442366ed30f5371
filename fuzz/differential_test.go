package fuzz

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/deploymetrics/deploymetrics/conformance/check"
)

// FuzzFormatDifferential holds the engine's format.* verdict to a bare
// textparse pass over the same bytes, in every format and sniffed: the
// engine reports a format.* finding exactly when textparse rejects the
// body, so "Prometheus would reject this" is never claimed wrongly and
// never missed. When textparse accepts the body, the engine's exposition
// holds exactly the samples textparse read (series, labels, value,
// timestamp, exemplar count, in order), since every other rule judges those.
func FuzzFormatDifferential(f *testing.F) {
	for i, body := range hostileBodies {
		f.Add([]byte(body), byte(i))
	}
	for i, body := range suiteBodies(f) {
		f.Add(body, byte(i))
	}
	for _, seed := range protocolSeeds(f) {
		f.Add(seed.body, seed.differentialMode)
	}
	f.Fuzz(func(t *testing.T, body []byte, mode byte) {
		if len(body) > maxEngineInput {
			t.Skipf("%d bytes, over the %d-byte cap of this target", len(body), maxEngineInput)
		}
		if err := formatDifferential(body, mode); err != nil {
			t.Fatalf("mode %#02x, body %q:\n%v", mode, body, err)
		}
	})
}

// differentialModes are the content types the engine is given; the bare
// pass uses the format the engine should have chosen from it.
var differentialModes = [5]string{check.ContentTypeText, check.ContentTypeOpenMetrics, "", check.ContentTypeOpenMetrics2, check.ContentTypeProtobuf}

func formatDifferential(body []byte, mode byte) error {
	ct := differentialModes[int(mode)%len(differentialModes)]
	bareCT := ct
	if ct == "" {
		bareCT = check.Sniff(body).ContentType()
	}
	// The format rules do not depend on the schema; run without one half
	// the time so that schema code paths are not the only ones covered.
	opts := check.NewOptions()
	if mode&0x80 != 0 {
		opts.Schema = nil
	}
	report, err := checkGuarded(check.Input{Body: body, ContentType: ct}, opts)
	if err != nil {
		return err
	}
	samples, bareErr := bareParse(body, bareCT)
	format := report.Rule("format.*")
	switch {
	case bareErr != nil && len(format) == 0:
		return fmt.Errorf("textparse (%s) rejects the body (%v), the engine reports no format.* finding:%s", bareCT, bareErr, findingsOf(report.Findings))
	case bareErr == nil && len(format) > 0:
		return fmt.Errorf("textparse (%s) accepts the body, the engine reports:%s", bareCT, findingsOf(format))
	}
	exp := report.Exposition
	if exp == nil {
		return fmt.Errorf("no exposition in the report")
	}
	if (exp.ParseError != nil) != (bareErr != nil) {
		return fmt.Errorf("Exposition.ParseError = %v, textparse error = %v", exp.ParseError, bareErr)
	}
	if got := exp.Format.ContentType(); got != bareCT {
		return fmt.Errorf("the engine parsed as %q, want %q", got, bareCT)
	}
	if bareErr != nil {
		return nil
	}
	if len(exp.Samples) != len(samples) {
		return fmt.Errorf("the engine has %d samples, textparse read %d", len(exp.Samples), len(samples))
	}
	for i, s := range exp.Samples {
		asWritten := exp.Format == check.FormatText || exp.Format == check.FormatOpenMetrics
		if err := sameSample(s, &samples[i], asWritten); err != nil {
			return fmt.Errorf("sample %d: %v", i, err)
		}
	}
	return nil
}

// sameSample compares a sample of the engine with textparse's. asWritten
// says textparse returns every series as written, which the engine keeps
// as its Series (the text formats); in protobuf and OpenMetrics 2.0's
// exploded composite values textparse returns the name and labels joined
// by 0xff bytes and the engine writes the Series out itself, so the name,
// labels and value are what can be compared.
func sameSample(s *check.Sample, b *bareSample, asWritten bool) error {
	switch {
	case s.Series != b.series && asWritten:
		return fmt.Errorf("series %q, textparse %q", s.Series, b.series)
	case (s.Histogram() != nil) != b.native:
		return fmt.Errorf("%s: native histogram %v, textparse %v", b.series, s.Histogram() != nil, b.native)
	case s.Name != b.name:
		return fmt.Errorf("%s: name %q, textparse %q", b.series, s.Name, b.name)
	case !slices.Equal(s.Labels, b.labels):
		return fmt.Errorf("%s: labels %q, textparse %q", b.series, s.Labels, b.labels)
	case math.Float64bits(s.Value) != math.Float64bits(b.value):
		return fmt.Errorf("%s: value %v, textparse %v", b.series, s.Value, b.value)
	case (s.Timestamp == nil) != (b.ts == nil) || s.Timestamp != nil && *s.Timestamp != *b.ts:
		return fmt.Errorf("%s: timestamp %v, textparse %v", b.series, ptrString(s.Timestamp), ptrString(b.ts))
	case len(s.Exemplars()) != b.exemplars:
		return fmt.Errorf("%s: %d exemplars, textparse %d", b.series, len(s.Exemplars()), b.exemplars)
	}
	return nil
}

func ptrString(p *int64) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprint(*p)
}
