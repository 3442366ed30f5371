package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance/scrape/scrapetest"
)

// Every file a flag names is read within a bound: pointed at /dev/zero,
// an endless stream, each flag fails at once with an error naming it,
// where reading it whole once grew to gigabytes.
func TestSideFilesAreBounded(t *testing.T) {
	keys, err := scrapetest.SelfSigned("client")
	if err != nil {
		t.Fatal(err)
	}
	cert := writeFile(t, "client.pem", string(keys.CertPEM))
	key := writeFile(t, "client.key", string(keys.KeyPEM))
	good := writeFile(t, "good.prom", goodText)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--targets-file", "/dev/zero"}, "--targets-file /dev/zero: larger than 32 MiB: is this the right file?"},
		{[]string{"--bearer-token-file", "/dev/zero"}, "--bearer-token-file /dev/zero: larger than 1 MiB: is this the right file?"},
		{[]string{"--basic-auth-user", "u", "--basic-auth-password-file", "/dev/zero"}, "--basic-auth-password-file /dev/zero: larger than 1 MiB: is this the right file?"},
		{[]string{"--ca-file", "/dev/zero"}, "--ca-file /dev/zero: larger than 1 MiB: is this the right file?"},
		{[]string{"--cert-file", "/dev/zero", "--key-file", key}, "--cert-file /dev/zero: larger than 1 MiB: is this the right file?"},
		{[]string{"--cert-file", cert, "--key-file", "/dev/zero"}, "--key-file /dev/zero: larger than 1 MiB: is this the right file?"},
		{[]string{"--schema", "/dev/zero"}, "--schema /dev/zero: larger than 1 MiB: is this the right file?"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			t.Parallel()
			r := promcheckMemory(t, "", append(append([]string{"check"}, c.args...), good)...)
			wantExit(t, r, exitCannotCheck)
			wantContains(t, r.stderr, "promcheck check: "+c.want+"\n")
			// At most 32 MiB read (a targets file), into a buffer grown
			// as it comes: /dev/zero does not say how long it is.
			if r.maxRSS > 200<<20 {
				t.Errorf("peak memory %d MB reading a bounded file, want < 200 MB", r.maxRSS>>20)
			}
		})
	}
}

// A regular file over the bound is refused from its size, unread; a
// directory is named as one.
func TestSideFileSizeAndKind(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.pem")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: 1 GiB that takes no disk, and seconds to read whole.
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	dir := t.TempDir()
	good := writeFile(t, "good.prom", goodText)

	r := promcheck(t, "", "check", "--ca-file", big, good)
	wantExit(t, r, exitCannotCheck)
	wantContains(t, r.stderr, "--ca-file "+big+": larger than 1 MiB: is this the right file?")
	if r.elapsed > 5*time.Second {
		t.Errorf("took %s to refuse a file by its size", r.elapsed)
	}
	r = promcheck(t, "", "check", "--bearer-token-file", dir, good)
	wantExit(t, r, exitCannotCheck)
	wantContains(t, r.stderr, "--bearer-token-file "+dir+": is a directory, not a file")
}

// A named pipe nobody writes to blocks the open, or the read once a writer
// holds it open; Ctrl-C ends the wait, where it once hung until a second
// Ctrl-C killed promcheck.
func TestSideFilePipeHonoursInterrupt(t *testing.T) {
	good := writeFile(t, "good.prom", goodText)
	for _, c := range []struct {
		name   string
		writer bool // a writer holds the pipe open and writes nothing
		want   string
	}{
		{"no writer", false, "interrupted while opening it"},
		{"silent writer", true, "interrupted while reading it"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "token")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			if c.writer {
				// O_RDWR opens a pipe without waiting for a reader.
				w, err := os.OpenFile(fifo, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { w.Close() })
			}
			r := promcheckInterrupted(t, time.After(500*time.Millisecond), "check", "--bearer-token-file", fifo, good)
			wantExit(t, r, exitCannotCheck)
			wantContains(t, r.stderr, "--bearer-token-file "+fifo+": "+c.want)
		})
	}
}

// A file target is read into a buffer of its size, not one grown by
// doubling: a 64 MiB exposition (one comment, cheap to judge) takes
// 64 MiB and little more, where reading it by io.ReadAll peaked at 174 MB.
func TestFileReadIntoABufferOfItsSize(t *testing.T) {
	path := writeFile(t, "comment.prom", "# "+strings.Repeat("x", 64<<20)+"\n")
	r := promcheckMemory(t, "", "check", "--schema", "none", "--max-bytes", "100000000", path)
	wantExit(t, r, exitConforms)
	t.Logf("peak memory %d MB for a 64 MiB file", r.maxRSS>>20)
	if r.maxRSS > 120<<20 {
		t.Errorf("peak memory %d MB for a 64 MiB file, want < 120 MB", r.maxRSS>>20)
	}
}
