//go:build !race

package e2e

// raceEnabled reports whether the test binary was built with -race; the
// test then builds promcheck with -race too (see buildPromcheck).
const raceEnabled = false
