// Package sidefile reads the files a command line or a config names
// beside its main input: a token, a password, certificates, a schema, a
// targets file, a module config, or an exposition file. Any of them may be
// the wrong file (/dev/zero, a pipe nobody writes to, a multi-gigabyte
// log), so a read is bounded in size, sized from the file when it says how
// large it is (a buffer grown by doubling peaks at about twice the body),
// and gives up when its context ends:
//
//	data, err := sidefile.ReadFile(ctx, "--ca-file", path, sidefile.Limit)
//	// err: "--ca-file /dev/zero: larger than 1 MiB: is this the right file?"
//
// promcheck and its exporter read every such file through this package.
package sidefile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Limit bounds a side file: 1 MiB holds any token, certificate bundle,
// schema or module config.
const Limit = 1 << 20

// ErrTooLarge is Read's error for a source longer than its limit.
var ErrTooLarge = errors.New("larger than the limit")

// ReadFile reads the file that what names (a flag, a config field), within
// limit, and words its errors for the user, naming what and path:
// "--ca-file /dev/zero: larger than 1 MiB: is this the right file?".
func ReadFile(ctx context.Context, what, path string, limit int64) ([]byte, error) {
	data, err := Read(ctx, path, nil, limit)
	switch {
	case errors.Is(err, ErrTooLarge):
		return nil, fmt.Errorf("%s %s: larger than %s: is this the right file?", what, path, Size(limit))
	case err != nil:
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	return data, nil
}

// A Named file is a path and what names it (a flag, a config field).
type Named struct{ What, Path string }

// ReadAll reads each file that is named (an empty Path is skipped) as
// ReadFile does, and returns their contents by path, for a reader hook
// such as scrape.TLSFiles.ReadFile. The first error is returned.
func ReadAll(ctx context.Context, limit int64, files ...Named) (map[string][]byte, error) {
	read := make(map[string][]byte, len(files))
	for _, f := range files {
		if f.Path == "" {
			continue
		}
		data, err := ReadFile(ctx, f.What, f.Path, limit)
		if err != nil {
			return nil, err
		}
		read[f.Path] = data
	}
	return read, nil
}

// ReadSecret reads a token or password file named by what, within Limit,
// without the trailing newline every editor adds (as Prometheus does). An
// empty file, or one of more than one line, is an error: neither can be
// sent in a header.
func ReadSecret(ctx context.Context, what, path string) (string, error) {
	data, err := ReadFile(ctx, what, path, Limit)
	if err != nil {
		return "", err
	}
	secret := strings.TrimSpace(string(data))
	switch {
	case secret == "":
		return "", fmt.Errorf("%s %s: is empty", what, path)
	case strings.ContainsAny(secret, "\r\n\x00"):
		return "", fmt.Errorf("%s %s: holds more than one line (or a NUL): a token or password is one line", what, path)
	}
	return secret, nil
}

// Read reads the file at path, or stdin for "-", up to limit bytes; a
// longer one is ErrTooLarge, found without reading it whole (a regular
// file by its size, unread). It stops when ctx ends: opening a named pipe
// waits for a writer, reading one waits for data, and so may a read of
// stdin. Errors do not name the path: callers do, once (ReadFile).
func Read(ctx context.Context, path string, stdin io.Reader, limit int64) ([]byte, error) {
	if path == "-" {
		return readStdin(ctx, stdin, limit)
	}
	f, err := openFile(ctx, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Closing the file ends a read blocked on a pipe.
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer stop()
	return readAll(ctx, f, limit)
}

// readStdin reads stdin as Read does. Stdin is not Read's to close, and a
// read of it blocked in the kernel (a terminal, or a pipe whose writer is
// silent) ends only with data or a close, so the read runs in a goroutine
// that is left behind when ctx ends: Read returns at once, the command
// ends, and the goroutine with it. It holds at most limit bytes meanwhile.
func readStdin(ctx context.Context, stdin io.Reader, limit int64) ([]byte, error) {
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1) // buffered: a reader left behind never blocks on it
	go func() {
		data, err := readAll(ctx, stdin, limit)
		done <- result{data, err}
	}()
	select {
	case r := <-done:
		return r.data, r.err
	case <-ctx.Done():
		return nil, gaveUp(ctx, "while reading it")
	}
}

// readAll reads src up to limit bytes, sizing its buffer from src's size
// when src is a regular file.
func readAll(ctx context.Context, src io.Reader, limit int64) ([]byte, error) {
	size := int64(-1)
	if f, ok := src.(*os.File); ok {
		info, err := f.Stat()
		switch {
		case err != nil:
		case info.IsDir():
			return nil, errors.New("is a directory, not a file")
		case info.Mode().IsRegular():
			size = info.Size()
		}
	}
	if size > limit {
		return nil, ErrTooLarge
	}
	// Room for the whole file and bytes.MinRead more, so that ReadFrom
	// sees the end without growing the buffer.
	buf := bytes.NewBuffer(make([]byte, 0, max(size, 0)+bytes.MinRead))
	_, err := buf.ReadFrom(io.LimitReader(&contextReader{ctx: ctx, r: src}, limit+1))
	if ctx.Err() != nil {
		return nil, gaveUp(ctx, "while reading it")
	}
	if err != nil {
		return nil, unwrapPathError(err)
	}
	if int64(buf.Len()) > limit {
		return nil, ErrTooLarge
	}
	return buf.Bytes(), nil
}

// openFile opens path for reading, giving up when ctx ends: opening a
// named pipe blocks until a writer opens it, maybe never. An open given up
// on is closed if it ever completes.
func openFile(ctx context.Context, path string) (*os.File, error) {
	type opened struct {
		f   *os.File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := os.Open(path)
		done <- opened{f, err}
	}()
	select {
	case o := <-done:
		return o.f, unwrapPathError(o.err)
	case <-ctx.Done():
		go func() {
			if o := <-done; o.f != nil {
				o.f.Close()
			}
		}()
		return nil, gaveUp(ctx, "while opening it (a named pipe nobody writes to?)")
	}
}

// gaveUp says why a read ended early: interrupted (Ctrl-C, a canceled
// request) or timed out.
func gaveUp(ctx context.Context, when string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errors.New("timed out " + when)
	}
	return errors.New("interrupted " + when)
}

// unwrapPathError drops os.PathError's "open PATH: " prefix: the callers
// name the path once themselves.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// contextReader stops reading once ctx ends, between reads.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Size writes a byte count as people think of it: "1 MiB", "512 KiB",
// "1000 bytes".
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
