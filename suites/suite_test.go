// Package suites runs the API key auth conformance suite (package
// conformance) as a test:
//
//	go test ./suites -args --target=sim                     # serial
//	go run github.com/onsi/ginkgo/v2/ginkgo -p ./suites -- --target=sim   # parallel processes
package suites

import (
	"testing"

	"github.com/onsi/ginkgo/v2"

	"github.com/keyconform/keyconform/suites/conformance"
)

// The ginkgo CLI runs a package as a Ginkgo suite (parallel processes,
// arguments after --) only when its test files import Ginkgo.
var _ ginkgo.GinkgoTestingT = (*testing.T)(nil)

func TestSuites(t *testing.T) { conformance.Run(t) }
