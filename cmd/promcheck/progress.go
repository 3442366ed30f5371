package main

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// progressDelay is how long a run goes before it shows a progress line: a
// quick check stays silent.
const progressDelay = time.Second

// progress draws one self-overwriting line on a terminal's stderr while a
// long run (many targets, many scrapes) goes on. A nil *progress, or one
// not on a terminal, does nothing, so callers need not care.
type progress struct {
	w                    io.Writer
	targets, scrapes     int
	doneTargets, scraped atomic.Int64
	quit                 chan struct{}
	finished             sync.WaitGroup
	drawn                atomic.Bool
}

// startProgress starts the progress line when enabled (stderr is a
// terminal and --quiet is not set); the first line is drawn after delay.
func startProgress(w io.Writer, enabled bool, delay time.Duration, targets, scrapes int) *progress {
	p := &progress{w: w, targets: targets, scrapes: scrapes, quit: make(chan struct{})}
	if !enabled {
		return p
	}
	p.finished.Go(func() {
		select {
		case <-p.quit:
			return
		case <-time.After(delay):
		}
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			p.draw()
			select {
			case <-p.quit:
				return
			case <-tick.C:
			}
		}
	})
	return p
}

func (p *progress) draw() {
	p.drawn.Store(true)
	// \r returns to the start of the line, \033[K clears what a longer
	// previous line left.
	fmt.Fprintf(p.w, "\rpromcheck: %d/%d targets, %d/%d scrapes\033[K", p.doneTargets.Load(), p.targets, p.scraped.Load(), p.scrapes)
}

func (p *progress) targetDone() { p.doneTargets.Add(1) }
func (p *progress) scrapeDone() { p.scraped.Add(1) }

// stop ends the progress line and erases it, so the report starts clean.
func (p *progress) stop() {
	close(p.quit)
	p.finished.Wait()
	if p.drawn.Load() {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
