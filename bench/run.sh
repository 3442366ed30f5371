#!/usr/bin/env bash
# Runs every bench/ benchmark COUNT times, without and with the race
# detector, and writes bench/RESULTS.md: the machine, the exact commands,
# benchstat tables, the ratios against the targets (computed by
# bench/internal/ratios from the raw results) and the race slowdown factors.
#
#   bench/run.sh                      # defaults: about 15 minutes on 2 idle cores
#   COUNT=10 BENCHTIME=500ms bench/run.sh
#
# Environment:
#   COUNT           runs of each benchmark (default 6, the fewest for which
#                   benchstat gives 95% confidence intervals)
#   BENCHTIME       -benchtime of each run (default 300ms)
#   RACE_COUNT      runs under -race (default COUNT)
#   RACE_BENCHTIME  -benchtime under -race (default 200ms)
#   OUT             directory for the raw results and test binaries
#                   (default bench/out, ignored by git)
#   REPORT_ONLY=1   skip the runs: rewrite RESULTS.md from the raw results
#                   and run facts a previous run left in OUT
#
# The runs are interleaved: round i runs every benchmark once without the
# race detector, then once with it. On a machine shared with other work a
# burst of load then spreads over all implementations instead of landing on
# the COUNT consecutive runs of one, which keeps the ratios between them
# honest. The "reading" section of RESULTS.md is left for a person to write
# after looking at the numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

COUNT=${COUNT:-6}
BENCHTIME=${BENCHTIME:-300ms}
RACE_COUNT=${RACE_COUNT:-$COUNT}
RACE_BENCHTIME=${RACE_BENCHTIME:-200ms}
OUT=${OUT:-bench/out}
# benchstat is a tool run, not a dependency: go run pkg@version leaves go.mod alone.
BENCHSTAT_PKG=golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
RESULTS=bench/RESULTS.md

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
normal=$OUT/normal.txt
race=$OUT/race.txt
meta=$OUT/run-facts.sh

log() { printf '%s %s\n' "$(date -u +%T)" "$*" >&2; }

benchstat() { go run "$BENCHSTAT_PKG" "$@"; }

# field NAME prints the value of the first "NAME : value" line of its
# input (the layout of /proc/cpuinfo and of lscpu), or nothing.
field() {
	awk -v f="$1" '{ k = $0; sub(/[ \t]*:.*/, "", k) }
		k == f { v = substr($0, index($0, ":") + 1); sub(/^[ \t]+/, "", v); print v; exit }'
}
cpuinfo() { field "$1" </proc/cpuinfo; }
lscpu_field() { field "$1" <<<"$lscpu_out"; }

# machine_facts records what the benchmarks ran on, at the time they ran,
# so that REPORT_ONLY=1 on another machine does not describe that one. The
# model name alone can be vague (a virtual machine may say just "AMD EPYC"),
# so the vendor, family, model and stepping, which identify the
# microarchitecture, come with it.
machine_facts() {
	lscpu_out=$(LC_ALL=C lscpu 2>/dev/null || true)
	cpu_model=$(cpuinfo 'model name')
	cpu_id="$(cpuinfo vendor_id) family $(cpuinfo 'cpu family') model $(cpuinfo model) stepping $(cpuinfo stepping)"
	cpu_mhz=$(cpuinfo 'cpu MHz')
	cpu_caches="L1d $(lscpu_field 'L1d cache'), L2 $(lscpu_field 'L2 cache'), L3 $(lscpu_field 'L3 cache') (lscpu)"
	cpu_topology="$(lscpu_field 'Socket(s)') socket(s), $(lscpu_field 'Core(s) per socket') core(s) per socket, $(lscpu_field 'Thread(s) per core') thread(s) per core (lscpu)"
	virt="no hypervisor flag in /proc/cpuinfo"
	if grep -qw hypervisor /proc/cpuinfo; then
		virt="a virtual machine (hypervisor: $(lscpu_field 'Hypervisor vendor')); other guests may share its physical cores"
	fi
	cores=$(nproc)
	mem=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
	go_version=$(go version)
	kernel="$(uname -sr) $(uname -m)"
}

# The two halves of a round: the tick benchmarks at one and two Ps, and the
# rest at the default GOMAXPROCS (the number of cores). The binaries run in
# bench/, as go test would run them.
tick_args=(-test.run='^$' -test.bench='^BenchmarkTick$' -test.cpu=1,2)
rest_args=(-test.run='^$' -test.bench='^Benchmark(Scrape|ScrapeUnderTicks|Check)$')
# A probe of 100k series takes a tenth of a second: it gets 2 s a run, or
# it would run a handful of times. Only without -race, where its ratio to
# a check is a target; the exporter's memory is measured once, over the
# 10k distinct targets issue 17 names.
probe_args=(-test.run='^$' -test.bench='^BenchmarkProbe$' -test.benchtime=2s)
probe_memory_args=(-test.run='^$' -test.bench='^BenchmarkProbeMemory$' -test.benchtime=10000x)

round() { # binary benchtime output [probe]
	(cd bench && "$1" "${tick_args[@]}" -test.benchtime="$2") >>"$3"
	(cd bench && "$1" "${rest_args[@]}" -test.benchtime="$2") >>"$3"
	if [[ ${4:-} == probe ]]; then
		(cd bench && "$1" "${probe_args[@]}") >>"$3"
	fi
}

if [[ ${REPORT_ONLY:-} == 1 ]]; then
	# shellcheck source=/dev/null
	source "$meta"
	log "rewriting $RESULTS from $OUT"
else
	: >"$normal"
	: >"$race"
	log "fetching benchstat"
	benchstat -h >/dev/null 2>&1 || true

	started=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
	load_start=$(cut -d' ' -f1-3 /proc/loadavg)
	start_s=$(date +%s)

	# What was built: the commit, and where the working tree differed from it
	# (other work in progress is built in too).
	commit=$(git rev-parse --short HEAD)
	dirty=$(git status --porcelain --untracked-files=no | awk '{print $NF}' | sed 's|/[^/]*$||' | sort -u | paste -sd, -)
	log "building test binaries"
	go test -c -o "$OUT/bench.test" ./bench
	go test -race -c -o "$OUT/bench.race.test" ./bench

	rounds=$((COUNT > RACE_COUNT ? COUNT : RACE_COUNT))
	for ((i = 1; i <= rounds; i++)); do
		if ((i <= COUNT)); then
			log "round $i/$COUNT without -race"
			round "$OUT/bench.test" "$BENCHTIME" "$normal" probe
		fi
		if ((i <= RACE_COUNT)); then
			log "round $i/$RACE_COUNT with -race"
			round "$OUT/bench.race.test" "$RACE_BENCHTIME" "$race"
		fi
	done

	log "exporter memory with 10k distinct targets"
	(cd bench && "$OUT/bench.test" "${probe_memory_args[@]}") >>"$normal"

	load_end=$(cut -d' ' -f1-3 /proc/loadavg)
	minutes=$((($(date +%s) - start_s + 59) / 60))
	machine_facts
	# What the report says about this run, for REPORT_ONLY=1.
	for v in started load_start load_end minutes commit dirty COUNT BENCHTIME RACE_COUNT RACE_BENCHTIME \
		cpu_model cpu_id cpu_mhz cpu_caches cpu_topology virt cores mem go_version kernel; do
		printf '%s=%q\n' "$v" "${!v}"
	done >"$meta"
	log "writing $RESULTS"
fi

# benchstat puts the implementations side by side: one column per impl=,
# each compared with the first (the reference).
table() { # filter file
	printf '```\n'
	benchstat -col /impl -filter "$1" "$2"
	printf '```\n'
}

{
	cat <<EOF
# Benchmark results

Written by \`bench/run.sh\`; do not edit by hand except the reading at the end.

## Machine and run

- CPU: ${cpu_model:-not recorded} (${cpu_id:-not recorded}, ${cpu_mhz:-?} MHz as /proc/cpuinfo reported it), ${cores:-?} CPUs (\`nproc\`); ${cpu_topology:-topology not recorded}; caches ${cpu_caches:-not recorded}
- Machine: ${virt:-not recorded}; ${mem:-?} of memory
- ${go_version:-Go version not recorded}, ${kernel:-kernel not recorded}
- What this CPU allows the tick targets: "What the hardware floor allows" under Ratios.
- Built from commit $commit; files changed but not committed at build time, by directory: ${dirty:-none}
- Run started $started and took about $minutes minutes; load average (1, 5, 15 min) $load_start at the start, $load_end at the end.
- COUNT=$COUNT BENCHTIME=$BENCHTIME RACE_COUNT=$RACE_COUNT RACE_BENCHTIME=$RACE_BENCHTIME

Absolute times depend on what else the machine was doing while the benchmarks ran; the first
line under "Ratios" measures it for this run (the share of wall time the benchmark goroutine was
on a CPU). On a machine shared with other work, absolute times are inflated by waiting for a CPU,
and in the parallel (-cpu=2) tick benchmarks the two goroutines may not even run at the same time.
Prefer the ratios, which compare implementations measured within the same run, minutes apart at
most, and the CPU-time figures (cpu-sec/op in the benchstat tables, "by CPU time" in the ratio
tables), which waiting for a CPU does not inflate.

## Commands

\`\`\`
go test -c -o \$OUT/bench.test ./bench
go test -race -c -o \$OUT/bench.race.test ./bench
# $COUNT rounds (and $RACE_COUNT with -race), interleaved; each round runs, in bench/:
\$OUT/bench.test ${tick_args[*]} -test.benchtime=$BENCHTIME
\$OUT/bench.test ${rest_args[*]} -test.benchtime=$BENCHTIME
\$OUT/bench.test ${probe_args[*]}
\$OUT/bench.race.test ${tick_args[*]} -test.benchtime=$RACE_BENCHTIME
\$OUT/bench.race.test ${rest_args[*]} -test.benchtime=$RACE_BENCHTIME
# then once, without -race, in bench/:
\$OUT/bench.test ${probe_memory_args[*]}
# then
go run $BENCHSTAT_PKG -col /impl -filter '.name:<Benchmark>' normal.txt
go run ./bench/internal/ratios -normal normal.txt -race race.txt
\`\`\`

What the implementations are: see the doc comments in bench/*_test.go. In short, tick: \`string\`
dc.IncAttemptSuccess("NGINX"), \`bound\` a counters.Target from Bind, \`record\`
dc.Record(tt, OutcomeSucceeded), \`syncmap\` the modelled design (sync.Map of buckets of eight
atomic.Uint64), \`mutexmap\` a mutex around map[string]*[8]uint64, \`atomic\` the floor: one
atomic.Uint64 per target type, padded to 128 bytes, \`cg-vec\` client_golang CounterVec.WithLabelValues(tt, "success").Inc(),
\`cg-cached\` a cached client_golang Counter, \`vm\` VictoriaMetrics/metrics
Set.GetOrCreateCounter(name).Inc(). Shapes: \`same\` all goroutines on one target type, \`own\` each
on its own, \`mixed16\` each cycling through 16. Scrape: \`handler\` the reference ServeHTTP,
\`append\` AppendSnapshot + AppendText/AppendOpenMetrics into reused buffers, \`fprintf\` the modelled
fmt.Fprintf exposer, \`promhttp\` client_golang's handler over six CounterVecs with the same values.
Check: \`textparse\` a bare textparse pass (Next to EOF, Series and Labels per series),
\`check-none\` check.Check with no schema, \`check-deploy\` check.Check with the deploy schema.
Probe: \`check\` scrape.Get and check.Check with the deploy schema, \`check-previous\` the same
against the previous scrape, \`probe\` GET /probe on promcheck exporter's handler.

## Ratios against the targets

EOF
	go run ./bench/internal/ratios -normal "$normal" -race "$race"
	cat <<EOF
## benchstat tables (without -race)

### Tick
EOF
	table '.name:Tick -.unit:(B/op OR allocs/op)' "$normal"
	printf '\n(B/op and allocs/op omitted here; the ratios section lists any tick benchmark that allocated.)\n\n### Scrape\n'
	table '.name:Scrape' "$normal"
	printf '\n### Scrape under ticks\n'
	table '.name:ScrapeUnderTicks' "$normal"
	printf '\n### Check\n'
	table '.name:Check' "$normal"
	printf '\n### Probe\n'
	table '.name:Probe OR .name:ProbeMemory' "$normal"
	printf '\n## benchstat tables (with -race)\n\n<details><summary>Tick, Scrape, Scrape under ticks, Check</summary>\n\n'
	table '.name:Tick -.unit:(B/op OR allocs/op)' "$race"
	table '.name:Scrape' "$race"
	table '.name:ScrapeUnderTicks' "$race"
	table '.name:Check' "$race"
	cat <<EOF

</details>

## Reading

(Not yet written for this run: a person writes it here after looking at the numbers above.)
EOF
} >"$RESULTS.tmp"
mv "$RESULTS.tmp" "$RESULTS"
log "done: $RESULTS (raw results in $OUT)"
