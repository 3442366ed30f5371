// Package prometheus holds the example Prometheus configuration for the
// promcheck exporter (prometheus.yml, promcheck-rules.yml and its unit tests,
// promcheck.yml, targets/) and the test that keeps it valid. It has no
// code: the test runs Debian's promtool on the files and loads the module
// file as promcheck exporter --check-config does.
package prometheus

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/deploymetrics/deploymetrics/internal/exporter"
)

// promtool finds promtool or skips the test saying how to get it.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not on PATH, skipping the check of the example Prometheus files: install it (Debian: apt-get install prometheus; .ci/run does)")
	}
	return path
}

// exampleFiles are the files promtool reads. The test reads them too, so
// that go test's cache knows them: a change to one reruns the test.
var exampleFiles = []string{"prometheus.yml", "promcheck-rules.yml", "promcheck-rules.test.yml", "targets/emitters.yml"}

func TestPromtool(t *testing.T) {
	bin := promtool(t)
	for _, f := range exampleFiles {
		if _, err := os.ReadFile(f); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		args []string
		want string // in promtool's output on success
	}{
		{[]string{"check", "config", "prometheus.yml"}, "SUCCESS: prometheus.yml is valid prometheus config file syntax"},
		{[]string{"check", "rules", "promcheck-rules.yml"}, "SUCCESS: 3 rules found"},
		{[]string{"test", "rules", "promcheck-rules.test.yml"}, "SUCCESS"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			out, err := exec.Command(bin, c.args...).CombinedOutput()
			if err != nil {
				t.Fatalf("promtool %s: %v\n%s", strings.Join(c.args, " "), err, out)
			}
			if !strings.Contains(string(out), c.want) {
				t.Errorf("promtool %s does not say %q:\n%s", strings.Join(c.args, " "), c.want, out)
			}
		})
	}
}

// The module file the example's exporters run with is valid, and has the
// modules prometheus.yml and targets/ name.
func TestModuleFile(t *testing.T) {
	c, err := exporter.LoadConfig("promcheck.yml")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.ModuleNames(), ","); got != "deploy,generic" {
		t.Errorf("modules %s, want deploy,generic (prometheus.yml and targets/emitters.yml use them)", got)
	}
}
