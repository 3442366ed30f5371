package counters

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// checkFastIndex fails the test unless the fast table of dc's current index
// answers every stored name with that name's row or nil (a miss, which the
// map then answers), for the stored string and for a copy of it at another
// address, and unless it holds no name the map does not. It returns how
// many stored names the fast table holds.
func checkFastIndex(t *testing.T, dc *DeployCounters) int {
	t.Helper()
	x := dc.load()
	held := 0
	for _, e := range x.sorted {
		for _, name := range []string{e.name, strings.Clone(e.name)} {
			switch r := x.fast.get(name); r {
			case nil:
			case e.row:
				held++
			default:
				t.Fatalf("fast lookup of %q returned another name's row", name)
			}
		}
	}
	for i := range x.fast.slots {
		s := &x.fast.slots[i]
		if r := s.row.Load(); r != nil && x.byName[s.name] != r {
			t.Fatalf("fast table holds %q, which the map does not map to the same row", s.name)
		}
	}
	return held / 2
}

// collidingNames returns n distinct names of length 40 that agree in every
// byte fastWords reads (the first, middle and last eight), so they all have the
// same key and home slot whatever the seed.
func collidingNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		b := []byte("AAAAAAAA........BBBBBBBB........CCCCCCCC")
		d := fmt.Sprintf("%016d", i) // the other 16 bytes spell i
		j := 0
		for p := range b {
			if b[p] == '.' {
				if j < len(d) {
					b[p] = d[j]
				} else {
					b[p] = 'x'
				}
				j++
			}
		}
		names[i] = string(b)
	}
	return names
}

func TestCollidingNamesAreAdversarial(t *testing.T) {
	names := collidingNames(40)
	seen := map[string]bool{}
	for _, n := range names {
		a0, a1, a2 := fastWords(n)
		b0, b1, b2 := fastWords(names[0])
		if a0 != b0 || a1 != b1 || a2 != b2 {
			t.Fatalf("fastWords(%q) differs from fastWords(%q); the generator no longer matches fastWords", n, names[0])
		}
		if seen[n] {
			t.Fatalf("duplicate name %q", n)
		}
		seen[n] = true
	}
}

// TestFastIndexEveryLength stores names of every length up to the default
// limit, so every branch of fastWords (and of its copy in get) is taken, and
// checks that the fast table finds each one.
func TestFastIndexEveryLength(t *testing.T) {
	dc := NewDeployCounters()
	for n := 1; n <= DefaultMaxTargetTypeLen; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('a' + (i*7+n)%26)
		}
		dc.IncAttemptSuccess(string(b))
	}
	if held := checkFastIndex(t, dc); held != DefaultMaxTargetTypeLen {
		t.Errorf("fast table holds %d of %d names", held, DefaultMaxTargetTypeLen)
	}
}

func TestFastIndexHoldsTheKnownTargetTypes(t *testing.T) {
	dc := NewDeployCounters()
	for _, tt := range KnownTargetTypes() {
		dc.Bind(tt)
	}
	if held := checkFastIndex(t, dc); held != len(KnownTargetTypes()) {
		t.Errorf("fast table holds %d of the %d known target types", held, len(KnownTargetTypes()))
	}
	// The rebuild looks for a seed that puts each of so few names in its
	// home slot, so every known name is found at the first probe.
	x := dc.load()
	for _, tt := range KnownTargetTypes() {
		w0, w1, w2 := fastWords(tt)
		if s := &x.fast.slots[x.fast.home(w0, w1, w2, len(tt))]; s.name != tt {
			t.Errorf("%q is not in its home slot (found %q there)", tt, s.name)
		}
	}
}

// TestFastIndexCollisions ticks names that all share their fastWords, each a
// different number of times, and checks that every tick reached its own
// name's row: a lookup that confused two of them would move counts.
func TestFastIndexCollisions(t *testing.T) {
	names := collidingNames(40)
	names = append(names, KnownTargetTypes()...)
	dc := NewDeployCounters()
	for i, name := range names {
		for range i + 1 {
			dc.IncAttemptSuccess(name)
		}
		checkFastIndex(t, dc)
	}
	held := checkFastIndex(t, dc)
	// Only fastProbes of the colliding names fit in their shared probe
	// sequence; the rest are found through the map.
	if held > len(KnownTargetTypes())+fastProbes {
		t.Errorf("fast table holds %d names; at most %d colliding ones should fit", held, fastProbes)
	}
	for i, name := range names {
		// A copy, so the comparison is by content, not by pointer.
		dc.IncAttemptFailure(strings.Clone(name))
		for range i {
			dc.Record(name, OutcomeSkipped)
		}
	}
	got := dc.Snapshot()
	if len(got) != len(names) {
		t.Fatalf("%d rows, want %d", len(got), len(names))
	}
	for _, s := range got {
		i := indexOf(names, s.TargetType)
		want := DeploySnapshot{TargetType: s.TargetType, AttemptsSuccess: uint64(i + 1), AttemptsFailure: 1, IdempotentSkips: uint64(i)}
		if i < 0 || s != want {
			t.Errorf("got %+v, want %+v", s, want)
		}
	}
	if dc.Folded() != 0 {
		t.Errorf("Folded() = %d, want 0", dc.Folded())
	}
}

func indexOf(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}

// TestFastIndexMissesAbsentNames looks up names the table does not hold but
// that share their words, and so their home slot, with names it does: each must miss
// (and be added as a row of its own), never hit a neighbour.
func TestFastIndexMissesAbsentNames(t *testing.T) {
	names := collidingNames(8)
	dc := NewDeployCounters()
	dc.IncAttemptSuccess(names[0])
	dc.IncAttemptSuccess(names[1])
	x := dc.load()
	for _, absent := range names[2:] {
		if r := x.fast.get(absent); r != nil {
			t.Fatalf("fast lookup of absent %q returned a row", absent)
		}
	}
	// Same length and words as the stored names, differing in a byte fastWords
	// does not read; and differing in one it does.
	for _, absent := range []string{names[0][:8] + "z" + names[0][9:], names[0][:39] + "z"} {
		if r := x.fast.get(absent); r != nil {
			t.Fatalf("fast lookup of absent %q returned a row", absent)
		}
	}
	// Names that need normalising are never stored, so they must miss too
	// and take the slow path (which counts them under their normal form).
	dc.IncAttemptSuccess("bad\x00name")
	if r := dc.load().fast.get("bad\x00name"); r != nil {
		t.Fatalf("fast lookup of an unnormalised name returned a row")
	}
	dc.IncAttemptSuccess("bad\x00name")
	if s := dc.Snapshot(); s[len(s)-1] != (DeploySnapshot{TargetType: "bad\uFFFDname", AttemptsSuccess: 2}) {
		t.Errorf("unnormalised name counted as %+v", s[len(s)-1])
	}
}

// TestFastIndexUpToTheCap fills the table to the default cap and past it:
// every admitted name keeps its own row through the fast table, a name
// first seen after the cap is counted as folded on every tick (the fast
// table must not hold it), and the overflow row itself is found.
func TestFastIndexUpToTheCap(t *testing.T) {
	dc := NewDeployCounters()
	names := make([]string, DefaultMaxTargetTypes)
	for i := range names {
		names[i] = "target-" + strconv.Itoa(i)
		dc.IncAttemptSuccess(names[i])
	}
	if held := checkFastIndex(t, dc); held != len(names) {
		t.Errorf("fast table holds %d of %d names", held, len(names))
	}
	for range 3 {
		dc.IncAttemptSuccess("late")
	}
	dc.IncAttemptSuccess(OverflowTargetType) // a direct use: not folded
	if got := dc.Folded(); got != 3 {
		t.Errorf("Folded() = %d after three folded ticks, want 3", got)
	}
	checkFastIndex(t, dc)
	if r := dc.load().fast.get("late"); r != nil {
		t.Errorf("the fast table holds a folded name")
	}
	for i, name := range names {
		if i%7 == 0 {
			dc.IncAttemptFailure(name)
		}
	}
	snaps := dc.Snapshot()
	if len(snaps) != len(names)+1 {
		t.Fatalf("%d rows, want %d", len(snaps), len(names)+1)
	}
	for _, s := range snaps {
		if s.TargetType == OverflowTargetType {
			if s.AttemptsSuccess != 4 {
				t.Errorf("overflow row %+v, want AttemptsSuccess 4", s)
			}
			continue
		}
		i, err := strconv.Atoi(strings.TrimPrefix(s.TargetType, "target-"))
		want := DeploySnapshot{TargetType: s.TargetType, AttemptsSuccess: 1}
		if i%7 == 0 {
			want.AttemptsFailure = 1
		}
		if err != nil || s != want {
			t.Errorf("got %+v, want %+v", s, want)
		}
	}
}

// TestFastIndexConcurrentInserts ticks a fixed set of names from several
// goroutines while another keeps adding names (each insert rebuilds the fast
// table), then checks that no tick was lost or misplaced. Run it with -race.
func TestFastIndexConcurrentInserts(t *testing.T) {
	const (
		tickers   = 4
		perTicker = 20_000
		inserts   = 300
	)
	fixed := append(KnownTargetTypes(), collidingNames(12)...)
	dc := NewDeployCounters()
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range inserts {
			dc.Record("new-"+strconv.Itoa(i), OutcomeSucceeded)
			if i%3 == 0 {
				dc.Record(collidingNames(12 + i/3 + 1)[12+i/3], OutcomeSucceeded)
			}
		}
	})
	for g := range tickers {
		wg.Go(func() {
			for i := range perTicker {
				dc.IncAttemptFailure(fixed[(g+i)%len(fixed)])
			}
		})
	}
	wg.Wait()
	want := make([]uint64, len(fixed))
	for g := range tickers {
		for i := range perTicker {
			want[(g+i)%len(fixed)]++
		}
	}
	var total uint64
	for _, s := range dc.Snapshot() {
		switch i := indexOf(fixed, s.TargetType); {
		case i >= 0:
			total += s.AttemptsFailure
			if s.AttemptsSuccess != 0 || s.AttemptsFailure != want[i] {
				t.Errorf("%q: %+v, want AttemptsFailure %d and nothing else", s.TargetType, s, want[i])
			}
		case s.AttemptsSuccess != 1 || s.AttemptsFailure != 0:
			t.Errorf("inserted name %q: %+v, want one success", s.TargetType, s)
		}
	}
	if total != tickers*perTicker {
		t.Errorf("%d ticks counted, want %d", total, tickers*perTicker)
	}
	checkFastIndex(t, dc)
}

// TestFastIndexSharedTable checks what sharing the fast table between
// indexes implies: an index taken early still answers every name correctly
// (its own and, through the shared table, some added later), and filling the
// table to the cap rebuilds it a few times, not once per name.
func TestFastIndexSharedTable(t *testing.T) {
	dc := NewDeployCounters()
	for _, tt := range KnownTargetTypes() {
		dc.Bind(tt)
	}
	early := dc.load()
	rebuilds := 0
	prev := &early.fast.slots[0]
	for i := range DefaultMaxTargetTypes - len(KnownTargetTypes()) {
		dc.IncAttemptSuccess("target-" + strconv.Itoa(i))
		if f := &dc.load().fast.slots[0]; f != prev {
			rebuilds++
			prev = f
		}
	}
	if rebuilds > 30 {
		t.Errorf("the fast table was rebuilt %d times while adding %d names; it should grow by doubling", rebuilds, DefaultMaxTargetTypes-len(KnownTargetTypes()))
	}
	late := dc.load()
	for _, e := range late.sorted {
		switch r := early.fast.get(e.name); r {
		case nil, e.row:
		default:
			t.Fatalf("the early index's fast table returned another name's row for %q", e.name)
		}
	}
	for _, tt := range KnownTargetTypes() {
		if early.fast.get(tt) != late.byName[tt] {
			t.Errorf("the early index's fast table lost %q", tt)
		}
	}
	if held := checkFastIndex(t, dc); held != len(late.sorted) {
		t.Errorf("fast table holds %d of %d names", held, len(late.sorted))
	}
}

// TestFastIndexCollidingStream adds many names that all hash alike after
// enough ordinary ones that the table no longer seeks home slots: each of
// them must keep its own count, and they must not make the table be rebuilt
// once per name (a new seed cannot separate them).
func TestFastIndexCollidingStream(t *testing.T) {
	dc := NewDeployCounters()
	for i := range fastPerfectMax + 1 {
		dc.IncAttemptSuccess("ordinary-" + strconv.Itoa(i))
	}
	colliding := collidingNames(300)
	rebuilds := 0
	prev := &dc.load().fast.slots[0]
	for i, name := range colliding {
		for range i%5 + 1 {
			dc.IncAttemptFailure(name)
		}
		if f := &dc.load().fast.slots[0]; f != prev {
			rebuilds++
			prev = f
		}
	}
	if rebuilds > 10 {
		t.Errorf("%d rebuilds while adding %d colliding names", rebuilds, len(colliding))
	}
	checkFastIndex(t, dc)
	for _, s := range dc.Snapshot() {
		if i := indexOf(colliding, s.TargetType); i >= 0 && s != (DeploySnapshot{TargetType: s.TargetType, AttemptsFailure: uint64(i%5 + 1)}) {
			t.Errorf("%q: %+v, want AttemptsFailure %d", s.TargetType, s, i%5+1)
		}
	}
}
