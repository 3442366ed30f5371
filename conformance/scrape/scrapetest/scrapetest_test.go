package scrapetest

import (
	"testing"

	"github.com/deploymetrics/deploymetrics/conformance/check"
)

// The expositions the good handlers serve must pass the check engine with
// the deploy schema, or every test that uses them as the control is wrong.
func TestExpositionsConform(t *testing.T) {
	for _, c := range []struct{ body, ct string }{{Text, ContentTypeText}, {OpenMetrics, ContentTypeOpenMetrics}} {
		opts := check.NewOptions()
		opts.Strict = true
		if r := check.Check(check.Input{Body: []byte(c.body), ContentType: c.ct}, opts); r.Failed() || len(r.Findings) > 0 {
			t.Errorf("%s:\n%s\n%s", c.ct, c.body, r)
		}
	}
}
