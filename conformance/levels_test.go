package conformance

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/deploymetrics/deploymetrics/conformance/check"
)

func TestDeclarationsNameEachMissingCapability(t *testing.T) {
	full := ReferenceConfig(0)
	bare := full
	bare.Protocols = []check.Protocol{check.PrometheusText0_0_4}
	bare.Gzip, bare.Methods, bare.MaxTargetTypes = false, false, 0
	core := bare
	core.Level = Core
	// A config written before Config.Protocols existed.
	deprecated := full
	deprecated.OpenMetrics = false
	e := &Emitter{Tick: func(Counter, string) {}, Handler: nil, URL: "http://127.0.0.1:1/metrics"}
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"everything declared", full, nil},
		{"nothing declared at Full", bare, []string{
			"OpenMetricsText1.0.0 (Config.Protocols does not list it)", "gzip (Config.Gzip is false)",
			"cardinality-cap (Config.MaxTargetTypes is 0)", "methods (Config.Methods is false)",
		}},
		{"nothing declared at Core", core, nil},
		{"the deprecated Config.OpenMetrics false at Full", deprecated, []string{
			"OpenMetricsText1.0.0 (Config.OpenMetrics is false: the text format 0.0.4 only)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := &TestContext{Config: tt.cfg, Emitter: e, url: e.URL}
			d := tc.declarations()
			if got := d.missing(); !slices.Equal(got, tt.want) {
				t.Errorf("missing() = %q, want %q", got, tt.want)
			}
			// Record and Snapshot are optional at every level.
			for _, c := range d.Capabilities {
				if (c.Name == "record" || c.Name == "snapshot") && (c.Required || c.Declared) {
					t.Errorf("%s: required %t, declared %t with a nil Emitter.%s", c.Name, c.Required, c.Declared, c.Name)
				}
			}
		})
	}
}

func TestLevelString(t *testing.T) {
	for l, want := range map[Level]string{Full: "Full", Core: "Core", 7: "Level(7)"} {
		if got := l.String(); got != want {
			t.Errorf("Level(%d).String() = %q, want %q", uint8(l), got, want)
		}
	}
}

// TestSummaryPerConfig feeds the summary a report of two configs, one
// short of a required capability, and checks it tells them apart and says
// why the second fails.
func TestSummaryPerConfig(t *testing.T) {
	ok := ReferenceConfig(0)
	ok.NegotiationWaivers = map[string]string{"om-second-line": "reads one line"}
	short := ok
	short.Gzip = false
	spec := func(config, group, id string, state types.SpecState, decl *declarations) types.SpecReport {
		r := types.SpecReport{
			LeafNodeType:            types.NodeTypeIt,
			ContainerHierarchyTexts: []string{config, group},
			LeafNodeLabels:          []string{id},
			State:                   state,
		}
		if decl != nil {
			data, err := json.Marshal(decl)
			if err != nil {
				t.Fatal(err)
			}
			var raw any
			if err := json.Unmarshal(data, &raw); err != nil {
				t.Fatal(err)
			}
			r.ReportEntries = types.ReportEntries{{Name: levelEntry, Value: types.WrapEntryValue(raw)}}
		}
		return r
	}
	e := &Emitter{Handler: nil, URL: "http://127.0.0.1:1/metrics"}
	declOK := (&TestContext{Config: ok, Emitter: e, url: e.URL}).declarations()
	declShort := (&TestContext{Config: short, Emitter: e, url: e.URL}).declarations()
	report := types.Report{SpecReports: types.SpecReports{
		spec("A", "level", "conformance-level", types.SpecStatePassed, &declOK),
		spec("A", "passive", "passive-gzip", types.SpecStatePassed, nil),
		spec("B", "level", "conformance-level", types.SpecStateFailed, &declShort),
		spec("B", "passive", "passive-gzip", types.SpecStateSkipped, nil),
		spec("team", "own", "my-own-spec", types.SpecStatePassed, nil),
	}}
	got := summarize(report)
	for _, want := range []string{
		"conformance summary for A, level Full: conforms",
		"waived case of passive-negotiation-edge: om-second-line: reads one line",
		"conformance summary for B, level Full: FAILS: 1 required capabilities declared missing: gzip (Config.Gzip is false)",
		"passive-gzip skipped",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary does not say %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "team") {
		t.Errorf("summary lists a container with none of the suite's specs:\n%s", got)
	}
}
