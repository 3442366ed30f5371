package main

import (
	"bytes"
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/deploymetrics/deploymetrics/conformance/check"
)

// moduleRoot is the repository root, relative to this package.
const moduleRoot = "../.."

// ruleRef matches anything shaped like a rule ID of one of the engine's
// groups ("spec.quoted-name", "order.series") as a word of its own, its
// first submatch the ID: not part of a path or a file name
// ("queue-schema.yaml"). A group alone or with ".*" ("lint", "lint.*")
// names a group, not a rule, and does not match.
var ruleRef = regexp.MustCompile(`(?:^|[^\w./-])((?:` + strings.Join(check.Groups(), "|") + `)\.[a-z][a-z0-9]*(?:-[a-z0-9]+)*)\b`)

// fileExtensions are the endings of file names that look like rule IDs
// ("spec.go", "schema.yaml"); no rule is named like one.
var fileExtensions = map[string]bool{"go": true, "md": true, "yaml": true, "yml": true, "json": true, "txt": true, "prom": true, "om": true, "pb": true, "http": true, "sh": true}

// TestNamedRulesExist holds every text a user reads to the registry:
// every rule ID named in a command's --help, a Go comment, a string of
// the product (a message, a description), README.md,
// SPEC.md, docs/ or examples/ exists, so that following the text never
// ends in "unknown rule" (check --help once suggested
// disabling an order rule that never existed, and following it exited 2).
func TestNamedRulesExist(t *testing.T) {
	texts := map[string]string{} // where -> text
	for _, cmd := range commands(t) {
		var out bytes.Buffer
		code := run(context.Background(), []string{cmd, "--help"}, env{stdout: &out, stderr: &out})
		if code != exitConforms {
			t.Fatalf("promcheck %s --help exited %d:\n%s", cmd, code, out.String())
		}
		texts["promcheck "+cmd+" --help"] = out.String()
	}
	for _, file := range []string{"README.md", "SPEC.md"} {
		data, err := os.ReadFile(filepath.Join(moduleRoot, file))
		if err != nil {
			t.Fatal(err)
		}
		texts[file] = string(data)
	}
	for _, dir := range []string{"docs", "examples"} {
		for path, text := range readTree(t, filepath.Join(moduleRoot, dir), func(p string) bool { return !strings.HasSuffix(p, ".go") }) {
			if path == rulesDoc {
				// Its code blocks are the rules' cases, test data.
				text = withoutCodeBlocks(text)
			}
			texts[path] = text
		}
	}
	for path, text := range goComments(t) {
		texts[path] = text
	}

	checked := 0
	for _, where := range sortedKeys(texts) {
		for _, m := range ruleRef.FindAllStringSubmatch(texts[where], -1) {
			id := m[1]
			if _, ext, _ := strings.Cut(id, "."); fileExtensions[ext] {
				continue // a file name: spec.go
			}
			checked++
			if _, ok := check.LookupRule(id); !ok {
				t.Errorf("%s names %s, which is no rule (promcheck rules lists them)", where, id)
			}
		}
	}
	if checked < 100 {
		t.Fatalf("found %d rule IDs in the help, docs and comments: the scan is broken", checked)
	}
}

// withoutCodeBlocks drops the fenced code blocks of a Markdown text, for
// the rules reference: they show the rules' cases, whose UTF-8 metric
// names (OpenTelemetry's names of HTTP server durations) can look like
// rule IDs. Rule IDs in prose and in inline code are kept.
func withoutCodeBlocks(md string) string {
	var b strings.Builder
	fenced := false
	for _, line := range strings.SplitAfter(md, "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			b.WriteString(line)
		}
	}
	return b.String()
}

// commands lists the commands the main usage names ("promcheck check
// [flags] ..."), so that a new command's help is checked without editing
// this test.
func commands(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^  promcheck ([a-z]+)`).FindAllStringSubmatch(mainUsage, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	if len(out) < 5 {
		t.Fatalf("the main usage lists %d commands: %q", len(out), out)
	}
	return out
}

// readTree returns the text of every file under dir that keep accepts,
// keyed by its path relative to the module root.
func readTree(t *testing.T, dir string, keep func(path string) bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !keep(path) {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(moduleRoot, path)
		out[rel] = string(data)
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}

// goComments returns the comments of every Go file in the module, doc
// comments and others, and the string literals of those that are
// neither tests nor test data (messages, rule descriptions, usage), one
// text per file.
func goComments(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(moduleRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != moduleRoot {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		var b strings.Builder
		for _, group := range f.Comments {
			b.WriteString(group.Text())
			b.WriteByte('\n')
		}
		if !strings.HasSuffix(path, "_test.go") && !strings.Contains(filepath.ToSlash(path), "/testdata/") {
			// The product's strings: messages, descriptions, usage (not
			// test data, whose UTF-8 metric names, OpenTelemetry's
			// among them, can look like rule IDs).
			ast.Inspect(f, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil {
						b.WriteString(s)
						b.WriteByte('\n')
					}
				}
				return true
			})
		}
		rel, _ := filepath.Rel(moduleRoot, path)
		out[rel] = b.String()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 50 {
		t.Fatalf("found %d Go files under %s", len(out), moduleRoot)
	}
	return out
}

// TestNoRuleLooksLikeAFile keeps fileExtensions honest: a rule named like
// a file ending would escape TestNamedRulesExist.
func TestNoRuleLooksLikeAFile(t *testing.T) {
	for _, r := range check.Rules() {
		if _, name, _ := strings.Cut(r.ID, "."); fileExtensions[name] {
			t.Errorf("rule %s is named like a file; TestNamedRulesExist would skip it", r.ID)
		}
	}
}
