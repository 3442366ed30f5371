package counters

import (
	"unicode"
	"unicode/utf8"
)

// Reserved target type names; see the package documentation.
const (
	// OverflowTargetType is the row that counts every operation on a target type
	// first seen after the cardinality cap was reached.
	OverflowTargetType = "__overflow__"
	// EmptyTargetType is the name the empty target type is exported under.
	EmptyTargetType = "__empty__"
)

// Limits on target type names and on how many the table keeps.
const (
	// DefaultMaxTargetTypes is the default cardinality cap: far above the
	// sixteen connectors of the modelled system, far below what would hurt a
	// Prometheus server.
	DefaultMaxTargetTypes = 1024
	// DefaultMaxTargetTypeLen is the default length limit, in bytes, of a
	// normalised target type.
	DefaultMaxTargetTypeLen = 128
	// MinTargetTypeLen is the smallest length limit WithMaxTargetTypeLen accepts:
	// room for the reserved names, so that normalising them is a no-op.
	MinTargetTypeLen = 16
)

// appendNormalized appends the normalised form of s to dst (see the package
// documentation for the rules) and returns the extended slice. It is
// equivalent to strings.ToValidUTF8(s, "\uFFFD"), then replacing each
// control character with U+FFFD, then cutting to maxLen bytes at a rune
// boundary, then mapping "" to EmptyTargetType; but it is done in one pass that
// stops reading at maxLen bytes of output and allocates nothing when dst has
// room. The tests hold it to that four-step definition.
func appendNormalized(dst []byte, s string, maxLen int) []byte {
	start := len(dst)
	inInvalidRun := false
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			// Like strings.ToValidUTF8: one replacement per run of invalid bytes.
			if inInvalidRun {
				continue
			}
			inInvalidRun = true
		case unicode.IsControl(r):
			inInvalidRun = false
			r = utf8.RuneError
		default:
			inInvalidRun = false
		}
		if len(dst)-start+utf8.RuneLen(r) > maxLen {
			break
		}
		dst = utf8.AppendRune(dst, r)
	}
	if len(dst) == start {
		dst = append(dst, EmptyTargetType...)
	}
	return dst
}
