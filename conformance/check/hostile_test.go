package check

import (
	"bytes"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// The hostile-input tests feed the front ends what a broken or malicious
// target could serve, within the scraper's size limit (16 MiB by default):
// the engine must answer with a report (a clear finding, or none when the
// input is valid) and never panic, hang, or take memory out of proportion
// to the input.

// hangLimit is how long one Check of a hostile input may take before the
// test calls it a hang. It is no performance assertion: the inputs take a
// few seconds at most, even under the race detector.
const hangLimit = 2 * time.Minute

// checkBounded runs Check, fails the test on a panic, a hang or more than
// allocPerByte bytes allocated per input byte (plus 4 MiB), and returns the
// report.
func checkBounded(t *testing.T, in Input, allocPerByte int) *Report {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	done := make(chan *Report, 1)
	panicked := make(chan string, 1)
	start := time.Now()
	go func() {
		defer func() {
			if r := recover(); r != nil {
				panicked <- fmt.Sprintf("%v\n%s", r, debug.Stack())
			}
		}()
		done <- Check(in, Options{})
	}()
	var report *Report
	select {
	case report = <-done:
	case p := <-panicked:
		t.Fatalf("Check panicked: %s", p)
	case <-time.After(hangLimit):
		t.Fatalf("Check did not return within %v on a %d-byte input: a hang", hangLimit, len(in.Body))
	}
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d bytes checked in %v, %d bytes allocated (%.1f per input byte), %d samples, %d findings",
		len(in.Body), time.Since(start).Round(time.Millisecond), allocated, float64(allocated)/float64(max(len(in.Body), 1)), len(report.Exposition.Samples), len(report.Findings))
	if limit := uint64(4<<20 + allocPerByte*len(in.Body)); allocated > limit {
		t.Errorf("Check allocated %d bytes for a %d-byte input, over the linear bound %d", allocated, len(in.Body), limit)
	}
	return report
}

// hostileSize is the number of buckets of the largest hostile inputs: a
// million, but a fifth of that under the race detector.
func hostileSize() int {
	if raceEnabled {
		return 200_000
	}
	return 1_000_000
}

func TestHostileCompositeMillionBuckets(t *testing.T) {
	if testing.Short() {
		t.Skip("checks expositions of megabytes; skipped in -short mode")
	}
	n := hostileSize()
	var classic strings.Builder
	fmt.Fprintf(&classic, "# TYPE h histogram\nh{x=\"1\"} {count:%d,sum:1,bucket:[", n)
	for i := range n - 1 {
		fmt.Fprintf(&classic, "%d:%d,", i, i+1)
	}
	fmt.Fprintf(&classic, "+Inf:%d]}\n# EOF\n", n)
	native := fmt.Sprintf("# TYPE h histogram\nh {count:%d,sum:1,schema:0,zero_threshold:1e-4,zero_count:0,positive_spans:[0:%d],positive_buckets:[%s1]}\n# EOF\n",
		n, n, strings.Repeat("1,", n-1))
	t.Run("classic", func(t *testing.T) {
		// textparse explodes every bucket into a series of its own;
		// most of the allocation is its own.
		r := checkBounded(t, Input{Body: []byte(classic.String()), ContentType: ContentTypeOpenMetrics2}, 96)
		if got := len(r.Exposition.Samples); got != n+2 || r.Count(Error) > 0 {
			t.Errorf("%d samples, want %d; %d errors: %v", got, n+2, r.Count(Error), r.Rule("format.*"))
		}
	})
	t.Run("native", func(t *testing.T) {
		r := checkBounded(t, Input{Body: []byte(native), ContentType: ContentTypeOpenMetrics2}, 32)
		if len(r.Exposition.Samples) != 1 || r.Exposition.Samples[0].Histogram() == nil || r.Count(Error) > 0 {
			t.Errorf("want one valid native histogram, got %d samples: %v", len(r.Exposition.Samples), r)
		}
	})
	t.Run("native, count off by one", func(t *testing.T) {
		bad := strings.Replace(native, fmt.Sprintf("count:%d", n), fmt.Sprintf("count:%d", n+1), 1)
		r := checkBounded(t, Input{Body: []byte(bad), ContentType: ContentTypeOpenMetrics2}, 32)
		if len(r.Rule("format.rejected")) != 1 {
			t.Errorf("a native histogram whose count misses its buckets: want format.rejected, got %v", r.Findings)
		}
	})
}

func TestHostileProtobufMillionBuckets(t *testing.T) {
	if testing.Short() {
		t.Skip("checks expositions of megabytes; skipped in -short mode")
	}
	n := hostileSize()
	h := &dto.Histogram{SampleCount: u64(uint64(n)), SampleSum: f64(1), Schema: i32(0), ZeroThreshold: f64(1e-4),
		PositiveSpan: []*dto.BucketSpan{bspan(0, uint32(n))}, PositiveDelta: make([]int64, n)}
	h.PositiveDelta[0] = 1
	classic := &dto.Histogram{SampleCount: u64(uint64(n)), SampleSum: f64(1)}
	for i := range n {
		classic.Bucket = append(classic.Bucket, &dto.Bucket{UpperBound: f64(float64(i)), CumulativeCount: u64(uint64(i + 1))})
	}
	t.Run("native", func(t *testing.T) {
		r := checkBounded(t, Input{Body: delimited(nativeFamily("h", h)), ContentType: ContentTypeProtobuf}, 64)
		if len(r.Exposition.Samples) != 1 || r.Count(Error) > 0 {
			t.Errorf("want one valid native histogram: %v", r)
		}
	})
	t.Run("native, a negative bucket", func(t *testing.T) {
		bad := proto.Clone(h).(*dto.Histogram)
		bad.PositiveDelta[n/2] = -2
		r := checkBounded(t, Input{Body: delimited(nativeFamily("h", bad)), ContentType: ContentTypeProtobuf}, 64)
		if got := r.Rule("spec.native-histogram"); len(got) != 1 || got[0].MessageIndex != 1 {
			t.Errorf("want one spec.native-histogram at message 1, got %v", r.Findings)
		}
	})
	t.Run("classic", func(t *testing.T) {
		r := checkBounded(t, Input{Body: delimited(&dto.MetricFamily{Name: str("h"), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{{Histogram: classic}}}), ContentType: ContentTypeProtobuf}, 160)
		if got := len(r.Exposition.Samples); got != n+3 || r.Count(Error) > 0 {
			t.Errorf("%d samples, want %d (the buckets, +Inf, count, sum); %d errors", got, n+3, r.Count(Error))
		}
	})
}

func TestHostileProtobufBodies(t *testing.T) {
	good := delimited(append(deployFamilies(), nativeFamily("h", &dto.Histogram{SampleCount: u64(1), SampleSum: f64(1), Schema: i32(0), ZeroThreshold: f64(1e-4),
		PositiveSpan: []*dto.BucketSpan{bspan(0, 1)}, PositiveDelta: []int64{1}}))...)
	frames, _ := protoFrames(good)
	tests := []struct {
		name string
		body []byte
		// rejected says textparse must reject it; alloc bounds the
		// allocation per input byte.
		rejected bool
		alloc    int
	}{
		{"length prefix claims 2 GiB", append([]byte{0x80, 0x80, 0x80, 0x80, 0x08}, good...), true, 64},
		{"length prefix claims 16 EiB", append(bytes.Repeat([]byte{0xff}, 9), append([]byte{0x01}, good...)...), true, 64},
		{"a million nested groups", deepNesting(1_000_000), false, 64},
		{"a megabyte of 0xff", bytes.Repeat([]byte{0xff}, 1<<20), true, 64},
		{"a million empty families", bytes.Repeat([]byte{0x03, 0x0a, 0x01, 'a'}, 1<<18), false, 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := checkBounded(t, Input{Body: tt.body, ContentType: ContentTypeProtobuf}, tt.alloc)
			if rejected := len(r.Rule("format.rejected")) > 0; rejected != tt.rejected {
				t.Errorf("format.rejected: %v, want %v: %v", rejected, tt.rejected, r.Findings)
			}
		})
	}
	// Cut anywhere, the body is rejected, and the finding names a message
	// of the body.
	for cut := 1; cut < len(good); cut++ {
		r := Check(Input{Body: good[:cut], ContentType: ContentTypeProtobuf}, Options{})
		if cut == frames[len(frames)-1].at || bytes.Equal(good[:cut], delimitedPrefix(good, frames, cut)) {
			continue // cut between two messages: a valid, shorter body
		}
		got := r.Rule("format.rejected")
		if len(got) != 1 || got[0].MessageIndex < 1 || got[0].MessageIndex > len(frames) {
			t.Fatalf("cut at byte %d of %d: want one format.rejected naming a message, got %v", cut, len(good), r.Findings)
		}
	}
}

// delimitedPrefix returns the messages of body that end at or before cut.
func delimitedPrefix(body []byte, frames []protoFrame, cut int) []byte {
	end := 0
	for _, f := range frames {
		if f.end <= cut {
			end = f.end
		}
	}
	return body[:end]
}
