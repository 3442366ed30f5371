package fuzz

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/deploymetrics/deploymetrics/conformance/check"
	"github.com/deploymetrics/deploymetrics/counters"
	"github.com/deploymetrics/deploymetrics/handler"
)

// crossNames are the target types a cross-scrape pair draws from (already
// normal, so the renderer writes them as they are), plus one the fuzzer
// chooses.
var crossNames = []string{
	"AWSACM",
	"Apache",
	"NGINX",
	`a"b\c`,
	"café",
	counters.EmptyTargetType,
	"\uFFFD",
}

// crossBases are the values counters start from: small, around 2^53 (where
// float64, which Prometheus stores, stops telling integers apart), and near
// the top of uint64.
var crossBases = [4]uint64{0, 1<<53 - 128, 1e15, math.MaxUint64 - 4096}

// FuzzCrossScrape renders two scrapes of the deploy families from fuzzed
// counter tables with the reference renderer, in either format each, and
// checks the second with the first as Previous. The scrape.* findings must
// be exactly those of a simple model: one scrape.counter-decreased per
// family in which some series decreased (as float64, what Prometheus
// stores), at the first such series; one scrape.key-vanished per target
// type of the first scrape absent from the second; and nothing else, since
// the renderer keeps families, series order and metadata stable.
func FuzzCrossScrape(f *testing.F) {
	f.Add([]byte{0x00, 0x07, 0x07, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, "KubernetesSecrets")
	f.Add([]byte{0x03, 0x05, 0x04, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 0xf3}, "")
	f.Add([]byte{0x05, 0x7f, 0x3e, 0xff, 0xf0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xf0}, "x\ty")
	f.Add([]byte{0x06, 0xff, 0xff}, "\xff")
	f.Add([]byte{0x0e, 0x81, 0x80, 3, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0xf0}, counters.OverflowTargetType)
	f.Add([]byte{0x0c, 0x01, 0x01, 0x80, 0, 0, 0, 0, 0, 0, 0, 0xf0}, "NGINX")
	f.Fuzz(func(t *testing.T, data []byte, extra string) {
		if err := crossScrape(data, extra); err != nil {
			t.Fatalf("data %x, extra %q: %v", data, extra, err)
		}
	})
}

// crossPair is a decoded input: two tables and their formats.
type crossPair struct {
	a, b         []counters.DeploySnapshot
	aOM, bOM     bool
	aVals, bVals map[string]counts
}

// decodeCross turns bytes into two tables. Byte 0: bit 0 and 1 pick
// OpenMetrics for the first and second scrape, bits 2-3 the base value.
// Bytes 1 and 2: which names each scrape lists. Then eight bytes per name
// of the first scrape (its values above the base), then eight per name of
// the second: for a name both list, a byte below 0xf0 adds that much to
// the first scrape's value and a byte from 0xf0 subtracts 1-16; for a new
// name, its value above the base. Missing bytes read as 0.
func decodeCross(data []byte, names []string) crossPair {
	at := func(i int) byte {
		if i < len(data) {
			return data[i]
		}
		return 0
	}
	head := at(0)
	p := crossPair{aOM: head&1 != 0, bOM: head&2 != 0, aVals: map[string]counts{}, bVals: map[string]counts{}}
	base := crossBases[(head>>2)&3]
	maskA, maskB := at(1), at(2)
	pos := 3
	for i, name := range names {
		if maskA&(1<<i) == 0 {
			continue
		}
		var c counts
		for k := range c {
			c[k] = base + uint64(at(pos))
			pos++
		}
		p.aVals[name] = c
	}
	for i, name := range names {
		if maskB&(1<<i) == 0 {
			continue
		}
		var c counts
		prev, inA := p.aVals[name]
		for k := range c {
			d := uint64(at(pos))
			pos++
			switch {
			case !inA:
				c[k] = base + d
			case d < 0xf0:
				c[k] = prev[k] + min(d, math.MaxUint64-prev[k])
			default:
				c[k] = prev[k] - min(d-0xef, prev[k])
			}
		}
		p.bVals[name] = c
	}
	p.a, p.b = tableFrom(p.aVals), tableFrom(p.bVals)
	return p
}

// tableFrom returns the snapshot rows of vals, sorted by target type as
// DeployCounters.Snapshot returns them.
func tableFrom(vals map[string]counts) []counters.DeploySnapshot {
	names := make([]string, 0, len(vals))
	for n := range vals {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]counters.DeploySnapshot, len(names))
	for i, n := range names {
		out[i] = snapshotOf(n, vals[n])
	}
	return out
}

func render(snaps []counters.DeploySnapshot, om bool) ([]byte, string) {
	if om {
		return handler.AppendOpenMetrics(nil, namespace, snaps), check.ContentTypeOpenMetrics
	}
	return handler.AppendText(nil, namespace, snaps), check.ContentTypeText
}

func crossScrape(data []byte, extra string) error {
	names := slices.Clone(crossNames)
	if n := counters.NewDeployCounters().Normalize(extra); !slices.Contains(names, n) {
		names = append(names, n)
	}
	p := decodeCross(data, names)
	bodyA, ctA := render(p.a, p.aOM)
	bodyB, ctB := render(p.b, p.bOM)
	opts := check.NewOptions()
	rA := check.Check(check.Input{Body: bodyA, ContentType: ctA}, opts)
	if got := rA.Rule("scrape.*"); len(got) > 0 {
		return fmt.Errorf("scrape.* findings without a previous scrape:%s", findingsOf(got))
	}
	rB := check.Check(check.Input{Body: bodyB, ContentType: ctB, Previous: rA.Exposition}, opts)
	for _, r := range []*check.Report{rA, rB} {
		if got := append(r.Rule("format.*"), r.Rule("spec.*")...); len(got) > 0 {
			return fmt.Errorf("format.*/spec.* findings on reference output:%s", findingsOf(got))
		}
	}
	want, err := crossModel(&p, bodyB)
	if err != nil {
		return err
	}
	got := rB.Rule("scrape.*")
	if err := sameScrapeFindings(got, want); err != nil {
		return fmt.Errorf("%v\nwant:%s\ngot:%s\nprevious (%s):\n%s\ncurrent (%s):\n%s", err, modelString(want), findingsOf(got), ctA, bodyA, ctB, bodyB)
	}
	return nil
}

// crossModel returns the scrape.* findings the pair should draw. Only Rule,
// Family, Series and Line are set; for scrape.key-vanished, Series holds
// the vanished target type (the engine's finding names any series of it).
func crossModel(p *crossPair, bodyB []byte) ([]check.Finding, error) {
	var want []check.Finding
	lines := bytes.Split(bodyB, []byte("\n"))
	for _, f := range deployFamilies {
		series, ok := firstDecrease(p, f)
		if !ok {
			continue
		}
		line := slices.IndexFunc(lines, func(l []byte) bool { return bytes.HasPrefix(l, []byte(series+" ")) })
		if line < 0 {
			return nil, fmt.Errorf("model: series %s not in the current scrape", series)
		}
		family := f.name
		if p.bOM {
			family = strings.TrimSuffix(family, "_total")
		}
		want = append(want, check.Finding{Rule: "scrape.counter-decreased", Family: family, Series: series, Line: line + 1})
	}
	for _, s := range p.a {
		if _, ok := p.bVals[s.TargetType]; !ok {
			want = append(want, check.Finding{Rule: "scrape.key-vanished", Series: s.TargetType})
		}
	}
	return want, nil
}

// firstDecrease returns the first series of family f, in the second
// scrape's written order, whose value is below the first scrape's as
// float64 (what Prometheus stores: two counts that round to one float64 are
// one value to it).
func firstDecrease(p *crossPair, f deployFamily) (string, bool) {
	for _, s := range p.b {
		prev, ok := p.aVals[s.TargetType]
		if !ok {
			continue
		}
		cur := countsOf(&s)
		pv, cv := f.values(&prev), f.values(&cur)
		for k := range pv {
			if float64(cv[k]) < float64(pv[k]) {
				return seriesText(f, s.TargetType, k), true
			}
		}
	}
	return "", false
}

// modelString lists model findings, one per line.
func modelString(fs []check.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		if f.Rule == "scrape.key-vanished" {
			fmt.Fprintf(&b, "\n\t%s: target_type %q", f.Rule, f.Series)
			continue
		}
		fmt.Fprintf(&b, "\n\tline %d: %s: family %s, series %s", f.Line, f.Rule, f.Family, f.Series)
	}
	return b.String()
}

// seriesText is a deploy series as the reference renderer writes it, with
// the label escaping of both formats.
func seriesText(f deployFamily, tt string, k int) string {
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	s := f.name + `{target_type="` + esc.Replace(tt) + `"`
	if f.sub != "" {
		s += "," + f.sub + `="` + f.subValues[k] + `"`
	}
	return s + "}"
}

// sameScrapeFindings compares the engine's scrape.* findings with the
// model's, ignoring order and messages.
func sameScrapeFindings(got, want []check.Finding) error {
	var vanished []string
	var decreased []check.Finding
	for _, g := range got {
		switch g.Rule {
		case "scrape.counter-decreased":
			decreased = append(decreased, check.Finding{Rule: g.Rule, Family: g.Family, Series: g.Series, Line: g.Line})
		case "scrape.key-vanished":
			tt, err := targetTypeOf(g.Series)
			if err != nil {
				return fmt.Errorf("scrape.key-vanished names series %q: %v", g.Series, err)
			}
			vanished = append(vanished, tt)
		default:
			return fmt.Errorf("unexpected %s: %v", g.Rule, g)
		}
	}
	var wantVanished []string
	var wantDecreased []check.Finding
	for _, w := range want {
		if w.Rule == "scrape.key-vanished" {
			wantVanished = append(wantVanished, w.Series)
		} else {
			wantDecreased = append(wantDecreased, w)
		}
	}
	slices.Sort(vanished)
	slices.Sort(wantVanished)
	if !slices.Equal(vanished, wantVanished) {
		return fmt.Errorf("scrape.key-vanished for target types %q, want %q", vanished, wantVanished)
	}
	byFamily := func(a, b check.Finding) int { return strings.Compare(a.Family, b.Family) }
	slices.SortFunc(decreased, byFamily)
	slices.SortFunc(wantDecreased, byFamily)
	if !slices.Equal(decreased, wantDecreased) {
		return fmt.Errorf("scrape.counter-decreased findings differ (family, series and line compared)")
	}
	return nil
}

// targetTypeOf reads the target_type of a series as written, with the
// parser Prometheus uses.
func targetTypeOf(series string) (string, error) {
	samples, err := bareParse([]byte(series+" 1\n"), check.ContentTypeText)
	if err != nil || len(samples) != 1 {
		return "", fmt.Errorf("does not parse as a series: %v", err)
	}
	for _, l := range samples[0].labels {
		if l.Name == "target_type" {
			return l.Value, nil
		}
	}
	return "", fmt.Errorf("no target_type label")
}
