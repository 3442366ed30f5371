//go:build unix

package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proc is a child process the test started and will stop: in its own
// process group, so that stopping it reaches anything it spawned, with its
// output kept (bounded) for the failure log.
type proc struct {
	name   string
	cmd    *exec.Cmd
	output *tailBuffer   // stdout and stderr, interleaved
	first  chan string   // the first line of stdout, once
	done   chan struct{} // closed when the process has exited
	err    error         // cmd.Wait's error, set before done is closed
	stop   sync.Once     // the process is stopped once, by cleanup or a retry
}

// startProc starts bin with args and registers its teardown: SIGTERM to its
// process group, SIGKILL if it has not exited within a few seconds, and, if
// the test failed, the last lines of its output in the log.
func startProc(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{
		name:   name,
		cmd:    exec.Command(bin, args...),
		output: &tailBuffer{},
		first:  make(chan string, 1),
		done:   make(chan struct{}),
	}
	p.cmd.Stdout = &firstLineWriter{w: p.output, first: p.first}
	p.cmd.Stderr = p.output
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill(t)
		if t.Failed() {
			t.Logf("%s (%s): last output:\n%s", p.name, strings.Join(p.cmd.Args, " "), p.output.tail(40))
		}
	})
	return p
}

// kill stops the process group: SIGTERM first so servers shut down
// cleanly, SIGKILL when that takes too long. It always waits for the exit,
// so no process outlives the test.
func (p *proc) kill(t *testing.T) {
	p.stop.Do(func() {
		if p.exited() {
			// Its group id may already belong to someone else.
			return
		}
		pgid := p.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
			return
		case <-time.After(5 * time.Second):
		}
		t.Logf("%s: no exit 5s after SIGTERM, sending SIGKILL", p.name)
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			t.Errorf("%s (pid %d): still running 5s after SIGKILL", p.name, pgid)
		}
	})
}

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// firstLine waits, up to timeout, for the first line of stdout.
func (p *proc) firstLine(timeout time.Duration) (string, error) {
	select {
	case line := <-p.first:
		return line, nil
	case <-p.done:
		// The line may have been written just before the exit.
		select {
		case line := <-p.first:
			return line, nil
		default:
		}
		return "", fmt.Errorf("%s exited (%v) before printing a line", p.name, p.err)
	case <-time.After(timeout):
		return "", fmt.Errorf("%s printed no line within %s", p.name, timeout)
	}
}

// startListening starts a server that listens on a port given on its
// command line, and waits until readyPath answers 200. Ports are chosen
// free (listen on port 0, close, pass the number), which leaves a window
// in which another process can take the port: when the server dies saying
// so, it is started again on another port.
func startListening(t *testing.T, name, bin string, readyPath string, args func(addr string) []string) (p *proc, addr string) {
	t.Helper()
	const attempts = 3
	for attempt := 1; ; attempt++ {
		addr = freeAddr(t)
		p = startProc(t, name, bin, args(addr)...)
		err := waitReady(p, "http://"+addr+readyPath, 30*time.Second)
		if err == nil {
			return p, addr
		}
		p.kill(t)
		out := p.output.String()
		if attempt < attempts && strings.Contains(out, "address already in use") {
			t.Logf("%s: %s was taken before it could bind it; trying another port", name, addr)
			continue
		}
		t.Fatalf("%s on %s: %v; last output:\n%s", name, addr, err, p.output.tail(40))
	}
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	return addr
}

// waitReady polls url until it answers 200, the process exits, or timeout.
func waitReady(p *proc, url string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("exited before it was ready: %v", p.err)
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not ready within %s: %v", timeout, last)
}

// tailBuffer keeps the last tailBytes bytes written to it, so a chatty
// process cannot grow the test's memory.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const tailBytes = 64 << 10

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - tailBytes; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// tail returns the last n lines, indented for the test log.
func (b *tailBuffer) tail(n int) string {
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"\t... (" + strconv.Itoa(len(lines)-n) + " earlier lines)"}, lines[len(lines)-n:]...)
	}
	return "\t" + strings.Join(lines, "\n\t")
}

// firstLineWriter passes everything to w and sends the first complete line
// to first.
type firstLineWriter struct {
	w     *tailBuffer
	first chan<- string
	line  []byte
	sent  bool
}

func (f *firstLineWriter) Write(p []byte) (int, error) {
	if !f.sent {
		f.line = append(f.line, p...)
		// A first line longer than 4 KiB is not a URL; send it cut, so
		// the waiter fails with what was printed rather than a timeout.
		if i := bytes.IndexByte(f.line, '\n'); i >= 0 || len(f.line) > 4<<10 {
			if i < 0 {
				i = len(f.line)
			}
			f.first <- string(f.line[:i])
			f.sent, f.line = true, nil
		}
	}
	return f.w.Write(p)
}

// exitCode returns the exit status of a finished command, or -1 with the
// error when it did not run to an exit.
func exitCode(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.Exited() {
		return ee.ExitCode(), nil
	}
	return -1, err
}
