package check

var specRules = []Rule{}

func checkSpec(p *pass) {}
