package check_test

import (
	"fmt"
	"log"

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
