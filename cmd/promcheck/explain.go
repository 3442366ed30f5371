package main

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/deploymetrics/deploymetrics"
	"github.com/deploymetrics/deploymetrics/conformance/check"
)

const explainUsage = `Usage: promcheck explain [--all] [--output text|markdown] [RULE|GROUP]...

Explains rules of the check engine: what each checks, why (the section of
SPEC.md it enforces and the upstream sentence it rests on), its severity
and group, whether it is style or correctness, and its good and bad
examples, the cases the engine's tests hold it to. A GROUP ("scrape", or
"scrape.*") explains each of its rules; no argument explains them all.

An example shows the lines that matter: those a finding points at (marked
>) and those that change between scrapes, with a few around them; a
protobuf case is described message by message. --all shows every case of
each rule in full.

docs/rules.md in the source tree is this reference for every rule,
generated with --output markdown; a test keeps it in sync.

Examples:
  promcheck explain spec.escape-go-quote
  promcheck explain scrape
  promcheck explain --all http.negotiation
  promcheck explain --output markdown > docs/rules.md
`

// rulesDoc is the generated rules reference, relative to the module root;
// reports name its anchor for each rule (ruleDocLink).
const rulesDoc = "docs/rules.md"

// ruleDocLink is where a report sends a reader about a rule: the anchor of
// the rule in the rules reference.
func ruleDocLink(id string) string { return rulesDoc + "#" + id }

// explainCommand is the command that explains a rule.
func explainCommand(id string) string { return "promcheck explain " + id }

// readMore says where a report's reader learns about a rule: the command
// that explains it and its anchor in the rules reference.
func readMore(id string) string { return explainCommand(id) + "; " + ruleDocLink(id) }

func runExplain(args []string, e env) int {
	fs := newFlagSet("explain", e)
	all := fs.Bool("all", false, "show every case of each rule in full, not one good and one bad")
	output := fs.String("output", "text", "`format`: text, or markdown (the rules reference, docs/rules.md)")
	positional, code, ok := parseFlags(fs, args, explainUsage, e)
	if !ok {
		return code
	}
	if *output != "text" && *output != "markdown" {
		fmt.Fprintf(e.stderr, "promcheck explain: --output %q: want text or markdown\n", *output)
		return exitCannotCheck
	}
	rules, err := rulesNamed(positional)
	if err != nil {
		fmt.Fprintf(e.stderr, "promcheck explain: %v\n", err)
		return exitCannotCheck
	}
	var explained []explanation
	for _, r := range rules {
		x, err := explain(r)
		if err != nil {
			fmt.Fprintf(e.stderr, "promcheck explain: %v\n", err)
			return exitCannotCheck
		}
		explained = append(explained, x)
	}
	w := &write{w: e.stdout}
	if *output == "markdown" {
		writeRulesMarkdown(w, explained, *all || len(positional) == 0)
	} else {
		for i, x := range explained {
			if i > 0 {
				w.printf("\n%s\n\n", strings.Repeat("-", 72))
			}
			writeExplanationText(w, x, *all)
		}
	}
	if w.err != nil {
		fmt.Fprintf(e.stderr, "promcheck explain: %v\n", w.err)
		return exitCannotCheck
	}
	return exitConforms
}

// rulesNamed returns the rules names names, in the order given, each
// group's in ID order; all of them for no names.
func rulesNamed(names []string) ([]check.Rule, error) {
	if len(names) == 0 {
		return check.Rules(), nil
	}
	var out []check.Rule
	for _, n := range names {
		if r, ok := check.LookupRule(n); ok {
			out = append(out, r)
			continue
		}
		group := strings.TrimSuffix(n, ".*")
		if !slices.Contains(check.Groups(), group) {
			return nil, fmt.Errorf("unknown rule or group %q: `promcheck rules` lists the rules, of the groups %s", n, strings.Join(check.Groups(), ", "))
		}
		for _, r := range check.Rules() {
			if r.Group() == group {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// explanation is what explain says of one rule.
type explanation struct {
	rule    check.Rule
	section deploymetrics.Section
	// bad and good are the examples shown first; others the rest, in
	// name order.
	bad, good check.Example
	others    []check.Example
	// reports holds the report of each example's last scrape, by name.
	reports map[string]*check.Report
}

func explain(r check.Rule) (explanation, error) {
	section, ok := deploymetrics.SpecSection(r.Spec)
	if !ok {
		return explanation{}, fmt.Errorf("rule %s cites SPEC.md %s, which does not exist (a bug: the engine's tests catch it)", r.ID, r.Spec)
	}
	examples, err := check.RuleExamples(r.ID)
	if err != nil {
		return explanation{}, err
	}
	x := explanation{rule: r, section: section, reports: map[string]*check.Report{}}
	var bads, goods []check.Example
	for _, ex := range examples {
		x.reports[ex.Name] = ex.Check()
		if ex.Good {
			goods = append(goods, ex)
		} else {
			bads = append(bads, ex)
		}
	}
	if len(bads) == 0 || len(goods) == 0 {
		return explanation{}, fmt.Errorf("rule %s has %d bad and %d good cases (a bug: the engine's tests catch it)", r.ID, len(bads), len(goods))
	}
	x.bad, x.good = primaryExample(bads), primaryExample(goods)
	for _, ex := range examples {
		if ex.Name != x.bad.Name && ex.Name != x.good.Name {
			x.others = append(x.others, ex)
		}
	}
	return x, nil
}

// primaryExample picks the case to show first: the plainly named one
// ("bad", "good.om", "bad.noschema.prom"), else the most readable, by
// format: text first (a response first for an http.* rule), protobuf last;
// then by name.
func primaryExample(cases []check.Example) check.Example {
	plain := func(x check.Example) bool {
		base, _, _ := strings.Cut(x.Name, ".")
		return base == "good" || base == "bad"
	}
	rank := func(x check.Example) int {
		if strings.HasPrefix(x.Rule, "http.") && path.Ext(x.Name) == ".http" {
			return -1 // an http.* rule judges a response
		}
		switch path.Ext(x.Name) {
		case ".prom", ".seq", "":
			return 0
		case ".om", ".txt":
			return 1
		case ".http":
			return 2
		case ".om2":
			return 3
		}
		return 4
	}
	best := cases[0]
	for _, x := range cases[1:] {
		if plain(x) && !plain(best) || plain(x) == plain(best) && rank(x) < rank(best) {
			best = x
		}
	}
	return best
}

// kind says whether a rule is style or correctness, in words.
func kind(r check.Rule) string {
	if r.Style() {
		return "style (a naming or metadata convention: lint)"
	}
	return "correctness"
}

// checkedWith says how a case is checked, in words.
func checkedWith(x check.Example) string {
	opts := x.Options()
	s := "the deploy schema"
	if opts.Schema == nil {
		s = "no schema (--schema none)"
	}
	if opts.Strict {
		s += ", strict"
	}
	return s
}

func writeExplanationText(w *write, x explanation, all bool) {
	r := x.rule
	w.printf("%s: %s, group %s, %s\n\n", r.ID, r.Severity, r.Group(), kind(r))
	w.printf("  %s\n\n", r.Description)
	w.printf("Why: SPEC.md %s %s\n", r.Spec, x.section.Title)
	if r.Source != "SPEC.md "+r.Spec {
		w.printf("  %s:\n", r.Source)
	}
	w.printf("  %q\n", r.Quote)
	shown := []check.Example{x.bad, x.good}
	if all {
		shown = append(shown, x.others...)
	}
	for _, ex := range shown {
		w.printf("\n%s (%s, checked with %s):\n", exampleTitle(ex), ex.Path(), checkedWith(ex))
		for _, line := range exampleLines(ex, x.reports[ex.Name], all) {
			w.printf("  %s\n", line)
		}
		for _, f := range ruleFindings(x.reports[ex.Name], r.ID, 3) {
			w.printf("  finding: %s\n", f)
		}
	}
	if !all && len(x.others) > 0 {
		names := make([]string, len(x.others))
		for i, ex := range x.others {
			names[i] = ex.Name
		}
		w.printf("\nOther cases (promcheck explain --all %s shows them): %s\n", r.ID, strings.Join(names, ", "))
	}
	w.printf("\nRead more: SPEC.md %s; %s\n", r.Spec, ruleDocLink(r.ID))
}

// exampleTitle is "Bad example" or "Good example".
func exampleTitle(x check.Example) string {
	if x.Good {
		return "Good example"
	}
	return "Bad example"
}

// ruleFindings returns up to max findings of rule in r, as the engine
// words them, and a count of the rest.
func ruleFindings(r *check.Report, rule string, max int) []string {
	var out []string
	fs := r.Rule(rule)
	for i, f := range fs {
		if i == max {
			out = append(out, fmt.Sprintf("and %d more", len(fs)-max))
			break
		}
		out = append(out, f.String())
	}
	return out
}

// writeRulesMarkdown writes the rules reference: a table of every rule,
// then each rule's explanation. whole says that it is the whole reference
// (docs/rules.md), with its header.
func writeRulesMarkdown(w *write, explained []explanation, whole bool) {
	if whole {
		w.printf("# Rules of the check engine\n\n")
		w.printf("<!-- Generated by `go run ./cmd/promcheck explain --output markdown > docs/rules.md`: do not edit. -->\n\n")
		w.printf("Every rule the engine judges with, as `promcheck explain` explains it: what it checks, why (the\n")
		w.printf("section of [SPEC.md](../SPEC.md) it enforces and the sentence it rests on), its default severity\n")
		w.printf("and group, whether it is style or correctness, and its good and bad examples: the cases under\n")
		w.printf("`conformance/check/testdata/rules/<ID>/` that the engine's tests hold it to. Severities are\n")
		w.printf("defaults (SPEC.md §5.2); `--severity RULE=LEVEL` and `--disable RULE` change them.\n\n")
		w.printf("| rule | severity | kind | SPEC.md | what it checks |\n|---|---|---|---|---|\n")
		for _, x := range explained {
			k := "correctness"
			if x.rule.Style() {
				k = "style"
			}
			w.printf("| [`%s`](#%s) | %s | %s | [%s](../SPEC.md#%s) | %s |\n", x.rule.ID, x.rule.ID, x.rule.Severity, k, x.rule.Spec, headingSlug(x.rule.Spec+" "+x.section.Title), markdownText(x.rule.Description))
		}
	}
	group := ""
	for _, x := range explained {
		if g := x.rule.Group(); whole && g != group {
			group = g
			w.printf("\n## %s.*\n", g)
		}
		writeExplanationMarkdown(w, x)
	}
}

func writeExplanationMarkdown(w *write, x explanation) {
	r := x.rule
	w.printf("\n<a id=\"%s\"></a>\n\n### %s\n\n", r.ID, r.ID)
	w.printf("**%s** · group `%s` · %s\n\n", r.Severity, r.Group(), kind(r))
	w.printf("%s\n\n", markdownText(r.Description))
	w.printf("**Why.** [SPEC.md %s %s](../SPEC.md#%s)", r.Spec, x.section.Title, headingSlug(r.Spec+" "+x.section.Title))
	if r.Source != "SPEC.md "+r.Spec {
		w.printf("; %s", markdownText(r.Source))
	}
	w.printf(":\n\n> %s\n", r.Quote)
	for _, ex := range []check.Example{x.bad, x.good} {
		w.printf("\n**%s** ([`%s`](../%s), checked with %s):\n\n", exampleTitle(ex), ex.Name, ex.Path(), checkedWith(ex))
		w.printf("```text\n")
		for _, line := range exampleLines(ex, x.reports[ex.Name], false) {
			w.printf("%s\n", line)
		}
		for _, f := range ruleFindings(x.reports[ex.Name], r.ID, 3) {
			w.printf("finding: %s\n", f)
		}
		w.printf("```\n")
	}
	if len(x.others) > 0 {
		links := make([]string, len(x.others))
		for i, ex := range x.others {
			good := "bad"
			if ex.Good {
				good = "good"
			}
			links[i] = fmt.Sprintf("[`%s`](../%s) (%s)", ex.Name, ex.Path(), good)
		}
		w.printf("\nMore cases: %s.\n", strings.Join(links, ", "))
	}
}

// markdownText escapes what Markdown would read as markup in running
// text: the engine's descriptions hold *, _ and < of their own.
func markdownText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "<", "&lt;", ">", "&gt;", "`", "\\`", "[", `\[`, "]", `\]`, "|", `\|`)
	return r.Replace(s)
}

// headingSlug is the anchor GitHub gives a Markdown heading: lower case,
// spaces as hyphens, punctuation (§ and dots included) dropped.
func headingSlug(heading string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(heading) {
		switch {
		case c == ' ':
			b.WriteByte('-')
		case c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteRune(c)
		}
	}
	return b.String()
}
