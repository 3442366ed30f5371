// Command peakrss runs a command and reports its peak resident memory on
// the last line of stderr ("peakrss: <bytes>"), exiting with its status.
//
// The tests cannot read a child's peak memory themselves: on Linux a
// process started by exec keeps, as its peak, the resident size of the
// memory it was forked from, and the Go runtime forks from the (large)
// test process. Forked from this small program instead, the figure is
// promcheck's own, give or take this program's few megabytes.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: peakrss COMMAND [ARG...]")
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	_ = cmd.Run()
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "peakrss: could not run", os.Args[1])
		os.Exit(2)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(os.Stderr, "peakrss: no resource usage on this platform")
		os.Exit(2)
	}
	// Linux reports ru_maxrss in kilobytes.
	fmt.Fprintf(os.Stderr, "peakrss: %d\n", ru.Maxrss*1024)
	os.Exit(cmd.ProcessState.ExitCode())
}
