package check_test

import (
	"bytes"
	"fmt"
	"log"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"

	"github.com/deploymetrics/deploymetrics/conformance/check"
)

// A plain go test checks an emitter's output in three lines; here the
// emitter forgot a HELP line, which is a warning: the check still passes.
func Example() {
	body := []byte(`# HELP jobs_processed_total Jobs processed.
# TYPE jobs_processed_total counter
jobs_processed_total{queue="mail"} 3
# TYPE queue_depth gauge
queue_depth{queue="mail"} 2
`)
	opts := check.NewOptions()
	opts.Schema = nil // not a deploy emitter: judge format, spec and lint only
	report := check.Check(check.Input{Body: body, ContentType: check.ContentTypeText}, opts)
	fmt.Println(report)
	// Output:
	// line 4: warning lint.help: queue_depth has no HELP line: add `# HELP queue_depth <what it measures>` before its samples
	// conforms: 0 errors, 1 warnings, 0 info
}

// A schema file says what an exposition must hold; LoadSchema reads and
// validates it.
func ExampleLoadSchema() {
	schema, err := check.LoadSchema("testdata/schemas/queue.yaml")
	if err != nil {
		log.Fatal(err)
	}
	body := []byte(`# HELP queue_depth Jobs waiting.
# TYPE queue_depth gauge
queue_depth{queue="mail"} 2
queue_depth{queue="sms"} 0
# HELP queue_jobs_processed_total Jobs processed, by result.
# TYPE queue_jobs_processed_total counter
queue_jobs_processed_total{queue="mail",result="ok"} 40
queue_jobs_processed_total{queue="mail",result="failed"} 1
`)
	opts := check.NewOptions()
	opts.Schema = schema
	report := check.Check(check.Input{Body: body, ContentType: check.ContentTypeText}, opts)
	fmt.Println(report)
	// Output:
	// line 5: error schema.key-set: queue_jobs_processed_total lists no series for queue "sms", which other families of the queue schema list: every family lists every queue, with zero counts where nothing happened
	// line 8: error schema.label-value: queue_jobs_processed_total{queue="mail",result="failed"}: result="failed" is not an allowed value; result takes only "ok", "error"
	// FAILS: 2 errors, 0 warnings, 0 info
}

// Protobuf has no lines: a finding names the MetricFamily message it is
// about, here a counter that went negative in the second message.
func ExampleCheck_protobuf() {
	var body bytes.Buffer
	for _, mf := range []*dto.MetricFamily{
		{Name: proto.String("jobs_processed_total"), Help: proto.String("Jobs processed."), Type: dto.MetricType_COUNTER.Enum(),
			Metric: []*dto.Metric{{Counter: &dto.Counter{Value: proto.Float64(3)}}}},
		{Name: proto.String("jobs_failed_total"), Help: proto.String("Jobs failed."), Type: dto.MetricType_COUNTER.Enum(),
			Metric: []*dto.Metric{{Counter: &dto.Counter{Value: proto.Float64(-1)}}}},
	} {
		if _, err := protodelim.MarshalTo(&body, mf); err != nil {
			log.Fatal(err)
		}
	}
	report := check.Check(check.Input{Body: body.Bytes(), ContentType: check.ContentTypeProtobuf}, check.Options{})
	fmt.Println(report.Exposition.Protocol)
	fmt.Println(report)
	// Output:
	// PrometheusProto
	// message 2: error spec.counter-value: counter jobs_failed_total is negative: a counter's total is never NaN or negative
	// FAILS: 1 errors, 0 warnings, 0 info
}

// ParseAcceptList turns a list of protocols, or a preset, into the Accept
// header Prometheus 3 would send for it.
func ExampleParseAcceptList() {
	accept, err := check.ParseAcceptList("PrometheusProto,PrometheusText0.0.4")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(accept)
	prometheus3, _ := check.ParseAcceptList("prometheus3")
	fmt.Println(prometheus3 == check.AcceptPrometheus3)
	// Output:
	// application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.6,*/*;q=0.5
	// true
}
