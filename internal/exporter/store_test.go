package exporter

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
)

// fakeClock is a settable clock for the store's expiry.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// exposition parses a small text exposition whose body holds n.
func exposition(t *testing.T, n int) *check.Exposition {
	t.Helper()
	body := fmt.Appendf(nil, "# TYPE c_total counter\nc_total %d\n", n)
	return check.Check(check.Input{Body: body, ContentType: check.ContentTypeText}, check.Options{}).Exposition
}

// keys returns the keys the store holds, newest first.
func keys(s *store) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for el := s.order.Front(); el != nil; el = el.Next() {
		out = append(out, el.Value.(*storeEntry).key)
	}
	return out
}

func TestStoreBoundsEntries(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	s := newStore(StoreLimits{MaxEntries: 3}, clock.now)
	for i := range 5 {
		s.put(fmt.Sprint("k", i), exposition(t, i), clock.now())
		clock.advance(time.Second)
	}
	if got := fmt.Sprint(keys(s)); got != "[k4 k3 k2]" {
		t.Errorf("kept %s, want the newest three", got)
	}
	st := s.stats()
	if st.entries != 3 || st.evicted[evictCapacity] != 2 || st.evicted[evictExpired] != 0 {
		t.Errorf("stats %+v", st)
	}
	if e, _ := s.get("k0"); e != nil {
		t.Error("an evicted entry is still returned")
	}
	if e, _ := s.get("k4"); e == nil {
		t.Error("the newest entry is gone")
	}
}

func TestStoreBoundsBytes(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	one := expositionBytes(exposition(t, 1)) + 2 // the key "kN"
	s := newStore(StoreLimits{MaxBytes: 3*one + one/2}, clock.now)
	for i := range 6 {
		s.put(fmt.Sprint("k", i), exposition(t, i), clock.now())
		if st := s.stats(); st.bytes > s.limits.MaxBytes {
			t.Fatalf("after %d puts the store holds %d bytes, over its bound %d", i+1, st.bytes, s.limits.MaxBytes)
		}
	}
	if got := fmt.Sprint(keys(s)); got != "[k5 k4 k3]" {
		t.Errorf("kept %s, want the newest three", got)
	}
	// An exposition larger than the whole store is not kept, and the one it
	// replaces is dropped: the next probe is judged alone rather than
	// against an older scrape.
	big := check.Check(check.Input{Body: bytes.Repeat([]byte("# comment\n"), 1000)}, check.Options{}).Exposition
	s.put("k5", big, clock.now())
	if e, _ := s.get("k5"); e != nil {
		t.Error("an exposition larger than the store was kept")
	}
	if got := fmt.Sprint(keys(s)); got != "[k4 k3]" {
		t.Errorf("kept %s", got)
	}
}

func TestStoreExpires(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	s := newStore(StoreLimits{TTL: time.Minute}, clock.now)
	s.put("old", exposition(t, 1), clock.now())
	clock.advance(40 * time.Second)
	s.put("new", exposition(t, 2), clock.now())
	clock.advance(30 * time.Second)
	if e, _ := s.get("old"); e != nil {
		t.Error("an entry 70s old is returned with a TTL of 1m")
	}
	if e, _ := s.get("new"); e == nil {
		t.Error("an entry 30s old expired with a TTL of 1m")
	}
	st := s.stats()
	if st.entries != 1 || st.evicted[evictExpired] != 1 {
		t.Errorf("stats %+v", st)
	}
	clock.advance(time.Minute)
	if st := s.stats(); st.entries != 0 || st.bytes != 0 {
		t.Errorf("after the TTL: %+v", st)
	}
}

// Overlapping probes of one target finish in either order; the store keeps
// the later scrape.
func TestStoreKeepsTheLaterScrape(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	s := newStore(StoreLimits{}, clock.now)
	early, late := exposition(t, 1), exposition(t, 2)
	t0 := clock.now()
	s.put("k", late, t0.Add(time.Second)) // the later probe finished first
	s.put("k", early, t0)
	if e, scraped := s.get("k"); e != late || !scraped.Equal(t0.Add(time.Second)) {
		t.Errorf("the store kept the earlier scrape (%v)", scraped)
	}
	s.put("k", early, t0.Add(2*time.Second))
	if e, _ := s.get("k"); e != early {
		t.Error("a newer scrape did not replace the entry")
	}
	if st := s.stats(); st.entries != 1 || st.bytes != expositionBytes(early)+1 {
		t.Errorf("stats %+v: replacing must not leak bytes", st)
	}
}

// expositionBytes is what bounds the store's memory, so it must not fall
// short of what an exposition really keeps on the heap: measured here on
// reference expositions of 1,000 series held as the store holds them.
func TestExpositionBytesEstimate(t *testing.T) {
	snaps := make([]counters.DeploySnapshot, 125)
	for i := range snaps {
		snaps[i] = counters.DeploySnapshot{TargetType: fmt.Sprintf("Target-%04d", i), AttemptsSuccess: uint64(i), AttemptsFailure: 3,
			ValidateFailures: 1, ReloadFailures: 1, PostVerifyFails: 1, RollbackRestored: 1, RollbackAlsoFail: 1, IdempotentSkips: 7}
	}
	for _, f := range []struct {
		name        string
		body        []byte
		contentType string
	}{
		{"text", handler.AppendText(nil, "certctl", snaps), check.ContentTypeText},
		{"openmetrics", handler.AppendOpenMetrics(nil, "certctl", snaps), check.ContentTypeOpenMetrics},
	} {
		t.Run(f.name, func(t *testing.T) {
			const n = 40
			kept := make([]*check.Exposition, n)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			estimate := int64(0)
			for i := range kept {
				in := check.Input{Body: bytes.Clone(f.body), ContentType: f.contentType}
				r := check.Check(in, check.NewOptions())
				if len(r.Exposition.Samples) != 1000 || r.Failed() {
					t.Fatalf("the reference exposition: %d samples, %s", len(r.Exposition.Samples), r)
				}
				kept[i] = r.Exposition
				estimate += expositionBytes(r.Exposition) - sizeofEntry
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			retained := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			runtime.KeepAlive(kept)
			ratio := float64(retained) / float64(estimate)
			t.Logf("%s: %d expositions retain %d bytes, estimated %d (ratio %.2f)", f.name, n, retained, estimate, ratio)
			// Under the estimate would let the store exceed its bound; far
			// over it would waste the bound.
			if ratio > 1.1 || ratio < 0.5 {
				t.Errorf("retained/estimated = %.2f, want between 0.5 and 1.1", ratio)
			}
		})
	}
}
