package exporter

import (
	"bytes"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/deploymetrics/deploymetrics/conformance/check"
)

// The status page (GET /) is what a person opens when an alert fires: the
// latest probes with their verdicts and findings, every rule linked to its
// description on /rules. html/template escapes everything a target chose
// (finding messages quote its series and label values).

var pageFuncs = template.FuncMap{
	"duration": func(d time.Duration) string { return d.Round(time.Microsecond).String() },
	"ts":       func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
	"join": func(s []string) string {
		return strings.Join(s, ", ")
	},
}

const pageStyle = `<style>
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: .25em .5em; text-align: left; vertical-align: top; }
.ok { color: #1a7f37; } .fail { color: #cf222e; } .error { color: #9a6700; }
code { font-size: 90%; }
</style>`

var statusTemplate = template.Must(template.New("status").Funcs(pageFuncs).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>promcheck exporter</title>` + pageStyle + `</head>
<body>
<h1>promcheck exporter</h1>
<p>Probes metric emitters with the deploymetrics check engine: <code>/probe?target=URL&amp;module=NAME</code>.
<a href="/metrics">Own metrics</a> · <a href="/rules">Rules</a> · version {{.Version}} ·
modules from {{.Source}}, loaded {{ts .Loaded}}.</p>
<h2>Modules</h2>
<table>
<tr><th>module</th><th>schema</th><th>accept</th><th>strict</th><th>timeout</th><th>max bytes</th><th>allowed targets</th></tr>
{{range .Modules}}<tr><td>{{.Name}}</td><td>{{.Schema}}</td><td>{{join .Accept}}</td><td>{{.Strict}}</td><td>{{.Timeout}}</td><td>{{.MaxBytes}}</td><td>{{.Allowed}}</td></tr>
{{end}}</table>
<h2>Recent probes</h2>
{{if not .Probes}}<p>No probe yet.</p>{{else}}
<table>
<tr><th>time (UTC)</th><th>module</th><th>target</th><th>verdict</th><th>duration</th><th>scrapes and findings</th></tr>
{{range .Probes}}<tr>
<td>{{ts .Time}}</td><td>{{.Module}}</td><td>{{.Target}}</td>
<td>{{if .Success}}<span class="ok">conforms</span>{{else if .Checked}}<span class="fail">fails</span>{{else}}<span class="error">could not check</span>{{end}}</td>
<td>{{duration .Duration}}</td>
<td>{{range .Scrapes}}<div><b>{{.Accept}}</b>:
{{if .Redirects}}redirected ({{range $i, $r := .Redirects}}{{if $i}}, {{end}}{{$r}}{{end}});
{{end}}{{if .Err}}<span class="error">{{.ErrKind}}: {{.Err}}</span>
{{else}}HTTP {{.StatusCode}}, {{.Format}}, {{.Samples}} samples{{if .Compared}}, compared with the previous probe{{end}};
{{if .Total}}<details><summary>{{.Errors}} errors, {{.Warnings}} warnings, {{.Infos}} info</summary>
<ul>{{range .Counts}}<li><a href="/rules#{{.Rule}}">{{.Rule}}</a> ({{.Severity}}): {{.N}}</li>{{end}}</ul>
<ol>{{range .Findings}}<li>{{.Severity}} <a href="/rules#{{.Rule}}">{{.Rule}}</a>{{if .Line}} line {{.Line}}{{end}}: {{.Message}}</li>{{end}}</ol>
{{if .Hidden}}<p>and {{.Hidden}} more, not kept here: promcheck check of the target lists them (--max-findings 0: all of them).</p>{{end}}
</details>{{else}}no findings{{end}}{{end}}</div>{{end}}</td>
</tr>
{{end}}</table>{{end}}
</body></html>
`))

var rulesTemplate = template.Must(template.New("rules").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>promcheck rules</title>` + pageStyle + `</head>
<body>
<h1>promcheck rules</h1>
<p>Every rule of the check engine, as <code>promcheck rules</code> lists them. <a href="/">Back to the probes</a>.
error fails a probe, warning fails it only in a strict module, info never does; a module may change a rule's severity or disable it.</p>
<table>
<tr><th>rule</th><th>severity</th><th>description</th></tr>
{{range .}}<tr id="{{.ID}}"><td><code>{{.ID}}</code></td><td>{{.Severity}}</td><td>{{.Description}}</td></tr>
{{end}}</table>
</body></html>
`))

// statusModule is a row of the modules table.
type statusModule struct {
	Name, Schema, Allowed string
	Accept                []string
	Strict                bool
	Timeout               time.Duration
	MaxBytes              int64
}

// statusPage is the data of the status page.
type statusPage struct {
	Version string
	Source  string
	Loaded  time.Time
	Modules []statusModule
	Probes  []*probeRecord
}

// Hidden is how many findings the record does not keep.
func (s *scrapeRecord) Hidden() int { return s.Total() - len(s.Findings) }

func (e *Exporter) serveStatus(w http.ResponseWriter, r *http.Request) {
	cfg := e.config.Load()
	page := statusPage{Version: e.opts.Version, Source: cfg.Source, Loaded: e.loadedAt(), Probes: e.history.list()}
	for _, name := range cfg.ModuleNames() {
		m := cfg.modules[name]
		accept := make([]string, len(m.accepts))
		for i, a := range m.accepts {
			accept[i] = a.name
		}
		page.Modules = append(page.Modules, statusModule{
			Name: name, Schema: m.config.Schema, Allowed: m.allow.String(), Accept: accept,
			Strict: m.config.Strict, Timeout: m.config.Timeout, MaxBytes: m.config.MaxBytes,
		})
	}
	renderHTML(w, r, statusTemplate, &page)
}

func (e *Exporter) serveRules(w http.ResponseWriter, r *http.Request) {
	renderHTML(w, r, rulesTemplate, check.Rules())
}

// renderHTML executes t into a buffer first, so that a template error is a
// 500 rather than half a page.
func renderHTML(w http.ResponseWriter, r *http.Request, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		http.Error(w, "rendering the page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}
