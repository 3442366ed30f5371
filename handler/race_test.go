//go:build race

package handler

// raceEnabled reports whether the race detector is on. Under it sync.Pool
// drops a random share of what is put back, so allocation counts that depend
// on pooling are meaningless.
const raceEnabled = true
