package check

var httpRules = []Rule{}

func checkHTTP(p *pass) {}
