package sidefile

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Every source is read within its limit, whatever it is: a file at the
// limit is read, one byte more is refused, and an endless device or a
// sparse terabyte fails at once instead of filling memory.
func TestReadFileBounds(t *testing.T) {
	// A sparse terabyte takes no disk, and hours to read: the test ends
	// only if it is refused from its size, unread.
	sparse := filepath.Join(t.TempDir(), "big.pem")
	f, err := os.Create(sparse)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 40); err != nil {
		t.Fatal(err)
	}
	f.Close()
	dir := t.TempDir()
	for _, c := range []struct {
		name, path string
		limit      int64
		want       string // the error, "" for a read
	}{
		{"at the limit", writeFile(t, "ten", "0123456789"), 10, ""},
		{"one byte over", writeFile(t, "eleven", "0123456789X"), 10, "--ca-file PATH: larger than 10 bytes: is this the right file?"},
		{"an endless device", "/dev/zero", Limit, "--ca-file PATH: larger than 1 MiB: is this the right file?"},
		{"a sparse terabyte", sparse, Limit, "--ca-file PATH: larger than 1 MiB: is this the right file?"},
		{"a directory", dir, Limit, "--ca-file PATH: is a directory, not a file"},
		{"missing", filepath.Join(dir, "nope"), Limit, "--ca-file PATH: no such file or directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data, err := ReadFile(context.Background(), "--ca-file", c.path, c.limit)
			want := strings.ReplaceAll(c.want, "PATH", c.path)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("want the file read, got %v", err)
			case c.want == "" && int64(len(data)) != c.limit:
				t.Errorf("read %d bytes, want %d", len(data), c.limit)
			case c.want != "" && (err == nil || err.Error() != want):
				t.Errorf("error %v, want %q", err, want)
			}
		})
	}
}

// Read tells a source over its limit by ErrTooLarge, for callers that
// word it themselves (an exposition file over --max-bytes), and reads
// stdin for "-".
func TestReadStdin(t *testing.T) {
	data, err := Read(context.Background(), "-", strings.NewReader("a 1\n"), 4)
	if err != nil || string(data) != "a 1\n" {
		t.Errorf("stdin: %q, %v", data, err)
	}
	if _, err := Read(context.Background(), "-", strings.NewReader("a 1\nb 2\n"), 4); !errors.Is(err, ErrTooLarge) {
		t.Errorf("stdin over the limit: %v, want ErrTooLarge", err)
	}
}

// A named pipe nobody writes to blocks the open, or the read once a writer
// holds it open and writes nothing; the end of the context ends the wait,
// and the error says whether it was an interruption or a timeout.
func TestReadHonoursTheContext(t *testing.T) {
	for _, c := range []struct {
		name    string
		writer  bool // a writer holds the pipe open and writes nothing
		timeout bool // the context times out, rather than being canceled
		want    string
	}{
		{"no writer, canceled", false, false, "interrupted while opening it (a named pipe nobody writes to?)"},
		{"no writer, timed out", false, true, "timed out while opening it (a named pipe nobody writes to?)"},
		{"silent writer, canceled", true, false, "interrupted while reading it"},
		{"silent writer, timed out", true, true, "timed out while reading it"},
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
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			if !c.timeout {
				ctx, cancel = context.WithCancel(context.Background())
				time.AfterFunc(100*time.Millisecond, cancel)
			}
			_, err := ReadFile(ctx, "bearer_token_file", fifo, Limit)
			if want := "bearer_token_file " + fifo + ": " + c.want; err == nil || err.Error() != want {
				t.Errorf("error %v, want %q", err, want)
			}
		})
	}
}

// A read of stdin that waits for data (a terminal, a pipe whose writer is
// silent) ends with the context too: the first Ctrl-C ends a command
// reading stdin, where it once took a second one.
func TestReadStdinHonoursTheContext(t *testing.T) {
	for _, c := range []struct {
		name    string
		timeout bool
		want    string
	}{
		{"canceled", false, "interrupted while reading it"},
		{"timed out", true, "timed out while reading it"},
	} {
		t.Run(c.name, func(t *testing.T) {
			stdin, silent := io.Pipe()
			// Closing the writer at the end lets the reader left behind finish.
			t.Cleanup(func() { silent.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			if !c.timeout {
				ctx, cancel = context.WithCancel(context.Background())
				time.AfterFunc(100*time.Millisecond, cancel)
			}
			done := make(chan error, 1)
			go func() {
				_, err := Read(ctx, "-", stdin, Limit)
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || err.Error() != c.want {
					t.Errorf("error %v, want %q", err, c.want)
				}
			case <-time.After(time.Minute):
				t.Fatal("Read of a silent stdin still waiting a minute after the context ended")
			}
		})
	}
}

func TestReadSecret(t *testing.T) {
	for _, c := range []struct {
		name, content, want, err string
	}{
		{"trailing newline", "s3cret\n", "s3cret", ""},
		{"blanks around", "  s3cret \r\n", "s3cret", ""},
		{"empty", "\n", "", "is empty"},
		{"two lines", "a\nb\n", "", "holds more than one line"},
		{"a NUL", "a\x00b", "", "holds more than one line (or a NUL)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, "secret", c.content)
			got, err := ReadSecret(context.Background(), "--bearer-token-file", path)
			switch {
			case c.err == "" && (err != nil || got != c.want):
				t.Errorf("got %q, %v; want %q", got, err, c.want)
			case c.err != "" && (err == nil || !strings.HasPrefix(err.Error(), "--bearer-token-file "+path+": "+c.err)):
				t.Errorf("error %v, want it to say %q", err, c.err)
			case c.err != "" && strings.Contains(err.Error(), strings.TrimSpace(c.content)) && c.content != "\n":
				t.Errorf("error %v repeats the secret", err)
			}
		})
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{1 << 20: "1 MiB", 32 << 20: "32 MiB", 512 << 10: "512 KiB", 1000: "1000 bytes", 1<<20 + 1: "1048577 bytes"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

// ReadAll reads every named file, skipping the unnamed, and stops at the
// first that cannot be read, naming it.
func TestReadAll(t *testing.T) {
	ca, key := writeFile(t, "ca.pem", "CA"), writeFile(t, "key.pem", "KEY")
	got, err := ReadAll(context.Background(), Limit, Named{"--ca-file", ca}, Named{"--cert-file", ""}, Named{"--key-file", key})
	if err != nil || len(got) != 2 || string(got[ca]) != "CA" || string(got[key]) != "KEY" {
		t.Errorf("ReadAll: %q, %v", got, err)
	}
	_, err = ReadAll(context.Background(), Limit, Named{"--ca-file", ca}, Named{"--key-file", "/dev/zero"})
	if want := "--key-file /dev/zero: larger than 1 MiB: is this the right file?"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}
