package check

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
)

func TestLoadSchemaExamples(t *testing.T) {
	fromYAML, err := LoadSchema(filepath.Join("testdata", "schemas", "queue.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := LoadSchema(filepath.Join("testdata", "schemas", "queue.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromYAML, fromJSON) {
		t.Errorf("queue.yaml and queue.json differ:\n%+v\n%+v", fromYAML, fromJSON)
	}
	want := FamilySchema{Name: "queue_jobs_processed_total", Type: model.MetricTypeCounter, Labels: []string{"queue", "result"},
		Values: map[string][]string{"result": {"ok", "error"}}, Integer: true}
	if fromYAML.Name != "queue" || fromYAML.KeyLabel != "queue" || len(fromYAML.Families) != 3 ||
		!reflect.DeepEqual(fromYAML.Families[1], want) || !fromYAML.Families[2].Optional {
		t.Errorf("queue.yaml = %+v", fromYAML)
	}
}

func TestQueueSchemaJudgesAnExposition(t *testing.T) {
	schema, err := LoadSchema(filepath.Join("testdata", "schemas", "queue.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	opts := NewOptions()
	opts.Schema = schema
	good := `# HELP queue_depth Jobs waiting.
# TYPE queue_depth gauge
queue_depth{queue="mail"} 2
queue_depth{queue="sms"} 0
# HELP queue_jobs_processed_total Jobs processed.
# TYPE queue_jobs_processed_total counter
queue_jobs_processed_total{queue="mail",result="ok"} 40
queue_jobs_processed_total{queue="mail",result="error"} 1
queue_jobs_processed_total{queue="sms",result="ok"} 3
queue_jobs_processed_total{queue="sms",result="error"} 0
`
	if got := findingsOf(checkText(t, good, opts), mine...); len(got) > 0 {
		t.Errorf("good queue exposition: %v", got)
	}
	bad := strings.NewReplacer(
		`queue_depth{queue="sms"} 0`, `queue_depth{queue="sms"} -1`,
		`{queue="mail",result="error"} 1`, `{queue="mail",result="error",worker="w1"} 1`,
	).Replace(good)
	r := checkText(t, bad, opts)
	if len(r.Rule("schema.value")) != 1 || len(r.Rule("schema.labels")) != 1 {
		t.Errorf("want one schema.value and one schema.labels finding:\n%v", r)
	}
}

func TestParseSchemaRejects(t *testing.T) {
	const family = "families:\n  - {name: a_total, type: counter, labels: [k]}\n"
	tests := []struct {
		name, ext, data, want string
	}{
		{"unknown top-level field", ".yaml", "name: s\ncolour: red\n" + family, `unknown field "colour" at the top level`},
		{"unknown family field", ".yml", "name: s\nfamilies:\n  - {name: a_total, type: counter, lables: [k]}\n", `unknown field "lables" in a family`},
		{"unknown JSON field", ".json", `{"name": "s", "families": [{"name": "a_total", "type": "counter", "lables": ["k"]}]}`, `unknown field "lables"`},
		{"JSON trailing data", ".json", `{"name": "s", "families": []} {}`, "data after the schema object"},
		{"two YAML documents", ".yaml", "name: s\n" + family + "---\nname: t\n", "more than one document"},
		{"empty YAML", ".yaml", "", "empty YAML document"},
		{"empty JSON", ".json", " ", "empty JSON document"},
		{"extension", ".toml", "name = 's'", `unknown schema file extension ".toml"`},
		{"no name", ".yaml", family, "name: empty"},
		{"no families", ".yaml", "name: s\n", "families: none"},
		{"empty family name", ".yaml", "name: s\nfamilies:\n  - {type: gauge}\n", "families[0]: name: empty"},
		{"bad family name", ".yaml", "name: s\nfamilies:\n  - {name: a-b, type: gauge}\n", `"a-b" is not a valid metric name`},
		{"counter without _total", ".yaml", "name: s\nfamilies:\n  - {name: jobs, type: counter}\n", "ending in _total (jobs_total)"},
		{"no type", ".yaml", "name: s\nfamilies:\n  - {name: a}\n", "type: empty"},
		{"bad type", ".yaml", "name: s\nfamilies:\n  - {name: a, type: Counter}\n", `unknown type "Counter"`},
		{"duplicate family", ".yaml", "name: s\nfamilies:\n  - {name: a, type: gauge}\n  - {name: a, type: gauge}\n", "families[1] (a): name: duplicate of families[0]"},
		{"bad label", ".yaml", "name: s\nfamilies:\n  - {name: a, type: gauge, labels: [a:b]}\n", `"a:b" is not a valid label name`},
		{"duplicate label", ".yaml", "name: s\nfamilies:\n  - {name: a, type: gauge, labels: [x, x]}\n", `"x" listed twice`},
		{"le on a histogram", ".yaml", "name: s\nfamilies:\n  - {name: a, type: histogram, labels: [le]}\n", `"le" is added by the histogram type`},
		{"values on unknown label", ".yaml", "name: s\nfamilies:\n  - {name: a, type: gauge, labels: [x], values: {y: [1]}}\n", `restricts label "y", which is not in labels [x]`},
		{"empty value list", ".yaml", "name: s\nfamilies:\n  - {name: a, type: gauge, labels: [x], values: {x: []}}\n", `"x" lists no values`},
		{"empty value", ".yaml", "name: s\nfamilies:\n  - {name: a, type: gauge, labels: [x], values: {x: [\"\"]}}\n", "lists an empty value"},
		{"duplicate value", ".yaml", "name: s\nfamilies:\n  - {name: a, type: gauge, labels: [x], values: {x: [v, v]}}\n", `lists "v" twice`},
		{"key label not on a family", ".yaml", "name: s\nkey_label: k\nfamilies:\n  - {name: a, type: gauge, labels: [x]}\n", `missing the key label "k"`},
		{"invariants without deploy families", ".yaml", "name: s\nkey_label: k\ninvariants: true\n" + family, "invariants: need"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSchema([]byte(tt.data), tt.ext)
			if err == nil {
				t.Fatalf("want an error containing %q, got schema %+v", tt.want, s)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestParseSchemaReportsEveryProblem(t *testing.T) {
	_, err := ParseSchema([]byte("name: s\nfamilies:\n  - {name: a, type: bogus}\n  - {name: b_total, type: counter, labels: [x], values: {y: [1]}}\n"), ".yaml")
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{`families[0] (a): type: unknown type "bogus"`, `families[1] (b_total): values: restricts label "y"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestParseSchemaGuessesEncodingAndAcceptsUntyped(t *testing.T) {
	for _, data := range []string{
		`{"name": "s", "families": [{"name": "a", "type": "untyped"}]}`,
		"name: s\nfamilies:\n  - {name: a, type: untyped}\n",
	} {
		s, err := ParseSchema([]byte(data), "")
		if err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		if s.Families[0].Type != model.MetricTypeUnknown {
			t.Errorf("type untyped read as %q, want %q", s.Families[0].Type, model.MetricTypeUnknown)
		}
	}
}

func TestLoadSchemaNamesAndErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "payments.yaml")
	if err := os.WriteFile(path, []byte("families:\n  - {name: payments_total, type: counter, labels: [method]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSchema(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "payments" {
		t.Errorf("a schema without a name is named after its file: got %q, want payments", s.Name)
	}

	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"name": "x", "families": [{"name": "a", "type": "gauge", "lables": []}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSchema(bad); err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "lables") {
		t.Errorf("error %v should name the file and the field", err)
	}
	missing := filepath.Join(dir, "missing.yaml")
	if _, err := LoadSchema(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("error %v should name the missing file", err)
	}
}

func TestEncodeRoundTrips(t *testing.T) {
	for _, s := range []*Schema{DeploySchema(DefaultNamespace), DeploySchema("acme")} {
		for _, ext := range []string{".yaml", ".json"} {
			data, err := s.Encode(ext)
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseSchema(data, ext)
			if err != nil {
				t.Fatalf("%s: %v\n%s", ext, err, data)
			}
			if !reflect.DeepEqual(back, s) {
				t.Errorf("%s round trip:\n got %+v\nwant %+v", ext, back, s)
			}
		}
	}
	data, _ := DeploySchema(DefaultNamespace).Encode(".yaml")
	if !strings.HasPrefix(string(data), "# A deploymetrics schema") || !strings.Contains(string(data), "labels: [target_type, result]") {
		t.Errorf("YAML should open with the field guide and write labels compactly:\n%s", data)
	}
	if _, err := DeploySchema(DefaultNamespace).Encode(".xml"); err == nil {
		t.Error("Encode(.xml): want an error")
	}
}

func TestDeploySchemaValidates(t *testing.T) {
	for _, ns := range []string{DefaultNamespace, "acme", "a_b"} {
		if err := DeploySchema(ns).Validate(); err != nil {
			t.Errorf("DeploySchema(%q): %v", ns, err)
		}
	}
}
