package check

var orderRules = []Rule{}

func checkOrder(p *pass) {}
