package conformance

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
)

func TestDeclaredProtocols(t *testing.T) {
	t004, om1, om001, t1, proto := check.PrometheusText0_0_4, check.OpenMetricsText1_0_0, check.OpenMetricsText0_0_1, check.PrometheusText1_0_0, check.PrometheusProto
	reference := ReferenceConfig(0)
	shuffled := NewConfig()
	shuffled.Protocols = []check.Protocol{proto, t004, t1}
	deprecated := ReferenceConfig(0)
	deprecated.OpenMetrics = false
	tests := []struct {
		name string
		cfg  Config
		want []check.Protocol
	}{
		{"NewConfig: the two SPEC.md §6.2 requires", NewConfig(), []check.Protocol{t004, om1}},
		{"ReferenceConfig: all five", reference, []check.Protocol{t004, om1, om001, t1, proto}},
		{"listed in any order, scraped in the suite's", shuffled, []check.Protocol{t004, t1, proto}},
		{"the deprecated OpenMetrics false: text 0.0.4 only", deprecated, []check.Protocol{t004}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cfg.protocols(); !slices.Equal(got, tt.want) {
				t.Errorf("protocols() = %v, want %v", got, tt.want)
			}
			tt.cfg.NewEmitter = reference.NewEmitter // NewConfig leaves it nil
			if err := tt.cfg.validate(); err != nil {
				t.Errorf("validate: %v", err)
			}
		})
	}
}

func TestValidateProtocols(t *testing.T) {
	tests := []struct {
		name      string
		protocols []check.Protocol
		want      string
	}{
		{"text 0.0.4 missing", []check.Protocol{check.OpenMetricsText1_0_0}, "PrometheusText0.0.4 missing"},
		{"OpenMetrics 2.0", []check.Protocol{check.PrometheusText0_0_4, check.OpenMetricsText2_0_0}, "release candidate"},
		{"unknown", []check.Protocol{check.PrometheusText0_0_4, "PrometheusText9"}, `"PrometheusText9" is no protocol`},
		{"twice", []check.Protocol{check.PrometheusText0_0_4, check.PrometheusProto, check.PrometheusProto}, "PrometheusProto listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ReferenceConfig(0)
			cfg.Protocols = tt.protocols
			err := cfg.validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("validate() = %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

// TestAcceptForGetsTheProtocol ties the suite's Accept headers to the
// reference handler's negotiation: asked with AcceptFor(p), it serves p,
// and each header allows the text format 0.0.4 as a fallback, so that an
// emitter that does not serve p answers in a protocol the engine accepts.
func TestAcceptForGetsTheProtocol(t *testing.T) {
	h := handler.NewMetricsHandler()
	for _, p := range referenceProtocols() {
		accept := AcceptFor(p)
		ct, _ := h.Negotiate(http.Header{"Accept": {accept}})
		if got := servedProtocol(ct); got != p {
			t.Errorf("AcceptFor(%s) = %q: the reference serves %s (%q)", p, accept, got, ct)
		}
		in := check.Input{ContentType: check.ContentTypeText, HTTP: &check.HTTPFacts{
			StatusCode: http.StatusOK, Accept: accept, Header: http.Header{"Content-Type": {check.ContentTypeText}},
		}}
		if r := check.Check(in, check.Options{Disabled: []string{"schema", "format", "spec", "lint"}}); r.Failed() {
			t.Errorf("AcceptFor(%s) = %q does not allow the text fallback:\n%s", p, accept, r)
		}
	}
}

// TestOptionsRaiseUnlessConfigured holds Options to its word: the three
// warnings become errors, unless the config sets their severity itself.
func TestOptionsRaiseUnlessConfigured(t *testing.T) {
	raised := []string{"http.negotiation-preference", "http.content-type-params"}
	tc := &TestContext{Config: ReferenceConfig(0), Emitter: &Emitter{Record: func(string, counters.Outcome) {}}}
	o := tc.Options()
	for _, rule := range append(raised, "invariant") {
		if o.Severities[rule] != check.Error {
			t.Errorf("Options().Severities[%q] = %v, want error", rule, o.Severities[rule])
		}
	}
	for _, key := range []string{"http", "http.*", "http.negotiation-preference"} {
		tc.Config.Options.Severities = map[string]check.Severity{key: check.Info}
		o := tc.Options()
		if sev, set := o.Severities["http.negotiation-preference"]; set && key != "http.negotiation-preference" {
			t.Errorf("with the config's %q: info, Options() still sets http.negotiation-preference to %v", key, sev)
		}
		if o.Severities[key] != check.Info {
			t.Errorf("with the config's %q: info, Options() made it %v", key, o.Severities[key])
		}
	}
}
