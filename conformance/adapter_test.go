package conformance_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strings"
	"testing"

	"github.com/deploymetrics/deploymetrics/conformance"
	"github.com/deploymetrics/deploymetrics/counters"
)

// The reference table has the eight Inc methods TickFrom takes.
var _ conformance.Incrementer = (*counters.DeployCounters)(nil)

// TestTickFromCallsTheMethodNamedForEachCounter ticks each counter once
// through TickFrom and checks that exactly the series it names moved.
func TestTickFromCallsTheMethodNamedForEachCounter(t *testing.T) {
	for _, c := range conformance.Counters() {
		dc := counters.NewDeployCounters()
		tick := conformance.TickFrom(dc)
		tick(c, "NGINX")
		tick(0, "NGINX") // invalid: ticks nothing
		tick(conformance.IdempotentSkip+1, "NGINX")
		snap := dc.Snapshot()
		if len(snap) != 1 {
			t.Fatalf("%s: %d rows, want 1", c, len(snap))
		}
		for _, other := range conformance.Counters() {
			want := uint64(0)
			if other == c {
				want = 1
			}
			if got := other.Of(&snap[0]); got != want {
				t.Errorf("TickFrom(...)(%s): %s = %d, want %d", c, other, got, want)
			}
		}
	}
}

// An emitter's own snapshot type, with the fields in another order, other
// integer types, tags and a field of its own.
type ownSnapshot struct {
	Comment          string
	IdempotentSkips  int
	TargetType       string `json:"target_type"`
	RollbackAlsoFail uint32
	RollbackRestored uint16
	PostVerifyFails  int64
	ReloadFailures   uint8
	ValidateFailures uint
	AttemptsFailure  int32
	AttemptsSuccess  uint64
}

func TestSnapshotFromReadsFieldsByName(t *testing.T) {
	want := counters.DeploySnapshot{TargetType: "NGINX", AttemptsSuccess: 1, AttemptsFailure: 2, ValidateFailures: 3,
		ReloadFailures: 4, PostVerifyFails: 5, RollbackRestored: 6, RollbackAlsoFail: 7, IdempotentSkips: 8}
	own := ownSnapshot{Comment: "x", TargetType: "NGINX", AttemptsSuccess: 1, AttemptsFailure: 2, ValidateFailures: 3,
		ReloadFailures: 4, PostVerifyFails: 5, RollbackRestored: 6, RollbackAlsoFail: 7, IdempotentSkips: 8}

	got := conformance.SnapshotFrom(func() []ownSnapshot { return []ownSnapshot{own, {TargetType: "F5"}} })()
	if len(got) != 2 || got[0] != want || got[1] != (counters.DeploySnapshot{TargetType: "F5"}) {
		t.Errorf("SnapshotFrom of structs = %+v, want %+v and an empty F5", got, want)
	}
	got = conformance.SnapshotFrom(func() []*ownSnapshot { return []*ownSnapshot{&own, nil} })()
	if len(got) != 2 || got[0] != want || got[1] != (counters.DeploySnapshot{}) {
		t.Errorf("SnapshotFrom of pointers = %+v, want %+v and an empty entry for nil", got, want)
	}
	// The reference type converts to itself.
	dc := counters.NewDeployCounters()
	dc.Record("NGINX", counters.OutcomeVerifyFailedAlsoFailed)
	if got, want := conformance.SnapshotFrom(dc.Snapshot)(), dc.Snapshot(); !slices.Equal(got, want) {
		t.Errorf("SnapshotFrom(dc.Snapshot) = %+v, want %+v", got, want)
	}
}

func TestSnapshotFromNamesWhatATypeLacks(t *testing.T) {
	type wrong struct {
		TargetType      int
		AttemptsSuccess string
		attemptsFailure uint64
	}
	defer func() {
		msg, _ := recover().(string)
		for _, want := range []string{"TargetType is int, not a string", "AttemptsSuccess is string, not an integer",
			"no field AttemptsFailure", "no field IdempotentSkips"} {
			if !strings.Contains(msg, want) {
				t.Errorf("panic %q does not say %q", msg, want)
			}
		}
	}()
	conformance.SnapshotFrom(func() []wrong { return nil })
	t.Error("SnapshotFrom accepted a type without the fields")
}

// TestCertctlAdapterIsShort holds the example to the promise the package
// makes: the modelled system's emitter plugs in with 25 lines or fewer,
// counted from the func line of its adapter to its closing brace.
func TestCertctlAdapterIsShort(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "example_certctl_test.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == "newCertctlConfig" {
			lines := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1
			t.Logf("newCertctlConfig: %d lines", lines)
			if lines > 25 {
				t.Errorf("newCertctlConfig has %d lines, over the 25 the package promises", lines)
			}
			return
		}
	}
	t.Fatal("example_certctl_test.go has no newCertctlConfig")
}
