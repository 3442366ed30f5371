package counters

import (
	"sync/atomic"
	"unsafe"
)

// A row holds one target type's counters. This file is about one problem:
// when goroutines on two cores add to one counter at once, the cache line
// that holds it moves from one core to the other on every add, and each add
// then costs many times what it costs on a line the core keeps. The row
// therefore keeps several copies ("stripes") of its counters, each on cache
// lines of its own; a goroutine adds to one stripe, a snapshot adds the
// stripes up. What remains is choosing which stripe a goroutine adds to
// (see stripeOf).

// cacheLine is the false-sharing granule assumed for padding: 128 bytes covers
// both the 64-byte lines of x86 (whose adjacent-line prefetcher pulls pairs of
// them) and the 128-byte lines of Apple silicon and POWER.
const cacheLine = 128

// rowCounters are one target type's counters: the raw Inc ticks and, separately,
// one count per terminal outcome.
type rowCounters struct {
	raw      [numRaw]atomic.Uint64
	outcomes [numOutcomes]atomic.Uint64
}

// stripe pads rowCounters to a whole number of cache lines.
type stripe struct {
	// The padding leads: a zero-size field at the end of a struct would make
	// the compiler add a word after it.
	_ [(cacheLine - unsafe.Sizeof(rowCounters{})%cacheLine) % cacheLine]byte
	rowCounters
}

// stripeBits is log2 of the number of stripes a row keeps. Four stripes
// of 128 bytes make a row 512 bytes, and a snapshot reads each counter
// four times.
const (
	stripeBits = 2
	stripes    = 1 << stripeBits
)

// row is one target type's stripes. Rows are allocated one by one, and the Go
// allocator places an object whose size is a multiple of 128 at an address
// that is a multiple of 128 (its size classes for such sizes divide the span
// evenly), so no two rows, and no two stripes, share a line.
// TestRowAlignment checks both halves of that argument.
type row struct {
	stripe [stripes]stripe
}

// stripeOf returns the stripe the calling goroutine adds to while the
// table's deal is deal.
//
// The ideal would be one stripe per processor, as sync.Pool has one cache
// per P. Go does not tell a goroutine which P it runs on, and borrowing the
// runtime's procPin for it cost more than the tick itself (measured with
// bench/ at -cpu=1: a bound tick took 5.5 ns of CPU time instead of 2.2),
// so the stripe is picked from what a goroutine does have to itself: its
// stack. A hash of an address on the stack, mixed with the deal, picks the
// stripe. A goroutine keeps its stack from one tick to the next, so it keeps
// adding to the same stripe, whose line stays in its core's cache.
//
// Two goroutines may still draw the same stripe, with probability
// 1/stripes. Drawn once for good, that would decide the cost of their ticks
// for as long as both live: an earlier version did so, and in one
// measurement 13 of its 36 two-goroutine benchmark runs were 3–5 times
// slower than the rest. So the table re-deals: every dealEvery-th add to a counter changes
// the deal (see inc), and with it every goroutine's stripe. A pair of
// goroutines then shares a stripe for 1/stripes of the deals, not for its
// lifetime, and a contended tick costs the same on average in every run.
// The price is the deal's load and the longer hash on every tick: measured
// with bench/ at -cpu=1, a bound tick went from 2.15 to 2.7 ns of CPU time
// and a string tick from 6.2 to 6.7 ns.
func stripeOf(deal uint64) int {
	var onStack byte // the compiler keeps it on the goroutine's stack: its address escapes nowhere
	return stripeFor(uint64(uintptr(unsafe.Pointer(&onStack))), deal)
}

// stripeFor is the hash behind stripeOf, for a stack address addr. The
// address is taken in 1 KiB units, so the frames of one call chain mostly
// agree. It is then XORed with the deal and multiplied by the deal (made
// odd, and offset so that the zero deal of a new table works too): a
// multiplicative hash whose top bits pick the stripe. A fixed multiplier
// would not do: it keeps the difference between two addresses' products
// the same under every deal, so stacks 8 KiB apart would share a stripe in
// most deals. A multiplier that changes with the deal spreads every pair of
// stacks, near or far, over the stripes anew at each deal
// (TestStripeForRedealsEveryPair measures it).
func stripeFor(addr, deal uint64) int {
	key := addr >> 10
	return int((key ^ deal) * ((deal + dealOffset) | 1) >> (64 - stripeBits))
}

const (
	// dealEvery is how many adds to one counter of one stripe pass between
	// re-deals. Each re-deal costs every core that ticks a cache miss on
	// the table's header and one on each stripe it moves to, a cost spread
	// over this many adds. A pair of goroutines that ticks flat out still
	// sees thousands of deals a second, so a benchmark run averages over
	// many; an emitter that ticks a few times a second re-deals rarely, but
	// at that rate two goroutines sharing a stripe cost nothing measurable.
	dealEvery = 1 << 16
	// dealStep is what a re-deal adds to the deal: an odd constant with
	// bits set all over, so that consecutive deals differ in their low
	// bits, which are where nearby stack addresses differ.
	dealStep = 0x94d049bb133111eb
	// dealOffset keeps the multiplier of the zero deal from being 1,
	// which would put every stack on stripe 0.
	dealOffset = 0x9e3779b97f4a7c15
)

// inc adds one to n, a counter of the stripe picked under the deal that
// deal holds, and re-deals every dealEvery-th time (see stripeOf).
// Whichever goroutine's add reaches the multiple does it, so re-deals need
// no goroutine or timer of their own.
func inc(n, deal *atomic.Uint64) {
	if n.Add(1)%dealEvery == 0 {
		deal.Add(dealStep)
	}
}

// snapshot reads r. Each outcome count is loaded exactly once and every derived
// counter is a sum of those loaded values, which is what makes I1 and I2 hold
// for recorded outcomes in every snapshot.
func (r *row) snapshot(name string) DeploySnapshot {
	// The stripes are added up written out, which keeps the sums in
	// registers (the assertion after this function stops the build if
	// stripes changes).
	s0, s1, s2, s3 := &r.stripe[0], &r.stripe[1], &r.stripe[2], &r.stripe[3]
	var o [numOutcomes]uint64
	for i := range o {
		o[i] = s0.outcomes[i].Load() + s1.outcomes[i].Load() + s2.outcomes[i].Load() + s3.outcomes[i].Load()
	}
	var raw [numRaw]uint64
	for i := range raw {
		raw[i] = s0.raw[i].Load() + s1.raw[i].Load() + s2.raw[i].Load() + s3.raw[i].Load()
	}
	skipped := o[OutcomeSkipped-1]
	succeeded := o[OutcomeSucceeded-1]
	validate := o[OutcomeValidateFailed-1]
	reloadRestored := o[OutcomeReloadFailedRestored-1]
	reloadAlso := o[OutcomeReloadFailedAlsoFailed-1]
	verifyRestored := o[OutcomeVerifyFailedRestored-1]
	verifyAlso := o[OutcomeVerifyFailedAlsoFailed-1]
	failed := o[OutcomeFailed-1]
	return DeploySnapshot{
		TargetType:       name,
		AttemptsSuccess:  raw[rawAttemptSuccess] + succeeded,
		AttemptsFailure:  raw[rawAttemptFailure] + validate + reloadRestored + reloadAlso + verifyRestored + verifyAlso + failed,
		ValidateFailures: raw[rawValidateFailure] + validate,
		ReloadFailures:   raw[rawReloadFailure] + reloadRestored + reloadAlso,
		PostVerifyFails:  raw[rawPostVerifyFailure] + verifyRestored + verifyAlso,
		RollbackRestored: raw[rawRollbackRestored] + reloadRestored + verifyRestored,
		RollbackAlsoFail: raw[rawRollbackAlsoFailed] + reloadAlso + verifyAlso,
		IdempotentSkips:  raw[rawIdempotentSkip] + skipped,
	}
}

// This fails to compile unless stripes is 4, the number of stripes
// row.snapshot adds up.
var _ = [1]struct{}{}[stripes-4]
