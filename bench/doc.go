// Package bench holds the contention, scrape and check benchmarks of the
// reference emitter, each run side by side with what a user would otherwise
// pick: the modelled sync.Map design, a mutex-guarded map, a bare atomic per
// target type, client_golang and VictoriaMetrics/metrics. It exports
// nothing; product code never imports it, so the baselines' dependencies stay
// out of the product.
//
// Every benchmark names its variants as key=value sub-benchmarks, so
// benchstat can put the implementations in columns:
//
//	go test -run='^$' -bench=Tick -cpu=1,2 -count=6 ./bench/ > tick.txt
//	benchstat -col /impl tick.txt
//
// bench/run.sh runs everything, with and without the race detector, and
// writes RESULTS.md with the tables and the ratios against the targets.
package bench
