//go:build !unix

package bench

import "testing"

// cpuClock reports nothing where the process's CPU time cannot be read; see
// cpu_unix_test.go.
type cpuClock struct{}

func startCPU() cpuClock           { return cpuClock{} }
func (cpuClock) report(*testing.B) {}
