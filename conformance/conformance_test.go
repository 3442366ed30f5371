package conformance_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/deploymetrics/deploymetrics/conformance"
)

// TestConformance runs the suite against the reference emitter and against
// the client_golang emitter of clientgolang_test.go, in one Ginkgo tree:
// Ginkgo runs specs once per process, so two configs share one RunSpecs
// through Register (the embedding entry point; conformance.Run is the
// one-line one, used by the mutants' meta-test).
//
//	go test -race ./conformance/ -ginkgo.label-filter='active && !concurrency' -ginkgo.junit-report=/tmp/conformance.xml
func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "deploy metric emitter conformance")
}

// The reference emitter supports every capability; its cap is lowered
// from the default 1024 so that the cardinality spec stays quick.
var referenceConfig = conformance.ReferenceConfig(64)

var _ = Describe("reference emitter", func() {
	conformance.Register(&referenceConfig)
})

var clientGolangConfig = newClientGolangConfig()

var _ = Describe("client_golang emitter", func() {
	conformance.Register(&clientGolangConfig)
})
