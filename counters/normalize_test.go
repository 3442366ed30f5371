package counters

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// referenceNormalize is the package documentation's definition of
// normalisation, written with the standard library, step by step.
func referenceNormalize(s string, maxLen int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return utf8.RuneError
		}
		return r
	}, s)
	for len(s) > maxLen {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	if s == "" {
		return EmptyTargetType
	}
	return s
}

func TestNormalize(t *testing.T) {
	megabyte := strings.Repeat("x", 1<<20)
	tests := []struct {
		name, in, want string
	}{
		{"known type", "KubernetesSecrets", "KubernetesSecrets"},
		{"empty", "", EmptyTargetType},
		{"quotes and backslashes kept", `a"b\c`, `a"b\c`},
		{"spaces kept", " NGINX ", " NGINX "},
		{"printable unicode kept", "Zürich-负载均衡-🚀", "Zürich-负载均衡-🚀"},
		{"newline", "NGINX\nfake_metric 1", "NGINX\uFFFDfake_metric 1"},
		{"tab", "a\tb", "a\uFFFDb"},
		{"NUL", "a\x00b", "a\uFFFDb"},
		{"CR and DEL", "a\r\x7f", "a\uFFFD\uFFFD"},
		{"C1 control", "a\u0085b", "a\uFFFDb"},
		{"invalid byte", "a\xffb", "a\uFFFDb"},
		{"run of invalid bytes is one replacement", "a\xff\xfe\xfdb", "a\uFFFDb"},
		{"invalid, control, invalid", "\xff\x00\xfe", "\uFFFD\uFFFD\uFFFD"},
		{"truncated multi-byte sequence", "caf\xc3", "caf\uFFFD"},
		{"surrogate half", "\xed\xa0\x80", "\uFFFD"},
		{"valid U+FFFD kept", "\uFFFD\xff", "\uFFFD\uFFFD"},
		{"only invalid", "\xff", "\uFFFD"},
		{"megabyte string cut to the limit", megabyte, megabyte[:DefaultMaxTargetTypeLen]},
		{"cut at a rune boundary", strings.Repeat("x", 127) + "é", strings.Repeat("x", 127)},
		{"reserved empty name is stable", EmptyTargetType, EmptyTargetType},
		{"reserved overflow name is stable", OverflowTargetType, OverflowTargetType},
	}
	dc := NewDeployCounters()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := dc.Normalize(tc.in)
			if got != tc.want {
				t.Errorf("Normalize(%q) = %q, want %q", trim(tc.in), trim(got), trim(tc.want))
			}
			if ref := referenceNormalize(tc.in, DefaultMaxTargetTypeLen); got != ref {
				t.Errorf("Normalize(%q) = %q, the definition gives %q", trim(tc.in), trim(got), trim(ref))
			}
			if again := dc.Normalize(got); again != got {
				t.Errorf("not idempotent: %q then %q", trim(got), trim(again))
			}
		})
	}
}

// trim shortens s for failure messages.
func trim(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

func TestNormalizeHonoursTheConfiguredLength(t *testing.T) {
	dc := NewDeployCounters(WithMaxTargetTypeLen(17))
	// 'é' is two bytes, so 17 bytes hold eight of them and a half that must go.
	if got, want := dc.Normalize(strings.Repeat("é", 100)), strings.Repeat("é", 8); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	long := NewDeployCounters(WithMaxTargetTypeLen(1000))
	in := strings.Repeat("y", 2000)
	if got := long.Normalize(in); got != in[:1000] {
		t.Errorf("limit 1000: got %d bytes", len(got))
	}
}

// TestNormalizeMatchesTheDefinition compares the one-pass normalisation with
// the step-by-step definition on random byte strings biased towards the bytes
// that need care.
func TestNormalizeMatchesTheDefinition(t *testing.T) {
	alphabet := []string{"a", "Z", " ", "\"", "\\", "\n", "\t", "\x00", "\x7f", "\xff", "\xc3", "\xa9", "é", "\u0085", "\uFFFD", "🚀", "\xed\xa0\x80"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20_000 {
		var b strings.Builder
		for range rng.IntN(40) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		in := b.String()
		for _, maxLen := range []int{MinTargetTypeLen, 33, DefaultMaxTargetTypeLen} {
			got := string(appendNormalized(nil, in, maxLen))
			if want := referenceNormalize(in, maxLen); got != want {
				t.Fatalf("maxLen %d: appendNormalized(%q) = %q, want %q", maxLen, in, got, want)
			}
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "NGINX", "a\xffb", "\x00", "é\xc3", strings.Repeat("🚀", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := string(appendNormalized(nil, s, DefaultMaxTargetTypeLen))
		if want := referenceNormalize(s, DefaultMaxTargetTypeLen); got != want {
			t.Fatalf("appendNormalized(%q) = %q, want %q", s, got, want)
		}
		if !utf8.ValidString(got) || len(got) > DefaultMaxTargetTypeLen || got == "" {
			t.Fatalf("appendNormalized(%q) = %q: not a valid label value within the limit", s, got)
		}
	})
}

// TestNormalisationIsTheSameForEveryAPI ticks hostile names through the string
// API and through Bind and checks that each lands in one row under its
// normalised name.
func TestNormalisationIsTheSameForEveryAPI(t *testing.T) {
	hostile := []string{"", "nl\n", "tab\t", "nul\x00", "inv\xff", `q"uo\te`, strings.Repeat("L", 1<<20)}
	dc := NewDeployCounters()
	for _, h := range hostile {
		dc.IncAttemptSuccess(h)
		dc.Record(h, OutcomeSucceeded)
		b := dc.Bind(h)
		b.IncAttemptSuccess()
		if b.Name() != dc.Normalize(h) {
			t.Errorf("Bind(%q).Name() = %q, want %q", trim(h), trim(b.Name()), trim(dc.Normalize(h)))
		}
	}
	snaps := dc.Snapshot()
	if len(snaps) != len(hostile) {
		t.Fatalf("%d hostile names made %d rows, want one each", len(hostile), len(snaps))
	}
	for _, h := range hostile {
		name := dc.Normalize(h)
		found := false
		for _, s := range snaps {
			if s.TargetType == name {
				found = true
				if s.AttemptsSuccess != 3 {
					t.Errorf("%q: AttemptsSuccess = %d, want 3 (string, Record, Bind)", trim(name), s.AttemptsSuccess)
				}
			}
		}
		if !found {
			t.Errorf("no row for %q", trim(name))
		}
	}
}
