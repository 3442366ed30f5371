package check

var schemaRules = []Rule{}

func checkSchema(p *pass) {}
