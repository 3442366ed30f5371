package check

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// LoadSchema reads a schema file, YAML (.yaml, .yml) or JSON (.json), and
// validates it. Unknown fields are errors, so a misspelt key is never
// silently ignored. A file without a name is named after the file.
//
// A schema file looks like this (testdata/schemas/queue.yaml is a
// commented one, and DeploySchema(ns).Encode(".yaml") writes the built-in
// deploy schema as a starting point):
//
//	name: queue
//	key_label: queue
//	families:
//	  - name: queue_depth
//	    type: gauge
//	    labels: [queue]
//	  - name: queue_jobs_processed_total
//	    type: counter
//	    labels: [queue, result]
//	    values: {result: [ok, error]}
//	    integer: true
func LoadSchema(path string) (*Schema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return ParseSchemaFile(path, data)
}

// ParseSchemaFile is LoadSchema for a file the caller has read itself
// (promcheck reads every file through a bounded reader): path gives the
// encoding by its extension and the name when the file has none.
func ParseSchemaFile(path string, data []byte) (*Schema, error) {
	s, err := decodeSchema(data, filepath.Ext(path))
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", path, err)
	}
	if s.Name == "" {
		s.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("schema %s: %w", path, err)
	}
	return s, nil
}

// ParseSchema decodes and validates a schema. ext says the encoding the
// way a file name would: ".yaml", ".yml" or ".json"; "" guesses JSON when
// the data starts with '{' and YAML otherwise.
func ParseSchema(data []byte, ext string) (*Schema, error) {
	s, err := decodeSchema(data, ext)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("schema %s: %w", s.Name, err)
	}
	return s, nil
}

func decodeSchema(data []byte, ext string) (*Schema, error) {
	var s Schema
	switch strings.ToLower(ext) {
	case ".json", "json":
		if err := decodeJSON(data, &s); err != nil {
			return nil, err
		}
	case ".yaml", ".yml", "yaml", "yml":
		if err := decodeYAML(data, &s); err != nil {
			return nil, err
		}
	case "":
		if bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
			return decodeSchema(data, ".json")
		}
		return decodeSchema(data, ".yaml")
	default:
		return nil, fmt.Errorf("unknown schema file extension %q: use .yaml, .yml or .json", ext)
	}
	// The text format writes "untyped", which textparse reports as
	// "unknown"; accept the name users know.
	for i := range s.Families {
		if s.Families[i].Type == "untyped" {
			s.Families[i].Type = model.MetricTypeUnknown
		}
	}
	return &s, nil
}

func decodeJSON(data []byte, s *Schema) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(s); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty JSON document")
		}
		return fmt.Errorf("JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("JSON: data after the schema object")
	}
	return nil
}

func decodeYAML(data []byte, s *Schema) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(s); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty YAML document")
		}
		return fmt.Errorf("YAML: %w", readableYAMLError(err))
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("YAML: more than one document; a schema file holds one")
	}
	return nil
}

// yamlUnknownField matches yaml.v3's report of an unknown key, which names
// the Go type rather than the place in the file.
var yamlUnknownField = regexp.MustCompile(`field (\S+) not found in type check\.(\w+)`)

// readableYAMLError rewrites yaml.v3's unknown-field errors in the user's
// terms: the misspelt key and the keys allowed where it stands.
func readableYAMLError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	lines := make([]string, len(te.Errors))
	for i, msg := range te.Errors {
		lines[i] = yamlUnknownField.ReplaceAllStringFunc(msg, func(m string) string {
			sub := yamlUnknownField.FindStringSubmatch(m)
			switch sub[2] {
			case "Schema":
				return fmt.Sprintf("unknown field %q at the top level (known: name, key_label, invariants, families)", sub[1])
			case "FamilySchema":
				return fmt.Sprintf("unknown field %q in a family (known: name, type, labels, values, optional, integer)", sub[1])
			}
			return m
		})
	}
	return errors.New(strings.Join(lines, "; "))
}

// schemaFileHeader opens the YAML Encode writes, so a user starting from
// the built-in schema learns the fields where they edit them.
const schemaFileHeader = `# A deploymetrics schema: the families an exposition must hold.
# Load it with promcheck --schema FILE or check.LoadSchema.
#
# name        identifies the schema in reports
# key_label   the label every family is keyed by: series sort by it first,
#             its value is never empty, every family lists the same values
# invariants  the deploy outcome invariants I1/I2 (deploy schema only)
# families    in the order they must be written; for each:
#   name      the family name as in the text format (counters end in _total)
#   type      counter, gauge, histogram, summary, gaugehistogram, info,
#             stateset or untyped
#   labels    the exact label set, in sort order after the key label
#   values    per label, the allowed values in their canonical order
#   optional  the family may be absent
#   integer   values are non-negative integers (counts)
`

// Encode writes the schema as a file LoadSchema reads back: ext ".yaml"
// or ".yml" (with a comment explaining the fields) or ".json".
func (s *Schema) Encode(ext string) ([]byte, error) {
	switch strings.ToLower(ext) {
	case ".json", "json":
		out, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return nil, err
		}
		return append(out, '\n'), nil
	case ".yaml", ".yml", "yaml", "yml":
		var buf bytes.Buffer
		buf.WriteString(schemaFileHeader)
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(s); err != nil {
			return nil, err
		}
		if err := enc.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	return nil, fmt.Errorf("unknown schema encoding %q: use .yaml, .yml or .json", ext)
}
