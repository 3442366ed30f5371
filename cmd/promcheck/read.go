package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// Every file promcheck reads goes through readBounded: the expositions
// (bounded by --max-bytes) and the side files flags name (a token, a
// password, certificates, a schema, a targets file; readSideFile). Any of
// them may be the wrong file: /dev/zero, a pipe nobody writes to, a
// multi-gigabyte log. So a read is bounded in size, sized from the file
// when it says how large it is (a buffer grown by doubling peaks at about
// twice the body), and gives up when the run is interrupted.

// Limits of the side files. 1 MiB holds any token, certificate bundle or
// schema; a targets file of 32 MiB lists about half a million targets.
const (
	sideFileLimit    = 1 << 20
	targetsFileLimit = 32 << 20
)

// errTooLarge is readBounded's error for a source longer than its limit.
var errTooLarge = errors.New("larger than the limit")

// readSideFile reads the file that flag names, within limit, and words
// its errors for the command line: "--ca-file /dev/zero: larger than
// 1 MiB: is this the right file?".
func readSideFile(ctx context.Context, flag, path string, limit int64) ([]byte, error) {
	data, err := readBounded(ctx, path, nil, limit)
	switch {
	case errors.Is(err, errTooLarge):
		return nil, fmt.Errorf("%s %s: larger than %s: is this the right file?", flag, path, byteSize(limit))
	case err != nil:
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	return data, nil
}

// readBounded reads the file at path, or stdin for "-", up to limit
// bytes; a longer one is errTooLarge, found without reading it whole. It
// stops when ctx ends: opening a named pipe waits for a writer, reading
// one waits for data. (A read of stdin blocked in the kernel is not
// interrupted; a second Ctrl-C ends the process.)
func readBounded(ctx context.Context, path string, stdin io.Reader, limit int64) ([]byte, error) {
	src := stdin
	if path != "-" {
		f, err := openFile(ctx, path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		// Closing the file ends a read blocked on a pipe.
		stop := context.AfterFunc(ctx, func() { f.Close() })
		defer stop()
		src = f
	}
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
		return nil, errTooLarge
	}
	// Room for the whole file and bytes.MinRead more, so that ReadFrom
	// sees the end without growing the buffer.
	buf := bytes.NewBuffer(make([]byte, 0, max(size, 0)+bytes.MinRead))
	_, err := buf.ReadFrom(io.LimitReader(&contextReader{ctx: ctx, r: src}, limit+1))
	if ctx.Err() != nil {
		return nil, errors.New("interrupted while reading it")
	}
	if err != nil {
		return nil, unwrapPathError(err)
	}
	if int64(buf.Len()) > limit {
		return nil, errTooLarge
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
		return nil, errors.New("interrupted while opening it (a named pipe nobody writes to?)")
	}
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

// byteSize writes a limit as people think of it: "1 MiB", "512 KiB",
// "1000 bytes".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
