package main

import (
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

// Ctrl-C reaches the bounded reader (package sidefile, whose tests cover a
// pipe with and without a writer): a --bearer-token-file that is a named
// pipe nobody writes to once hung until a second Ctrl-C killed promcheck.
func TestSideFilePipeHonoursInterrupt(t *testing.T) {
	good := writeFile(t, "good.prom", goodText)
	fifo := filepath.Join(t.TempDir(), "token")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	r := promcheckInterrupted(t, time.After(500*time.Millisecond), "check", "--bearer-token-file", fifo, good)
	wantExit(t, r, exitCannotCheck)
	wantContains(t, r.stderr, "--bearer-token-file "+fifo+": interrupted while opening it")
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
