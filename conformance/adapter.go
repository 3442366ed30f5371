package conformance

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/deploymetrics/deploymetrics/counters"
)

// Incrementer is an emitter with one method per counter of SPEC.md §1.2,
// each named Inc<Counter> and taking the target type: the methods of the
// counter table the reference emitter is modelled on (and of
// counters.DeployCounters). TickFrom turns one into an Emitter.Tick.
type Incrementer interface {
	IncAttemptSuccess(targetType string)
	IncAttemptFailure(targetType string)
	IncValidateFailure(targetType string)
	IncReloadFailure(targetType string)
	IncPostVerifyFailure(targetType string)
	IncRollbackRestored(targetType string)
	IncRollbackAlsoFailed(targetType string)
	IncIdempotentSkip(targetType string)
}

// TickFrom returns an Emitter.Tick that calls, for each Counter, the
// method of inc named for it:
//
//	e := &conformance.Emitter{Tick: conformance.TickFrom(myTable), ...}
//
// The methods are looked up once, here; a tick is an index into them and
// one call, with no reflection and no switch. A tick on an invalid
// Counter (one Counter.Valid rejects) does nothing: the suite never sends
// one.
func TickFrom(inc Incrementer) func(c Counter, targetType string) {
	methods := [...]func(string){
		AttemptSuccess:     inc.IncAttemptSuccess,
		AttemptFailure:     inc.IncAttemptFailure,
		ValidateFailure:    inc.IncValidateFailure,
		ReloadFailure:      inc.IncReloadFailure,
		PostVerifyFailure:  inc.IncPostVerifyFailure,
		RollbackRestored:   inc.IncRollbackRestored,
		RollbackAlsoFailed: inc.IncRollbackAlsoFailed,
		IdempotentSkip:     inc.IncIdempotentSkip,
	}
	return func(c Counter, targetType string) {
		if c.Valid() {
			methods[c](targetType)
		}
	}
}

// snapshotFields are the fields SnapshotFrom reads, by name: those of
// counters.DeploySnapshot, the names of the counter table SPEC.md §1.2 models. The
// first is the target type; the others are the eight counters in Counters()
// order.
var snapshotFields = [...]string{
	"TargetType",
	"AttemptsSuccess", "AttemptsFailure", "ValidateFailures", "ReloadFailures",
	"PostVerifyFails", "RollbackRestored", "RollbackAlsoFail", "IdempotentSkips",
}

// SnapshotFrom returns an Emitter.Snapshot that calls snapshot and converts
// what it returns, for an emitter with a snapshot type of its own:
//
//	e := &conformance.Emitter{Snapshot: conformance.SnapshotFrom(myTable.Snapshot), ...}
//
// T must be a struct (or a pointer to one) with the fields of
// counters.DeploySnapshot, by name: TargetType, a string, and
// AttemptsSuccess, AttemptsFailure, ValidateFailures, ReloadFailures,
// PostVerifyFails, RollbackRestored, RollbackAlsoFail and IdempotentSkips,
// of any integer type. Their order, their tags and any other fields do not
// matter. The entries may come in any order (see Config.SortedSnapshot). A
// nil pointer in the slice becomes an entry with an empty target type,
// which the suite reports.
//
// SnapshotFrom looks the fields up by name once, with reflection, and
// panics with the names it misses when T lacks one: a mistake in the test's
// own code, reported the moment NewEmitter builds the adapter. Each call of
// the returned function reads the fields by their index. Snapshots are
// taken a few times per spec; ticks, the path the suite drives hard, never
// go through here.
func SnapshotFrom[T any](snapshot func() []T) func() []counters.DeploySnapshot {
	typ := reflect.TypeFor[T]()
	pointer := typ.Kind() == reflect.Pointer
	if pointer {
		typ = typ.Elem()
	}
	index, err := snapshotIndex(typ)
	if err != nil {
		panic(fmt.Sprintf("conformance.SnapshotFrom[%s]: %v", reflect.TypeFor[T](), err))
	}
	counterList := Counters()
	return func() []counters.DeploySnapshot {
		rows := snapshot()
		out := make([]counters.DeploySnapshot, len(rows))
		v := reflect.ValueOf(rows)
		for i := range out {
			row := v.Index(i)
			if pointer {
				if row.IsNil() {
					continue
				}
				row = row.Elem()
			}
			out[i].TargetType = row.Field(index[0]).String()
			for j, c := range counterList {
				c.Add(&out[i], integer(row.Field(index[j+1])))
			}
		}
		return out
	}
}

// snapshotIndex returns the index in typ of each of snapshotFields, or an
// error naming every field typ lacks or has with the wrong type.
func snapshotIndex(typ reflect.Type) ([len(snapshotFields)]int, error) {
	var index [len(snapshotFields)]int
	if typ.Kind() != reflect.Struct {
		return index, fmt.Errorf("%s is not a struct: the snapshot entries must be structs with the fields of counters.DeploySnapshot", typ)
	}
	var problems []string
	for i, name := range snapshotFields {
		f, ok := typ.FieldByName(name)
		switch {
		case !ok:
			problems = append(problems, "no field "+name)
		case len(f.Index) != 1:
			problems = append(problems, "field "+name+" is promoted from an embedded struct (SnapshotFrom reads T's own fields)")
		case i == 0 && f.Type.Kind() != reflect.String:
			problems = append(problems, fmt.Sprintf("field %s is %s, not a string", name, f.Type))
		case i > 0 && !isInteger(f.Type.Kind()):
			problems = append(problems, fmt.Sprintf("field %s is %s, not an integer", name, f.Type))
		default:
			index[i] = f.Index[0]
		}
	}
	if len(problems) > 0 {
		return index, fmt.Errorf("%s: %s (want the fields of counters.DeploySnapshot, by name)", typ, strings.Join(problems, "; "))
	}
	return index, nil
}

func isInteger(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

// integer reads an integer field as a count. A negative count (a signed
// field gone wrong) wraps to a huge one, which the model comparison then
// reports rather than hides.
func integer(v reflect.Value) uint64 {
	if v.CanUint() {
		return v.Uint()
	}
	return uint64(v.Int())
}
