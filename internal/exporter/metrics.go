package exporter

import (
	"slices"
	"sync"
	"time"
)

// Probe results, the values of the result label of
// promcheck_exporter_probes_total: as promcheck check's exit statuses.
const (
	resultConforms   = "conforms"   // every scrape checked and passed
	resultViolations = "violations" // checked, and the check failed
	resultError      = "error"      // a scrape could not be checked
)

var probeResults = [...]string{resultConforms, resultViolations, resultError}

// resultOf classifies a probe for promcheck_exporter_probes_total.
func resultOf(rec *probeRecord) int {
	switch {
	case rec.Success:
		return 0
	case rec.Checked:
		return 1
	}
	return 2
}

// selfMetrics are the exporter's own counters. Gauges (in flight, store
// size) are read from their owners when /metrics is written.
//
// Every series is written from the start at 0 and never disappears: the
// probes of a module stay after a reload removes the module, so that no
// counter vanishes or goes back (a check of /metrics across scrapes, such
// as promcheck check --scrapes 2, would rightly flag it).
type selfMetrics struct {
	mu         sync.Mutex
	probes     map[string]*[len(probeResults)]uint64 // by module
	rejections map[string]uint64                     // by reason
	reloads    [2]uint64                             // success, failure
	// lastReloadOK and lastReloadSuccess describe the last load of the
	// config (the first load counts as a successful one).
	lastReloadOK      bool
	lastReloadSuccess time.Time
}

func newSelfMetrics(now time.Time) *selfMetrics {
	m := &selfMetrics{probes: map[string]*[len(probeResults)]uint64{}, rejections: map[string]uint64{},
		lastReloadOK: true, lastReloadSuccess: now}
	for _, r := range rejectionReasons {
		m.rejections[r] = 0
	}
	return m
}

// addModules makes sure every module of a config has its series.
func (m *selfMetrics) addModules(names []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range names {
		if m.probes[n] == nil {
			m.probes[n] = new([len(probeResults)]uint64)
		}
	}
}

func (m *selfMetrics) probed(module string, result int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.probes[module]
	if c == nil {
		c = new([len(probeResults)]uint64)
		m.probes[module] = c
	}
	c[result]++
}

func (m *selfMetrics) rejected(reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rejections[reason]++
}

func (m *selfMetrics) reloaded(ok bool, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lastReloadOK = ok
	if ok {
		m.reloads[0]++
		m.lastReloadSuccess = now
	} else {
		m.reloads[1]++
	}
}

// gaugeReadings are the values /metrics reads from the exporter's parts.
type gaugeReadings struct {
	inFlight, maxInFlight int
	store                 storeStats
	limits                StoreLimits
	historyLen            int
	version               string
}

// HELP texts of the exporter's own families.
const (
	helpBuildInfo     = "The promcheck exporter's version."
	helpProbes        = "Probes answered, by module and result: conforms, violations (checked and failed), error (could not be checked)."
	helpRejections    = "Probe requests refused before probing, by reason: 400 for a bad request, 503 (overloaded) beyond the concurrency limit."
	helpInFlight      = "Probes running now."
	helpMaxInFlight   = "Probes that may run at once; requests beyond it are refused with 503."
	helpStoreEntries  = "Previous expositions kept for the cross-probe (scrape.*) rules."
	helpStoreBytes    = "Estimated memory of the previous expositions kept, in bytes."
	helpStoreMaxEnt   = "Bound on the previous expositions kept."
	helpStoreMaxBytes = "Bound on the memory of the previous expositions kept, in bytes."
	helpStoreEvicted  = "Previous expositions dropped before their next probe, by reason: capacity (entries or bytes) or expired."
	helpReloads       = "Configuration reloads (SIGHUP or POST /-/reload), by result."
	helpReloadOK      = "Whether the last configuration reload succeeded."
	helpReloadTime    = "When the configuration was last loaded successfully, in seconds since the Unix epoch."
	helpHistory       = "Probes kept for the status page."
)

// write writes the exporter's own metrics, families sorted by name.
func (m *selfMetrics) write(w *expoWriter, g gaugeReadings) {
	m.mu.Lock()
	defer m.mu.Unlock()

	w.family("promcheck_exporter_build", info, helpBuildInfo)
	w.sample("promcheck_exporter_build", info, 1, "version", g.version)

	w.family("promcheck_exporter_config_last_reload_success_timestamp_seconds", gauge, helpReloadTime)
	w.sample("promcheck_exporter_config_last_reload_success_timestamp_seconds", gauge, float64(m.lastReloadSuccess.Unix()))
	w.family("promcheck_exporter_config_last_reload_successful", gauge, helpReloadOK)
	w.sample("promcheck_exporter_config_last_reload_successful", gauge, b2f(m.lastReloadOK))
	w.family("promcheck_exporter_config_reloads", counter, helpReloads)
	w.sample("promcheck_exporter_config_reloads", counter, float64(m.reloads[1]), "result", "failure")
	w.sample("promcheck_exporter_config_reloads", counter, float64(m.reloads[0]), "result", "success")

	w.family("promcheck_exporter_history_probes", gauge, helpHistory)
	w.sample("promcheck_exporter_history_probes", gauge, float64(g.historyLen))

	w.family("promcheck_exporter_probe_rejections", counter, helpRejections)
	for _, r := range rejectionReasons {
		w.sample("promcheck_exporter_probe_rejections", counter, float64(m.rejections[r]), "reason", r)
	}

	w.family("promcheck_exporter_probes", counter, helpProbes)
	modules := make([]string, 0, len(m.probes))
	for name := range m.probes {
		modules = append(modules, name)
	}
	slices.Sort(modules)
	for _, name := range modules {
		for i, r := range probeResults {
			w.sample("promcheck_exporter_probes", counter, float64(m.probes[name][i]), "module", name, "result", r)
		}
	}
	w.family("promcheck_exporter_probes_in_flight", gauge, helpInFlight)
	w.sample("promcheck_exporter_probes_in_flight", gauge, float64(g.inFlight))
	w.family("promcheck_exporter_probes_max_in_flight", gauge, helpMaxInFlight)
	w.sample("promcheck_exporter_probes_max_in_flight", gauge, float64(g.maxInFlight))

	w.family("promcheck_exporter_store_bytes", gauge, helpStoreBytes)
	w.sample("promcheck_exporter_store_bytes", gauge, float64(g.store.bytes))
	w.family("promcheck_exporter_store_entries", gauge, helpStoreEntries)
	w.sample("promcheck_exporter_store_entries", gauge, float64(g.store.entries))
	w.family("promcheck_exporter_store_evictions", counter, helpStoreEvicted)
	w.sample("promcheck_exporter_store_evictions", counter, float64(g.store.evicted[evictCapacity]), "reason", "capacity")
	w.sample("promcheck_exporter_store_evictions", counter, float64(g.store.evicted[evictExpired]), "reason", "expired")
	w.family("promcheck_exporter_store_max_bytes", gauge, helpStoreMaxBytes)
	w.sample("promcheck_exporter_store_max_bytes", gauge, float64(g.limits.MaxBytes))
	w.family("promcheck_exporter_store_max_entries", gauge, helpStoreMaxEnt)
	w.sample("promcheck_exporter_store_max_entries", gauge, float64(g.limits.MaxEntries))
	w.end()
}
