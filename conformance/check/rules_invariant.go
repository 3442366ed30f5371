package check

var invariantRules = []Rule{}

func checkInvariants(p *pass) {}
