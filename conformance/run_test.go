package conformance_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/deploymetrics/deploymetrics/conformance"
)

// envRunTwice makes TestRunTwiceChild call conformance.Run twice.
const envRunTwice = "DEPLOYMETRICS_RUN_TWICE"

// TestRunTwiceChild is run by TestRunCalledTwiceFailsTheTest in a child
// process; alone it skips.
func TestRunTwiceChild(t *testing.T) {
	if os.Getenv(envRunTwice) == "" {
		t.Skip("run by TestRunCalledTwiceFailsTheTest")
	}
	cfg := conformance.ReferenceConfig(referenceCap)
	conformance.Run(t, cfg)
	conformance.Run(t, cfg)
}

// TestRunCalledTwiceFailsTheTest holds Run to its word: Ginkgo ends the
// process when its specs are run twice; Run fails the test instead, saying
// what to do.
func TestRunCalledTwiceFailsTheTest(t *testing.T) {
	if os.Getenv(envRunTwice) != "" {
		t.Skip("inside the child")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunTwiceChild$", "-test.count=1", "-test.v",
		"-ginkgo.label-filter=conformance-level", "-ginkgo.no-color")
	cmd.Env = append(os.Environ(), envRunTwice+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("calling Run twice passed:\n%s", out)
	}
	for _, want := range []string{"--- FAIL: TestRunTwiceChild", "conformance.Run was already called", "conformance.Run(t, cfgA, cfgB)"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the child's output does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "Rerunning Suite") {
		t.Errorf("Ginkgo saw the second run:\n%s", out)
	}
}
