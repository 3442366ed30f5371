package check

var scrapeRules = []Rule{}

func checkScrape(p *pass) {}
