// Package fuzz holds the project's Go native fuzz targets, one per part that
// meets hostile input: the label round trip through the reference emitter,
// concurrent tick sequences against a sequential model, the check engine on
// arbitrary bytes (text, OpenMetrics, OpenMetrics 2.0 and protobuf), the
// engine's format verdict against a bare textparse pass, and the scrape.*
// rules against a model of two scrapes.
//
// The package has no API; everything is in its tests. `go test ./fuzz/` runs
// every seed (the f.Add seeds and the committed corpus under
// testdata/fuzz/<Target>/) as an ordinary test; run.sh runs each target
// under the fuzzing engine for a while:
//
//	fuzz/run.sh 60s
//
// README.md says how to run a long fuzz run and how to turn a crasher into a
// regression seed.
package fuzz
