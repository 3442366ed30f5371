package handler

import (
	"bytes"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/deploymetrics/deploymetrics/counters"
)

// referenceRender is a text exposition written line by line the obvious
// way, as the renderer was before it copied prefixes and escaped each target
// type once: the byte-exact oracle for the optimised renderer. (Protobuf's
// oracle is client_model's marshalling; see protobuf_test.go.)
func referenceRender(ns string, snaps []counters.DeploySnapshot, st style) []byte {
	var b strings.Builder
	prefix := ""
	if ns != "" {
		prefix = ns + "_"
	}
	for _, f := range families {
		meta := prefix + f.name
		if st != styleOpenMetrics {
			meta += "_total"
		}
		b.WriteString("# HELP " + meta + " " + f.help + "\n# TYPE " + meta + " counter\n")
		for i := range snaps {
			s := &snaps[i]
			v := f.values(s)
			tt := escape(strings.ToValidUTF8(s.TargetType, "\uFFFD"))
			if f.sub == "" {
				b.WriteString(prefix + f.name + `_total{target_type="` + tt + `"} ` + strconv.FormatUint(v[0], 10) + "\n")
				continue
			}
			for k, sv := range f.subValues {
				b.WriteString(prefix + f.name + `_total{target_type="` + tt + `",` + f.sub + `="` + sv + `"} ` + strconv.FormatUint(v[k], 10) + "\n")
			}
		}
	}
	if st != styleText {
		b.WriteString("# EOF\n")
	}
	return []byte(b.String())
}

// textStyles are the text renderers with the style each is.
var textStyles = []struct {
	name   string
	st     style
	render func([]byte, string, []counters.DeploySnapshot) []byte
}{
	{"text", styleText, AppendText},
	{"openmetrics", styleOpenMetrics, AppendOpenMetrics},
	{"openmetrics2", styleOpenMetrics2, AppendOpenMetrics2},
}

// renderCases are snapshot lists that take every path of the renderer:
// none, plain target types only, values around the one- and two-digit
// shortcuts, and target types that need escaping first, in the middle and
// last (which turns off the plain path for the whole render).
func renderCases() map[string][]counters.DeploySnapshot {
	edge := []uint64{0, 9, 10, 99, 100, 12345, math.MaxUint64}
	var values []counters.DeploySnapshot
	for i, v := range edge {
		w := edge[(i+3)%len(edge)]
		values = append(values, counters.DeploySnapshot{
			TargetType: "t" + strconv.Itoa(i), AttemptsSuccess: v, AttemptsFailure: w, ValidateFailures: v,
			ReloadFailures: w, PostVerifyFails: v, RollbackRestored: w, RollbackAlsoFail: v, IdempotentSkips: w,
		})
	}
	withHostile := func(at int) []counters.DeploySnapshot {
		s := knownSnapshots()
		return append(s[:at:at], append([]counters.DeploySnapshot{
			{TargetType: "needs \"escaping\"\n\xff", AttemptsSuccess: 7, RollbackAlsoFail: 100},
			{TargetType: `back\slash`, IdempotentSkips: 3},
		}, s[at:]...)...)
	}
	n := len(knownSnapshots())
	return map[string][]counters.DeploySnapshot{
		"empty":          nil,
		"one":            {{TargetType: "NGINX", AttemptsSuccess: 1}},
		"known":          knownSnapshots(),
		"edge values":    values,
		"hostile first":  withHostile(0),
		"hostile middle": withHostile(n / 2),
		"hostile last":   withHostile(n),
	}
}

// TestRenderMatchesReference holds AppendText, AppendOpenMetrics and the
// handler's renderer (with its escape scratch, reused across renders of
// different tables) to the line-by-line oracle, byte for byte.
func TestRenderMatchesReference(t *testing.T) {
	var esc escapedLabels // shared by all cases, as a scratch is across scrapes
	for name, snaps := range renderCases() {
		for _, ns := range []string{"certctl", ""} {
			for _, f := range textStyles {
				want := referenceRender(ns, snaps, f.st)
				if got := f.render([]byte("keep"), ns, snaps); !bytes.Equal(got[4:], want) || string(got[:4]) != "keep" {
					t.Errorf("%s, ns %q, %s: Append* differs from the reference:\n%s\nwant:\n%s", name, ns, f.name, got, want)
				}
				if got := appendExposition(nil, ns, snaps, f.st, &esc); !bytes.Equal(got, want) {
					t.Errorf("%s, ns %q, %s: render with scratch differs from the reference:\n%s\nwant:\n%s", name, ns, f.name, got, want)
				}
			}
		}
	}
}

// TestServeMatchesReference checks the handler's body against the oracles
// (referenceRender, and client_model's marshalling for protobuf) for a
// table holding target types that need escaping, in every protocol, with
// scrapes alternating between protocols so that one scratch serves all.
func TestServeMatchesReference(t *testing.T) {
	dc := counters.NewDeployCounters()
	for i, tt := range append(counters.KnownTargetTypes(), hostileTargetTypes...) {
		for range i % 4 {
			dc.Record(tt, counters.OutcomeVerifyFailedAlsoFailed)
		}
		dc.IncIdempotentSkip(tt)
	}
	h := NewMetricsHandler(WithOpenMetrics2())
	h.SetDeployCounters(dc)
	for range 3 {
		for _, pc := range protocolCases {
			rec := scrape(t, h, http.MethodGet, http.Header{"Accept": {pc.accept}})
			var want []byte
			switch pc.parsed {
			case parsedProtobuf:
				want = referenceProtobuf(t, DefaultNamespace, dc.Snapshot())
			case parsedOpenMetrics:
				want = referenceRender(DefaultNamespace, dc.Snapshot(), styleOpenMetrics)
			case parsedOpenMetrics2:
				want = referenceRender(DefaultNamespace, dc.Snapshot(), styleOpenMetrics2)
			default:
				want = referenceRender(DefaultNamespace, dc.Snapshot(), styleText)
			}
			if !bytes.Equal(rec.Body.Bytes(), want) {
				t.Fatalf("%s: body differs from the reference:\n%q\nwant:\n%q", pc.name, rec.Body.Bytes(), want)
			}
			if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(len(want)) {
				t.Errorf("%s: Content-Length %s, body %d bytes", pc.name, cl, len(want))
			}
		}
	}
}

// TestValueOffsets checks the offsets the renderer reads counters at against
// each family's values, on a snapshot whose counters all differ.
func TestValueFields(t *testing.T) {
	s := counters.DeploySnapshot{
		TargetType: "x", AttemptsSuccess: 11, AttemptsFailure: 12, ValidateFailures: 13, ReloadFailures: 14,
		PostVerifyFails: 15, RollbackRestored: 16, RollbackAlsoFail: 17, IdempotentSkips: 18,
	}
	for i, f := range families {
		v := f.values(&s)
		n := 1
		if f.sub != "" {
			n = 2
		}
		for k := range n {
			if got := counterAt(&s, valueFields[i][k]); got != v[k] {
				t.Errorf("%s[%d]: counter %d is %d, values gives %d", f.name, k, valueFields[i][k], got, v[k])
			}
		}
	}
}

// TestIdleScratchesAreBounded scrapes from many goroutines at once and checks
// that the handler keeps at most maxIdleScratches afterwards, and reuses one
// when scrapes are sequential again.
func TestIdleScratchesAreBounded(t *testing.T) {
	h, _ := newServing(t)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 4 * maxIdleScratches {
		wg.Go(func() {
			<-start
			for range 20 {
				scrape(t, h, http.MethodGet, nil)
			}
		})
	}
	close(start)
	wg.Wait()
	h.mu.Lock()
	idle := len(h.idle)
	h.mu.Unlock()
	if idle == 0 || idle > maxIdleScratches {
		t.Errorf("%d idle scratches after concurrent scrapes, want 1 to %d", idle, maxIdleScratches)
	}
	s := h.get()
	h.put(s)
	if h.get() != s {
		t.Errorf("a sequential scrape did not reuse the scratch the previous one returned")
	}
}
