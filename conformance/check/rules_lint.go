package check

var lintRules = []Rule{}

func checkLint(p *pass) {}
