// Package counters is the reference deploy counter table: per target type, the
// eight counters of the deploy schema (SPEC.md §1.2), ticked lock-free from any
// number of goroutines and read as consistent, sorted snapshots.
//
// It is a drop-in replacement for the table it is modelled on, which ticks the
// counters one by one:
//
//	dc := counters.NewDeployCounters()
//	dc.IncAttemptFailure("NGINX")
//	dc.IncReloadFailure("NGINX")
//	dc.IncRollbackRestored("NGINX")
//
// and it adds the outcome API, which records one whole deployment with a single
// atomic add:
//
//	dc.Record("NGINX", counters.OutcomeReloadFailedRestored)
//
// # Consistency
//
// Between the three Inc calls above a concurrent snapshot can see the attempt
// failure but not yet the reload failure or the rollback: a torn snapshot that
// breaks the invariants of SPEC.md §2.2 (I1: rollback{restored}+rollback{also_failed}
// == reload_failures+post_verify_failures; I2: attempts{failure} >=
// validate_failures+reload_failures+post_verify_failures). Record cannot tear: the
// table counts terminal outcomes and derives the eight counters from one load of
// each outcome count at snapshot time, so every snapshot keeps I1 and I2 for
// recorded outcomes under any concurrency. The Inc methods feed separate raw
// counters that are added on top; mixing them in is allowed, and whether the sum
// keeps the invariants is then up to the caller.
//
// # Target type policy
//
// Target types arrive from code and configuration the table does not control, and
// every distinct one becomes exported series, so the table normalises them and
// bounds how many it keeps. The same rules apply to the string methods and to Bind:
//
//   - Invalid UTF-8 is replaced as by strings.ToValidUTF8(s, "\uFFFD"): each run of
//     invalid bytes becomes one U+FFFD. Prometheus fails a whole scrape on invalid
//     UTF-8 in a label value, so it must never reach the exposition.
//   - Control characters (unicode.IsControl: C0, DEL, C1; this includes tab,
//     newline and NUL) are each replaced by U+FFFD. They are legal in label values
//     once escaped, but no connector names itself with one; where one appears it
//     is a bug or an injection, and downstream tools that print label values
//     (alert templates, logs, CSV exports) would render it invisibly or split
//     lines on it. U+FFFD keeps the mistake visible.
//   - The result is cut to at most the configured length in bytes
//     (DefaultMaxTargetTypeLen, see WithMaxTargetTypeLen) at a rune boundary, so a
//     megabyte-long name costs the same as a short one: normalisation reads no
//     further than the limit.
//   - The empty string becomes EmptyTargetType, because the deploy schema requires
//     a non-empty target_type (and Prometheus treats an empty label value as an
//     absent label).
//   - Everything else, including spaces, quotes, backslashes and any printable
//     Unicode, is kept as is: escaping those is the exposition's job.
//
// Normalisation is idempotent, and the table stores only normalised names, so a
// name that is already normal (the common case) costs one lookup (see
// Performance) and no normalisation. Normalize
// shows the label value a name will be exported under.
//
// At most DefaultMaxTargetTypes distinct target types are kept (see
// WithMaxTargetTypes). Every operation on a target type first seen after the cap
// is reached is counted in one extra row named OverflowTargetType, so no tick is
// ever lost and the table never grows past cap+1 rows however many distinct names
// arrive; Folded reports how many operations were redirected there. The names
// EmptyTargetType and OverflowTargetType are reserved: using them directly counts
// into those rows.
//
// # Performance
//
// Ticks never take a lock: the name index is immutable behind an
// atomic.Pointer, replaced copy-on-write under a mutex only when a new target
// type is added (O(n) per new name, so the cap also bounds the total cost of
// growth). Besides a map it holds a small open-addressed table rebuilt with
// each insert, keyed by a cheap hash of the name's length and at most 24 of
// its bytes, with a seed chosen at rebuild time so that few names share a
// slot; a hit is confirmed by comparing those bytes (and the whole string for
// names longer than 24 bytes). A tick on a stored name costs that hash, one
// or two slot comparisons and the atomic add. Names the table does not hold,
// new or unnormalised or crowded out by names that hash alike, fall back to
// the map after at most eight slots. Each target type's counters fill whole
// cache lines of their own, so goroutines ticking different target types do
// not slow each other through false sharing; and they are kept in four
// copies (stripes), so that goroutines on different cores ticking the same
// target type mostly write different lines too (a snapshot adds the stripes
// up). A goroutine ticks the stripe a hash of its stack address picks; the
// hash changes every 65536 ticks of a counter, so two goroutines that drew
// the same stripe share it for a while, not for as long as they live (row.go
// says why and how). Bind returns a handle that skips even the map lookup. Snapshots
// read a sorted view that is maintained on insert, and AppendSnapshot lets a
// renderer reuse one buffer with no allocation in steady state.
package counters
