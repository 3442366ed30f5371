//go:build race

package check

// raceEnabled says the tests run under the race detector, which multiplies
// the memory and time of the largest hostile inputs; those tests shrink
// them.
const raceEnabled = true
