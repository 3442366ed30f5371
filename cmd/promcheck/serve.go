package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
	"github.com/deploymetrics/deploymetrics/internal/simulate"
)

const serveUsage = `Usage: promcheck serve [flags]

Runs the reference emitter: the deploy counter table fed by simulated deploy
traffic (a realistic mix of outcomes across the known target types), served
at /metrics/prometheus (and /metrics) in the text format or OpenMetrics, as
Accept asks, gzipped when allowed. For trying promcheck, Prometheus, or an
end-to-end test. The first line on stdout is the URL. SIGINT or SIGTERM shuts
it down gracefully.

Examples:
  promcheck serve
  promcheck serve --addr 127.0.0.1:0 --rate 500 --seed 7
  promcheck serve --namespace acme --target-types 'NGINX,F5,odd "name"'
`

// emitterFlags configure the reference emitter, for serve and the self-check.
type emitterFlags struct {
	namespace   string
	rate        float64
	seed        uint64
	burst       int
	targetTypes string
}

func (f *emitterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.namespace, "namespace", handler.DefaultNamespace, "`namespace` of the deploy metrics")
	fs.Float64Var(&f.rate, "rate", simulate.DefaultRate, "simulated deployments per `second`; 0: none (the counters stay at --burst)")
	fs.Uint64Var(&f.seed, "seed", 1, "`seed` of the simulated traffic (same seed, same deployments)")
	fs.IntVar(&f.burst, "burst", 500, "`number` of deployments recorded at start, so the first scrape has data (not with --target-types)")
	fs.StringVar(&f.targetTypes, "target-types", "", "comma-separated target `types` to deploy to (default: the known ones)")
}

func (f *emitterFlags) validate() error {
	if err := handler.ValidateNamespace(f.namespace); err != nil {
		return fmt.Errorf("--namespace: %w", err)
	}
	if f.rate < 0 || math.IsNaN(f.rate) || math.IsInf(f.rate, 0) {
		return fmt.Errorf("--rate %v: want a finite number >= 0", f.rate)
	}
	if f.burst < 0 {
		return fmt.Errorf("--burst %d: want a number >= 0", f.burst)
	}
	return nil
}

// emitter is a running reference emitter.
type emitter struct {
	url      string // of /metrics/prometheus
	srv      *http.Server
	served   chan error
	stopSim  context.CancelFunc
	simulate chan error
}

// startEmitter listens on addr and serves the reference handler over a
// counter table fed by simulated traffic until shutdown.
func startEmitter(addr string, f *emitterFlags) (*emitter, error) {
	dc := counters.NewDeployCounters()
	opts := simulate.Options{Rate: f.rate, Seed: f.seed}
	if f.targetTypes != "" {
		opts.TargetTypes = strings.Split(f.targetTypes, ",")
	}
	// The burst is the first deployments of the seed; the live traffic
	// continues with the next seed rather than replaying them.
	if opts.TargetTypes == nil {
		simulate.Burst(dc, simulate.NewRand(f.seed), f.burst)
		opts.Seed = f.seed + 1
	}
	h := handler.NewMetricsHandler(handler.WithNamespace(f.namespace))
	h.SetDeployCounters(dc)
	mux := http.NewServeMux()
	mux.Handle("/metrics/prometheus", h)
	mux.Handle("/metrics", h)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "the reference emitter serves /metrics/prometheus (and /metrics)", http.StatusNotFound)
	})

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	simCtx, stopSim := context.WithCancel(context.Background())
	e := &emitter{
		url: "http://" + ln.Addr().String() + "/metrics/prometheus",
		// Slow or stuck clients must not hold the server: bound how long
		// they may take to send a request.
		srv:      &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second},
		served:   make(chan error, 1),
		stopSim:  stopSim,
		simulate: make(chan error, 1),
	}
	// emitterFlags.validate has checked what simulate.Run would reject, so
	// its error, if any, can wait for shutdown. simulate.Run takes rate 0
	// as its default; here 0 means no traffic.
	if f.rate > 0 {
		go func() { e.simulate <- simulate.Run(simCtx, dc, opts) }()
	} else {
		e.simulate <- nil
	}
	go func() { e.served <- e.srv.Serve(ln) }()
	return e, nil
}

// shutdown stops the traffic and the server, letting scrapes in flight
// finish within timeout.
func (e *emitter) shutdown(timeout time.Duration) error {
	e.stopSim()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := e.srv.Shutdown(ctx)
	if serveErr := <-e.served; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	if simErr := <-e.simulate; simErr != nil {
		err = errors.Join(err, fmt.Errorf("simulated traffic: %w", simErr))
	}
	return err
}

func runServe(ctx context.Context, args []string, e env) int {
	fs := newFlagSet("serve", e)
	addr := fs.String("addr", "127.0.0.1:9464", "`address` to listen on (port 0: any free port)")
	var f emitterFlags
	f.register(fs)
	positional, code, ok := parseFlags(fs, args, serveUsage, e)
	if !ok {
		return code
	}
	if len(positional) > 0 {
		fmt.Fprintf(e.stderr, "promcheck serve: takes no arguments, got %q\n", positional[0])
		return exitCannotCheck
	}
	if err := f.validate(); err != nil {
		fmt.Fprintf(e.stderr, "promcheck serve: %v\n", err)
		return exitCannotCheck
	}
	em, err := startEmitter(*addr, &f)
	if err != nil {
		fmt.Fprintf(e.stderr, "promcheck serve: %v\n", err)
		return exitCannotCheck
	}
	fmt.Fprintln(e.stdout, em.url)
	fmt.Fprintf(e.stderr, "promcheck serve: reference emitter at %s (namespace %q, %g deploys/s, seed %d); SIGINT or SIGTERM stops it\n",
		em.url, f.namespace, f.rate, f.seed)
	select {
	case <-ctx.Done():
	case err := <-em.served:
		// The server stopped on its own; put the result back for shutdown.
		em.served <- err
		fmt.Fprintf(e.stderr, "promcheck serve: %v\n", err)
	}
	if err := em.shutdown(5 * time.Second); err != nil {
		fmt.Fprintf(e.stderr, "promcheck serve: shutdown: %v\n", err)
		return exitCannotCheck
	}
	fmt.Fprintln(e.stderr, "promcheck serve: shut down")
	return exitConforms
}
