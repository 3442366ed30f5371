package check

import "flag"

// update rewrites the package's generated golden files instead of comparing
// with them: the corpus's expected findings and summary
// (testdata/corpus/*/expected.txt, keeping the reviewed "why" lines) and the
// protobuf rule cases generated from client_model types (testdata/rules).
//
//	go test ./conformance/check -run 'Corpus|ProtobufCases' -update
var update = flag.Bool("update", false, "rewrite the generated golden files (testdata/corpus expected findings, generated protobuf cases)")
