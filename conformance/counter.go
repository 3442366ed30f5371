package conformance

import (
	"strconv"

	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/internal/deploy"
)

// Counter names one of the eight counters of the deploy schema (SPEC.md §1.2):
// a family and, for the two families with a sub-label, one of its values.
// The suite drives an emitter by ticking Counters.
type Counter uint8

// The eight counters, in exposition order. The zero value is not a counter,
// so that a forgotten assignment is not silently ticked as one.
const (
	AttemptSuccess     Counter = iota + 1 // attempts{result="success"}
	AttemptFailure                        // attempts{result="failure"}
	ValidateFailure                       // validate_failures
	ReloadFailure                         // reload_failures
	PostVerifyFailure                     // post_verify_failures
	RollbackRestored                      // rollback{outcome="restored"}
	RollbackAlsoFailed                    // rollback{outcome="also_failed"}
	IdempotentSkip                        // idempotent_skip
)

// counterInfo describes where a counter is exposed: a family of the deploy
// schema (package internal/deploy, the one place it is written out) and,
// for the two families with a sub-label, the index of its value there.
type counterInfo struct {
	name   string // the Go-style name, for messages
	family int    // index in deploy.Families()
	sub    int    // index in the family's SubValues (0 for families without a sub-label)
}

var counterInfos = [...]counterInfo{
	AttemptSuccess:     {"AttemptSuccess", deploy.Attempts, 0},
	AttemptFailure:     {"AttemptFailure", deploy.Attempts, 1},
	ValidateFailure:    {"ValidateFailure", deploy.ValidateFailures, 0},
	ReloadFailure:      {"ReloadFailure", deploy.ReloadFailures, 0},
	PostVerifyFailure:  {"PostVerifyFailure", deploy.PostVerifyFailures, 0},
	RollbackRestored:   {"RollbackRestored", deploy.Rollbacks, 0},
	RollbackAlsoFailed: {"RollbackAlsoFailed", deploy.Rollbacks, 1},
	IdempotentSkip:     {"IdempotentSkip", deploy.IdempotentSkips, 0},
}

// deployFamily returns the family of the deploy schema the counter is
// exposed in; c must be valid.
func (c Counter) deployFamily() deploy.Family { return deploy.Families()[counterInfos[c].family] }

// Counters returns the eight counters in exposition order. It returns a new
// slice on every call.
func Counters() []Counter {
	return []Counter{AttemptSuccess, AttemptFailure, ValidateFailure, ReloadFailure,
		PostVerifyFailure, RollbackRestored, RollbackAlsoFailed, IdempotentSkip}
}

// Valid reports whether c is one of the eight counters.
func (c Counter) Valid() bool { return c >= AttemptSuccess && c <= IdempotentSkip }

// String returns the counter's name ("RollbackRestored"), or "Counter(n)"
// for an invalid value.
func (c Counter) String() string {
	if !c.Valid() {
		return "Counter(" + strconv.Itoa(int(c)) + ")"
	}
	return counterInfos[c].name
}

// Name returns the name of the counter's samples in namespace ns, e.g.
// "certctl_deploy_attempts_total" (both formats write samples with _total).
func (c Counter) Name(ns string) string {
	if !c.Valid() {
		return ""
	}
	return c.deployFamily().Name(ns)
}

// LabelNames returns the counter's label names in canonical order:
// target_type, then the sub-label if the family has one. It is what a
// client library's CounterVec is declared with.
func (c Counter) LabelNames() []string {
	if !c.Valid() {
		return []string{deploy.KeyLabel}
	}
	return c.deployFamily().Labels()
}

// LabelValues returns the label values of the counter's series for
// targetType, matching LabelNames.
func (c Counter) LabelValues(targetType string) []string {
	name, value := c.SubLabel()
	if name == "" {
		return []string{targetType}
	}
	return []string{targetType, value}
}

// SubLabel returns the counter's sub-label and its value ("result",
// "success"), or two empty strings for a family keyed by target_type alone.
func (c Counter) SubLabel() (name, value string) {
	if !c.Valid() {
		return "", ""
	}
	f := c.deployFamily()
	if f.SubLabel == "" {
		return "", ""
	}
	return f.SubLabel, f.SubValues[counterInfos[c].sub]
}

// Of returns the counter's value in a snapshot.
func (c Counter) Of(s *counters.DeploySnapshot) uint64 {
	return *c.field(s)
}

// Add adds n to the counter's value in a snapshot.
func (c Counter) Add(s *counters.DeploySnapshot, n uint64) {
	*c.field(s) += n
}

func (c Counter) field(s *counters.DeploySnapshot) *uint64 {
	switch c {
	case AttemptSuccess:
		return &s.AttemptsSuccess
	case AttemptFailure:
		return &s.AttemptsFailure
	case ValidateFailure:
		return &s.ValidateFailures
	case ReloadFailure:
		return &s.ReloadFailures
	case PostVerifyFailure:
		return &s.PostVerifyFails
	case RollbackRestored:
		return &s.RollbackRestored
	case RollbackAlsoFailed:
		return &s.RollbackAlsoFail
	case IdempotentSkip:
		return &s.IdempotentSkips
	}
	// An invalid counter reads and writes a scratch value, so that Of and
	// Add never panic and never touch a real field.
	return new(uint64)
}

// Ticks returns the counters one deployment that ended in outcome o ticks
// (SPEC.md §2.1), in the order the modelled system ticks them. An invalid o
// ticks what counters.DeployCounters.Record counts it as: OutcomeFailed.
func Ticks(o counters.Outcome) []Counter {
	switch o {
	case counters.OutcomeSkipped:
		return []Counter{IdempotentSkip}
	case counters.OutcomeSucceeded:
		return []Counter{AttemptSuccess}
	case counters.OutcomeValidateFailed:
		return []Counter{AttemptFailure, ValidateFailure}
	case counters.OutcomeReloadFailedRestored:
		return []Counter{AttemptFailure, ReloadFailure, RollbackRestored}
	case counters.OutcomeReloadFailedAlsoFailed:
		return []Counter{AttemptFailure, ReloadFailure, RollbackAlsoFailed}
	case counters.OutcomeVerifyFailedRestored:
		return []Counter{AttemptFailure, PostVerifyFailure, RollbackRestored}
	case counters.OutcomeVerifyFailedAlsoFailed:
		return []Counter{AttemptFailure, PostVerifyFailure, RollbackAlsoFailed}
	}
	return []Counter{AttemptFailure}
}

// Outcomes returns the eight outcomes of SPEC.md §2.1.
func Outcomes() []counters.Outcome {
	return []counters.Outcome{
		counters.OutcomeSkipped, counters.OutcomeSucceeded, counters.OutcomeValidateFailed,
		counters.OutcomeReloadFailedRestored, counters.OutcomeReloadFailedAlsoFailed,
		counters.OutcomeVerifyFailedRestored, counters.OutcomeVerifyFailedAlsoFailed,
		counters.OutcomeFailed,
	}
}
