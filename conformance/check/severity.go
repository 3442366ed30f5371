package check

import "fmt"

// Severity says what a Finding does to the verdict.
type Severity int8

const (
	// Info findings never fail a check.
	Info Severity = iota
	// Warning findings fail a check only when Options.Strict is set.
	Warning
	// Error findings always fail a check.
	Error
)

var severityNames = [...]string{Info: "info", Warning: "warning", Error: "error"}

// String returns "info", "warning" or "error".
func (s Severity) String() string {
	if s < Info || s > Error {
		return fmt.Sprintf("severity(%d)", int8(s))
	}
	return severityNames[s]
}

// MarshalText makes severities readable in JSON reports.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText accepts the names String returns.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSeverity parses "info", "warning" or "error".
func ParseSeverity(name string) (Severity, error) {
	for s, n := range severityNames {
		if n == name {
			return Severity(s), nil
		}
	}
	return Info, fmt.Errorf("unknown severity %q (want info, warning or error)", name)
}
