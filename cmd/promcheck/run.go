package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/conformance/scrape"
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
	for i := range p.targets {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return results
}

func (p *plan) checkTarget(ctx context.Context, t target, e env, prog *progress) *targetResult {
	if t.URL != "" {
		return p.checkURL(ctx, t, prog)
	}
	return p.checkFiles(ctx, t, e, prog)
}

// checkURL scrapes a URL --scrapes times in each --accept format, checking
// each scrape against the previous one in the same format. The first scrape
// that fails ends the target: later ones would fail the same way, and the
// user waits --timeout for each.
func (p *plan) checkURL(ctx context.Context, t target, prog *progress) *targetResult {
	r := &targetResult{Target: t}
	limit := newFindingsCap(p.flags.maxFindings)
	// Only the previous exposition in each format is kept: the scrape.*
	// rules compare a scrape with the one before it, nothing older.
	previous := make(map[string]*check.Exposition, len(p.accepts))
	n := p.flags.scrapes
	for i := range n {
		if i > 0 && p.flags.interval > 0 {
			select {
			case <-ctx.Done():
				r.Err = fmt.Errorf("scrape %s: canceled after %d of %d scrapes", t.URL, i, n)
				return r
			case <-time.After(p.flags.interval):
			}
		}
		for _, a := range p.accepts {
			opts := p.scrape
			opts.Accept = a.header
			opts.Timeout = p.flags.timeout
			in, err := scrape.Get(ctx, p.client, t.URL, opts)
			prog.scrapeDone()
			if err != nil {
				r.Err = withHint(err)
				return r
			}
			in.Previous = previous[a.name]
			report := check.Check(in, p.opts)
			previous[a.name] = report.Exposition
			name := "scrape"
			if n > 1 {
				name = fmt.Sprintf("scrape %d/%d", i+1, n)
			}
			r.Scrapes = append(r.Scrapes, scrapeResult{
				Name:        name,
				Accept:      a.header,
				AcceptName:  a.name,
				ContentType: in.ContentType,
				StatusCode:  in.HTTP.StatusCode,
			}.judged(report, limit))
		}
	}
	return r
}

// withHint adds to a scrape error the flag that changes the outcome.
func withHint(err error) error {
	var se *scrape.Error
	if !errors.As(err, &se) {
		return err
	}
	hint := ""
	switch se.Kind {
	case scrape.KindTooLarge:
		hint = "--max-bytes"
	case scrape.KindTimeout:
		hint = "--timeout"
	case scrape.KindUnknownAuthority:
		hint = "use --ca-file, or --insecure-skip-verify"
	case scrape.KindTLS:
		if strings.Contains(se.Detail, "certificate required") {
			hint = "use --cert-file and --key-file"
		}
	}
	if hint == "" {
		return err
	}
	return fmt.Errorf("%w (%s)", err, hint)
}

// checkFiles checks a file target: one file, or a sequence of files read
// as successive scrapes.
func (p *plan) checkFiles(ctx context.Context, t target, e env, prog *progress) *targetResult {
	r := &targetResult{Target: t}
	contentType := ""
	switch p.flags.format {
	case "text":
		contentType = check.ContentTypeText
	case "openmetrics":
		contentType = check.ContentTypeOpenMetrics
	}
	limit := newFindingsCap(p.flags.maxFindings)
	var previous *check.Exposition
	for _, file := range t.Files {
		body, err := p.readFile(ctx, file, e.stdin)
		prog.scrapeDone()
		if err != nil {
			r.Err = err
			return r
		}
		report := check.Check(check.Input{Body: body, ContentType: contentType, Previous: previous}, p.opts)
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
	body, err := readBounded(ctx, path, stdin, limit)
	switch {
	case errors.Is(err, errTooLarge):
		return nil, fmt.Errorf("read %s: larger than the limit of %d bytes (--max-bytes)", name, limit)
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return body, nil
}
