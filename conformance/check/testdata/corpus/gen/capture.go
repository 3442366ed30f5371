package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// capturer writes the scrapes of one source under <dir>/scrapes.
type capturer struct {
	dir    string
	source *Source
}

// formatOf names the format of a Content-Type as the file extension the
// engine's tests read: .om for OpenMetrics, .prom for the text format.
func formatOf(contentType string) string {
	if strings.HasPrefix(strings.TrimSpace(contentType), "application/openmetrics-text") {
		return ".om"
	}
	return ".prom"
}

// scrapeBoth captures url with the text and the OpenMetrics Accept header.
// The OpenMetrics response is kept only when it is OpenMetrics: a source
// that answers it with text serves text only.
func (c *capturer) scrapeBoth(url string) error {
	for _, accept := range []string{"text", "openmetrics"} {
		body, contentType, err := get(url, acceptHeader(accept))
		if err != nil {
			return err
		}
		ext := formatOf(contentType)
		if accept == "openmetrics" && ext != ".om" {
			continue
		}
		name := "text" + ext
		if accept == "openmetrics" {
			name = "openmetrics" + ext
		}
		sc, err := c.write(name, accept, contentType, body)
		if err != nil {
			return err
		}
		c.source.Scrapes = append(c.source.Scrapes, sc)
	}
	return nil
}

// sequence captures url once, then once after each step, as the
// successive scrapes of sequence name.
func (c *capturer) sequence(name, what, url, accept string, steps ...func() error) error {
	seq := &Sequence{Name: name, What: what}
	for i := 0; i <= len(steps); i++ {
		if i > 0 {
			if err := steps[i-1](); err != nil {
				return fmt.Errorf("sequence %s, step %d: %w", name, i, err)
			}
		}
		body, contentType, err := get(url, acceptHeader(accept))
		if err != nil {
			return err
		}
		sc, err := c.write(filepath.Join(name, strconv.Itoa(i+1)+formatOf(contentType)), accept, contentType, body)
		if err != nil {
			return err
		}
		seq.Scrapes = append(seq.Scrapes, sc)
	}
	c.source.Sequences = append(c.source.Sequences, seq)
	return nil
}

// write stores one body and returns its manifest entry.
func (c *capturer) write(name, accept, contentType string, body []byte) (Scrape, error) {
	path := filepath.Join(c.dir, "scrapes", name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return Scrape{}, err
	}
	if err := os.WriteFile(path, body, 0o644); err != nil {
		return Scrape{}, err
	}
	rel := filepath.ToSlash(filepath.Join(c.source.Name, "scrapes", name))
	return Scrape{File: rel, Accept: accept, ContentType: contentType}, nil
}

// serves says which formats the source answered with.
func (c *capturer) serves() string {
	om := false
	for _, s := range c.source.Scrapes {
		om = om || formatOf(s.ContentType) == ".om"
	}
	if om {
		return "text 0.0.4 and OpenMetrics"
	}
	return "the text format only: answers the OpenMetrics Accept header with text"
}

func acceptHeader(key string) string {
	if key == "openmetrics" {
		return acceptOpenMetrics
	}
	return acceptText
}

// get fetches url with the Accept header and returns the body and its
// Content-Type. Go's client asks for gzip and decodes it, as Prometheus does.
func get(url, accept string) ([]byte, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, resp.Header.Get("Content-Type"), nil
}

// do sends one request that changes a target (a push, a deletion).
func do(method, url, contentType, body string) error {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, msg)
	}
	return nil
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// process is a started program, stopped by its PID.
type process struct {
	cmd  *exec.Cmd
	name string
	out  *strings.Builder
}

// start runs path with args (and extra environment) on loopback.
func start(path string, env []string, args ...string) (*process, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%s is not installed (apt-get install the Debian package): %w", path, err)
	}
	out := new(strings.Builder)
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	return &process{cmd: cmd, name: filepath.Base(path), out: out}, nil
}

// stop kills the process by its PID and waits for it.
func (p *process) stop() {
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

// waitFor polls url until it answers 200 with a body holding marker.
func (p *process) waitFor(url, marker string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if body, _, err := get(url, acceptText); err == nil && strings.Contains(string(body), marker) {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	out := p.out.String()
	return fmt.Errorf("%s did not serve %q at %s within 30s; its output:\n%s", p.name, marker, url, out[max(len(out)-2000, 0):])
}
