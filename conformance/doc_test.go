package conformance

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestDocNamesEveryExportedName keeps the package documentation complete:
// every exported function, type, level and TestContext helper is named in
// doc.go, so that a newcomer finds it where the package is explained.
func TestDocNamesEveryExportedName(t *testing.T) {
	fset := token.NewFileSet()
	source := func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }
	pkgs, err := parser.ParseDir(fset, ".", source, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	pkg := pkgs["conformance"]
	if pkg == nil {
		t.Fatal("package conformance not found")
	}
	doc := pkg.Files["doc.go"].Doc.Text()
	var names []string
	for _, f := range pkg.Files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				if d.Recv == nil || receiver(d) == "TestContext" {
					names = append(names, d.Name.Name)
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() {
							names = append(names, s.Name.Name)
						}
					case *ast.ValueSpec:
						if d.Tok == token.CONST && isLevel(s) {
							for _, n := range s.Names {
								names = append(names, n.Name)
							}
						}
					}
				}
			}
		}
	}
	if len(names) < 20 {
		t.Fatalf("found only %d exported names: %v", len(names), names)
	}
	for _, name := range names {
		if !regexp.MustCompile(`\b` + name + `\b`).MatchString(doc) {
			t.Errorf("doc.go does not name %s", name)
		}
	}
}

func receiver(d *ast.FuncDecl) string {
	typ := d.Recv.List[0].Type
	if star, ok := typ.(*ast.StarExpr); ok {
		typ = star.X
	}
	if id, ok := typ.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

// isLevel reports whether a constant spec declares Levels.
func isLevel(s *ast.ValueSpec) bool {
	id, ok := s.Type.(*ast.Ident)
	return ok && id.Name == "Level" || len(s.Names) == 1 && s.Names[0].Name == "Core"
}
