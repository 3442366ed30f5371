package handler

import (
	"strconv"
	"unicode/utf8"

	"github.com/deploymetrics/deploymetrics/counters"
)

// family describes one metric family of the deploy schema (DESIGN §1).
type family struct {
	name string // after the namespace, without "_total"
	help string // must need no escaping in either format; TestHelpNeedsNoEscaping checks
	// sub is the second label and its values in canonical order, or "" for
	// families labelled by target_type alone.
	sub       string
	subValues [2]string
	// values returns the counters of s for each sub-label value (only [0] for
	// families without a sub-label).
	values func(s *counters.DeploySnapshot) [2]uint64
}

// families lists the deploy schema in exposition order.
var families = [...]family{
	{
		name:      "deploy_attempts",
		help:      "Deployment attempts by target type and result: success, or failure for any reason.",
		sub:       "result",
		subValues: [2]string{"success", "failure"},
		values: func(s *counters.DeploySnapshot) [2]uint64 {
			return [2]uint64{s.AttemptsSuccess, s.AttemptsFailure}
		},
	},
	{
		name:   "deploy_validate_failures",
		help:   "Deployments whose pre-commit validation failed; nothing was changed on the target.",
		values: func(s *counters.DeploySnapshot) [2]uint64 { return [2]uint64{s.ValidateFailures} },
	},
	{
		name:   "deploy_reload_failures",
		help:   "Deployments whose target reload failed after the new artifact was written; each one is rolled back.",
		values: func(s *counters.DeploySnapshot) [2]uint64 { return [2]uint64{s.ReloadFailures} },
	},
	{
		name:   "deploy_post_verify_failures",
		help:   "Deployments whose post-deploy verification (a TLS handshake with the target) failed; each one is rolled back.",
		values: func(s *counters.DeploySnapshot) [2]uint64 { return [2]uint64{s.PostVerifyFails} },
	},
	{
		name:      "deploy_rollback",
		help:      "Rollbacks after a reload or post-verify failure, by outcome: restored (the previous artifact serves again) or also_failed (the target is left broken).",
		sub:       "outcome",
		subValues: [2]string{"restored", "also_failed"},
		values: func(s *counters.DeploySnapshot) [2]uint64 {
			return [2]uint64{s.RollbackRestored, s.RollbackAlsoFail}
		},
	},
	{
		name:   "deploy_idempotent_skip",
		help:   "Deployments skipped because the new artifact has the same SHA-256 as the deployed one.",
		values: func(s *counters.DeploySnapshot) [2]uint64 { return [2]uint64{s.IdempotentSkips} },
	},
}

// AppendText appends the deploy families for snaps in the Prometheus text
// format 0.0.4 to dst and returns the extended buffer. It allocates only to
// grow dst, so a caller that reuses its buffer renders with no allocation.
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
	return appendExposition(dst, ns, snaps, false)
}

// AppendOpenMetrics is AppendText for OpenMetrics 1.0.0: family names in the
// HELP and TYPE lines lose their "_total" suffix, samples keep it, and the
// output ends with "# EOF\n". Escaping and the contract on snaps are those of
// AppendText.
func AppendOpenMetrics(dst []byte, ns string, snaps []counters.DeploySnapshot) []byte {
	return appendExposition(dst, ns, snaps, true)
}

func appendExposition(dst []byte, ns string, snaps []counters.DeploySnapshot, openMetrics bool) []byte {
	for i := range families {
		f := &families[i]
		dst = append(dst, "# HELP "...)
		dst = appendFamilyName(dst, ns, f.name, openMetrics)
		dst = append(dst, ' ')
		dst = append(dst, f.help...)
		dst = append(dst, "\n# TYPE "...)
		dst = appendFamilyName(dst, ns, f.name, openMetrics)
		dst = append(dst, " counter\n"...)
		for j := range snaps {
			s := &snaps[j]
			v := f.values(s)
			if f.sub == "" {
				dst = appendSample(dst, ns, f, s.TargetType, "", v[0])
				continue
			}
			for k, sv := range f.subValues {
				dst = appendSample(dst, ns, f, s.TargetType, sv, v[k])
			}
		}
	}
	if openMetrics {
		dst = append(dst, "# EOF\n"...)
	}
	return dst
}

// appendName appends name prefixed with the namespace.
func appendName(dst []byte, ns, name string) []byte {
	if ns != "" {
		dst = append(dst, ns...)
		dst = append(dst, '_')
	}
	return append(dst, name...)
}

// appendFamilyName appends the name a HELP or TYPE line gives the family: with
// "_total" in the text format; without it in OpenMetrics, where "_total" is
// the suffix of the counter's sample, not part of the family name.
func appendFamilyName(dst []byte, ns, name string, openMetrics bool) []byte {
	dst = appendName(dst, ns, name)
	if !openMetrics {
		dst = append(dst, "_total"...)
	}
	return dst
}

// appendSample appends one sample line of family f. subValue is ignored for
// families without a sub-label; it is one of f.subValues and needs no escaping.
func appendSample(dst []byte, ns string, f *family, targetType, subValue string, v uint64) []byte {
	dst = appendName(dst, ns, f.name)
	dst = append(dst, `_total{target_type="`...)
	dst = appendLabelValue(dst, targetType)
	dst = append(dst, '"')
	if f.sub != "" {
		dst = append(dst, ',')
		dst = append(dst, f.sub...)
		dst = append(dst, `="`...)
		dst = append(dst, subValue...)
		dst = append(dst, '"')
	}
	dst = append(dst, "} "...)
	dst = strconv.AppendUint(dst, v, 10)
	return append(dst, '\n')
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
