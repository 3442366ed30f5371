package main

import (
	"strings"
	"testing"
)

const sample = `goos: linux
pkg: github.com/deploymetrics/deploymetrics/bench
BenchmarkTick/shape=same/impl=string         	 100	        10.0 ns/op	        9.0 cpu-ns/op	       0 B/op	       0 allocs/op
BenchmarkTick/shape=same/impl=string         	 100	        30.0 ns/op	        9.0 cpu-ns/op	       0 B/op	       0 allocs/op
BenchmarkTick/shape=same/impl=string         	 100	        12.0 ns/op	        9.0 cpu-ns/op	       0 B/op	       0 allocs/op
BenchmarkTick/shape=same/impl=string-2       	 100	        20.0 ns/op	       40.0 cpu-ns/op	       0 B/op	       0 allocs/op
BenchmarkTick/shape=same/impl=syncmap        	 100	        15.0 ns/op	       14.0 cpu-ns/op	       0 B/op	       0 allocs/op
BenchmarkTick/shape=same/impl=cg-vec         	 100	        96.0 ns/op	       90.0 cpu-ns/op	       0 B/op	       0 allocs/op
BenchmarkTick/shape=same/impl=atomic         	 100	         3.0 ns/op	        3.0 cpu-ns/op	       0 B/op	       0 allocs/op
--- FAIL: BenchmarkSomething
BenchmarkScrape/types=16/format=text/impl=handler-2     	 100	      1000 ns/op	       0 B/op	       1 allocs/op
BenchmarkScrape/types=16/format=text/impl=append-2      	 100	       900 ns/op	      12 B/op	       0 allocs/op
BenchmarkScrape/types=16/format=text/impl=append-2      	 100	       900 ns/op	       0 B/op	       0 allocs/op
PASS
ok  	github.com/deploymetrics/deploymetrics/bench	1.0s
`

func TestParseAndMedian(t *testing.T) {
	r, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		procs int
		unit  string
		want  float64
		ok    bool
	}{
		{"BenchmarkTick/shape=same/impl=string", 1, nsPerOp, 12, true}, // median of 10, 30, 12
		{"BenchmarkTick/shape=same/impl=string", 2, nsPerOp, 20, true},
		{"BenchmarkTick/shape=same/impl=string", 0, nsPerOp, 20, true}, // any procs: the highest
		{"BenchmarkTick/shape=same/impl=string", 1, cpuNsPerOp, 9, true},
		{"BenchmarkScrape/types=16/format=text/impl=handler", 0, allocsPerOp, 1, true},
		{"BenchmarkTick/shape=same/impl=bound", 1, nsPerOp, 0, false},
		{"BenchmarkSomething", 1, nsPerOp, 0, false},
	}
	for _, tc := range tests {
		got, ok := r.get(tc.name, tc.procs, tc.unit)
		if got != tc.want || ok != tc.ok {
			t.Errorf("get(%s, %d, %s) = %v, %v; want %v, %v", tc.name, tc.procs, tc.unit, got, ok, tc.want, tc.ok)
		}
	}
}

func TestMedianEven(t *testing.T) {
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median = %v, want 2.5", got)
	}
}

func TestSplitProcs(t *testing.T) {
	tests := []struct {
		in   string
		want key
	}{
		{"BenchmarkTick/impl=cg-vec", key{"BenchmarkTick/impl=cg-vec", 1}},
		{"BenchmarkTick/impl=cg-vec-2", key{"BenchmarkTick/impl=cg-vec", 2}},
		{"BenchmarkX-16", key{"BenchmarkX", 16}},
		{"BenchmarkX-0", key{"BenchmarkX-0", 1}},
	}
	for _, tc := range tests {
		if got := splitProcs(tc.in); got != tc.want {
			t.Errorf("splitProcs(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// reportOf returns the report, without race results, of the raw benchmark
// output in.
func reportOf(t *testing.T, in string) string {
	t.Helper()
	r, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	report(&b, r, nil)
	return b.String()
}

// TestReportVerdicts checks that the report judges targets from the numbers:
// 15/12 misses "syncmap ≥ 2× string", 96/12 meets "cg-vec ≥ 4× string", and
// one allocation per scrape misses the zero-allocation target.
func TestReportVerdicts(t *testing.T) {
	out := reportOf(t, sample)
	for _, want := range []string{
		"| same | 1 | 15.00 ns | 12.00 ns | 1.25× | **missed** | 1.56× | **missed** |",
		"| same | 1 | 96.00 ns | 12.00 ns | 8.00× | met | 10.00× | met |",
		"| 16 | text | 1 | **missed** | 0 of 1 | 0 | met | 1 of 2 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	// cpu/wall of the -cpu=1 tick runs: 9/10, 9/30, 9/12, 14/15, 90/96, 3/3;
	// median (0.9+14/15)/2.
	if want := "a median of 92% of the wall time (lowest run 30%, highest 100%)"; !strings.Contains(out, want) {
		t.Errorf("report lacks %q", want)
	}
	if strings.Contains(out, "Race detector") {
		t.Error("report has a race section without race results")
	}
}

// TestReportFloorAndSpread checks the two tables that keep the tick
// figures honest: the hardware floor (string ≥ atomic, so syncmap ÷ string
// ≤ syncmap ÷ atomic = 15/3, by CPU time 14/3) and the spread of the runs
// (string at -cpu=1 ran 10, 30 and 12 ns: the slowest is 2.5× the median,
// which misses ≤ 1.5, while its CPU time, 9 ns in every run, meets it; the
// CPUs in use are the median of 0.9, 0.3 and 0.75).
func TestReportFloorAndSpread(t *testing.T) {
	out := reportOf(t, sample)
	for _, want := range []string{
		"| same | 3.00 ns | 12.00 ns | 9.00 ns | 15.00 ns | 5.00× | 4.67× | 1.25× |",
		"Here the ceiling is 5.00×–5.00× against a target of ≥ 2, so the hardware leaves room for the target in every shape.",
		"| same | string | 1 | 3 | 12.00 ns | 10.00 ns | 30.00 ns | 2.50× | **missed** | 1.00× | met | 0.75 |",
		"| same | string | 2 | 1 | 20.00 ns | 20.00 ns | 20.00 ns | 1.00× | met | 1.00× | met | 2.00 |",
		"| same | atomic | 1 | 1 | 3.00 ns | 3.00 ns | 3.00 ns | 1.00× | met | 1.00× | met | 1.00 |",
		"Met in 2 of 3 rows by wall time, 3 of 3 by CPU time.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// TestReportFloorOutOfReach checks the other verdict: where the add alone
// costs more than half a syncmap tick (8 of 15 ns), syncmap ÷ string cannot
// reach 2, and the report says so.
func TestReportFloorOutOfReach(t *testing.T) {
	out := reportOf(t, strings.Replace(sample, "3.0 ns/op	        3.0 cpu-ns/op", "8.0 ns/op	        8.0 cpu-ns/op", 1))
	if want := "Here the ceiling is 1.88×–1.88× against a target of ≥ 2, so in at least one shape no design"; !strings.Contains(out, want) {
		t.Errorf("report lacks %q:\n%s", want, out)
	}
}

func TestReportRace(t *testing.T) {
	n, _ := parse(strings.NewReader(sample))
	raced, _ := parse(strings.NewReader(strings.ReplaceAll(sample, "1000 ns/op", "5000 ns/op")))
	var b strings.Builder
	report(&b, n, raced)
	if want := "| Scrape/types=16/format=text/impl=handler | 2 | 1.00 µs | 5.00 µs | 5.0× | n/a |"; !strings.Contains(b.String(), want) {
		t.Errorf("race report lacks %q:\n%s", want, b.String())
	}
}
