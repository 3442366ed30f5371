package check

import (
	"fmt"
	"math/rand"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// scrapes checks bodies in order as successive scrapes of one target and
// returns the last report.
func scrapes(t testing.TB, opts Options, bodies ...string) *Report {
	t.Helper()
	var prev *Exposition
	var r *Report
	for _, b := range bodies {
		ct := ContentTypeText
		if strings.HasSuffix(b, "# EOF\n") {
			ct = ContentTypeOpenMetrics
		}
		r = Check(Input{Body: []byte(b), ContentType: ct, Previous: prev}, opts)
		prev = r.Exposition
	}
	return r
}

func TestScrapeCounterDecreaseNamesBothValues(t *testing.T) {
	before := deployBody(FormatText, DefaultNamespace, []string{"Apache", "NGINX"}, 2)
	after := deployBody(FormatOpenMetrics, DefaultNamespace, []string{"Apache", "NGINX"}, 1)
	got := scrapes(t, NewOptions(), before, after).Rule("scrape.counter-decreased")
	// Every counter of six families went down (a restart, say): one finding
	// per family, with the count of series.
	if len(got) != 6 {
		t.Fatalf("want one finding per family, got %v", got)
	}
	f := got[0]
	if f.Series != `certctl_deploy_attempts_total{target_type="Apache",result="success"}` ||
		!strings.Contains(f.Message, "from 20 to 10") || !strings.Contains(f.Message, "4 series") || !strings.Contains(f.Message, "restart") {
		t.Errorf("finding %+v: want the first series, both values, the count and the restart caveat", f)
	}
}

func TestScrapeIgnoresGaugesAndNewSeries(t *testing.T) {
	before := "# HELP q Depth.\n# TYPE q gauge\nq{a=\"1\"} 5\n# HELP c_total C.\n# TYPE c_total counter\nc_total{a=\"1\"} 5\n"
	after := "# HELP q Depth.\n# TYPE q gauge\nq{a=\"1\"} 1\nq{a=\"2\"} 1\n# HELP c_total C.\n# TYPE c_total counter\nc_total{a=\"0\"} 1\nc_total{a=\"1\"} 5\n"
	if got := findingsOf(scrapes(t, noSchema(), before, after), "scrape.*"); len(got) != 0 {
		t.Errorf("a gauge going down, new series sorted in: want no findings, got %v", got)
	}
}

func TestScrapeNeedsAnIngestedPrevious(t *testing.T) {
	before := "# TYPE c_total counter\nc_total 5\nc_total x\n" // rejected by textparse
	after := "# TYPE c_total counter\nc_total 1\n"
	r := scrapes(t, noSchema(), before, after)
	if got := r.Rule("scrape.*"); len(got) != 0 {
		t.Errorf("previous scrape was rejected: want no scrape findings, got %v", got)
	}
}

func TestScrapeKeyVanishedOnceNotPerSeries(t *testing.T) {
	before := deployBody(FormatText, DefaultNamespace, []string{"Apache", "NGINX"}, 1)
	after := deployBody(FormatText, DefaultNamespace, []string{"Apache"}, 1)
	r := scrapes(t, NewOptions(), before, after)
	if got := r.Rule("scrape.key-vanished"); len(got) != 1 || !strings.Contains(got[0].Message, `target_type="NGINX"`) {
		t.Errorf("want one key-vanished finding for NGINX, got %v", got)
	}
	if got := r.Rule("scrape.series-vanished"); len(got) != 0 {
		t.Errorf("series of a vanished key are reported with it, got %v", got)
	}
}

func TestScrapeMetadataAcrossFormats(t *testing.T) {
	text := "# HELP jobs_total Jobs \\\\ done.\n# TYPE jobs_total counter\njobs_total 1\n"
	om := "# HELP jobs Jobs \\\\ done.\n# TYPE jobs counter\njobs_total 2\n# EOF\n"
	again := strings.Replace(text, "jobs_total 1", "jobs_total 3", 1)
	if got := findingsOf(scrapes(t, noSchema(), text, om, again), "scrape.*"); len(got) != 0 {
		t.Errorf("the same family in both formats: want no findings, got %v", got)
	}
	changed := strings.Replace(om, "Jobs \\\\ done.", "Jobs.", 1)
	r := scrapes(t, noSchema(), text, changed)
	if got := r.Rule("scrape.help-changed"); len(got) != 1 || got[0].Severity != Info {
		t.Errorf("HELP changed: want one info finding, got %v", got)
	}
	if got := r.Rule("scrape.metadata-changed"); len(got) != 0 || r.Failed() {
		t.Errorf("a changed HELP is not breaking (OpenMetrics): want no error, got\n%v", r)
	}
}

// TestScrapeRestartEndsProcessRules: once process_start_time_seconds shows
// a restart, the rules that hold within one process (vanished series and
// target types, order) are not judged, and decreases are resets; the same
// scrapes without the restart draw errors.
func TestScrapeRestartEndsProcessRules(t *testing.T) {
	start := func(s string) string {
		return "# HELP process_start_time_seconds Start time.\n# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds " + s + "\n"
	}
	before := deployBody(FormatText, DefaultNamespace, []string{"Apache", "NGINX"}, 2) + start("1700000000")
	after := deployBody(FormatText, DefaultNamespace, []string{"Apache"}, 1)
	restarted := scrapes(t, NewOptions(), before, after+start("1700000060"))
	if restarted.Failed() || len(restarted.Rule("scrape.counter-reset")) == 0 {
		t.Errorf("after a restart: want resets and no error, got\n%v", restarted)
	}
	same := scrapes(t, NewOptions(), before, after+start("1700000000"))
	for _, rule := range []string{"scrape.counter-decreased", "scrape.key-vanished"} {
		if len(same.Rule(rule)) == 0 {
			t.Errorf("same process: want %s, got\n%v", rule, same)
		}
	}
}

// TestScrapeResetEvidence names the evidence a reset finding rests on.
func TestScrapeResetEvidence(t *testing.T) {
	tests := []struct {
		name, before, after, rule, want string
	}{
		{"created", "# TYPE j counter\nj_total 5\nj_created 100\n# EOF\n", "# TYPE j counter\nj_total 1\nj_created 200\n# EOF\n",
			"scrape.counter-reset", "_created moved forward from 100 to 200"},
		{"summary count", "# TYPE s summary\ns_count 5\ns_sum 1\ns_created 100\n# EOF\n", "# TYPE s summary\ns_count 1\ns_sum 1\ns_created 200\n# EOF\n",
			"scrape.counter-reset", "_created moved forward"},
		{"created of another series", "# TYPE j counter\nj_total{a=\"1\"} 5\nj_created{a=\"1\"} 100\nj_total{a=\"2\"} 5\nj_created{a=\"2\"} 100\n# EOF\n",
			"# TYPE j counter\nj_total{a=\"1\"} 1\nj_created{a=\"1\"} 100\nj_total{a=\"2\"} 6\nj_created{a=\"2\"} 200\n# EOF\n",
			"scrape.counter-decreased", "nothing shows a reset"},
		{"process start went back", "# TYPE j_total counter\nj_total 5\n# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds 200\n",
			"# TYPE j_total counter\nj_total 1\n# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds 100\n",
			"scrape.counter-decreased", "nothing shows a reset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scrapes(t, noSchema(), tt.before, tt.after).Rule(tt.rule)
			if len(got) != 1 || !strings.Contains(got[0].Message, tt.want) {
				t.Errorf("want one %s saying %q, got %v", tt.rule, tt.want, got)
			}
		})
	}
}

// BenchmarkCheck measures a full check of a deploy exposition (8 series
// per target type, every rule group running) alone and after a previous
// scrape of the same series with lower values, which adds the scrape.*
// rules: the cost of "promcheck check --scrapes N" and of an exporter
// probe beside that of one check. ns/series stays flat when every rule is
// linear:
//
//	go test -run='^$' -bench='^BenchmarkCheck$' -benchmem ./conformance/check/
func BenchmarkCheck(b *testing.B) {
	for _, series := range []int{1000, 10000, 100000} {
		targets := make([]string, series/8)
		for i := range targets {
			targets[i] = fmt.Sprintf("target%06d", i)
		}
		prev := Check(Input{Body: []byte(deployBody(FormatText, DefaultNamespace, targets, 1)), ContentType: ContentTypeText}, NewOptions())
		body := []byte(deployBody(FormatText, DefaultNamespace, targets, 2))
		for _, previous := range []*Exposition{nil, prev.Exposition} {
			name := "none"
			if previous != nil {
				name = "yes"
			}
			b.Run(fmt.Sprintf("series=%dk/previous=%s", series/1000, name), func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					r := Check(Input{Body: body, ContentType: ContentTypeText, Previous: previous}, NewOptions())
					if len(r.Findings) > 0 {
						b.Fatal(r)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(series), "ns/series")
			})
		}
	}
}

// FuzzRules feeds two successive scrapes, a served Content-Type and an
// Accept header through every rule group; the engine must not panic,
// whatever the bytes. Seeds are the deploy bodies in both formats.
func FuzzRules(f *testing.F) {
	text := deployBody(FormatText, DefaultNamespace, []string{"Apache", "NGINX"}, 1)
	om := deployBody(FormatOpenMetrics, DefaultNamespace, []string{"Apache", "NGINX"}, 2)
	f.Add([]byte(text), []byte(om), ContentTypeOpenMetrics, "application/openmetrics-text;version=1.0.0;q=0.6,*/*;q=0.1")
	f.Add([]byte(om), []byte(text), ContentTypeText, "text/plain")
	f.Add([]byte(text), []byte(strings.ReplaceAll(text, "NGINX", "")), "text/plain; charset=latin1", "")
	// The reset evidence: a _created that moves, a process that restarts.
	f.Add([]byte("# TYPE j counter\nj_total{a=\"1\"} 5\nj_created{a=\"1\"} 100\n# EOF\n"), []byte("# TYPE j counter\nj_total{a=\"1\"} 1\nj_created{a=\"1\"} 99\n# EOF\n"), ContentTypeOpenMetrics, "")
	f.Add([]byte("j_total 5\nprocess_start_time_seconds 1\n"), []byte("j_total 1\nprocess_start_time_seconds 2\nprocess_start_time_seconds 0\n"), ContentTypeText, "")
	f.Fuzz(func(t *testing.T, prev, cur []byte, contentType, accept string) {
		opts := NewOptions()
		opts.Strict = true
		first := Check(Input{Body: prev}, opts)
		facts := &HTTPFacts{Accept: accept, AcceptEncoding: accept, StatusCode: 200, Header: http.Header{"Content-Type": {contentType}, "Content-Encoding": {accept}}}
		r := Check(Input{Body: cur, ContentType: contentType, HTTP: facts, Previous: first.Exposition}, opts)
		_ = r.String()
	})
}

// TestScrapeSelfCompareWithClashingNames: an exposition whose families
// share a stored name, compared with itself, draws no scrape finding (the
// k-th family of a name pairs with the k-th; found by fuzz/FuzzEngine).
func TestScrapeSelfCompareWithClashingNames(t *testing.T) {
	for _, body := range []string{
		"# TYPE a counter\n# TYPE a_total gauge\na_total 1\n# EOF\n",
		"# TYPE job info\njob 1\n# EOF\n",
		"# HELP certctl_deploy_attempts_total x\n# TYPE certctl_deploy_attempts counter\ncertctl_deploy_attempts_total{target_type=\"NGINX\",result=\"success\"} 1\n# EOF\n",
		"# HELP x_total X.\n# TYPE x_total counter\nx_total 1\n# HELP y Y.\n# TYPE y gauge\ny 1\n# HELP x_total X again.\n# TYPE x_total gauge\nx_total 2\n",
	} {
		for _, opts := range []Options{NewOptions(), noSchema()} {
			if got := scrapes(t, opts, body, body).Rule("scrape.*"); len(got) > 0 {
				t.Errorf("%q against itself: want no scrape findings, got %v", body, got)
			}
		}
	}
}

// TestSeriesIndexFindsTheFirstOfEachSeries checks seriesIndex, which the
// scrape.* rules find series with, against a plain search: for every
// sample of a current scrape, lookup returns the first sample of the
// previous scrape with the same name and labels, or -1. The scrapes are
// built from few names and values, so that series repeat, move, vanish and
// appear, and from label sets that differ only by label names, which hash
// alike (the hash leaves names out): every path of lookup is taken, the
// Bloom filter, the look-ahead and the hash table.
func TestSeriesIndexFindsTheFirstOfEachSeries(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	series := func() *Sample {
		s := &Sample{Name: []string{"a_total", "b", "c_bucket"}[r.Intn(3)]}
		for _, name := range []string{"le", "target_type", "x"} {
			if r.Intn(2) == 0 {
				s.Labels = append(s.Labels, Label{Name: name, Value: []string{"", "1", "NGINX"}[r.Intn(3)]})
			}
		}
		return s
	}
	for round := range 300 {
		prev := make([]*Sample, r.Intn(60))
		for i := range prev {
			prev[i] = series()
		}
		// The current scrape: the previous one with some samples dropped,
		// moved, repeated, and some new.
		var cur []*Sample
		for _, s := range prev {
			switch r.Intn(8) {
			case 0:
			case 1:
				cur = append(cur, series())
			case 2:
				cur = append(cur, s, s)
			default:
				cur = append(cur, s)
			}
		}
		for range r.Intn(4) {
			i, j := r.Intn(len(cur)+1), r.Intn(len(cur)+1)
			if i < len(cur) && j < len(cur) {
				cur[i], cur[j] = cur[j], cur[i]
			}
		}
		x := newSeriesIndex(&Exposition{Samples: prev})
		for i, s := range prev {
			if want := slices.IndexFunc(prev, func(p *Sample) bool { return sameSeries(p, s) }) == i; x.first[i] != want {
				t.Fatalf("round %d: first[%d] = %v, want %v", round, i, x.first[i], want)
			}
		}
		for k, s := range cur {
			want := slices.IndexFunc(prev, func(p *Sample) bool { return sameSeries(p, s) })
			if got := x.lookup(s); got != want {
				t.Fatalf("round %d: sample %d of the current scrape (%s %v) found at %d of the previous, want %d", round, k, s.Name, s.Labels, got, want)
			}
		}
	}
}

// An empty key label value is a key like any other: it vanishes when no
// series of the schema has it any longer, though a series without the key
// label is left (the schema rules list both as "" among the keys).
func TestScrapeEmptyKeyVanished(t *testing.T) {
	withEmpty := deployBody(FormatText, DefaultNamespace, []string{"", "Apache"}, 1)
	keyless := deployBody(FormatText, DefaultNamespace, []string{"Apache"}, 1) +
		"# HELP certctl_deploy_idempotent_skip_total Skips.\n# TYPE certctl_deploy_idempotent_skip_total counter\ncertctl_deploy_idempotent_skip_total 7\n"
	for _, c := range []struct {
		name, after string
		want        int
	}{
		{"still there", withEmpty, 0},
		{"gone, a keyless series left", keyless, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := scrapes(t, NewOptions(), withEmpty, c.after).Rule("scrape.key-vanished")
			if len(got) != c.want || c.want == 1 && !strings.Contains(got[0].Message, `target_type=""`) {
				t.Errorf("want %d key-vanished finding for target_type=\"\", got %v", c.want, got)
			}
		})
	}
}

// keyLookup finds a value after the last one found without its map, and
// any other with it.
func TestKeyLookup(t *testing.T) {
	k := keyLookup{values: []string{"Apache", "HAProxy", "NGINX", "Traefik"}}
	for _, c := range []struct {
		value string
		want  bool
	}{
		{"Apache", true}, {"HAProxy", true}, {"HAProxy", true}, {"Traefik", true}, {"Caddy", false}, {"Apache", true}, {"NGINX", true}, {"", false},
	} {
		if got := k.has(c.value); got != c.want {
			t.Errorf("has(%q) = %v, want %v", c.value, got, c.want)
		}
	}
}
