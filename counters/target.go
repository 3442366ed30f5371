package counters

import "sync/atomic"

// Target is a handle bound to one target type of a table: its methods tick the
// same counters as the table's string methods, without the name lookup. Get one
// with DeployCounters.Bind and keep it for the life of the connector. A Target
// is safe for concurrent use.
type Target struct {
	name   string
	row    *row
	folded *atomic.Uint64 // the table's fold count when bound to the overflow row by the cap; else nil
	deal   *atomic.Uint64 // the table's deal: see stripeOf
}

// Bind returns a handle for targetType, normalised as by the string methods.
// Binding registers the target type, so it is exported with zero counts from
// then on: a connector that binds at start-up has all its series present before
// its first deployment, which spares dashboards the "no data" gap. If the cap is
// already reached, the handle counts into OverflowTargetType and every tick
// through it is counted by Folded.
func (c *DeployCounters) Bind(targetType string) *Target {
	r, folded := c.lookup(targetType)
	t := &Target{name: c.Normalize(targetType), row: r, deal: &c.deal}
	if folded {
		t.name = OverflowTargetType
		t.folded = &c.folded
	}
	return t
}

// Name returns the target type the handle counts into: the normalised name, or
// OverflowTargetType if it was folded.
func (t *Target) Name() string { return t.name }

// mine returns the stripe of t's row the calling goroutine adds to.
func (t *Target) mine() *rowCounters {
	return &t.row.stripe[stripeOf(t.deal.Load())].rowCounters
}

func (t *Target) tick(i int) {
	inc(&t.mine().raw[i], t.deal)
	if t.folded != nil {
		t.folded.Add(1)
	}
}

// Record counts one deployment that ended in outcome o; see
// DeployCounters.Record.
func (t *Target) Record(o Outcome) {
	inc(&t.mine().outcomes[o.slot()], t.deal)
	if t.folded != nil {
		t.folded.Add(1)
	}
}

// IncAttemptSuccess ticks attempts{result="success"}.
func (t *Target) IncAttemptSuccess() { t.tick(rawAttemptSuccess) }

// IncAttemptFailure ticks attempts{result="failure"}.
func (t *Target) IncAttemptFailure() { t.tick(rawAttemptFailure) }

// IncValidateFailure ticks validate_failures.
func (t *Target) IncValidateFailure() { t.tick(rawValidateFailure) }

// IncReloadFailure ticks reload_failures.
func (t *Target) IncReloadFailure() { t.tick(rawReloadFailure) }

// IncPostVerifyFailure ticks post_verify_failures.
func (t *Target) IncPostVerifyFailure() { t.tick(rawPostVerifyFailure) }

// IncRollbackRestored ticks rollback{outcome="restored"}.
func (t *Target) IncRollbackRestored() { t.tick(rawRollbackRestored) }

// IncRollbackAlsoFailed ticks rollback{outcome="also_failed"}.
func (t *Target) IncRollbackAlsoFailed() { t.tick(rawRollbackAlsoFailed) }

// IncIdempotentSkip ticks idempotent_skip.
func (t *Target) IncIdempotentSkip() { t.tick(rawIdempotentSkip) }
