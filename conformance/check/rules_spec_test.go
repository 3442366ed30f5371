package check

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// textSpecRules are the spec.* rules that apply to the text format 0.0.4;
// the others judge OpenMetrics only, which its own suite covers.
var textSpecRules = []string{
	"spec.syntax", "spec.quoted-name", "spec.escape", "spec.escape-go-quote", "spec.utf8",
	"spec.duplicate-label", "spec.duplicate-series", "spec.interleaved-family",
	"spec.metadata-repeated", "spec.metadata-after-samples", "spec.type-suffix",
	"spec.counter-value", "spec.histogram-le", "spec.histogram-buckets", "spec.histogram-count",
	"spec.histogram-value", "spec.summary-quantile", "spec.summary-value", "spec.trailing-newline",
}

// TestTextCorpus runs the text-format corpus in testdata/text: every file
// in good/ must draw no error, every file in bad/ at least one, and one of
// the rule its name starts with ("spec.escape-go-quote--tab.prom"). Files
// whose name contains ".schema." are checked with the deploy schema, the
// others with none. Every spec rule that applies to the text format has a
// good file and a bad file named for it.
func TestTextCorpus(t *testing.T) {
	var good, bad int
	covered := map[string][2]int{}
	for _, kind := range []string{"good", "bad"} {
		files, err := filepath.Glob(filepath.Join("testdata", "text", kind, "*.prom"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no %s cases in testdata/text/%s: %v", kind, kind, err)
		}
		for _, file := range files {
			name := filepath.Base(file)
			rule, _, ok := strings.Cut(name, "--")
			if !ok {
				t.Errorf("%s: name it <rule ID or real>--<what>.prom", file)
				continue
			}
			if _, known := LookupRule(rule); !known && rule != "real" {
				t.Errorf("%s: %q is no rule", file, rule)
			}
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			opts := Options{}
			if strings.Contains(name, ".schema.") {
				opts = NewOptions()
			}
			report := Check(Input{Body: body, ContentType: ContentTypeText}, opts)
			c := covered[rule]
			if kind == "good" {
				good++
				c[0]++
				if report.Count(Error) > 0 {
					t.Errorf("%s: valid exposition drew errors:\n%s", file, report)
				}
			} else {
				bad++
				c[1]++
				found := slices.ContainsFunc(report.Rule(rule), func(f Finding) bool { return f.Severity == Error })
				if !found {
					t.Errorf("%s: want an error from %s, got:\n%s", file, rule, report)
				}
			}
			covered[rule] = c
		}
	}
	for _, rule := range textSpecRules {
		if c := covered[rule]; c[0] == 0 || c[1] == 0 {
			t.Errorf("rule %s has %d good and %d bad text corpus files, want at least one of each", rule, c[0], c[1])
		}
	}
	msg := fmt.Sprintf("text format corpus: %d good files without an error, %d bad files each caught by the rule they name", good, bad)
	t.Log(msg)
	fmt.Println(msg)
}

// TestTextSpecRulesAreTheOnesThatApply keeps textSpecRules honest: the
// rules it leaves out must have no .prom bad case under testdata/rules.
func TestTextSpecRulesAreTheOnesThatApply(t *testing.T) {
	for _, rule := range specRules {
		if slices.Contains(textSpecRules, rule.ID) {
			continue
		}
		bads, _ := filepath.Glob(filepath.Join("testdata", "rules", rule.ID, "bad*.prom"))
		if len(bads) > 0 {
			t.Errorf("%s has text-format bad cases %v but is not in textSpecRules", rule.ID, bads)
		}
	}
}

func TestOMNumber(t *testing.T) {
	valid := []string{"1", "-1", "+1", "0042", "1.", ".5", "1.5", "1e5", "1E5", "1.5e-3", "-.5e+7", "Inf", "+inf", "-Infinity", "NaN", "nan"}
	invalid := []string{"", ".", "+", "e5", "1e", "1e+", "1.5.5", "0x1", "1_000", "+nan", "infinit", "1 ", " 1", "--1"}
	for _, s := range valid {
		if !omNumber([]byte(s)) {
			t.Errorf("omNumber(%q) = false, want true", s)
		}
	}
	for _, s := range invalid {
		if omNumber([]byte(s)) {
			t.Errorf("omNumber(%q) = true, want false", s)
		}
	}
	for _, s := range []string{"Inf", "NaN", "-inf"} {
		if realNumber([]byte(s)) {
			t.Errorf("realNumber(%q) = true, want false: timestamps are real numbers", s)
		}
	}
}

func TestSameLabels(t *testing.T) {
	a := []Label{{"a", "1"}, {"b", ""}, {"le", "1"}}
	b := []Label{{"a", "1"}, {"le", "2"}}
	if sameLabels(a, b, "") {
		t.Error("different le values compare equal")
	}
	if !sameLabels(a, b, "le") {
		t.Error("label sets differing only in the skipped label and an empty value compare different")
	}
	if sameLabels(a, []Label{{"a", "2"}}, "le") {
		t.Error("different values compare equal")
	}
}

// TestSpecFindingsAreLocated checks that lexical findings carry the line
// and column of the offending byte.
func TestSpecFindingsAreLocated(t *testing.T) {
	body := "# HELP a A.\na 1\nb{x=\"1\",y=\"tab\\there\"} 2\n"
	got := Check(Input{Body: []byte(body), ContentType: ContentTypeText}, Options{}).Rule("spec.escape-go-quote")
	if len(got) != 1 || got[0].Line != 3 || got[0].Column != 15 {
		t.Fatalf("findings = %v, want one at 3:15", got)
	}
	if !strings.Contains(got[0].Message, "%q") {
		t.Errorf("message %q does not name Go's %%q", got[0].Message)
	}
}

// TestSpecNeverPanics throws mangled expositions at the engine: it must
// return a report for any bytes, never panic, never hang.
func TestSpecNeverPanics(t *testing.T) {
	seeds := [][]byte{
		[]byte("# HELP a x\n# TYPE a histogram\na_bucket{le=\"1\"} 1\na_bucket{le=\"+Inf\"} 2 # {t=\"1\"} 1 1\na_count 2\na_sum 1\n# EOF\n"),
		[]byte("# TYPE s summary\ns{quantile=\"0.5\",\"q\"=\"x\\t\"} 1 1\ns_sum 1\ns_count 1\n{\"n\"} 1\n"),
	}
	if entries, err := filepath.Glob(filepath.Join("testdata", "text", "*", "*.prom")); err == nil {
		for _, f := range entries {
			if b, err := os.ReadFile(f); err == nil {
				seeds = append(seeds, b)
			}
		}
	}
	alphabet := []byte("#{}=\",\\ \t\n\r\x00\xff\xc3aelquntox_0123456789.+-EIfNT# EOFHELPTYPEUNIT")
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3000; i++ {
		b := bytes.Clone(seeds[i%len(seeds)])
		for n := rng.IntN(8); n >= 0 && len(b) > 0; n-- {
			switch pos := rng.IntN(len(b)); rng.IntN(3) {
			case 0:
				b[pos] = alphabet[rng.IntN(len(alphabet))]
			case 1:
				b = append(b[:pos], b[pos+1:]...)
			default:
				b = slices.Insert(b, pos, alphabet[rng.IntN(len(alphabet))])
			}
		}
		for _, ct := range []string{ContentTypeText, ContentTypeOpenMetrics} {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("Check panicked on %q (%s): %v", b, ct, r)
					}
				}()
				Check(Input{Body: b, ContentType: ct}, Options{})
			}()
		}
	}
}

// FuzzCheck feeds arbitrary bytes to the engine in both formats. Run with
// go test -fuzz=FuzzCheck ./conformance/check/.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"a 1\n", "# TYPE a counter\na_total 1 # {a=\"b\"} 1\n# EOF\n", "a{x=\"\\t\"} 1", "\x00", "# HELP a \\",
		"# TYPE a histogram\na_bucket{le=\"1\"} 2\na_bucket{le=\"+Inf\"} 1\na_count 3\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, ct := range []string{ContentTypeText, ContentTypeOpenMetrics} {
			r := Check(Input{Body: b, ContentType: ct}, Options{})
			for _, fd := range r.Findings {
				if fd.Line < 0 || fd.Column < 0 || fd.Line > max(r.Exposition.Lines(), 1) {
					t.Fatalf("finding out of range: %v (body has %d lines)", fd, r.Exposition.Lines())
				}
				if fd.Line > 0 && fd.Column > len(r.Exposition.Line(fd.Line))+1 {
					t.Fatalf("finding past the end of its line %q: %v", r.Exposition.Line(fd.Line), fd)
				}
			}
		}
	})
}

// TestHashIndexFindsEveryRecord fills an index far past its initial size,
// with colliding hashes, so that it grows, and finds every record again.
func TestHashIndexFindsEveryRecord(t *testing.T) {
	const n = 1000
	hashOf := func(i int32) uint64 { return uint64(i/2) * 0x9e3779b97f4a7c15 } // pairs collide
	idx := newHashIndex(0)
	for i := range int32(n) {
		h := hashOf(i)
		pos := idx.home(h)
		for {
			if j, _ := idx.at(pos, h); j < 0 {
				break
			}
			pos = idx.step(pos)
		}
		if idx.set(pos, h, i) {
			idx.grow(hashOf)
		}
	}
	if len(idx.slots) < 2*n {
		t.Fatalf("index of %d records has %d slots: it did not grow", n, len(idx.slots))
	}
	for i := range int32(n) {
		h := hashOf(i)
		found := false
		for pos := idx.home(h); ; pos = idx.step(pos) {
			j, maybe := idx.at(pos, h)
			if j < 0 {
				break
			}
			found = found || (maybe && j == i)
		}
		if !found {
			t.Errorf("record %d not found", i)
		}
	}
}
