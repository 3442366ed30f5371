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
	nsPerSeries = "ns/series"
	ticksPerSec = "ticks/s"
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

// tally counts rows that met a target, for the summary line under a table.
type tally struct{ met, total int }

func (t *tally) add(c comparison, ratio float64, ok bool) {
	if !ok {
		return
	}
	t.total++
	if c.met(ratio) {
		t.met++
	}
}

func (t tally) String() string {
	if t.total == 0 {
		return "No results."
	}
	return fmt.Sprintf("Met in %d of %d rows.", t.met, t.total)
}

var tickShapes = []string{"same", "own", "mixed16"}

func tickName(shape, impl string) string {
	return "BenchmarkTick/shape=" + shape + "/impl=" + impl
}

func report(w io.Writer, n, race results) {
	fmt.Fprintln(w, "Medians of all runs; a ratio is a quotient of two medians from the same run. \"met\"/\"missed\" is judged on wall time (ns/op), the benchmarks' own measure; the CPU-time ratio (cpu-ns/op: CPU the process used per op, all goroutines together) is shown beside it because it is less disturbed by other work on a shared machine.")
	fmt.Fprintln(w)
	reportTick(w, n)
	reportScrape(w, n)
	reportCheck(w, n)
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
		{"Bound handle vs a bare atomic.Uint64.Add: bound ÷ atomic", "bound", "atomic", comparison{false, 1.5}},
	}
	for _, t := range targets {
		fmt.Fprintf(w, "**%s** (target %s)\n\n", t.title, t.cmp)
		fmt.Fprintf(w, "| shape | -cpu | %s | %s | ratio | target | by CPU time |\n", t.num, t.den)
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
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
				tl.add(t.cmp, ratio, ok)
				fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s |\n", sh, procs, dur(a, okA), dur(b, okB),
					times(ratio, ok), verdict(t.cmp, ratio, ok), times(cpuRatio, cpuOK))
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
	fmt.Fprintln(w, "| impl | ns/op | cg-cached ns/op | ratio | target | by CPU time |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, impl := range []string{"string", "bound", "record"} {
		a, okA := n.get(tickName("same", impl), 2, nsPerOp)
		b, okB := n.get(tickName("same", "cg-cached"), 2, nsPerOp)
		ratio, ok := n.ratio(tickName("same", impl), tickName("same", "cg-cached"), 2, nsPerOp)
		cpuRatio, cpuOK := n.ratio(tickName("same", impl), tickName("same", "cg-cached"), 2, cpuNsPerOp)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", impl, dur(a, okA), dur(b, okB), times(ratio, ok), verdict(cmp, ratio, ok), times(cpuRatio, cpuOK))
	}
	fmt.Fprintln(w)
}

var (
	scrapeTypes   = []string{"1", "16", "256", "4096"}
	scrapeFormats = []string{"text", "openmetrics"}
)

func scrapeName(types, format, impl string) string {
	return "BenchmarkScrape/types=" + types + "/format=" + format + "/impl=" + impl
}

func reportScrape(w io.Writer, n results) {
	fmt.Fprintln(w, "### Scrape path")
	fmt.Fprintln(w)

	zero := comparison{false, 0}
	fmt.Fprintf(w, "**Allocations per scrape in steady state** (target %s)\n\n", zero)
	fmt.Fprintln(w, "| types | format | handler (ServeHTTP) allocs/op | target | append (AppendSnapshot + Append*) allocs/op | target |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	var tl tally
	for _, t := range scrapeTypes {
		for _, f := range scrapeFormats {
			h, okH := n.get(scrapeName(t, f, "handler"), 0, allocsPerOp)
			a, okA := n.get(scrapeName(t, f, "append"), 0, allocsPerOp)
			tl.add(zero, h, okH)
			tl.add(zero, a, okA)
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", t, f, num(h, okH), verdict(zero, h, okH), num(a, okA), verdict(zero, a, okA))
		}
	}
	fmt.Fprintf(w, "\n%s\n\n", tl)

	fp, ph := comparison{true, 10}, comparison{true, 30}
	fmt.Fprintf(w, "**Reference handler vs the fmt.Fprintf exposer (target %s) and promhttp (target %s): baseline ÷ handler, both through ServeHTTP**\n\n", fp, ph)
	fmt.Fprintln(w, "| types | format | handler | fprintf | ratio | target | by CPU time | promhttp | ratio | target | by CPU time |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|")
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
			tlF.add(fp, rF, okF)
			tlP.add(ph, rP, okPr)
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", t, f, dur(h, okH),
				dur(a, okA), times(rF, okF), verdict(fp, rF, okF), times(cF, okCF),
				dur(p, okP), times(rP, okPr), verdict(ph, rP, okPr), times(cP, okCP))
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

func num(v float64, ok bool) string {
	if !ok {
		return "n/a"
	}
	return trim(v)
}

var (
	checkSizes = []string{"1k", "10k", "100k"}
	checkImpls = []string{"textparse", "check-none", "check-deploy"}
)

func checkName(size, format, impl string) string {
	return "BenchmarkCheck/series=" + size + "/format=" + format + "/impl=" + impl
}

func reportCheck(w io.Writer, n results) {
	fmt.Fprintln(w, "### Check path")
	fmt.Fprintln(w)
	cmp := comparison{false, 2}
	fmt.Fprintf(w, "**Engine vs a bare textparse pass: engine ÷ textparse** (target %s; check-none: Options{Schema: nil}; check-deploy: NewOptions(), the deploy schema)\n\n", cmp)
	fmt.Fprintln(w, "| series | format | textparse | check-none | ratio | target | by CPU time | check-deploy | ratio | target | by CPU time |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|")
	var tlN, tlD tally
	for _, s := range checkSizes {
		for _, f := range scrapeFormats {
			tp, okT := n.get(checkName(s, f, "textparse"), 0, nsPerOp)
			cn, okN := n.get(checkName(s, f, "check-none"), 0, nsPerOp)
			cd, okD := n.get(checkName(s, f, "check-deploy"), 0, nsPerOp)
			rN, okRN := n.ratio(checkName(s, f, "check-none"), checkName(s, f, "textparse"), 0, nsPerOp)
			rD, okRD := n.ratio(checkName(s, f, "check-deploy"), checkName(s, f, "textparse"), 0, nsPerOp)
			cN, okCN := n.ratio(checkName(s, f, "check-none"), checkName(s, f, "textparse"), 0, cpuNsPerOp)
			cD, okCD := n.ratio(checkName(s, f, "check-deploy"), checkName(s, f, "textparse"), 0, cpuNsPerOp)
			tlN.add(cmp, rN, okRN)
			tlD.add(cmp, rD, okRD)
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", s, f, dur(tp, okT),
				dur(cn, okN), times(rN, okRN), verdict(cmp, rN, okRN), times(cN, okCN),
				dur(cd, okD), times(rD, okRD), verdict(cmp, rD, okRD), times(cD, okCD))
		}
	}
	fmt.Fprintf(w, "\ncheck-none: %s check-deploy: %s\n\n", tlN, tlD)

	lin := comparison{false, 1.5}
	fmt.Fprintf(w, "**Growth: time per series, and 100k ÷ 1k** (linear growth keeps it flat; target %s)\n\n", lin)
	fmt.Fprintln(w, "| format | impl | 1k | 10k | 100k | 100k ÷ 1k | target |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	var tl tally
	for _, f := range scrapeFormats {
		for _, impl := range checkImpls {
			fmt.Fprintf(w, "| %s | %s |", f, impl)
			for _, s := range checkSizes {
				v, ok := n.get(checkName(s, f, impl), 0, nsPerSeries)
				fmt.Fprintf(w, " %s |", dur(v, ok))
			}
			g, ok := n.ratio(checkName("100k", f, impl), checkName("1k", f, impl), 0, nsPerSeries)
			tl.add(lin, g, ok)
			fmt.Fprintf(w, " %s | %s |\n", times(g, ok), verdict(lin, g, ok))
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
	fmt.Fprintln(w, "Factor = ns/op under -race ÷ ns/op without, per benchmark (medians); per group the geometric mean, min and max.")
	fmt.Fprintln(w)
	type row struct {
		k             key
		normal, raced float64
		factor        float64
	}
	var rows []row
	for k := range n {
		a, okA := n.get(k.name, k.procs, nsPerOp)
		b, okB := race.get(k.name, k.procs, nsPerOp)
		if okA && okB && a > 0 {
			rows = append(rows, row{k, a, b, b / a})
		}
	}
	slices.SortFunc(rows, func(a, b row) int {
		if c := strings.Compare(a.k.name, b.k.name); c != 0 {
			return c
		}
		return a.k.procs - b.k.procs
	})
	type agg struct {
		logSum   float64
		n        int
		min, max float64
	}
	groups := map[string]*agg{}
	var order []string
	for _, r := range rows {
		g := group(r.k)
		a := groups[g]
		if a == nil {
			a = &agg{min: math.Inf(1), max: math.Inf(-1)}
			groups[g] = a
			order = append(order, g)
		}
		a.logSum += math.Log(r.factor)
		a.n++
		a.min = min(a.min, r.factor)
		a.max = max(a.max, r.factor)
	}
	slices.Sort(order)
	fmt.Fprintln(w, "| group | benchmarks | geomean | min | max |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, g := range order {
		a := groups[g]
		fmt.Fprintf(w, "| %s | %d | %.1f× | %.1f× | %.1f× |\n", g, a.n, math.Exp(a.logSum/float64(a.n)), a.min, a.max)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "<details><summary>Every benchmark</summary>")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| benchmark | -cpu | ns/op | ns/op under -race | factor |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %d | %s | %s | %.1f× |\n", strings.TrimPrefix(r.k.name, "Benchmark"), r.k.procs, dur(r.normal, true), dur(r.raced, true), r.factor)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "</details>")
	fmt.Fprintln(w)
}
