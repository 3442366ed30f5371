package check

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The protobuf cases under testdata/rules are binary, so they are
// generated: each is written here with client_model's types (or, for bodies
// no encoder writes, as bytes), and TestProtobufCasesAreCurrent fails when a
// file differs from what this file generates. After changing a case, run
//
//	go test ./conformance/check -run TestProtobufCasesAreCurrent -update
//
// and commit the files it rewrites.

// protobufCase is one generated case file under testdata/rules: a .pb body,
// or an .http response whose body is protobuf.
type protobufCase struct {
	file string
	// request and header are the request lines ("> Accept: ...") and the
	// response headers of an .http case.
	request, header string
	body            []byte
}

// protobufCases are the generated cases.
func protobufCases() []protobufCase {
	good := delimited(deployFamilies()...)
	native := nativeFamily("rpc_duration_seconds", &dto.Histogram{
		SampleCount: u64(7), SampleSum: f64(3.5), Schema: i32(1), ZeroThreshold: f64(1e-6), ZeroCount: u64(1),
		PositiveSpan:     []*dto.BucketSpan{bspan(0, 2), bspan(1, 1)},
		PositiveDelta:    []int64{2, 1, -2}, // absolute 2, 3, 1
		NegativeSpan:     []*dto.BucketSpan{bspan(-1, 1)},
		NegativeDelta:    []int64{0}, // absolute 0
		CreatedTimestamp: timestamppb.New(timeAt(1_700_000_000)),
	})
	return []protobufCase{
		// A valid body: every rule's good case in protobuf.
		{file: "format.rejected/good.pb", body: good},
		{file: "spec.native-histogram/good.noschema.pb", body: delimited(native)},
		{file: "spec.native-histogram/good-float.noschema.pb", body: delimited(nativeFamily("queue_wait_seconds", &dto.Histogram{
			SampleCountFloat: f64(2.5), SampleSum: f64(1), Schema: i32(0), ZeroThreshold: f64(0.001), ZeroCountFloat: f64(0.5),
			PositiveSpan: []*dto.BucketSpan{bspan(0, 2)}, PositiveCount: []float64{1.5, 0.5},
		}))},
		// Bodies textparse rejects: cut short, a length-prefix bomb, a
		// length prefix that is no varint, a message that does not
		// decode, spans that do not cover their buckets.
		{file: "format.rejected/bad-truncated.noschema.pb", body: good[:len(good)-7]},
		{file: "format.rejected/bad-length-bomb.noschema.pb", body: append([]byte{0x80, 0x80, 0x80, 0x80, 0x08}, "\x0a\x01a"...)},
		{file: "format.rejected/bad-varint.noschema.pb", body: bytes.Repeat([]byte{0xff}, 11)},
		{file: "format.rejected/bad-corrupt.noschema.pb", body: append(delimited(counterFamily("a_total", 1)), 0x05, 0x0a, 0x09, 'b', 0xff, 0xff)},
		{file: "format.rejected/bad-spans.noschema.pb", body: delimited(nativeFamily("h", &dto.Histogram{
			SampleCount: u64(1), Schema: i32(0), ZeroThreshold: f64(0.001),
			PositiveSpan: []*dto.BucketSpan{bspan(0, 3)}, PositiveDelta: []int64{1},
		}))},
		// Unknown fields are legal protobuf: nested groups ten thousand deep
		// inside a family are skipped, not rejected.
		{file: "format.rejected/good-nested-unknown-fields.noschema.pb", body: deepNesting(10000)},
		// A broken native histogram textparse lets through.
		{file: "spec.native-histogram/bad-count.noschema.pb", body: delimited(nativeFamily("h", &dto.Histogram{
			SampleCount: u64(10), SampleSum: f64(1), Schema: i32(0), ZeroThreshold: f64(0.001),
			PositiveSpan: []*dto.BucketSpan{bspan(0, 2)}, PositiveDelta: []int64{1, 1},
		}))},
		{file: "spec.native-histogram/bad-negative-bucket.noschema.pb", body: delimited(nativeFamily("h", &dto.Histogram{
			SampleCount: u64(1), SampleSum: f64(1), Schema: i32(0), ZeroThreshold: f64(0.001),
			PositiveSpan: []*dto.BucketSpan{bspan(0, 2)}, PositiveDelta: []int64{2, -3},
		}))},
		{file: "spec.native-histogram/bad-schema.noschema.pb", body: delimited(nativeFamily("h", &dto.Histogram{
			SampleCount: u64(1), SampleSum: f64(1), Schema: i32(9), ZeroThreshold: f64(0.001),
			PositiveSpan: []*dto.BucketSpan{bspan(0, 1)}, PositiveDelta: []int64{1},
		}))},
		{file: "spec.native-histogram/bad-span-offset.noschema.pb", body: delimited(nativeFamily("h", &dto.Histogram{
			SampleCount: u64(2), SampleSum: f64(1), Schema: i32(0), ZeroThreshold: f64(0.001),
			PositiveSpan: []*dto.BucketSpan{bspan(3, 1), bspan(-2, 1)}, PositiveDelta: []int64{1, 0},
		}))},
		{file: "spec.native-histogram/bad-zero-threshold.noschema.pb", body: delimited(nativeFamily("h", &dto.Histogram{
			SampleCountFloat: f64(1), SampleSum: f64(1), Schema: i32(0), ZeroThreshold: f64(-1), ZeroCountFloat: f64(1),
			PositiveSpan: []*dto.BucketSpan{bspan(0, 0)},
		}))},
		{file: "spec.native-histogram/bad-float-count.noschema.pb", body: delimited(nativeFamily("h", &dto.Histogram{
			SampleCountFloat: f64(1), SampleSum: f64(1), Schema: i32(0), ZeroThreshold: f64(0.001),
			PositiveSpan: []*dto.BucketSpan{bspan(0, 1)}, PositiveCount: []float64{4},
		}))},
		// Counters, classic histograms, summaries, families and series.
		{file: "spec.counter-value/bad-negative.noschema.pb", body: delimited(counterFamily("requests_total", 5, -1))},
		{file: "spec.counter-value/good.noschema.pb", body: delimited(counterFamily("requests_total", 0, 5))},
		{file: "spec.histogram-buckets/bad-not-cumulative.noschema.pb", body: delimited(classicFamily("latency_seconds", 10, 6, 4))},
		{file: "spec.histogram-buckets/good.noschema.pb", body: delimited(classicFamily("latency_seconds", 10, 4, 6))},
		{file: "spec.histogram-count/bad-proto.noschema.pb", body: delimited(&dto.MetricFamily{Name: str("h"), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{{
			Histogram: &dto.Histogram{SampleCount: u64(3), SampleSum: f64(1), Bucket: []*dto.Bucket{
				{UpperBound: f64(1), CumulativeCount: u64(1)}, {UpperBound: f64(math.Inf(1)), CumulativeCount: u64(2)},
			}},
		}}})},
		{file: "spec.summary-quantile/bad-proto.noschema.pb", body: delimited(&dto.MetricFamily{Name: str("s"), Type: dto.MetricType_SUMMARY.Enum(), Metric: []*dto.Metric{{
			Summary: &dto.Summary{SampleCount: u64(3), SampleSum: f64(1), Quantile: []*dto.Quantile{{Quantile: f64(1.5), Value: f64(1)}}},
		}}})},
		{file: "spec.interleaved-family/bad-proto-repeated.noschema.pb", body: delimited(counterFamily("a_total", 1), counterFamily("b_total", 1), counterFamily("a_total", 2))},
		{file: "spec.duplicate-series/bad-proto.noschema.pb", body: delimited(&dto.MetricFamily{Name: str("g"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{
			{Label: labelPairs("x", "1"), Gauge: &dto.Gauge{Value: f64(1)}},
			{Label: labelPairs("x", "1"), Gauge: &dto.Gauge{Value: f64(2)}},
		}})},
		{file: "spec.duplicate-label/bad-proto.noschema.pb", body: delimited(&dto.MetricFamily{Name: str("g"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{
			{Label: labelPairs("x", "1", "x", "2"), Gauge: &dto.Gauge{Value: f64(1)}},
		}})},
		// Start timestamps.
		{file: "spec.start-timestamp/bad-after-sample.noschema.pb", body: delimited(&dto.MetricFamily{Name: str("c_total"), Type: dto.MetricType_COUNTER.Enum(), Metric: []*dto.Metric{{
			TimestampMs: i64(1_700_000_000_000),
			Counter:     &dto.Counter{Value: f64(1), CreatedTimestamp: timestamppb.New(timeAt(1_700_000_100))},
		}}})},
		{file: "spec.start-timestamp/good.noschema.pb", body: delimited(counterFamily("c_total", 3))},
		// UTF-8 names under each escaping scheme.
		{file: "spec.name-escaping/bad-proto-underscores.noschema.http", header: "Content-Type: " + PrometheusProto.ContentType(EscapingUnderscores),
			body: delimited(utf8CounterFamily())},
		{file: "spec.name-escaping/good-proto-allow-utf8.noschema.http", header: "Content-Type: " + PrometheusProto.ContentType(EscapingAllowUTF8),
			body: delimited(utf8CounterFamily())},
		{file: "http.escaping/bad-proto.noschema.http", request: "> Accept: " + AcceptPrometheus3Proto, header: "Content-Type: " + PrometheusProto.ContentType(EscapingAllowUTF8),
			body: delimited(utf8CounterFamily())},
		{file: "http.escaping/good-proto.noschema.http", request: "> Accept: application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;escaping=allow-utf-8", header: "Content-Type: " + PrometheusProto.ContentType(EscapingAllowUTF8),
			body: delimited(utf8CounterFamily())},
		{file: "http.negotiation/good-proto-deploy.http", request: "> Accept: " + AcceptPrometheus3Proto, header: "Content-Type: " + PrometheusProto.ContentType(EscapingUnderscores), body: good},
	}
}

// TestProtobufCasesAreCurrent checks that every generated case file is
// what protobufCases generates, and rewrites them under -update.
func TestProtobufCasesAreCurrent(t *testing.T) {
	for _, c := range protobufCases() {
		path := filepath.Join("testdata", "rules", filepath.FromSlash(c.file))
		want := c.body
		if filepath.Ext(c.file) == ".http" {
			var b bytes.Buffer
			if c.request != "" {
				b.WriteString(c.request + "\n")
			}
			b.WriteString("HTTP/1.1 200 OK\n" + c.header + "\n\n")
			b.Write(c.body)
			want = b.Bytes()
		}
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is not what protobuf_cases_test.go generates (%v): run go test ./conformance/check -run TestProtobufCasesAreCurrent -update", path, err)
		}
	}
}

// delimited encodes families as a protobuf exposition: each message
// preceded by its length as a varint.
func delimited(families ...*dto.MetricFamily) []byte {
	var b bytes.Buffer
	for _, f := range families {
		if _, err := protodelim.MarshalTo(&b, f); err != nil {
			panic(err)
		}
	}
	return b.Bytes()
}

// deployFamilies are the deploy schema's six counters for two target
// types, as a protobuf exposition of them carries them.
func deployFamilies() []*dto.MetricFamily {
	var out []*dto.MetricFamily
	for _, f := range []struct {
		name, sub string
		values    []string
	}{
		{"certctl_deploy_attempts_total", "result", []string{"success", "failure"}},
		{"certctl_deploy_validate_failures_total", "", nil},
		{"certctl_deploy_reload_failures_total", "", nil},
		{"certctl_deploy_post_verify_failures_total", "", nil},
		{"certctl_deploy_rollback_total", "outcome", []string{"restored", "also_failed"}},
		{"certctl_deploy_idempotent_skip_total", "", nil},
	} {
		mf := &dto.MetricFamily{Name: str(f.name), Help: str("Deployments, by target type."), Type: dto.MetricType_COUNTER.Enum()}
		for _, tt := range []string{"Apache", "NGINX"} {
			if f.sub == "" {
				mf.Metric = append(mf.Metric, &dto.Metric{Label: labelPairs("target_type", tt), Counter: &dto.Counter{Value: f64(0)}})
				continue
			}
			for _, v := range f.values {
				mf.Metric = append(mf.Metric, &dto.Metric{Label: labelPairs("target_type", tt, f.sub, v), Counter: &dto.Counter{Value: f64(0)}})
			}
		}
		out = append(out, mf)
	}
	return out
}

// counterFamily is a counter family with one metric a value, labelled
// n="0", n="1", ...
func counterFamily(name string, values ...float64) *dto.MetricFamily {
	mf := &dto.MetricFamily{Name: str(name), Help: str("A counter."), Type: dto.MetricType_COUNTER.Enum()}
	for i, v := range values {
		mf.Metric = append(mf.Metric, &dto.Metric{Label: labelPairs("n", string(rune('0'+i))), Counter: &dto.Counter{Value: f64(v),
			CreatedTimestamp: timestamppb.New(timeAt(1_700_000_000))}})
	}
	return mf
}

// utf8CounterFamily is a counter with a name and a label outside the
// legacy set, as OpenTelemetry names them.
func utf8CounterFamily() *dto.MetricFamily {
	return &dto.MetricFamily{Name: str("http.server.requests"), Help: str("Requests."), Type: dto.MetricType_COUNTER.Enum(), Metric: []*dto.Metric{
		{Label: labelPairs("http.request.method", "GET"), Counter: &dto.Counter{Value: f64(3)}},
	}}
}

// classicFamily is a classic histogram with buckets at 1, 2 and 3 holding
// the cumulative counts given, and a count of total.
func classicFamily(name string, total uint64, counts ...uint64) *dto.MetricFamily {
	h := &dto.Histogram{SampleCount: u64(total), SampleSum: f64(1)}
	for i, c := range counts {
		h.Bucket = append(h.Bucket, &dto.Bucket{UpperBound: f64(float64(i + 1)), CumulativeCount: u64(c)})
	}
	return &dto.MetricFamily{Name: str(name), Help: str("A histogram."), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{{Histogram: h}}}
}

// nativeFamily is a histogram family of one metric holding h.
func nativeFamily(name string, h *dto.Histogram) *dto.MetricFamily {
	return &dto.MetricFamily{Name: str(name), Help: str("A native histogram."), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{{Histogram: h}}}
}

// deepNesting is a family whose metric carries an unknown field holding
// depth nested groups: a hostile input no encoder writes.
func deepNesting(depth int) []byte {
	metric := proto.Clone(counterFamily("a_total", 1)).(*dto.MetricFamily)
	raw, err := proto.Marshal(metric)
	if err != nil {
		panic(err)
	}
	// Field 99, start group (tag (99<<3)|3, a two-byte varint), depth
	// times, then as many end groups.
	start, end := []byte{0x9b, 0x06}, []byte{0x9c, 0x06}
	raw = append(raw, bytes.Repeat(start, depth)...)
	raw = append(raw, bytes.Repeat(end, depth)...)
	var b bytes.Buffer
	b.Write(appendVarint(nil, uint64(len(raw))))
	b.Write(raw)
	return b.Bytes()
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func labelPairs(pairs ...string) []*dto.LabelPair {
	var out []*dto.LabelPair
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, &dto.LabelPair{Name: str(pairs[i]), Value: str(pairs[i+1])})
	}
	return out
}

func bspan(offset int32, length uint32) *dto.BucketSpan {
	return &dto.BucketSpan{Offset: &offset, Length: &length}
}

func str(s string) *string       { return &s }
func f64(v float64) *float64     { return &v }
func u64(v uint64) *uint64       { return &v }
func i32(v int32) *int32         { return &v }
func i64(v int64) *int64         { return &v }
func timeAt(sec int64) time.Time { return time.Unix(sec, 0) }
