package handler

import (
	"strconv"
	"unicode/utf8"

	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/internal/deploy"
)

// family describes one metric family of the deploy schema (SPEC.md §1.2)
// as the handler renders it.
type family struct {
	// name, sub and subValues come from package deploy, the schema's one
	// definition: name is the family's name after the namespace, without
	// "_total"; sub is the second label, "" for families labelled by
	// target_type alone, and subValues its values in canonical order.
	name      string
	sub       string
	subValues [2]string
	help      string // must need no escaping in either format; TestHelpNeedsNoEscaping checks
	// values returns the counters of s for each sub-label value (only [0] for
	// families without a sub-label).
	values func(s *counters.DeploySnapshot) [2]uint64
}

// families lists the deploy schema in exposition order: the names and
// labels package deploy defines, with the reference emitter's own HELP
// texts and the counters of a DeploySnapshot each family reads.
var families = func() (out [deploy.FamilyCount]family) {
	own := [deploy.FamilyCount]struct {
		help   string
		values func(s *counters.DeploySnapshot) [2]uint64
	}{
		deploy.Attempts: {
			help: "Deployment attempts by target type and result: success, or failure for any reason.",
			values: func(s *counters.DeploySnapshot) [2]uint64 {
				return [2]uint64{s.AttemptsSuccess, s.AttemptsFailure}
			},
		},
		deploy.ValidateFailures: {
			help:   "Deployments whose pre-commit validation failed; nothing was changed on the target.",
			values: func(s *counters.DeploySnapshot) [2]uint64 { return [2]uint64{s.ValidateFailures} },
		},
		deploy.ReloadFailures: {
			help:   "Deployments whose target reload failed after the new artifact was written; each one is rolled back.",
			values: func(s *counters.DeploySnapshot) [2]uint64 { return [2]uint64{s.ReloadFailures} },
		},
		deploy.PostVerifyFailures: {
			help:   "Deployments whose post-deploy verification (a TLS handshake with the target) failed; each one is rolled back.",
			values: func(s *counters.DeploySnapshot) [2]uint64 { return [2]uint64{s.PostVerifyFails} },
		},
		deploy.Rollbacks: {
			help: "Rollbacks after a reload or post-verify failure, by outcome: restored (the previous artifact serves again) or also_failed (the target is left broken).",
			values: func(s *counters.DeploySnapshot) [2]uint64 {
				return [2]uint64{s.RollbackRestored, s.RollbackAlsoFail}
			},
		},
		deploy.IdempotentSkips: {
			help:   "Deployments skipped because the new artifact has the same SHA-256 as the deployed one.",
			values: func(s *counters.DeploySnapshot) [2]uint64 { return [2]uint64{s.IdempotentSkips} },
		},
	}
	for i, d := range deploy.Families() {
		out[i] = family{name: d.OpenMetricsBase(), sub: d.SubLabel, subValues: d.SubValues, help: own[i].help, values: own[i].values}
	}
	return out
}()

// AppendText appends the deploy families for snaps in the Prometheus text
// format 0.0.4 to dst and returns the extended buffer. It allocates only to
// grow dst, so a caller that reuses its buffer renders with no allocation.
// The output is also valid text format 1.0.0 (ContentTypeTextV1): the deploy
// names need no quoting.
//
// ns is the namespace ("certctl"); it is not checked here, see
// ValidateNamespace. An empty ns yields names without a prefix ("deploy_…").
//
// snaps is written in the order given, as DeployCounters.Snapshot returns it:
// sorted by target type, one entry per target type. Any other input still
// renders as an exposition Prometheus can parse (label values are escaped and
// invalid UTF-8 replaced as by strings.ToValidUTF8 with U+FFFD), but order,
// duplicates and empty target types are the caller's responsibility.
func AppendText(dst []byte, ns string, snaps []counters.DeploySnapshot) []byte {
	return appendExposition(dst, ns, snaps, styleText, nil)
}

// AppendOpenMetrics is AppendText for OpenMetrics 1.0.0 (and 0.0.1, whose
// exposition is the same): family names in the HELP and TYPE lines lose
// their "_total" suffix, samples keep it, and the output ends with
// "# EOF\n". Escaping and the contract on snaps are those of AppendText.
func AppendOpenMetrics(dst []byte, ns string, snaps []counters.DeploySnapshot) []byte {
	return appendExposition(dst, ns, snaps, styleOpenMetrics, nil)
}

// AppendOpenMetrics2 is AppendText for OpenMetrics 2.0 (a release
// candidate; see WithOpenMetrics2): the family name is the samples' name,
// "_total" included ("MUST be the same as every Metric's Name in the
// family"), HELP comes before TYPE as in every format the handler writes
// (see appendMetadata), and the output ends with "# EOF\n". Samples carry
// no start timestamp (st@), which the spec recommends for counters but the
// counter table does not record. Escaping and the contract on snaps are
// those of AppendText.
func AppendOpenMetrics2(dst []byte, ns string, snaps []counters.DeploySnapshot) []byte {
	return appendExposition(dst, ns, snaps, styleOpenMetrics2, nil)
}

// style is one of the three text expositions appendExposition writes.
type style uint8

const (
	styleText         style = iota // Prometheus text 0.0.4 and 1.0.0
	styleOpenMetrics               // OpenMetrics 0.0.1 and 1.0.0
	styleOpenMetrics2              // OpenMetrics 2.0
)

// sampleSuffixes[i][k] is what follows the target type on a sample line of
// families[i] with its k-th sub-label value, up to the value: `"} ` (which
// the renderer writes as three bytes instead) or `",result="success"} `. It does not depend on the namespace or the
// format, so it is built once.
var sampleSuffixes = func() (sfx [len(families)][2]string) {
	for i, f := range families {
		if f.sub == "" {
			sfx[i][0] = `"} `
			continue
		}
		for k, v := range f.subValues {
			sfx[i][k] = `",` + f.sub + `="` + v + `"} `
		}
	}
	return sfx
}()

// counterField names one of the eight counters of a DeploySnapshot.
type counterField uint8

// valueFields[i][k] is the counter that families[i].values returns at k.
// The renderer reads counters through counterAt: calling values through
// its function pointer, which copies an array, was a quarter of a render.
// The fields are derived from values itself, by calling it on a snapshot
// whose eight counters hold 1 to 8, so values stays the one definition.
var valueFields = func() (fields [len(families)][2]counterField) {
	s := counters.DeploySnapshot{
		AttemptsSuccess: 1, AttemptsFailure: 2, ValidateFailures: 3, ReloadFailures: 4,
		PostVerifyFails: 5, RollbackRestored: 6, RollbackAlsoFail: 7, IdempotentSkips: 8,
	}
	for i := range families {
		for k, v := range families[i].values(&s) {
			if v != 0 {
				fields[i][k] = counterField(v - 1)
			}
		}
	}
	return fields
}()

// counterAt returns the counter f of s. The switch compiles to a jump table.
func counterAt(s *counters.DeploySnapshot, f counterField) uint64 {
	switch f {
	case 0:
		return s.AttemptsSuccess
	case 1:
		return s.AttemptsFailure
	case 2:
		return s.ValidateFailures
	case 3:
		return s.ReloadFailures
	case 4:
		return s.PostVerifyFails
	case 5:
		return s.RollbackRestored
	case 6:
		return s.RollbackAlsoFail
	default:
		return s.IdempotentSkips
	}
}

// escapedLabels holds the escaped (or, for protobuf, repaired) target types
// of one render, concatenated,
// so that each is escaped once rather than once per sample line (eight).
// The handler keeps one per scratch; AppendText has none and, for the rare
// snapshot with a value that needs escaping, escapes on every line instead.
type escapedLabels struct {
	buf  []byte
	ends []int // ends[j] is where the j-th escaped value ends in buf
}

// build stores the target types of snaps as appendValue writes them:
// escaped for the text formats (appendLabelValue), made valid UTF-8 for
// protobuf (appendValidUTF8).
func (e *escapedLabels) build(snaps []counters.DeploySnapshot, appendValue func([]byte, string) []byte) {
	e.buf, e.ends = e.buf[:0], e.ends[:0]
	for j := range snaps {
		e.buf = appendValue(e.buf, snaps[j].TargetType)
		e.ends = append(e.ends, len(e.buf))
	}
}

// value returns the escaped j-th target type.
func (e *escapedLabels) value(j int) []byte {
	start := 0
	if j > 0 {
		start = e.ends[j-1]
	}
	return e.buf[start:e.ends[j]]
}

// plainLabelValue reports whether appendLabelValue would write s unchanged:
// ASCII with no backslash, double quote or line feed.
func plainLabelValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || c == '\\' || c == '"' || c == '\n' {
			return false
		}
	}
	return true
}

// appendExposition renders snaps. It spends about three copies per sample
// line: the prefix, `<ns>_<family>_total{target_type="`, is written once
// per family and then copied from dst itself; the target type is copied
// (target types are checked for escaping once per render, not once per
// line); the rest of the labels is a few bytes written directly or one
// copy; small values are written directly; and the second line of a
// family with a sub-label copies the start of the first in one piece. esc,
// if not nil, is scratch space for the escaped target types when some need
// escaping, so that each is escaped once; without it (AppendText) such a
// render escapes on every line.
func appendExposition(dst []byte, ns string, snaps []counters.DeploySnapshot, st style, esc *escapedLabels) []byte {
	plain := true
	for j := range snaps {
		if !plainLabelValue(snaps[j].TargetType) {
			plain = false
			break
		}
	}
	if !plain && esc != nil {
		esc.build(snaps, appendLabelValue)
	}
	for i := range families {
		f := &families[i]
		dst = appendMetadata(dst, ns, f, st)
		if len(snaps) == 0 {
			continue
		}
		nsub := 1
		if f.sub != "" {
			nsub = 2
		}
		sfx := &sampleSuffixes[i]
		off := &valueFields[i]
		// The first line writes the prefix; the others copy it from here.
		// Appending a part of dst to dst is safe even when it grows: the
		// source is read from the old array, which stays valid.
		p0 := len(dst)
		dst = appendName(dst, ns, f.name)
		dst = append(dst, "_total{"+deploy.KeyLabel+`="`...)
		p1 := len(dst)
		for j := range snaps {
			s := &snaps[j]
			// The first line of a target type: prefix, target type, rest.
			start := len(dst)
			if j > 0 {
				dst = append(dst, dst[p0:p1]...)
			}
			switch {
			case plain:
				dst = append(dst, s.TargetType...)
			case esc != nil:
				dst = append(dst, esc.value(j)...)
			default:
				dst = appendLabelValue(dst, s.TargetType)
			}
			if nsub == 1 {
				dst = append(dst, '"', '}', ' ')
				dst = appendCount(dst, counterAt(s, off[0]))
				dst = append(dst, '\n')
				continue
			}
			end := len(dst)
			dst = append(dst, sfx[0]...)
			dst = appendCount(dst, counterAt(s, off[0]))
			dst = append(dst, '\n')
			// The second line starts like the first, which is copied in
			// one piece rather than rebuilt in two.
			if j == 0 {
				start = p0
			}
			dst = append(dst, dst[start:end]...)
			dst = append(dst, sfx[1]...)
			dst = appendCount(dst, counterAt(s, off[1]))
			dst = append(dst, '\n')
		}
	}
	if st != styleText {
		dst = append(dst, "# EOF\n"...)
	}
	return dst
}

// appendMetadata appends the HELP and TYPE lines of f, HELP first in every
// format: SPEC.md §1.4 has each family write its HELP line, then its TYPE
// line (order.help-before-type), and client_golang writes them in that
// order too. OpenMetrics 1.0 and 2.0 say the order SHOULD be TYPE, UNIT,
// HELP; a SHOULD the deploy contract departs from in both alike.
func appendMetadata(dst []byte, ns string, f *family, st style) []byte {
	dst = appendHelpLine(dst, ns, f, st)
	return appendTypeLine(dst, ns, f, st)
}

func appendHelpLine(dst []byte, ns string, f *family, st style) []byte {
	dst = append(dst, "# HELP "...)
	dst = appendFamilyName(dst, ns, f.name, st)
	dst = append(dst, ' ')
	dst = append(dst, f.help...)
	return append(dst, '\n')
}

func appendTypeLine(dst []byte, ns string, f *family, st style) []byte {
	dst = append(dst, "# TYPE "...)
	dst = appendFamilyName(dst, ns, f.name, st)
	return append(dst, " counter\n"...)
}

// appendCount appends v in decimal. Counters are mostly small, and
// appending one or two bytes directly is cheaper than strconv's copy.
func appendCount(dst []byte, v uint64) []byte {
	switch {
	case v < 10:
		return append(dst, byte('0'+v))
	case v < 100:
		return append(dst, byte('0'+v/10), byte('0'+v%10))
	}
	return strconv.AppendUint(dst, v, 10)
}

// appendName appends name prefixed with the namespace.
func appendName(dst []byte, ns, name string) []byte {
	if ns != "" {
		dst = append(dst, ns...)
		dst = append(dst, '_')
	}
	return append(dst, name...)
}

// appendFamilyName appends the name a HELP or TYPE line gives the family:
// with "_total" in the text format and OpenMetrics 2.0; without it in
// OpenMetrics 1.0, where "_total" is the suffix of the counter's sample, not
// part of the family name.
func appendFamilyName(dst []byte, ns, name string, st style) []byte {
	dst = appendName(dst, ns, name)
	if st != styleOpenMetrics {
		dst = append(dst, "_total"...)
	}
	return dst
}

// appendLabelValue appends s escaped as a label value of either format: `\`,
// `"` and line feed become `\\`, `\"` and `\n`, and nothing else is escaped
// (unlike Go's %q, whose \t, \x00 or \u00e9 Prometheus would store literally).
// Each run of invalid UTF-8 becomes one U+FFFD, as strings.ToValidUTF8 does,
// because Prometheus fails the whole scrape on invalid UTF-8.
func appendLabelValue(dst []byte, s string) []byte {
	// Fast path: most values need no work at all.
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf && s[i] != '\\' && s[i] != '"' && s[i] != '\n' {
		i++
	}
	dst = append(dst, s[:i]...)
	inInvalidRun := false
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			inInvalidRun = false
			switch c {
			case '\\':
				dst = append(dst, `\\`...)
			case '"':
				dst = append(dst, `\"`...)
			case '\n':
				dst = append(dst, `\n`...)
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			if !inInvalidRun {
				dst = append(dst, "\uFFFD"...)
			}
			inInvalidRun = true
		} else {
			inInvalidRun = false
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}
