package counters

import "sync/atomic"

// The fast index is what a tick looks a name up in before the Go map. A map
// lookup hashes the whole string with a general-purpose hash, and that hash
// was 80% of a tick; the table here hashes the length and at most three
// words of the name with three multiplies, and confirms a hit by comparing
// those words and the length (and, for names longer than fastExact bytes,
// the strings).
//
// It is append-only: an insert (under the table's mutex) fills one empty
// slot, writing the row pointer last with an atomic store, so a reader that
// loads a non-nil row pointer also sees the rest of the slot, and readers
// need no lock. A slot once filled never changes. When the table gets too
// full, or (for a few names) a new name would not land in its home slot, the
// insert builds a new table with
// a seed chosen for all the current names instead, and the new index points
// to it; readers of an older index keep the older table. Indexes share a
// table, so an older index may find a name added after it: that is harmless,
// since rows are never removed and each name has one row. Growth costs
// amortised O(1) per name, not a copy of the table per name. It is only an
// accelerator: a name it does not hold, whether new, unnormalised, or
// crowded out by names hashing alike, falls through to the map, so a wrong
// answer can only come from a wrong hit, and every hit has compared equal.

// fastProbes bounds how many slots a lookup inspects, and so what an
// adversary who makes many names hash alike can cost a tick: fastProbes
// failed comparisons before the map lookup. Names that cannot be placed
// within it are left to the map.
const fastProbes = 8

// fastSeeds is how many seeds a rebuild tries when the first leaves names
// displaced from their home slot.
const fastSeeds = 32

// fastPerfectMax is the largest number of names for which a rebuild looks
// for a seed that puts every name in its home slot.
const fastPerfectMax = 64

// fastSlot is one slot of the table. It is empty while row is nil; the
// other fields are written before row is stored and never change after.
type fastSlot struct {
	w0, w1, w2 uint64 // fastWords of name
	n          int    // len(name)
	name       string
	row        atomic.Pointer[row]
	// Padding to 64 bytes, a power of two, so that indexing the slots is a
	// shift rather than a multiply on the path of every tick.
	_ [8]byte
}

// fastTable is an open-addressed table, linearly probed, of 2^k slots. Its
// fields never change once it is published, only the slots they point to,
// so an index holds a copy: one pointer fewer to follow on every tick.
type fastTable struct {
	slots []fastSlot // len is a power of two
	mask  uint64     // len(slots)-1
	shift uint8      // 64-k: the hash is the top k bits of a product
	seed  uint64
}

// emptyFast is the table of an empty index: two empty slots (the smallest
// table whose shift is below 64), so that lookups need no special case. It
// is shared by every empty index and never filled: add refuses it.
var emptyFast = fastTable{slots: make([]fastSlot, 2), mask: 1, shift: 63}

// le64 and le32 read the first 8 or 4 bytes of s as a little-endian word.
// The compiler turns each into one load on the common 64-bit platforms.
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func le32(s string) uint64 {
	_ = s[3]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24
}

// fastExact is the longest name that fastWords captures whole: two names of
// at most this length are equal if and only if their lengths and words are.
const fastExact = 24

// fastWords returns up to 24 bytes of s as three words: all of a name of up
// to fastExact bytes, and the first, middle and last 8 of a longer one. It
// reads no more however long s is. The words serve both as the hash input
// and, up to fastExact bytes, as the comparison, which is cheaper than a
// call to compare strings. Longer names that differ only in bytes it skips
// share their words and hash alike, which costs probes, never correctness:
// for them a hit also compares the strings.
//
// The words are returned as three results rather than an array, which the
// compiler would pass through memory and read back with wider loads than it
// wrote, stalling the load on every tick.
func fastWords(s string) (w0, w1, w2 uint64) {
	switch n := len(s); {
	case n >= 8:
		w0, w2 = le64(s), le64(s[n-8:])
		if n > 16 {
			w1 = le64(s[n/2-4:])
		}
	case n >= 4:
		w0, w2 = le32(s), le32(s[n-4:])
	case n > 0:
		w0 = uint64(s[0]) | uint64(s[n/2])<<8 | uint64(s[n-1])<<16
	}
	return w0, w1, w2
}

// home returns the slot name hashes to, given its words.
func (t *fastTable) home(w0, w1, w2 uint64, n int) uint64 {
	// The two inner multiplies are independent, so they overlap. A multiply
	// carries differences only upwards, and the last bytes of a name (which
	// is where numbered names like "target-17" differ) are the top bytes of
	// its little-endian words, so the xor-shift folds the high half down
	// before the last multiply (Fibonacci hashing), whose top bits, kept by
	// the shift, depend on every bit of its input. The shift is below 64 in
	// every table; saying so spares the instructions Go's semantics for
	// larger shifts would cost.
	h := (w0*0x9E3779B97F4A7C15 ^ w2*0xC2B2AE3D27D4EB4F) ^ w1 ^ uint64(n) ^ t.seed
	h ^= h >> 29
	return (h * 0xBF58476D1CE4E5B9) >> (t.shift & 63)
}

// get returns the row of name, or nil if the table does not hold it.
func (t *fastTable) get(name string) *row {
	// fastWords, written out: the compiler does not inline it, and the call
	// was a tenth of a tick. TestFastIndexEveryLength fails if the two differ.
	n := len(name)
	var w0, w1, w2 uint64
	switch {
	case n >= 8:
		w0, w2 = le64(name), le64(name[n-8:])
		if n > 16 {
			w1 = le64(name[n/2-4:])
		}
	case n >= 4:
		w0, w2 = le32(name), le32(name[n-4:])
	case n > 0:
		w0 = uint64(name[0]) | uint64(name[n/2])<<8 | uint64(name[n-1])<<16
	}
	h := t.home(w0, w1, w2, n)
	for i := uint64(0); i < fastProbes; i++ {
		s := &t.slots[(h+i)&t.mask]
		r := s.row.Load()
		if r == nil {
			// Linear probing without deletions: a name placed further on
			// would have found this slot free.
			return nil
		}
		if s.n == n && s.w0 == w0 && s.w1 == w1 && s.w2 == w2 {
			if n <= fastExact {
				return r
			}
			// A call here would make the compiler spill the loop's
			// registers on every tick; the rare long name pays it instead.
			return t.getLong(name, h, i)
		}
	}
	return nil
}

// getLong finishes get for a name longer than fastExact whose words match
// those of the slot probed at step i: the strings decide.
//
//go:noinline
func (t *fastTable) getLong(name string, h, i uint64) *row {
	for ; i < fastProbes; i++ {
		s := &t.slots[(h+i)&t.mask]
		r := s.row.Load()
		if r == nil {
			return nil
		}
		if s.name == name {
			return r
		}
	}
	return nil
}

// fastLoad returns how many slots a table for n names has per name: one in
// eight for a few names, so that a seed placing each in its home slot is
// likely among the first few tried (for the 16 known names, each seed has a
// 39% chance); one in four for more, so that linear probing places nearly
// every name within fastProbes slots.
func fastLoad(n int) int {
	if n > fastPerfectMax {
		return 4
	}
	return 8
}

// add places name in t, or leaves it to the map, and reports whether t can
// stay; false means the caller must build a new table. That is when t is too
// full for n names in all (the count after the insert), and, for at most
// fastPerfectMax names, when the name would not land in its home slot. For
// more names, a name with no free slot within fastProbes is left to the map
// rather than rebuilding: at this load that happens to names that hash
// alike, which a new seed would not separate, and rebuilding for each of
// them would let a stream of such names cost a table per name. It must be
// called under the table's mutex, and name must not be in t.
func (t *fastTable) add(name string, r *row, n int) bool {
	if &t.slots[0] == &emptyFast.slots[0] || n*fastLoad(n) > len(t.slots) {
		return false
	}
	w0, w1, w2 := fastWords(name)
	h := t.home(w0, w1, w2, len(name))
	for p := uint64(0); p < fastProbes; p++ {
		if p > 0 && n <= fastPerfectMax {
			return false
		}
		s := &t.slots[(h+p)&t.mask]
		if s.row.Load() == nil {
			s.w0, s.w1, s.w2, s.n, s.name = w0, w1, w2, len(name), name
			s.row.Store(r) // last: it publishes the slot
			return true
		}
	}
	return n > fastPerfectMax
}

// buildFast returns a new table holding as many of entries as fit within
// fastProbes probes: all of them unless many names hash alike. It tries up
// to fastSeeds seeds and keeps the one that places the most names, then the
// one with the fewest displaced from their home slot. It stops at the first
// seed that places every name, in its home slot if there are at most
// fastPerfectMax names: for more, a seed with no displaced name is unlikely
// to exist and the search would cost more than a displaced hit saves (one
// more slot, usually a length comparison). The table is sized for twice as
// many names, so that add can fill it before the next rebuild.
func buildFast(entries []entry) fastTable {
	if len(entries) == 0 {
		return emptyFast
	}
	k := uint8(4)
	for 1<<k < 2*len(entries)*fastLoad(2*len(entries)) {
		k++
	}
	size := 1 << k
	type prepared struct {
		w0, w1, w2 uint64
		e          entry
	}
	tmpl := make([]prepared, len(entries))
	for i, e := range entries {
		w0, w1, w2 := fastWords(e.name)
		tmpl[i] = prepared{w0, w1, w2, e}
	}
	// Two tables, the best so far and the one being tried, swapped when the
	// latter wins; the second is allocated only if the first seed fails.
	var best, cur *fastTable
	bestPlaced, bestDisplaced := -1, 0
	for attempt := range fastSeeds {
		if cur == nil {
			cur = &fastTable{slots: make([]fastSlot, size), mask: uint64(size - 1), shift: 64 - k}
		} else {
			clear(cur.slots)
		}
		// Multiples of a large odd constant, so that seeds differ in many bits.
		cur.seed = uint64(attempt) * 0x94D049BB133111EB
		placed, displaced := 0, 0
		for i := range tmpl {
			e := &tmpl[i]
			h := cur.home(e.w0, e.w1, e.w2, len(e.e.name))
			for p := uint64(0); p < fastProbes; p++ {
				s := &cur.slots[(h+p)&cur.mask]
				if s.row.Load() == nil {
					s.w0, s.w1, s.w2, s.n, s.name = e.w0, e.w1, e.w2, len(e.e.name), e.e.name
					s.row.Store(e.e.row)
					placed++
					if p > 0 {
						displaced++
					}
					break
				}
			}
		}
		if placed > bestPlaced || (placed == bestPlaced && displaced < bestDisplaced) {
			best, cur = cur, best
			bestPlaced, bestDisplaced = placed, displaced
		}
		if bestPlaced == len(entries) && (bestDisplaced == 0 || len(entries) > fastPerfectMax) {
			break
		}
	}
	return *best
}
