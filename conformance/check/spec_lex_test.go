package check

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
)

// firstNotPlain is notPlain8's answer written the slow way: the index of the
// first byte of w that is not classPlain, 8 when all are.
func firstNotPlain(w []byte) int {
	for i, c := range w {
		if charClass[c]&classPlain == 0 {
			return i
		}
	}
	return len(w)
}

// TestNotPlain8 checks the eight-byte test scanString skips plain runs
// with against the byte class table: every byte value at every place in a
// word of plain bytes, then random words, where several bytes that are not
// plain, and the borrows between them, meet.
func TestNotPlain8(t *testing.T) {
	check := func(w []byte) {
		t.Helper()
		got := 8
		if m := notPlain8(binary.LittleEndian.Uint64(w)); m != 0 {
			got = bits.TrailingZeros64(m) / 8
		}
		if want := firstNotPlain(w); got != want {
			t.Fatalf("% x: first byte that is not plain at %d, want %d", w, got, want)
		}
	}
	for pos := range 8 {
		for c := range 256 {
			w := []byte("abcdefgh")
			w[pos] = byte(c)
			check(w)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	special := []byte{'"', '\\', '\n', '\r', 0, 0x7f, 0x80, 0xff, ' ', '!', '#', '[', ']', 0x0c, 0x0e}
	for range 200000 {
		var w [8]byte
		for i := range w {
			if rng.IntN(3) == 0 {
				w[i] = special[rng.IntN(len(special))]
			} else {
				w[i] = byte(rng.IntN(256))
			}
		}
		check(w[:])
	}
}

// TestIndexEscape checks the eight-byte scan appendQuoted starts with
// against strings.IndexAny: every byte value at every place of strings
// long enough to take the word loop and the byte tail, then random
// strings where escapes, and the borrows between them, meet.
func TestIndexEscape(t *testing.T) {
	check := func(s string) {
		t.Helper()
		want := strings.IndexAny(s, "\"\\\n")
		if want < 0 {
			want = len(s)
		}
		if got := indexEscape(s); got != want {
			t.Fatalf("%q: first byte to escape at %d, want %d", s, got, want)
		}
	}
	for n := range 20 {
		for pos := range n {
			for c := range 256 {
				b := []byte("abcdefghijklmnopqrstuvwxyz"[:n])
				b[pos] = byte(c)
				check(string(b))
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	special := []byte{'"', '\\', '\n', 0, 0x21, 0x22 ^ 0x80, 0x5c - 1, 0x0a + 1, 0xff}
	for range 100000 {
		b := make([]byte, rng.IntN(24))
		for i := range b {
			if rng.IntN(3) == 0 {
				b[i] = special[rng.IntN(len(special))]
			} else {
				b[i] = byte(rng.IntN(256))
			}
		}
		check(string(b))
	}
}
