package fuzz

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"testing"
)

// A pending seed is a failing input found by a target in code this package
// does not own, kept under testdata/pending/<Target>/ until the owner fixes
// the bug. `go test` does not run that directory as part of the target's
// corpus (it would fail CI for a known, reported bug); TestPendingSeeds
// runs each seed through its target's property instead and skips, naming
// the bug, while it still fails. Once a seed passes, the test fails and
// says so: move the seed into testdata/fuzz/<Target>/, where it guards the
// fix as a regression seed, and delete its entry below.

// pendingBugs names the bug behind each pending seed, keyed by
// "<Target>/<file>". None is open: the last two (a scrape.* false finding
// on clashing family names, fixed in 9455038, and format.rejected at line 1
// of an empty body) are regression seeds in testdata/fuzz/FuzzEngine/.
// While a bug is open, a target may tolerate exactly its manifestation so a
// long fuzz run keeps looking for new bugs; TestPendingSeeds runs the
// properties without tolerance to see whether it is still there.
var pendingBugs = map[string]string{}

// properties are the targets' property functions, applied to a corpus
// file's values, with no tolerance of known bugs.
var properties = map[string]func(vals []any) error{
	"FuzzLabelRoundTrip": func(v []any) error { return labelRoundTrip(string(v[0].([]byte)), string(v[1].([]byte))) },
	"FuzzTickSequences":  func(v []any) error { return runTicks(decodeTicks(v[0].([]byte))) },
	"FuzzEngine":         func(v []any) error { return engineNeverFailsBadly(v[0].([]byte), v[1].(byte)) },
	"FuzzFormatDifferential": func(v []any) error {
		return formatDifferential(v[0].([]byte), v[1].(byte))
	},
	"FuzzCrossScrape":  func(v []any) error { return crossScrape(v[0].([]byte), v[1].(string)) },
	"FuzzProtobuf":     func(v []any) error { return protobufProperties(v[0].([]byte), v[1].(byte)) },
	"FuzzOpenMetrics2": func(v []any) error { return openMetrics2Properties(v[0].([]byte), v[1].(byte)) },
	"FuzzNegotiate": func(v []any) error {
		return negotiateOnce(v[0].(string), v[1].(string), v[2].(byte)&1 == 1)
	},
}

func TestPendingSeeds(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "pending", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool)
	for _, file := range files {
		target, name := filepath.Base(filepath.Dir(file)), filepath.Base(file)
		key := target + "/" + name
		seen[key] = true
		t.Run(key, func(t *testing.T) {
			bug, ok := pendingBugs[key]
			if !ok {
				t.Fatalf("%s has no entry in pendingBugs: say which bug it shows", file)
			}
			property, ok := properties[target]
			if !ok {
				t.Fatalf("%s: no target %s", file, target)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			vals, err := readCorpusFile(data)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if err := applyProperty(property, vals); err != nil {
				t.Skipf("known bug, still present: %s\n%v", bug, err)
			}
			t.Errorf("%s now passes, so its bug is fixed (%s): git mv it to testdata/fuzz/%s/ and delete its pendingBugs entry", file, bug, target)
		})
	}
	for key := range pendingBugs {
		if !seen[key] {
			t.Errorf("pendingBugs names %s, which is not in testdata/pending", key)
		}
	}
}

// applyProperty runs a property, turning a panic (a bug in the code under
// test, or values of the wrong types) into an error.
func applyProperty(property func([]any) error, vals []any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return property(vals)
}

// readCorpusFile decodes a corpus file ("go test fuzz v1", then one Go
// expression per value), for the types the targets take: []byte, string
// and byte.
func readCorpusFile(data []byte) ([]any, error) {
	lines := bytes.Split(data, []byte("\n"))
	if string(bytes.TrimSuffix(lines[0], []byte("\r"))) != "go test fuzz v1" {
		return nil, fmt.Errorf("not a corpus file: first line %q", lines[0])
	}
	var vals []any
	for _, line := range lines[1:] {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		v, err := corpusValue(string(line))
		if err != nil {
			return nil, fmt.Errorf("%q: %v", line, err)
		}
		vals = append(vals, v)
	}
	return vals, nil
}

func corpusValue(line string) (any, error) {
	expr, err := parser.ParseExpr(line)
	if err != nil {
		return nil, err
	}
	call, ok := expr.(*ast.CallExpr)
	if !ok || len(call.Args) != 1 {
		return nil, fmt.Errorf("want a conversion T(literal)")
	}
	lit, ok := call.Args[0].(*ast.BasicLit)
	if !ok {
		return nil, fmt.Errorf("want a literal argument")
	}
	switch fun := call.Fun.(type) {
	case *ast.ArrayType:
		if elt, ok := fun.Elt.(*ast.Ident); ok && fun.Len == nil && (elt.Name == "byte" || elt.Name == "uint8") && lit.Kind == token.STRING {
			s, err := strconv.Unquote(lit.Value)
			return []byte(s), err
		}
	case *ast.Ident:
		switch {
		case fun.Name == "string" && lit.Kind == token.STRING:
			return strconv.Unquote(lit.Value)
		case (fun.Name == "byte" || fun.Name == "uint8") && lit.Kind == token.CHAR:
			r, _, tail, err := strconv.UnquoteChar(lit.Value[1:len(lit.Value)-1], '\'')
			if err != nil || tail != "" || r > 0xff {
				return nil, fmt.Errorf("bad byte literal %s", lit.Value)
			}
			return byte(r), nil
		case (fun.Name == "byte" || fun.Name == "uint8") && lit.Kind == token.INT:
			n, err := strconv.ParseUint(lit.Value, 0, 8)
			return byte(n), err
		}
	}
	return nil, fmt.Errorf("unsupported value (this reader knows []byte, string and byte)")
}

// TestCorpusNamesKnownTargets catches a corpus directory left behind by a
// renamed target, whose seeds would silently stop running, and checks that
// readCorpusFile (which TestPendingSeeds relies on) reads every committed
// seed with the number of values its target takes.
func TestCorpusNamesKnownTargets(t *testing.T) {
	arity := map[string]int{"FuzzLabelRoundTrip": 2, "FuzzTickSequences": 1, "FuzzEngine": 2, "FuzzFormatDifferential": 2, "FuzzCrossScrape": 2, "FuzzNegotiate": 3, "FuzzProtobuf": 2, "FuzzOpenMetrics2": 2}
	for _, root := range []string{"fuzz", "pending"} {
		dirs, err := os.ReadDir(filepath.Join("testdata", root))
		if errors.Is(err, fs.ErrNotExist) && root == "pending" {
			continue // no bug is pending: git keeps no empty directory
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dirs {
			want, ok := arity[d.Name()]
			if !ok {
				t.Errorf("testdata/%s/%s names no fuzz target", root, d.Name())
				continue
			}
			files, err := filepath.Glob(filepath.Join("testdata", root, d.Name(), "*"))
			if err != nil {
				t.Fatal(err)
			}
			for _, file := range files {
				data, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				vals, err := readCorpusFile(data)
				if err != nil || len(vals) != want {
					t.Errorf("%s: %d values (want %d), error %v", file, len(vals), want, err)
				}
			}
		}
	}
	if len(arity) != len(properties) {
		t.Errorf("arity lists %d targets, properties %d: keep them in step", len(arity), len(properties))
	}
}
