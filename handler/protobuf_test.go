package handler

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/deploymetrics/deploymetrics/counters"
)

// referenceFamilies is the exposition of snaps as client_model structs,
// built from the test's own schema the way client_golang builds them:
// labels sorted by name, counter values as doubles, invalid UTF-8 in a
// target type repaired as the text renderers repair it.
func referenceFamilies(ns string, snaps []counters.DeploySnapshot) []*dto.MetricFamily {
	prefix := ""
	if ns != "" {
		prefix = ns + "_"
	}
	var out []*dto.MetricFamily
	for _, f := range schema {
		mf := &dto.MetricFamily{
			Name: proto.String(prefix + f.name),
			Help: proto.String(f.help),
			Type: dto.MetricType_COUNTER.Enum(),
		}
		for _, s := range snaps {
			tt := &dto.LabelPair{Name: proto.String("target_type"), Value: proto.String(strings.ToValidUTF8(s.TargetType, "\uFFFD"))}
			for k, v := range f.values(s) {
				m := &dto.Metric{Counter: &dto.Counter{Value: proto.Float64(float64(v))}}
				if f.sub != "" {
					// "outcome" and "result" sort before "target_type".
					m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(f.sub), Value: proto.String(f.subValues[k])})
				}
				m.Label = append(m.Label, tt)
				mf.Metric = append(mf.Metric, m)
			}
		}
		out = append(out, mf)
	}
	return out
}

// referenceProtobuf is referenceFamilies marshalled with protodelim, as
// client_golang's expfmt writes the delimited format: the byte-exact oracle
// for AppendProtobuf. (The Go protobuf library writes fields in field-number
// order, which is the order AppendProtobuf writes them.)
func referenceProtobuf(t *testing.T, ns string, snaps []counters.DeploySnapshot) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, mf := range referenceFamilies(ns, snaps) {
		if _, err := protodelim.MarshalTo(&buf, mf); err != nil {
			t.Fatalf("protodelim.MarshalTo: %v", err)
		}
	}
	return buf.Bytes()
}

// decodeFamilies reads delimited MetricFamily messages with client_model,
// as expfmt's decoder does.
func decodeFamilies(t *testing.T, body []byte) []*dto.MetricFamily {
	t.Helper()
	r := bufio.NewReader(bytes.NewReader(body))
	var out []*dto.MetricFamily
	for {
		mf := &dto.MetricFamily{}
		// Lift the default 4 MiB cap: the hostile cases hold megabyte names.
		err := protodelim.UnmarshalOptions{MaxSize: -1}.UnmarshalFrom(r, mf)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("decoding MetricFamily %d: %v", len(out), err)
		}
		out = append(out, mf)
	}
}

// TestProtobufMatchesClientModel holds AppendProtobuf, and the handler's
// renderer with its scratch reused across tables, to client_model's own
// marshalling of the same families, byte for byte, on every render path.
func TestProtobufMatchesClientModel(t *testing.T) {
	var esc escapedLabels // shared by all cases, as a scratch is across scrapes
	for name, snaps := range renderCases() {
		for _, ns := range []string{"certctl", ""} {
			want := referenceProtobuf(t, ns, snaps)
			if got := AppendProtobuf([]byte("keep"), ns, snaps); !bytes.Equal(got[4:], want) || string(got[:4]) != "keep" {
				t.Errorf("%s, ns %q: AppendProtobuf differs from client_model's marshalling:\n%x\nwant:\n%x", name, ns, got, want)
			}
			if got := appendProtobuf(nil, ns, snaps, &esc); !bytes.Equal(got, want) {
				t.Errorf("%s, ns %q: render with scratch differs from client_model's marshalling:\n%x\nwant:\n%x", name, ns, got, want)
			}
		}
	}
}

// TestProtobufRoundTrip decodes AppendProtobuf's output with client_model
// and compares it, message by message, with what was meant, for the known
// target types and for the hostile ones raw (megabyte names included): a
// label value arrives exactly as given, unescaped, with only invalid UTF-8
// repaired.
func TestProtobufRoundTrip(t *testing.T) {
	var hostile []counters.DeploySnapshot
	for i, tt := range hostileTargetTypes {
		hostile = append(hostile, counters.DeploySnapshot{TargetType: tt, AttemptsSuccess: uint64(i), RollbackAlsoFail: 1 << 60})
	}
	for name, snaps := range map[string][]counters.DeploySnapshot{
		"empty":   nil,
		"known":   knownSnapshots(),
		"hostile": hostile,
	} {
		got := decodeFamilies(t, AppendProtobuf(nil, "certctl", snaps))
		want := referenceFamilies("certctl", snaps)
		if len(got) != len(want) {
			t.Fatalf("%s: %d families, want %d", name, len(got), len(want))
		}
		for i := range want {
			if !proto.Equal(got[i], want[i]) {
				t.Errorf("%s: family %d decodes as\n%.2000v\nwant\n%.2000v", name, i, got[i], want[i])
			}
		}
	}
}

func TestValidUTF8(t *testing.T) {
	for _, s := range append([]string{
		"", "NGINX", "é🚀", "\xff", "a\xff\xfe\xfdb", "\xff\"\xfe", "\xc3\"", "\uFFFD\xff",
		"\xed\xa0\x80", "\xf4\x90\x80\x80", "truncated\xe2\x82",
	}, hostileTargetTypes...) {
		want := strings.ToValidUTF8(s, "\uFFFD")
		if got := string(appendValidUTF8([]byte("x"), s)); got != "x"+want {
			t.Errorf("appendValidUTF8(%.40q) = %.40q, want %.40q", s, got, "x"+want)
		}
		if got := validUTF8Len(s); got != len(want) {
			t.Errorf("validUTF8Len(%.40q) = %d, want %d", s, got, len(want))
		}
	}
}

// TestProtobufTags checks what the renderer assumes of the tags it appends
// as single bytes: each is the one-byte varint protowire writes.
func TestProtobufTags(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  byte
		num  protowire.Number
		typ  protowire.Type
	}{
		{"metric", metricTag, fieldFamilyMetric, protowire.BytesType},
		{"label", labelTag, fieldMetricLabel, protowire.BytesType},
		{"counter", counterHead[0], fieldMetricCounter, protowire.BytesType},
		{"counter value", counterHead[2], fieldCounterValue, protowire.Fixed64Type},
	} {
		if want := protowire.AppendTag(nil, tc.num, tc.typ); len(want) != 1 || want[0] != tc.got {
			t.Errorf("%s tag: renderer writes %#x, protowire %#x", tc.name, tc.got, want)
		}
	}
	if counterHead[1] != 9 {
		t.Errorf("a Counter holding a double is %d bytes, want 9 (tag and fixed64)", counterHead[1])
	}
}
