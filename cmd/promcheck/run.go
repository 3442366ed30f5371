package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/conformance/scrape"
	"github.com/deploymetrics/deploymetrics/internal/sidefile"
)

// run checks every target, --parallel at a time, and returns the results
// in the order of the targets.
func (p *plan) run(ctx context.Context, e env) []*targetResult {
	results := make([]*targetResult, len(p.targets))
	perTarget := p.flags.scrapes * len(p.accepts)
	totalScrapes := 0
	for _, t := range p.targets {
		if t.URL != "" {
			totalScrapes += perTarget
		} else {
			totalScrapes += len(t.Files)
		}
	}
	prog := startProgress(e.stderr, p.progress, progressDelay, len(p.targets), totalScrapes)
	defer prog.stop()

	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(p.flags.parallel, len(p.targets)) {
		wg.Go(func() {
			for i := range jobs {
				results[i] = p.checkTarget(ctx, p.targets[i], e, prog)
				prog.targetDone()
			}
		})
	}
feed:
	for i := range p.targets {
		select {
		case <-ctx.Done():
			break feed
		case jobs <- i:
		}
	}
	close(jobs)
	wg.Wait()
	// Targets never handed out: the run was interrupted before them.
	for i, r := range results {
		if r == nil {
			results[i] = &targetResult{Target: p.targets[i], Interrupted: true}
		}
	}
	return results
}

func (p *plan) checkTarget(ctx context.Context, t target, e env, prog *progress) *targetResult {
	if ctx.Err() != nil {
		// Interrupted while this target waited for a worker.
		return &targetResult{Target: t, Interrupted: true}
	}
	if t.URL != "" {
		return p.checkURL(ctx, t, prog)
	}
	return p.checkFiles(ctx, t, e, prog)
}

// interrupted reports whether err, or the failure it caused, comes from the
// run being interrupted (the context canceled, not timed out): the target
// is then not checked, rather than in error.
func interrupted(ctx context.Context, err error) bool {
	return err != nil && errors.Is(ctx.Err(), context.Canceled)
}

// checkURL scrapes a URL --scrapes times in each --accept way, checking
// each scrape against the previous one asked the same way. The first
// scrape that fails ends the target: later ones would fail the same way,
// and the user waits --timeout for each.
func (p *plan) checkURL(ctx context.Context, t target, prog *progress) *targetResult {
	r := &targetResult{Target: t}
	limit := newFindingsCap(p.flags.maxFindings)
	// Only the previous exposition of each way of asking is kept: the
	// scrape.* rules compare a scrape with the one before it, nothing older.
	previous := make(map[string]*check.Exposition, len(p.accepts))
	served := &servedProtocols{}
	defer func() { p.rejudgePreference(r, served, limit) }()
	n := p.flags.scrapes
	for i := range n {
		if i > 0 && p.flags.interval > 0 {
			select {
			case <-ctx.Done():
				r.Interrupted = true
				return r
			case <-time.After(p.flags.interval):
			}
		}
		for _, a := range p.accepts {
			opts := p.scrape
			opts.Accept = a.header
			opts.Timeout = p.flags.timeout
			res, err := scrape.Scrape(ctx, p.client, t.URL, opts)
			prog.scrapeDone()
			if interrupted(ctx, err) {
				r.Interrupted = true
				return r
			}
			if err != nil {
				r.Err = withHint(err, opts)
				return r
			}
			in := res.Input
			in.Previous = previous[a.name]
			served.add(in.ContentType)
			in.HTTP.ServedProtocols = served.list()
			report := check.Check(in, p.opts)
			previous[a.name] = report.Exposition
			name := "scrape"
			if n > 1 {
				name = fmt.Sprintf("scrape %d/%d", i+1, n)
			}
			r.Scrapes = append(r.Scrapes, scrapeResult{
				Name:        name,
				Accept:      in.HTTP.Accept,
				AcceptName:  a.name,
				ContentType: in.ContentType,
				StatusCode:  in.HTTP.StatusCode,
				Redirects:   res.Redirects,
				facts:       factsForRejudging(in.HTTP),
			}.judged(report, limit))
		}
	}
	return r
}

// withHint adds to a scrape error the flag that changes the outcome. opts
// are the options the scrape was made with.
func withHint(err error, opts scrape.Options) error {
	var se *scrape.Error
	if !errors.As(err, &se) {
		return err
	}
	flags := scrape.Terms{
		MaxBytes: "--max-bytes", Timeout: "--timeout",
		CAFile: "--ca-file", InsecureSkipVerify: "--insecure-skip-verify",
		ClientCert:  "--cert-file and --key-file",
		Credentials: "--bearer-token-file, or --basic-auth-user and --basic-auth-password-file",
	}
	hint := se.Hint(flags, opts.BearerToken != "" || opts.BasicAuthUser != "")
	if hint == "" {
		return err
	}
	return fmt.Errorf("%w (%s)", err, hint)
}

// checkFiles checks a file target: one file, or a sequence of files read
// as successive scrapes.
func (p *plan) checkFiles(ctx context.Context, t target, e env, prog *progress) *targetResult {
	r := &targetResult{Target: t}
	// --format picks the parser; --content-type says what the file was
	// served as (protocol, escaping), which the rules judge it by.
	format := check.FormatUnknown
	if p.flags.format != "auto" {
		format, _ = check.ParseFormat(p.flags.format) // validated by newPlan
	}
	contentType := p.flags.contentType
	limit := newFindingsCap(p.flags.maxFindings)
	var previous *check.Exposition
	for _, file := range t.Files {
		if ctx.Err() != nil {
			r.Interrupted = true
			return r
		}
		body, err := p.readFile(ctx, file, e.stdin)
		prog.scrapeDone()
		if interrupted(ctx, err) {
			r.Interrupted = true
			return r
		}
		if err != nil {
			r.Err = err
			return r
		}
		// Each file is read into a buffer of its own: the engine may borrow it.
		report := check.Check(check.Input{Body: body, ContentType: contentType, Format: format, Previous: previous, BorrowBody: true}, p.opts)
		previous = report.Exposition
		name := file
		if file == "-" {
			name = "stdin"
		}
		r.Scrapes = append(r.Scrapes, scrapeResult{Name: name, ContentType: contentType}.judged(report, limit))
	}
	return r
}

// readFile reads a file or stdin ("-") up to --max-bytes.
func (p *plan) readFile(ctx context.Context, path string, stdin io.Reader) ([]byte, error) {
	name := path
	if path == "-" {
		name = "stdin"
	}
	limit := p.flags.maxBytes
	body, err := sidefile.Read(ctx, path, stdin, limit)
	switch {
	case errors.Is(err, sidefile.ErrTooLarge):
		return nil, fmt.Errorf("read %s: larger than the limit of %d bytes (--max-bytes)", name, limit)
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return body, nil
}
