// Command ratios reads the raw output of the bench/ benchmarks (go test
// -bench, any -count) and prints, as Markdown, the ratios against the targets
// of the benchmarks' brief, and with -race the race detector's slowdown per
// benchmark. bench/run.sh calls it to write RESULTS.md:
//
//	go run ./bench/internal/ratios -normal normal.txt -race race.txt
//
// Every figure is the median of a benchmark's runs, and every ratio is taken
// between medians of the same file, i.e. of one run of run.sh: on a shared
// machine, ratios within one run are steadier than absolute times.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	normal := flag.String("normal", "", "raw benchmark output without the race detector (required)")
	race := flag.String("race", "", "raw benchmark output of the same benchmarks under -race (optional)")
	flag.Parse()
	if *normal == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: ratios -normal FILE [-race FILE]")
		os.Exit(2)
	}
	n, err := parseFile(*normal)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
	var r results
	if *race != "" {
		if r, err = parseFile(*race); err != nil {
			fmt.Fprintln(os.Stderr, "ratios:", err)
			os.Exit(1)
		}
	}
	w := bufio.NewWriter(os.Stdout)
	report(w, n, r)
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
}

// Units as the benchmarks report them.
const (
	nsPerOp     = "ns/op"
	cpuNsPerOp  = "cpu-ns/op"
	allocsPerOp = "allocs/op"
	bytesPerOp  = "B/op"
	nsPerSeries = "ns/series"
	ticksPerSec = "ticks/s"
	// probesPerSec is BenchmarkProbe's throughput.
	probesPerSec = "probes/s"
)

// key names one benchmark at one GOMAXPROCS.
type key struct {
	name  string // full name without the -N suffix
	procs int
}

// results holds every value reported, by benchmark and unit, in file order.
type results map[key]map[string][]float64

func parseFile(path string) (results, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// parse reads benchmark result lines ("BenchmarkX/a=b-2  100  12.5 ns/op  0
// B/op ...") and ignores everything else (headers, PASS, ok, logs).
func parse(rd io.Reader) (results, error) {
	r := make(results)
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.ParseUint(f[1], 10, 64); err != nil {
			continue
		}
		k := splitProcs(f[0])
		if r[k] == nil {
			r[k] = make(map[string][]float64)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark %s: value %q: %w", f[0], f[i], err)
			}
			r[k][f[i+1]] = append(r[k][f[i+1]], v)
		}
	}
	return r, sc.Err()
}

// splitProcs splits the -N suffix go test adds when GOMAXPROCS is not 1.
func splitProcs(name string) key {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return key{name, 1}
	}
	n, err := strconv.Atoi(name[i+1:])
	if err != nil || n < 1 {
		return key{name, 1}
	}
	return key{name[:i], n}
}

// median of a non-empty slice.
func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// get returns the median of unit for benchmark name at procs; procs 0 means
// whichever GOMAXPROCS the benchmark ran at (the highest if several).
func (r results) get(name string, procs int, unit string) (float64, bool) {
	if procs == 0 {
		for k := range r {
			if k.name == name && k.procs > procs {
				procs = k.procs
			}
		}
	}
	vs := r[key{name, procs}][unit]
	if len(vs) == 0 {
		return 0, false
	}
	return median(vs), true
}

// A comparison is "ratio op target", e.g. ≥ 2 or ≤ 1.5.
type comparison struct {
	atLeast bool
	target  float64
}

func (c comparison) String() string {
	if c.atLeast {
		return "≥ " + trim(c.target)
	}
	return "≤ " + trim(c.target)
}

func (c comparison) met(ratio float64) bool {
	if c.atLeast {
		return ratio >= c.target
	}
	return ratio <= c.target
}

func trim(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// verdict is the cell that says whether a target is met.
func verdict(c comparison, ratio float64, ok bool) string {
	switch {
	case !ok:
		return "n/a"
	case c.met(ratio):
		return "met"
	default:
		return "**missed**"
	}
}

// dur formats nanoseconds for a table.
func dur(ns float64, ok bool) string {
	switch {
	case !ok:
		return "n/a"
	case ns >= 1e9:
		return fmt.Sprintf("%.2f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	default:
		return fmt.Sprintf("%.2f ns", ns)
	}
}

func times(v float64, ok bool) string {
	if !ok {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", v)
}

// ratio returns num/den of unit, both at procs.
func (r results) ratio(num, den string, procs int, unit string) (float64, bool) {
	a, ok1 := r.get(num, procs, unit)
	b, ok2 := r.get(den, procs, unit)
	if !ok1 || !ok2 || b == 0 {
		return 0, false
	}
	return a / b, true
}

// tally counts rows that met a target, by wall time and by CPU time, for the
// summary line under a table.
type tally struct{ met, total, cpuMet, cpuTotal int }

func (t *tally) add(c comparison, ratio float64, ok bool) {
	if !ok {
		return
	}
	t.total++
	if c.met(ratio) {
		t.met++
	}
}

func (t *tally) addCPU(c comparison, ratio float64, ok bool) {
	if !ok {
		return
	}
	t.cpuTotal++
	if c.met(ratio) {
		t.cpuMet++
	}
}

func (t tally) String() string {
	if t.total == 0 && t.cpuTotal == 0 {
		return "No results."
	}
	s := fmt.Sprintf("Met in %d of %d rows", t.met, t.total)
	if t.cpuTotal > 0 {
		s += fmt.Sprintf(" by wall time, %d of %d by CPU time", t.cpuMet, t.cpuTotal)
	}
	return s + "."
}

// cells returns the ratio, verdict, CPU ratio and CPU verdict cells of a row
// and adds them to t.
func cells(t *tally, c comparison, ratio float64, ok bool, cpuRatio float64, cpuOK bool) string {
	t.add(c, ratio, ok)
	t.addCPU(c, cpuRatio, cpuOK)
	return fmt.Sprintf("%s | %s | %s | %s", times(ratio, ok), verdict(c, ratio, ok), times(cpuRatio, cpuOK), verdict(c, cpuRatio, cpuOK))
}

// cpuShare returns the median, min and max over the runs of the tick
// benchmarks at procs of cpu-ns/op ÷ ns/op: how many CPUs the process used
// at once on average, at most procs.
func cpuShare(r results, procs int) (mid, lo, hi float64, ok bool) {
	var shares []float64
	for k, units := range r {
		if k.procs == procs && strings.HasPrefix(k.name, "BenchmarkTick/") {
			shares = append(shares, runShares(units)...)
		}
	}
	return spreadOf(shares)
}

// runShares returns cpu-ns/op ÷ ns/op of each run of one benchmark: how many
// CPUs the process used at once during the run.
func runShares(units map[string][]float64) []float64 {
	wall, cpu := units[nsPerOp], units[cpuNsPerOp]
	var shares []float64
	// Both units come from the same result lines, so index i is one run.
	for i := range min(len(wall), len(cpu)) {
		if wall[i] > 0 {
			shares = append(shares, cpu[i]/wall[i])
		}
	}
	return shares
}

var tickShapes = []string{"same", "own", "mixed16"}

func tickName(shape, impl string) string {
	return "BenchmarkTick/shape=" + shape + "/impl=" + impl
}

func report(w io.Writer, n, race results) {
	fmt.Fprintln(w, "Medians of all runs; a ratio is a quotient of two medians from the same run. Each target is judged twice: on wall time (ns/op, the benchmarks' own measure) and on CPU time (cpu-ns/op: the CPU the process used per op, all its goroutines together), which waiting for a CPU behind other work does not inflate.")
	fmt.Fprintln(w)
	if share, lo, hi, ok := cpuShare(n, 1); ok {
		fmt.Fprintf(w, "How much of the wall time the benchmarks ran: in the single-goroutine tick runs (-cpu=1) the process used a CPU for a median of %.0f%% of the wall time (lowest run %.0f%%, highest %.0f%%); on an idle machine it is about 100%%, and the rest is time spent waiting for a CPU behind other work.", 100*share, 100*lo, 100*hi)
		if share2, lo2, hi2, ok := cpuShare(n, 2); ok {
			fmt.Fprintf(w, " In the two-goroutine tick runs (-cpu=2) it used a median of %.2f CPUs at once (lowest run %.2f, highest %.2f); only near 2 did the two goroutines run at the same time and contend.", share2, lo2, hi2)
		}
		fmt.Fprint(w, "\n\n")
	}
	reportTick(w, n)
	reportFloor(w, n)
	reportSpread(w, n)
	reportScrape(w, n)
	reportCheck(w, n)
	reportProbe(w, n)
	if race != nil {
		reportRace(w, n, race)
	}
}

func reportTick(w io.Writer, n results) {
	fmt.Fprintln(w, "### Tick path")
	fmt.Fprintln(w)
	targets := []struct {
		title    string
		num, den string // ratio = num / den
		cmp      comparison
	}{
		{"String API vs the modelled sync.Map design: syncmap ÷ string", "syncmap", "string", comparison{true, 2}},
		{"String API vs client_golang WithLabelValues: cg-vec ÷ string", "cg-vec", "string", comparison{true, 4}},
		{"Bound handle vs a bare atomic.Uint64.Add on a padded atomic per target type: bound ÷ atomic", "bound", "atomic", comparison{false, 1.5}},
	}
	for _, t := range targets {
		fmt.Fprintf(w, "**%s** (target %s)\n\n", t.title, t.cmp)
		fmt.Fprintf(w, "| shape | -cpu | %s | %s | ratio | target | by CPU time | target |\n", t.num, t.den)
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
		var tl tally
		for _, sh := range tickShapes {
			for _, procs := range []int{1, 2} {
				a, okA := n.get(tickName(sh, t.num), procs, nsPerOp)
				b, okB := n.get(tickName(sh, t.den), procs, nsPerOp)
				if !okA && !okB {
					continue
				}
				ratio, ok := n.ratio(tickName(sh, t.num), tickName(sh, t.den), procs, nsPerOp)
				cpuRatio, cpuOK := n.ratio(tickName(sh, t.num), tickName(sh, t.den), procs, cpuNsPerOp)
				fmt.Fprintf(w, "| %s | %d | %s | %s | %s |\n", sh, procs, dur(a, okA), dur(b, okB),
					cells(&tl, t.cmp, ratio, ok, cpuRatio, cpuOK))
			}
		}
		fmt.Fprintf(w, "\n%s\n\n", tl)
	}

	var allocating []string
	for k := range n {
		if !strings.HasPrefix(k.name, "BenchmarkTick/") {
			continue
		}
		if a, ok := n.get(k.name, k.procs, allocsPerOp); ok && a > 0 {
			allocating = append(allocating, fmt.Sprintf("%s (-cpu=%d): %s allocs/op", strings.TrimPrefix(k.name, "Benchmark"), k.procs, trim(a)))
		}
	}
	slices.Sort(allocating)
	if len(allocating) == 0 {
		fmt.Fprintln(w, "Allocations: every tick benchmark reported a median of 0 allocs/op.")
	} else {
		fmt.Fprintf(w, "Allocations: these tick benchmarks allocated: %s.\n", strings.Join(allocating, "; "))
	}
	fmt.Fprintln(w)

	cmp := comparison{false, 1}
	fmt.Fprintf(w, "**Same-key contention at -cpu=2 vs client_golang's cached Counter: impl ÷ cg-cached, shape=same** (target %s; the string API is the strict reading, bound and record are shown beside it)\n\n", cmp)
	fmt.Fprintln(w, "| impl | ns/op | cg-cached ns/op | ratio | target | by CPU time | target |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	var same tally
	for _, impl := range []string{"string", "bound", "record"} {
		a, okA := n.get(tickName("same", impl), 2, nsPerOp)
		b, okB := n.get(tickName("same", "cg-cached"), 2, nsPerOp)
		ratio, ok := n.ratio(tickName("same", impl), tickName("same", "cg-cached"), 2, nsPerOp)
		cpuRatio, cpuOK := n.ratio(tickName("same", impl), tickName("same", "cg-cached"), 2, cpuNsPerOp)
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", impl, dur(a, okA), dur(b, okB), cells(&same, cmp, ratio, ok, cpuRatio, cpuOK))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "With -cpu=2, CPU time per op adds up both goroutines, and a goroutine parked on a lock uses none: a CPU-time ratio at -cpu=2 measures cost, not latency, and flatters designs that park.")
	fmt.Fprintln(w)
}

// reportFloor says what the hardware allows the tick targets: a tick
// through the string API is a name lookup plus one atomic add, so it cannot
// cost less than the floor (the add alone), and syncmap ÷ string cannot
// exceed syncmap ÷ atomic on this machine.
func reportFloor(w io.Writer, n results) {
	fmt.Fprintln(w, "**What the hardware floor allows** (-cpu=1: one goroutine, no contention)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "A tick through the string API is a name lookup plus one atomic add, so it cannot cost less than `atomic`, the add alone. The highest syncmap ÷ string this machine allows is therefore syncmap ÷ atomic, reached only by a lookup that costs nothing: where an atomic add is dear compared with the rest of a tick, the syncmap ÷ string target can be out of reach for any design that counts with atomic adds.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| shape | atomic (the add) | string | string − atomic (the lookup) | syncmap | syncmap ÷ atomic (the ceiling) | by CPU time | syncmap ÷ string |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	target := comparison{true, 2} // the syncmap ÷ string target of reportTick
	var ceilings []float64
	for _, sh := range tickShapes {
		a, okA := n.get(tickName(sh, "atomic"), 1, nsPerOp)
		st, okS := n.get(tickName(sh, "string"), 1, nsPerOp)
		sm, okM := n.get(tickName(sh, "syncmap"), 1, nsPerOp)
		if !okA && !okS && !okM {
			continue
		}
		ceiling, okC := n.ratio(tickName(sh, "syncmap"), tickName(sh, "atomic"), 1, nsPerOp)
		if okC {
			ceilings = append(ceilings, ceiling)
		}
		cpuCeiling, okCC := n.ratio(tickName(sh, "syncmap"), tickName(sh, "atomic"), 1, cpuNsPerOp)
		ratio, okR := n.ratio(tickName(sh, "syncmap"), tickName(sh, "string"), 1, nsPerOp)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", sh, dur(a, okA), dur(st, okS), dur(st-a, okA && okS),
			dur(sm, okM), times(ceiling, okC), times(cpuCeiling, okCC), times(ratio, okR))
	}
	fmt.Fprintln(w)
	if _, lo, hi, ok := spreadOf(ceilings); ok {
		reach := "so the hardware leaves room for the target in every shape"
		if !target.met(lo) {
			reach = "so in at least one shape no design that counts with an atomic add can meet the target on this machine"
		}
		fmt.Fprintf(w, "Here the ceiling is %s–%s against a target of %s, %s.\n\n", times(lo, true), times(hi, true), target, reach)
	}
}

// spreadOf returns the median, min and max of vs, and whether there are any.
func spreadOf(vs []float64) (mid, lo, hi float64, ok bool) {
	if len(vs) == 0 {
		return 0, 0, 0, false
	}
	return median(vs), slices.Min(vs), slices.Max(vs), true
}

// spreadImpls are the tick implementations whose run-to-run spread is
// reported: the reference's three and the floor, whose spread shows what
// the machine alone adds.
var spreadImpls = []string{"string", "bound", "record", "atomic"}

// reportSpread shows how far the runs of each tick benchmark lie from their
// median. A median hides a bimodal row, such as one where some runs had two
// goroutines contend for one cache line and others not; the slowest run
// does not.
func reportSpread(w io.Writer, n results) {
	cmp := comparison{false, 1.5}
	fmt.Fprintf(w, "**Spread of the tick runs: slowest ÷ median run** (target %s; the floor, `atomic`, shows what the machine alone adds)\n\n", cmp)
	fmt.Fprintln(w, "| shape | impl | -cpu | runs | median | fastest | slowest | slowest ÷ median | target | by CPU time | target | CPUs in use (median) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|")
	var tl tally
	for _, sh := range tickShapes {
		for _, impl := range spreadImpls {
			for _, procs := range []int{1, 2} {
				units := n[key{tickName(sh, impl), procs}]
				mid, lo, hi, ok := spreadOf(units[nsPerOp])
				if !ok {
					continue
				}
				cmid, _, chi, cok := spreadOf(units[cpuNsPerOp])
				share := "n/a"
				if shares := runShares(units); len(shares) > 0 {
					share = fmt.Sprintf("%.2f", median(shares))
				}
				fmt.Fprintf(w, "| %s | %s | %d | %d | %s | %s | %s | %s | %s |\n", sh, impl, procs, len(units[nsPerOp]),
					dur(mid, true), dur(lo, true), dur(hi, true),
					cells(&tl, cmp, hi/mid, mid > 0, chi/cmid, cok && cmid > 0), share)
			}
		}
	}
	fmt.Fprintf(w, "\n%s\n\n", tl)
	fmt.Fprintln(w, "CPUs in use is cpu-ns/op ÷ ns/op: at -cpu=2 only a run near 2 had both goroutines on a CPU at once, and only such a run measures contention; on a machine shared with other work, a run well below 2 is faster or slower for reasons the design does not control.")
	fmt.Fprintln(w)
}

var (
	scrapeTypes   = []string{"1", "16", "256", "4096"}
	scrapeFormats = []string{"text", "openmetrics", "protobuf"}
)

// promhttpTarget is how many times faster than promhttp the handler must
// be in a format: 30× in the text formats, 10× in protobuf, which
// client_golang encodes without the text formats' string work.
func promhttpTarget(format string) comparison {
	if format == "protobuf" {
		return comparison{true, 10}
	}
	return comparison{true, 30}
}

func scrapeName(types, format, impl string) string {
	return "BenchmarkScrape/types=" + types + "/format=" + format + "/impl=" + impl
}

func reportScrape(w io.Writer, n results) {
	fmt.Fprintln(w, "### Scrape path")
	fmt.Fprintln(w)

	zero := comparison{false, 0}
	fmt.Fprintf(w, "**Allocations per scrape in steady state** (target %s allocs/op, median of the runs; \"runs that allocated\" counts the runs with B/op > 0, which allocs/op, rounded down per op, can hide)\n\n", zero)
	fmt.Fprintln(w, "| types | format | handler (ServeHTTP) allocs/op | target | runs that allocated | append (AppendSnapshot + Append*) allocs/op | target | runs that allocated |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	var tl tally
	for _, t := range scrapeTypes {
		for _, f := range scrapeFormats {
			fmt.Fprintf(w, "| %s | %s |", t, f)
			for _, impl := range []string{"handler", "append"} {
				name := scrapeName(t, f, impl)
				a, ok := n.get(name, 0, allocsPerOp)
				tl.add(zero, a, ok)
				fmt.Fprintf(w, " %s | %s | %s |", num(a, ok), verdict(zero, a, ok), n.allocatingRuns(name))
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintf(w, "\n%s\n\n", tl)

	fp := comparison{true, 10}
	fmt.Fprintf(w, "**Reference handler vs the fmt.Fprintf exposer (target %s) and promhttp (target %s in the text formats, %s in protobuf, which the fmt.Fprintf exposer does not write): baseline ÷ handler, both through ServeHTTP**\n\n", fp, promhttpTarget("text"), promhttpTarget("protobuf"))
	fmt.Fprintln(w, "| types | format | handler | fprintf | ratio | target | by CPU time | target | promhttp | ratio | target | by CPU time | target |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	var tlF, tlP tally
	for _, t := range scrapeTypes {
		for _, f := range scrapeFormats {
			h, okH := n.get(scrapeName(t, f, "handler"), 0, nsPerOp)
			a, okA := n.get(scrapeName(t, f, "fprintf"), 0, nsPerOp)
			p, okP := n.get(scrapeName(t, f, "promhttp"), 0, nsPerOp)
			rF, okF := n.ratio(scrapeName(t, f, "fprintf"), scrapeName(t, f, "handler"), 0, nsPerOp)
			rP, okPr := n.ratio(scrapeName(t, f, "promhttp"), scrapeName(t, f, "handler"), 0, nsPerOp)
			cF, okCF := n.ratio(scrapeName(t, f, "fprintf"), scrapeName(t, f, "handler"), 0, cpuNsPerOp)
			cP, okCP := n.ratio(scrapeName(t, f, "promhttp"), scrapeName(t, f, "handler"), 0, cpuNsPerOp)
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", t, f, dur(h, okH),
				dur(a, okA), cells(&tlF, fp, rF, okF, cF, okCF),
				dur(p, okP), cells(&tlP, promhttpTarget(f), rP, okPr, cP, okCP))
		}
	}
	fmt.Fprintf(w, "\nfprintf: %s promhttp: %s\n\n", tlF, tlP)

	fmt.Fprintln(w, "**How the cost grows: time per target type (text format)**")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| types | handler | append | fprintf | promhttp |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, t := range scrapeTypes {
		tn, _ := strconv.ParseFloat(t, 64)
		fmt.Fprintf(w, "| %s |", t)
		for _, impl := range []string{"handler", "append", "fprintf", "promhttp"} {
			v, ok := n.get(scrapeName(t, "text", impl), 0, nsPerOp)
			fmt.Fprintf(w, " %s |", dur(v/tn, ok))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "**Scrape while two goroutines tick flat out (16 types, text)**: slowdown = under ticks ÷ idle (BenchmarkScrape/types=16/format=text); vs handler = impl ÷ handler, both under ticks")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| impl | idle | under ticks | slowdown | vs handler | ticks/s meanwhile |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, impl := range []string{"handler", "fprintf", "promhttp"} {
		under := "BenchmarkScrapeUnderTicks/impl=" + impl
		idle, okI := n.get(scrapeName("16", "text", impl), 0, nsPerOp)
		u, okU := n.get(under, 0, nsPerOp)
		vs, okV := n.ratio(under, "BenchmarkScrapeUnderTicks/impl=handler", 0, nsPerOp)
		tps, okT := n.get(under, 0, ticksPerSec)
		tpsCell := "n/a"
		if okT {
			tpsCell = fmt.Sprintf("%.3g", tps)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", impl, dur(idle, okI), dur(u, okU), times(u/idle, okI && okU && idle > 0), times(vs, okV), tpsCell)
	}
	fmt.Fprintln(w)
}

// allocatingRuns returns "k of n": how many runs of the benchmark (at its
// highest GOMAXPROCS) reported allocating any bytes.
func (r results) allocatingRuns(name string) string {
	procs := 0
	for k := range r {
		if k.name == name && k.procs > procs {
			procs = k.procs
		}
	}
	vs := r[key{name, procs}][bytesPerOp]
	if len(vs) == 0 {
		return "n/a"
	}
	k := 0
	for _, v := range vs {
		if v > 0 {
			k++
		}
	}
	return fmt.Sprintf("%d of %d", k, len(vs))
}

func num(v float64, ok bool) string {
	if !ok {
		return "n/a"
	}
	return trim(v)
}

var (
	checkSizes = []string{"1k", "10k", "100k"}
	// checkFormats are bench/check_test.go's checkFormats.
	checkFormats = []string{"text", "openmetrics", "text-1.0.0", "protobuf"}
	checkImpls   = []string{"textparse", "check-none", "check-deploy"}
)

func checkName(size, format, impl string) string {
	return "BenchmarkCheck/series=" + size + "/format=" + format + "/impl=" + impl
}

func reportCheck(w io.Writer, n results) {
	fmt.Fprintln(w, "### Check path")
	fmt.Fprintln(w)
	cmp := comparison{false, 2}
	fmt.Fprintf(w, "**Engine vs a bare textparse pass: engine ÷ textparse** (target %s; check-none: Options{Schema: nil}; check-deploy: NewOptions(), the deploy schema)\n\n", cmp)
	fmt.Fprintln(w, "| series | format | textparse | check-none | ratio | target | by CPU time | target | check-deploy | ratio | target | by CPU time | target |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	var tlN, tlD tally
	for _, s := range checkSizes {
		for _, f := range checkFormats {
			tp, okT := n.get(checkName(s, f, "textparse"), 0, nsPerOp)
			cn, okN := n.get(checkName(s, f, "check-none"), 0, nsPerOp)
			cd, okD := n.get(checkName(s, f, "check-deploy"), 0, nsPerOp)
			rN, okRN := n.ratio(checkName(s, f, "check-none"), checkName(s, f, "textparse"), 0, nsPerOp)
			rD, okRD := n.ratio(checkName(s, f, "check-deploy"), checkName(s, f, "textparse"), 0, nsPerOp)
			cN, okCN := n.ratio(checkName(s, f, "check-none"), checkName(s, f, "textparse"), 0, cpuNsPerOp)
			cD, okCD := n.ratio(checkName(s, f, "check-deploy"), checkName(s, f, "textparse"), 0, cpuNsPerOp)
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", s, f, dur(tp, okT),
				dur(cn, okN), cells(&tlN, cmp, rN, okRN, cN, okCN),
				dur(cd, okD), cells(&tlD, cmp, rD, okRD, cD, okCD))
		}
	}
	fmt.Fprintf(w, "\ncheck-none: %s check-deploy: %s\n\n", tlN, tlD)

	lin := comparison{false, 1.5}
	fmt.Fprintf(w, "**Growth: time per series, and 100k ÷ 1k** (linear growth keeps it flat; target %s)\n\n", lin)
	fmt.Fprintln(w, "| format | impl | 1k | 10k | 100k | 100k ÷ 1k | target | by CPU time | target |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	var tl tally
	for _, f := range checkFormats {
		for _, impl := range checkImpls {
			fmt.Fprintf(w, "| %s | %s |", f, impl)
			for _, s := range checkSizes {
				v, ok := n.get(checkName(s, f, impl), 0, nsPerSeries)
				fmt.Fprintf(w, " %s |", dur(v, ok))
			}
			g, ok := n.ratio(checkName("100k", f, impl), checkName("1k", f, impl), 0, nsPerSeries)
			// cpu-ns/op is per pass; 100k series are 100 times 1k.
			c, cOK := n.ratio(checkName("100k", f, impl), checkName("1k", f, impl), 0, cpuNsPerOp)
			fmt.Fprintf(w, " %s |\n", cells(&tl, lin, g, ok, c/100, cOK))
		}
	}
	fmt.Fprintf(w, "\n%s\n\n", tl)
}

// group is the top-level benchmark a result belongs to, and for the tick
// benchmarks its GOMAXPROCS, which changes the race detector's cost.
func group(k key) string {
	g, _, _ := strings.Cut(k.name, "/")
	if g == "BenchmarkTick" {
		return fmt.Sprintf("%s (-cpu=%d)", g, k.procs)
	}
	return g
}

func reportRace(w io.Writer, n, race results) {
	fmt.Fprintln(w, "### Race detector slowdown")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Factor = time per op under -race ÷ time per op without, per benchmark (medians), by wall time (ns/op) and by CPU time (cpu-ns/op); per group the geometric mean, min and max.")
	fmt.Fprintln(w)
	type row struct {
		k                     key
		normal, raced, factor float64
		cpuFactor             float64
		cpuOK                 bool
	}
	var rows []row
	for k := range n {
		a, okA := n.get(k.name, k.procs, nsPerOp)
		b, okB := race.get(k.name, k.procs, nsPerOp)
		if !okA || !okB || a <= 0 {
			continue
		}
		rw := row{k: k, normal: a, raced: b, factor: b / a}
		ca, okCA := n.get(k.name, k.procs, cpuNsPerOp)
		cb, okCB := race.get(k.name, k.procs, cpuNsPerOp)
		if okCA && okCB && ca > 0 {
			rw.cpuFactor, rw.cpuOK = cb/ca, true
		}
		rows = append(rows, rw)
	}
	slices.SortFunc(rows, func(a, b row) int {
		if c := strings.Compare(a.k.name, b.k.name); c != 0 {
			return c
		}
		return a.k.procs - b.k.procs
	})
	groups := map[string]*[2]spread{}
	var order []string
	for _, r := range rows {
		g := group(r.k)
		a := groups[g]
		if a == nil {
			a = &[2]spread{}
			groups[g] = a
			order = append(order, g)
		}
		a[0].add(r.factor)
		if r.cpuOK {
			a[1].add(r.cpuFactor)
		}
	}
	slices.Sort(order)
	fmt.Fprintln(w, "| group | benchmarks | geomean | min | max | geomean by CPU time | min | max |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, g := range order {
		a := groups[g]
		fmt.Fprintf(w, "| %s | %d | %s | %s |\n", g, a[0].n, a[0], a[1])
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "<details><summary>Every benchmark</summary>")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| benchmark | -cpu | ns/op | ns/op under -race | factor | factor by CPU time |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range rows {
		cpu := "n/a"
		if r.cpuOK {
			cpu = fmt.Sprintf("%.1f×", r.cpuFactor)
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %.1f× | %s |\n", strings.TrimPrefix(r.k.name, "Benchmark"), r.k.procs, dur(r.normal, true), dur(r.raced, true), r.factor, cpu)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "</details>")
	fmt.Fprintln(w)
}

// spread accumulates factors for their geometric mean, min and max.
type spread struct {
	logSum   float64
	n        int
	min, max float64
}

func (s *spread) add(v float64) {
	if s.n == 0 || v < s.min {
		s.min = v
	}
	if s.n == 0 || v > s.max {
		s.max = v
	}
	s.logSum += math.Log(v)
	s.n++
}

// String returns the geomean, min and max cells.
func (s spread) String() string {
	if s.n == 0 {
		return "n/a | n/a | n/a"
	}
	return fmt.Sprintf("%.1f× | %.1f× | %.1f×", math.Exp(s.logSum/float64(s.n)), s.min, s.max)
}

var probeSizes = []string{"1k", "100k"}

func probeName(size, impl string) string {
	return "BenchmarkProbe/series=" + size + "/impl=" + impl
}

// reportProbe judges promcheck exporter's probes against a promcheck check
// of the same target (BenchmarkProbe), and the exporter's memory with 10k
// distinct targets (BenchmarkProbeMemory).
func reportProbe(w io.Writer, n results) {
	fmt.Fprintln(w, "### Probe path (promcheck exporter)")
	fmt.Fprintln(w)
	cmp := comparison{false, 1.2}
	fmt.Fprintf(w, "**A probe vs a promcheck check of the same target: probe ÷ check** (target %s; check: scrape and check.Check with the deploy schema; check-previous: the same against the previous scrape, which every probe but a target's first is)\n\n", cmp)
	fmt.Fprintln(w, "| series | check | check-previous | probe | probes/s | ratio | target | by CPU time | target |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	var tl tally
	for _, size := range probeSizes {
		c, okC := n.get(probeName(size, "check"), 0, nsPerOp)
		cp, okCP := n.get(probeName(size, "check-previous"), 0, nsPerOp)
		p, okP := n.get(probeName(size, "probe"), 0, nsPerOp)
		pps, okPPS := n.get(probeName(size, "probe"), 0, probesPerSec)
		ppsCell := "n/a"
		if okPPS {
			ppsCell = fmt.Sprintf("%.3g", pps)
		}
		r, okR := n.ratio(probeName(size, "probe"), probeName(size, "check"), 0, nsPerOp)
		rc, okRC := n.ratio(probeName(size, "probe"), probeName(size, "check"), 0, cpuNsPerOp)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", size, dur(c, okC), dur(cp, okCP), dur(p, okP), ppsCell, cells(&tl, cmp, r, okR, rc, okRC))
	}
	fmt.Fprintf(w, "\n%s\n\n", tl)

	fmt.Fprintln(w, "**Memory with distinct targets** (BenchmarkProbeMemory: one probe each of as many distinct targets as the run's -benchtime says; the live heap at its peak, sampled after a GC every 500 probes)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| store | targets probed | peak live heap | store's estimate | entries kept |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, impl := range []string{"bounded", "unbounded"} {
		name := "BenchmarkProbeMemory/impl=" + impl
		mib := func(unit string) string {
			v, ok := n.get(name, 0, unit)
			if !ok {
				return "n/a"
			}
			return fmt.Sprintf("%.1f MiB", v)
		}
		count := func(unit string) string {
			v, ok := n.get(name, 0, unit)
			return num(v, ok)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", impl, count("targets"), mib("peak-live-MiB"), mib("store-MiB"), count("store-entries"))
	}
	fmt.Fprintln(w)
}
