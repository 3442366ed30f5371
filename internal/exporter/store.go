package exporter

import (
	"container/list"
	"sync"
	"time"
	"unsafe"

	"github.com/deploymetrics/deploymetrics/conformance/check"
)

// StoreLimits bound the cross-probe memory: the previous exposition of
// each (target, module, accept), kept so that the next probe is judged
// against it (the scrape.* rules). Zero fields take the defaults.
type StoreLimits struct {
	// MaxEntries bounds how many expositions are kept. Default
	// DefaultStoreEntries.
	MaxEntries int
	// MaxBytes bounds their estimated memory (body and parsed model).
	// Default DefaultStoreBytes.
	MaxBytes int64
	// TTL is how long an exposition is kept after its probe: a target
	// probed less often than that is judged without a previous exposition.
	// Default DefaultStoreTTL.
	TTL time.Duration
}

// Defaults of StoreLimits: room for a fleet of ten thousand targets of
// small expositions, or fewer large ones; the oldest go first.
const (
	DefaultStoreEntries = 10_000
	DefaultStoreBytes   = 256 << 20
	DefaultStoreTTL     = 10 * time.Minute
)

func (l StoreLimits) withDefaults() StoreLimits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultStoreEntries
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultStoreBytes
	}
	if l.TTL <= 0 {
		l.TTL = DefaultStoreTTL
	}
	return l
}

// store is the bounded cross-probe memory. Entries are kept in the order
// they were stored, oldest at the back, so that both the capacity bound
// and expiry remove from the back: each costs O(1) per entry removed.
type store struct {
	limits StoreLimits
	now    func() time.Time

	mu      sync.Mutex
	byKey   map[string]*list.Element // of *storeEntry
	order   list.List                // front: most recently stored
	bytes   int64
	evicted [2]uint64 // by evictCapacity, evictExpired
}

// Why entries leave the store before being replaced.
const (
	evictCapacity = iota
	evictExpired
)

type storeEntry struct {
	key     string
	exp     *check.Exposition
	scraped time.Time // when the scrape that produced exp started
	stored  time.Time
	size    int64
}

func newStore(limits StoreLimits, now func() time.Time) *store {
	return &store{limits: limits.withDefaults(), now: now, byKey: make(map[string]*list.Element)}
}

// get returns the previous exposition stored under key, and when its
// scrape started; nil when there is none or it has expired.
func (s *store) get(key string) (*check.Exposition, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	el := s.byKey[key]
	if el == nil {
		return nil, time.Time{}
	}
	e := el.Value.(*storeEntry)
	return e.exp, e.scraped
}

// put stores exp under key unless the store holds one from a later
// scrape. Two probes of one target can overlap (two Prometheus servers of
// an HA pair probe through one exporter) and finish in either order; the
// store keeps the later scrape, so the next probe is never judged against
// an older exposition than one already judged (which would read a counter
// that went up as one that went down). An exposition larger than the whole
// store is not kept, and the one it replaces is dropped.
func (s *store) put(key string, exp *check.Exposition, scraped time.Time) {
	size := expositionBytes(exp) + int64(len(key))
	s.mu.Lock()
	defer s.mu.Unlock()
	if el := s.byKey[key]; el != nil {
		if el.Value.(*storeEntry).scraped.After(scraped) {
			return
		}
		s.remove(el)
	}
	if size > s.limits.MaxBytes {
		s.evicted[evictCapacity]++
		return
	}
	now := s.now()
	s.byKey[key] = s.order.PushFront(&storeEntry{key: key, exp: exp, scraped: scraped, stored: now, size: size})
	s.bytes += size
	s.expire()
	for s.order.Len() > s.limits.MaxEntries || s.bytes > s.limits.MaxBytes {
		s.remove(s.order.Back())
		s.evicted[evictCapacity]++
	}
}

// expire drops the entries stored longer than the TTL ago. s.mu is held.
func (s *store) expire() {
	deadline := s.now().Add(-s.limits.TTL)
	for el := s.order.Back(); el != nil; el = s.order.Back() {
		if el.Value.(*storeEntry).stored.After(deadline) {
			return
		}
		s.remove(el)
		s.evicted[evictExpired]++
	}
}

func (s *store) remove(el *list.Element) {
	e := s.order.Remove(el).(*storeEntry)
	delete(s.byKey, e.key)
	s.bytes -= e.size
}

// storeStats is what /metrics reports of the store.
type storeStats struct {
	entries int
	bytes   int64
	evicted [2]uint64
}

func (s *store) stats() storeStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	return storeStats{entries: s.order.Len(), bytes: s.bytes, evicted: s.evicted}
}

// Sizes of the model's parts, for expositionBytes.
const (
	sizeofSample   = int64(unsafe.Sizeof(check.Sample{}))
	sizeofLabel    = int64(unsafe.Sizeof(check.Label{}))
	sizeofFamily   = int64(unsafe.Sizeof(check.Family{}))
	sizeofPointer  = int64(unsafe.Sizeof(uintptr(0)))
	sizeofEntry    = int64(unsafe.Sizeof(storeEntry{}) + unsafe.Sizeof(list.Element{}))
	mapEntryBytes  = 48 // a map slot with its key string header, pointer and overhead
	sizeofExpoBase = int64(unsafe.Sizeof(check.Exposition{}))
)

// expositionBytes estimates the memory an exposition holds: its body (by
// capacity, as the scraper's buffer may be larger), the samples, their
// labels and the families, and the line index the engine may build (one
// int per line). Strings of the model are views of the body (package
// check says so), so they cost nothing beyond it; a label value with an
// escape is the exception, rare enough to leave out. The store's tests
// hold the estimate against the heap the exposition really retains
// (TestExpositionBytesEstimate).
func expositionBytes(e *check.Exposition) int64 {
	if e == nil {
		return sizeofEntry
	}
	model := int64(cap(e.Samples)) * sizeofPointer
	model += int64(len(e.Samples)) * sizeofSample
	for _, s := range e.Samples {
		model += int64(len(s.Labels)) * sizeofLabel
	}
	model += int64(len(e.Families)) * (sizeofFamily + sizeofPointer + mapEntryBytes)
	model += int64(e.Lines()) * sizeofPointer
	// The engine cuts samples and labels from chunks it sizes ahead, which
	// end partly unused: an eighth more covers what the test measures.
	model += model / 8
	return sizeofEntry + sizeofExpoBase + int64(cap(e.Body)) + model
}
