package counters

import "strconv"

// Outcome is how one deployment to one target ended (SPEC.md §2.1). Every deployment
// ends in exactly one outcome, so recording the outcome instead of ticking the
// counters one by one keeps snapshots consistent.
//
// The zero value is not a valid outcome, so that a forgotten assignment is not
// silently counted as a success or a skip.
type Outcome uint8

// The outcomes of SPEC.md §2.1, with the counters each one ticks.
const (
	// OutcomeSkipped: the new artifact equals the deployed one (same SHA-256);
	// nothing was done. Ticks idempotent_skip.
	OutcomeSkipped Outcome = iota + 1
	// OutcomeSucceeded ticks attempts{result="success"}.
	OutcomeSucceeded
	// OutcomeValidateFailed: the pre-commit check failed and nothing changed.
	// Ticks attempts{failure} and validate_failures.
	OutcomeValidateFailed
	// OutcomeReloadFailedRestored: the reload failed and the rollback restored the
	// previous artifact. Ticks attempts{failure}, reload_failures and
	// rollback{outcome="restored"}.
	OutcomeReloadFailedRestored
	// OutcomeReloadFailedAlsoFailed: the reload failed and so did the rollback.
	// Ticks attempts{failure}, reload_failures and rollback{outcome="also_failed"}.
	OutcomeReloadFailedAlsoFailed
	// OutcomeVerifyFailedRestored: the post-deploy TLS verification failed and the
	// rollback restored the previous artifact. Ticks attempts{failure},
	// post_verify_failures and rollback{restored}.
	OutcomeVerifyFailedRestored
	// OutcomeVerifyFailedAlsoFailed: the post-deploy verification failed and so did
	// the rollback. Ticks attempts{failure}, post_verify_failures and
	// rollback{also_failed}.
	OutcomeVerifyFailedAlsoFailed
	// OutcomeFailed: any other failure before commit. Ticks attempts{failure}.
	OutcomeFailed
)

// numOutcomes is the number of valid outcomes; outcome o is stored at index o-1.
const numOutcomes = int(OutcomeFailed)

var outcomeNames = [numOutcomes]string{
	"Skipped",
	"Succeeded",
	"ValidateFailed",
	"ReloadFailedRestored",
	"ReloadFailedAlsoFailed",
	"VerifyFailedRestored",
	"VerifyFailedAlsoFailed",
	"Failed",
}

// Valid reports whether o is one of the declared outcomes.
func (o Outcome) Valid() bool { return o >= OutcomeSkipped && o <= OutcomeFailed }

// String returns the outcome's name as written in SPEC.md §2.1 ("ReloadFailedRestored"),
// or "Outcome(n)" for an invalid value.
func (o Outcome) String() string {
	if !o.Valid() {
		return "Outcome(" + strconv.Itoa(int(o)) + ")"
	}
	return outcomeNames[o-1]
}

// slot returns the index of o's counter. An invalid outcome is counted as
// OutcomeFailed: the deployment happened and did not succeed by any route the
// caller could name, so it still shows as one failed attempt, every deployment
// stays counted, and no invariant is broken. Panicking would take a deploy
// path down over a metrics bug, and dropping it would hide the deployment.
func (o Outcome) slot() int {
	if !o.Valid() {
		return int(OutcomeFailed) - 1
	}
	return int(o) - 1
}
