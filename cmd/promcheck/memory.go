package main

import (
	"math"
	"os"
	"runtime/debug"
)

// Memory: a check holds, per target in flight (--parallel of them), the
// body being judged, its parsed model and, when successive scrapes are
// compared, the previous exposition of each --accept; reports hold findings
// only (scrapeResult). So the memory a run needs grows with --max-bytes
// and --parallel, not with the size of the fleet.
//
// The Go runtime would still let the heap grow to twice what was live at
// its last collection, and the garbage of finished targets is most of
// that: a fleet of 1e6-series targets at --parallel 2 peaked near 1 GB for
// 450 MB live. A soft memory limit from the flags makes the collector run
// before that, for a few per cent more CPU.

// modelBytesPerBodyByte is the memory a body and its parsed model take
// together, per byte of body: measured 193 MB for a 41 MB text
// exposition of 1e6 series with two labels (check.Check's Exposition is
// about 3.7 times its body). Expositions of very short lines cost more
// per byte; the limit is soft, so the collector then works harder rather
// than failing (and minMemoryLimit keeps it from working without pause).
const modelBytesPerBodyByte = 5

// memoryBase is what promcheck needs besides the expositions: the
// runtime, the HTTP client, the engine's tables, the findings.
const memoryBase = 64 << 20

// minMemoryLimit is the least limit set. Below it the collector is left
// to its default pacing: an exposition of very short lines costs more
// than modelBytesPerBodyByte (3e6 lines of "a 1", 12 MB, parse to about
// 290 MB), and a limit under what is live makes the collector run
// without pause, tripling the CPU time, to save memory nobody misses.
const minMemoryLimit = 512 << 20

// memoryLimit is the soft memory limit for a check: memoryBase plus, per
// target in flight (--parallel, or fewer when there are fewer targets),
// the expositions it holds at once at --max-bytes each.
func memoryLimit(p *plan) int64 {
	held := int64(1) // the exposition being judged
	if p.flags.scrapes > 1 {
		held += int64(len(p.accepts)) // the previous one of each --accept
	}
	if p.flags.sequence {
		held = 2
	}
	perTarget := float64(p.flags.maxBytes) * modelBytesPerBodyByte * float64(held)
	inFlight := min(p.flags.parallel, len(p.targets))
	limit := max(memoryBase+float64(inFlight)*perTarget, minMemoryLimit)
	return int64(min(limit, math.MaxInt64/2))
}

// setMemoryLimit sets the runtime's soft memory limit for the check,
// unless the user set one (GOMEMLIMIT), who knows the machine better.
func setMemoryLimit(p *plan) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(memoryLimit(p))
}
