package fuzz

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/deploymetrics/deploymetrics/conformance/check"
)

// The protocol targets feed arbitrary bytes to the two front ends the text
// targets do not reach: protobuf and OpenMetrics 2.0. Each holds the
// engine to FuzzEngine's properties (no panic, no hang, memory linear in
// the input, findings that point into the input, a second check against
// itself adding nothing) and to FuzzFormatDifferential's (format.rejected
// exactly when a bare textparse pass rejects the body, the model holding
// exactly textparse's samples otherwise).

// FuzzProtobuf checks the protobuf front end. The mode byte picks the
// Content-Type's escaping scheme (none, allow-utf-8, underscores, values)
// and, with bit 2, HTTP facts with Prometheus 3's protobuf-first Accept
// header.
func FuzzProtobuf(f *testing.F) {
	for i, seed := range protocolSeeds(f) {
		if seed.format == check.FormatProtobuf {
			f.Add(seed.body, byte(i))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, mode byte) {
		if len(body) > maxEngineInput {
			t.Skipf("%d bytes, over the %d-byte cap of this target", len(body), maxEngineInput)
		}
		if err := protobufProperties(body, mode); err != nil {
			t.Fatalf("mode %#02x, body %q:\n%v", mode, body, err)
		}
	})
}

// protobufProperties checks the properties of FuzzProtobuf on one input.
func protobufProperties(body []byte, mode byte) error {
	escaping := []check.EscapingScheme{"", check.EscapingAllowUTF8, check.EscapingUnderscores, check.EscapingValues}[mode&3]
	in := check.Input{Body: body, ContentType: check.PrometheusProto.ContentType(escaping)}
	return protocolProperties(in, mode&4 != 0, check.AcceptPrometheus3Proto)
}

// FuzzOpenMetrics2 checks the OpenMetrics 2.0 front end. The mode byte
// picks the Content-Type's escaping (none, allow-utf-8, underscores) and,
// with bit 2, HTTP facts with an Accept header that names OpenMetrics 2.0.
func FuzzOpenMetrics2(f *testing.F) {
	for i, seed := range protocolSeeds(f) {
		if seed.format == check.FormatOpenMetrics2 {
			f.Add(seed.body, byte(i))
		}
	}
	for i, body := range hostileBodies {
		f.Add([]byte(body), byte(i))
	}
	f.Fuzz(func(t *testing.T, body []byte, mode byte) {
		if len(body) > maxEngineInput {
			t.Skipf("%d bytes, over the %d-byte cap of this target", len(body), maxEngineInput)
		}
		if err := openMetrics2Properties(body, mode); err != nil {
			t.Fatalf("mode %#02x, body %q:\n%v", mode, body, err)
		}
	})
}

// openMetrics2Properties checks the properties of FuzzOpenMetrics2 on one
// input.
func openMetrics2Properties(body []byte, mode byte) error {
	escaping := []check.EscapingScheme{"", check.EscapingAllowUTF8, check.EscapingUnderscores, ""}[mode&3]
	in := check.Input{Body: body, ContentType: check.OpenMetricsText2_0_0.ContentType(escaping)}
	accept := check.OpenMetricsText2_0_0.AcceptRange(check.EscapingAllowUTF8) + ";q=0.8," + check.AcceptPrometheus3
	return protocolProperties(in, mode&4 != 0, accept)
}

// protocolProperties checks one input of a protocol target: the engine's
// properties with no schema, then the format verdict and the model against
// a bare textparse pass.
func protocolProperties(in check.Input, withHTTP bool, accept string) error {
	if withHTTP {
		in.HTTP = &check.HTTPFacts{
			URL: "http://fuzz.invalid/metrics", Accept: accept, AcceptEncoding: "identity", StatusCode: http.StatusOK,
			Header: http.Header{"Content-Type": {in.ContentType}}, WireBytes: int64(len(in.Body)),
		}
	}
	report, err := engineProperties(in, check.Options{})
	if err != nil {
		return err
	}
	samples, bareErr := bareParse(in.Body, in.ContentType)
	format := report.Rule("format.*")
	switch {
	case bareErr != nil && len(format) == 0:
		return fmt.Errorf("textparse rejects the body (%v), the engine reports no format.* finding:%s", bareErr, findingsOf(report.Findings))
	case bareErr == nil && len(format) > 0:
		return fmt.Errorf("textparse accepts the body, the engine reports:%s", findingsOf(format))
	case bareErr != nil:
		return nil
	}
	exp := report.Exposition
	if len(exp.Samples) != len(samples) {
		return fmt.Errorf("the engine has %d samples, textparse read %d", len(exp.Samples), len(samples))
	}
	for i, s := range exp.Samples {
		if err := sameSample(s, &samples[i], false); err != nil {
			return fmt.Errorf("sample %d: %v", i, err)
		}
	}
	return nil
}

// protocolSeed is a seed of the protocol targets.
type protocolSeed struct {
	body             []byte
	format           check.Format
	differentialMode byte // its content type in FuzzFormatDifferential's modes
}

// protocolSeeds are the OpenMetrics 2.0 and protobuf cases of the engine's
// rule corpus (conformance/check/testdata/rules, read in place), the
// protobuf bodies written below, and OpenMetrics 2.0 lines taken from its
// spec's examples.
func protocolSeeds(f *testing.F) []protocolSeed {
	var out []protocolSeed
	for _, c := range []struct {
		glob   string
		format check.Format
		mode   byte
	}{
		{"*.om2", check.FormatOpenMetrics2, 3},
		{"*.pb", check.FormatProtobuf, 4},
	} {
		files, err := filepath.Glob(filepath.Join("..", "conformance", "check", "testdata", "rules", "*", c.glob))
		if err != nil || len(files) == 0 {
			f.Fatalf("no %s cases in conformance/check/testdata/rules: %v", c.glob, err)
		}
		slices.Sort(files)
		for _, file := range files {
			body, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, protocolSeed{body, c.format, c.mode})
		}
	}
	for _, body := range protobufSeeds() {
		out = append(out, protocolSeed{body, check.FormatProtobuf, 4})
	}
	for _, body := range openMetrics2Seeds {
		out = append(out, protocolSeed{[]byte(body), check.FormatOpenMetrics2, 3})
	}
	return out
}

// openMetrics2Seeds are OpenMetrics 2.0 bodies, valid and broken.
var openMetrics2Seeds = []string{
	"# TYPE a counter\na_total 1 st@1 # {x=\"y\"} 1 2\n# EOF\n",
	"# TYPE foo summary\nfoo {count:17,sum:324789.3,quantile:[0.95:123.7,0.99:150]} st@1520430000.123\n# EOF\n",
	"# TYPE foo histogram\nfoo {count:17,sum:324789.3,bucket:[0.0:0,1e-05:0,0.0001:5,0.1:8,1.0:10,10.0:11,100000.0:11,1e+06:15,1e+23:16,1.1e+23:17,+Inf:17]} st@1520430000.123\n# EOF\n",
	"# TYPE foo gaugehistogram\nfoo {gcount:42,gsum:3289.3,bucket:[0.01:20,0.1:25,1:34,+Inf:42]}\n# EOF\n",
	"# TYPE h histogram\nh{a=\"b\"} {count:59,sum:1.2e2,schema:7,zero_threshold:1e-4,zero_count:0,negative_spans:[1:2],negative_buckets:[5,7],positive_spans:[-1:2,3:4],positive_buckets:[5,7,10,9,8,8]} st@1520430000.123\n# EOF\n",
	"# TYPE \"foodb.read.errors\" counter\n{\"foodb.read.errors\",\"service.name\"=\"my_service\"} 3482\n# EOF\n",
	"# TYPE foo stateset\nfoo{entity=\"controller\",foo=\"a\"} 1.0 1000000000.000\nfoo{entity=\"controller\",foo=\"a\"} 0.0 1000000001.000\n# EOF\n",
	"# TYPE h histogram\nh {count:1,sum:1,bucket:[1:2,+Inf:1]}\n# EOF\n",
	"# TYPE h histogram\nh {count:2,sum:1,schema:9,zero_threshold:0,zero_count:0,positive_spans:[0:1],positive_buckets:[2]}\n# EOF\n",
	"# TYPE g gauge\ng 1 st@5\ng{a=\"1\",} 2\n# EOF\n",
	"# TYPE c counter\nc 1 2 st@3 # {} 1 1 # {a=\"b\"} 2 2\n# EOF\n",
}

// protobufSeeds are protobuf bodies: every metric type, native and classic
// histograms, start timestamps and exemplars, UTF-8 names, and broken
// framings.
func protobufSeeds() [][]byte {
	str := func(s string) *string { return &s }
	f64 := func(v float64) *float64 { return &v }
	u64 := func(v uint64) *uint64 { return &v }
	i32 := func(v int32) *int32 { return &v }
	u32 := func(v uint32) *uint32 { return &v }
	lp := func(n, v string) []*dto.LabelPair { return []*dto.LabelPair{{Name: str(n), Value: str(v)}} }
	created := timestamppb.New(timestamppb.Now().AsTime().Truncate(1e9))
	created.Seconds = 1_700_000_000
	families := []*dto.MetricFamily{
		{Name: str("requests_total"), Help: str("Requests."), Type: dto.MetricType_COUNTER.Enum(), Metric: []*dto.Metric{
			{Label: lp("path", "/a\"b\\c\nd"), Counter: &dto.Counter{Value: f64(3), CreatedTimestamp: created, Exemplar: &dto.Exemplar{Label: lp("trace_id", "t"), Value: f64(1)}}},
		}},
		{Name: str("temperature"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: f64(-3.5)}}}},
		{Name: str("untyped"), Type: dto.MetricType_UNTYPED.Enum(), Metric: []*dto.Metric{{Untyped: &dto.Untyped{Value: f64(1)}}}},
		{Name: str("rpc_seconds"), Type: dto.MetricType_SUMMARY.Enum(), Metric: []*dto.Metric{{Summary: &dto.Summary{SampleCount: u64(2), SampleSum: f64(1),
			Quantile: []*dto.Quantile{{Quantile: f64(0.5), Value: f64(0.1)}, {Quantile: f64(0.99), Value: f64(0.9)}}}}}},
		{Name: str("latency_seconds"), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{{Histogram: &dto.Histogram{
			SampleCount: u64(3), SampleSum: f64(2), Schema: i32(1), ZeroThreshold: f64(1e-4), ZeroCount: u64(1),
			PositiveSpan: []*dto.BucketSpan{{Offset: i32(0), Length: u32(2)}}, PositiveDelta: []int64{1, 0},
			Bucket: []*dto.Bucket{{UpperBound: f64(1), CumulativeCount: u64(2)}, {UpperBound: f64(10), CumulativeCount: u64(3)}}}}}},
		{Name: str("queue_seconds"), Type: dto.MetricType_GAUGE_HISTOGRAM.Enum(), Metric: []*dto.Metric{{Histogram: &dto.Histogram{
			SampleCountFloat: f64(1.5), SampleSum: f64(2), Schema: i32(0), ZeroThreshold: f64(1e-4),
			PositiveSpan: []*dto.BucketSpan{{Offset: i32(-2), Length: u32(1)}}, PositiveCount: []float64{1.5}}}}},
		{Name: str("my.metric"), Type: dto.MetricType_COUNTER.Enum(), Metric: []*dto.Metric{{Label: lp("my.label", "x"), Counter: &dto.Counter{Value: f64(1)}}}},
	}
	var all bytes.Buffer
	var out [][]byte
	for _, mf := range families {
		var one bytes.Buffer
		if _, err := protodelim.MarshalTo(&one, mf); err != nil {
			panic(err)
		}
		out = append(out, one.Bytes())
		all.Write(one.Bytes())
	}
	whole := all.Bytes()
	out = append(out, whole, whole[:len(whole)/2], append([]byte{0x80, 0x80, 0x80, 0x80, 0x08}, whole...),
		[]byte(strings.Repeat("\x00", 16)), append(bytes.Clone(whole), whole...))
	return out
}
