package handler

import (
	"math"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/internal/deploy"
)

// The protobuf format is a sequence of io.prometheus.client.MetricFamily
// messages, each preceded by its length as a varint ("encoding=delimited").
// It is written here field by field with protowire rather than by building
// client_model structs and marshalling them, for the same reason the text
// renderer appends bytes: a scrape then allocates nothing. The field
// numbers are those of client_model's metrics.proto (proto2):
//
//	message MetricFamily { string name = 1; string help = 2; MetricType type = 3; repeated Metric metric = 4; }
//	message Metric       { repeated LabelPair label = 1; Counter counter = 3; }
//	message LabelPair    { string name = 1; string value = 2; }
//	message Counter      { double value = 1; }
//	enum MetricType      { COUNTER = 0; ... }
//
// The tests hold the output to client_model's own decoding and to
// Prometheus's protobuf parser.
const (
	fieldFamilyName   protowire.Number = 1
	fieldFamilyHelp   protowire.Number = 2
	fieldFamilyType   protowire.Number = 3
	fieldFamilyMetric protowire.Number = 4

	fieldMetricLabel   protowire.Number = 1
	fieldMetricCounter protowire.Number = 3

	fieldLabelName  protowire.Number = 1
	fieldLabelValue protowire.Number = 2

	fieldCounterValue protowire.Number = 1

	metricTypeCounter = 0
)

// targetTypeLabel is the name of the label every deploy series carries.
const targetTypeLabel = deploy.KeyLabel

// The constant runs of bytes in a Metric message, encoded once. A series is
// written as
//
//	metricTag len(Metric) [subLabelPairs] labelTag len(LabelPair) targetTypeHead len(value) value counterHead double
//
// so that only the lengths, the target type and the value vary. The tags
// of fields numbered below 16 are one byte (TestProtobufTags checks), which
// the renderer appends as bytes rather than slices: it writes seven per
// series.
var (
	metricTag = byte(protowire.EncodeTag(fieldFamilyMetric, protowire.BytesType))
	labelTag  = byte(protowire.EncodeTag(fieldMetricLabel, protowire.BytesType))
	// targetTypeHead is a LabelPair up to its value's length: the name
	// field holding "target_type" and the value field's tag.
	targetTypeHead = string(protowire.AppendTag(
		protowire.AppendString(protowire.AppendTag(nil, fieldLabelName, protowire.BytesType), targetTypeLabel),
		fieldLabelValue, protowire.BytesType))
	// counterHead is a Metric's counter field up to the double: its tag, its
	// length (a Counter holding one double), and the Counter's value tag.
	counterHead = [3]byte{
		byte(protowire.EncodeTag(fieldMetricCounter, protowire.BytesType)),
		byte(protowire.SizeTag(fieldCounterValue) + protowire.SizeFixed64()),
		byte(protowire.EncodeTag(fieldCounterValue, protowire.Fixed64Type)),
	}
)

// counterFieldSize is the size of a Metric's counter field: counterHead and
// the double.
var counterFieldSize = len(counterHead) + protowire.SizeFixed64()

// subLabelPairs[i][k] is the encoded label field (tag, length and LabelPair)
// of families[i]'s sub-label with its k-th value, such as result="success";
// empty for families labelled by target_type alone. It does not depend on
// the namespace or the snapshot, so it is built once.
var subLabelPairs = func() (pairs [len(families)][2][]byte) {
	for i, f := range families {
		if f.sub == "" {
			continue
		}
		for k, v := range f.subValues {
			var pair []byte
			pair = protowire.AppendString(protowire.AppendTag(pair, fieldLabelName, protowire.BytesType), f.sub)
			pair = protowire.AppendString(protowire.AppendTag(pair, fieldLabelValue, protowire.BytesType), v)
			pairs[i][k] = protowire.AppendBytes([]byte{labelTag}, pair)
		}
	}
	return pairs
}()

// AppendProtobuf appends the deploy families for snaps in Prometheus's
// protobuf format (Content-Type ContentTypeProtobuf) to dst and returns the
// extended buffer: six length-delimited MetricFamily messages of type
// COUNTER, named as in the text format (certctl_deploy_attempts_total),
// with the same HELP and the same series in the same order. Labels are in
// name order (result or outcome, then target_type), as client_golang writes
// them. Values are doubles, as the format has it: counts above 2^53 round
// to the nearest float64, as Prometheus would store them from any format.
//
// Like AppendText it allocates only to grow dst. Target types are written
// as they are, quotes, backslashes and newlines included, since protobuf
// strings need no escaping; invalid UTF-8 is replaced as by
// strings.ToValidUTF8 with U+FFFD, as the text renderers do, so a target
// type reaches Prometheus as the same label value whatever the format. The
// contract on snaps is AppendText's.
func AppendProtobuf(dst []byte, ns string, snaps []counters.DeploySnapshot) []byte {
	return appendProtobuf(dst, ns, snaps, nil)
}

// appendProtobuf renders snaps as protobuf. Each message's length is
// computed before it is written, from the lengths of the target types, so
// nothing is written twice or moved. valid, if not nil, is scratch space for
// the target types with invalid UTF-8 repaired, so that each is repaired
// once; without it (AppendProtobuf) a render with such a target type
// measures and repairs it on every series instead.
func appendProtobuf(dst []byte, ns string, snaps []counters.DeploySnapshot, valid *escapedLabels) []byte {
	labels := pbTargetTypes{snaps: snaps, valid: true}
	for j := range snaps {
		if !utf8.ValidString(snaps[j].TargetType) {
			labels.valid = false
			break
		}
	}
	if !labels.valid && valid != nil {
		valid.build(snaps, appendValidUTF8)
		labels.repaired = valid
	}
	prefixLen := 0 // what appendName writes before a family name
	if ns != "" {
		prefixLen = len(ns) + 1
	}
	for i := range families {
		f := &families[i]
		nsub := 1
		if f.sub != "" {
			nsub = 2
		}
		sub := &subLabelPairs[i]
		off := &valueFields[i]
		name := prefixLen + len(f.name) + len("_total")

		size := protowire.SizeTag(fieldFamilyName) + protowire.SizeBytes(name) +
			protowire.SizeTag(fieldFamilyHelp) + protowire.SizeBytes(len(f.help)) +
			protowire.SizeTag(fieldFamilyType) + protowire.SizeVarint(metricTypeCounter)
		for j := range snaps {
			pair := targetTypePairSize(labels.len(j))
			for k := range nsub {
				size += protowire.SizeTag(fieldFamilyMetric) + protowire.SizeBytes(len(sub[k])+pair+counterFieldSize)
			}
		}

		dst = appendVarint(dst, uint64(size))
		dst = protowire.AppendTag(dst, fieldFamilyName, protowire.BytesType)
		dst = appendVarint(dst, uint64(name))
		dst = appendName(dst, ns, f.name)
		dst = append(dst, "_total"...)
		dst = protowire.AppendTag(dst, fieldFamilyHelp, protowire.BytesType)
		dst = protowire.AppendString(dst, f.help)
		dst = protowire.AppendTag(dst, fieldFamilyType, protowire.VarintType)
		dst = protowire.AppendVarint(dst, metricTypeCounter)
		for j := range snaps {
			s := &snaps[j]
			ttLen := labels.len(j)
			pair := targetTypePairSize(ttLen)
			var ttStart, ttEnd int
			for k := range nsub {
				dst = append(dst, metricTag)
				dst = appendVarint(dst, uint64(len(sub[k])+pair+counterFieldSize))
				dst = append(dst, sub[k]...)
				if k == 0 {
					ttStart = len(dst)
					dst = append(dst, labelTag)
					dst = appendVarint(dst, uint64(targetTypeInnerSize(ttLen)))
					dst = append(dst, targetTypeHead...)
					dst = appendVarint(dst, uint64(ttLen))
					dst = labels.append(dst, j)
					ttEnd = len(dst)
				} else {
					// The second series of a target type carries the same
					// target_type label: copy it (appending part of dst to
					// dst is safe; see appendExposition).
					dst = append(dst, dst[ttStart:ttEnd]...)
				}
				dst = append(dst, counterHead[0], counterHead[1], counterHead[2])
				dst = protowire.AppendFixed64(dst, math.Float64bits(float64(counterAt(s, off[k]))))
			}
		}
	}
	return dst
}

// appendVarint is protowire.AppendVarint with the one-byte case inlined:
// nearly every length in a deploy exposition is below 128.
func appendVarint(dst []byte, v uint64) []byte {
	if v < 0x80 {
		return append(dst, byte(v))
	}
	return protowire.AppendVarint(dst, v)
}

// targetTypeInnerSize is the size of a LabelPair target_type=<v> with a
// value of n bytes.
func targetTypeInnerSize(n int) int {
	return len(targetTypeHead) + protowire.SizeBytes(n)
}

// targetTypePairSize is the size of a Metric's label field holding
// target_type=<v> with a value of n bytes.
func targetTypePairSize(n int) int {
	inner := len(targetTypeHead) + protowire.SizeVarint(uint64(n)) + n
	return 1 + protowire.SizeVarint(uint64(inner)) + inner // 1: labelTag
}

// pbTargetTypes gives the protobuf renderer the j-th target type as valid
// UTF-8 and its length: as it is when every target type is valid (the
// common case: the counter table only stores valid ones), else from the
// repaired copies if there are some, else repaired on the fly.
type pbTargetTypes struct {
	snaps    []counters.DeploySnapshot
	valid    bool
	repaired *escapedLabels
}

func (l *pbTargetTypes) len(j int) int {
	switch {
	case l.valid:
		return len(l.snaps[j].TargetType)
	case l.repaired != nil:
		return len(l.repaired.value(j))
	}
	return validUTF8Len(l.snaps[j].TargetType)
}

func (l *pbTargetTypes) append(dst []byte, j int) []byte {
	switch {
	case l.valid:
		return append(dst, l.snaps[j].TargetType...)
	case l.repaired != nil:
		return append(dst, l.repaired.value(j)...)
	}
	return appendValidUTF8(dst, l.snaps[j].TargetType)
}

// appendValidUTF8 appends s with each run of invalid UTF-8 replaced by one
// U+FFFD, as strings.ToValidUTF8(s, "\uFFFD") returns it.
func appendValidUTF8(dst []byte, s string) []byte {
	for s != "" {
		valid, rest, invalid := cutInvalidUTF8(s)
		dst = append(dst, valid...)
		if invalid {
			dst = append(dst, "\uFFFD"...)
		}
		s = rest
	}
	return dst
}

// validUTF8Len is len(appendValidUTF8(nil, s)), without writing it.
func validUTF8Len(s string) int {
	n := 0
	for s != "" {
		valid, rest, invalid := cutInvalidUTF8(s)
		n += len(valid)
		if invalid {
			n += len("\uFFFD")
		}
		s = rest
	}
	return n
}

// cutInvalidUTF8 splits s around its first run of invalid UTF-8 bytes:
// valid is what precedes it, rest what follows it, and invalid reports
// whether there was one (if not, valid is s).
func cutInvalidUTF8(s string) (valid, rest string, invalid bool) {
	for i := 0; i < len(s); {
		if n := validRuneLen(s[i:]); n > 0 {
			i += n
			continue
		}
		j := i + 1
		for j < len(s) && validRuneLen(s[j:]) == 0 {
			j++
		}
		return s[:i], s[j:], true
	}
	return s, "", false
}

// validRuneLen returns the length of the rune s starts with, or 0 if s
// starts with an invalid byte.
func validRuneLen(s string) int {
	if s[0] < utf8.RuneSelf {
		return 1
	}
	if _, size := utf8.DecodeRuneInString(s); size > 1 {
		return size
	}
	return 0
}
