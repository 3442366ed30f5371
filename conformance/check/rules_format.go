package check

var formatRules = []Rule{
	{ID: "format.rejected", Severity: Error, Description: "Prometheus's parser (model/textparse) rejects the exposition: the scrape fails"},
}

// checkFormat reports textparse's verdict. It is the only source of format.*
// findings: the claim "Prometheus would reject this" is textparse's own.
func checkFormat(p *pass) {
	if pe := p.exp.ParseError; pe != nil {
		p.report("format.rejected", pe.Line, "", "", "textparse (%s): %v", p.exp.Format, pe.Err)
	}
}
