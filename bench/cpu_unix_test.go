//go:build unix

package bench

import (
	"syscall"
	"testing"
	"time"
)

// cpuClock reads the CPU time (user+system) the process has used so far.
// Benchmarks report it per operation as cpu-ns/op beside ns/op: on a machine
// shared with other work, wall time per op grows whenever the benchmark is
// descheduled, CPU time much less, so the two together tell noise from cost.
// With several goroutines, cpu-ns/op adds up the CPU of all of them.
type cpuClock struct {
	start time.Duration
	ok    bool
}

func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}

func startCPU() cpuClock {
	d, ok := processCPU()
	return cpuClock{start: d, ok: ok}
}

// report adds cpu-ns/op to b's results; call it right after the timed loop.
func (c cpuClock) report(b *testing.B) {
	end, ok := processCPU()
	if !c.ok || !ok || b.N == 0 {
		return
	}
	b.ReportMetric(float64(end-c.start)/float64(b.N), "cpu-ns/op")
}
