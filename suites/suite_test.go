// Package suites runs the API key auth conformance suite (package
// conformance) as a test:
//
//	go test ./suites -args --target=sim                     # serial
//	go run github.com/onsi/ginkgo/v2/ginkgo -p ./suites -- --target=sim   # parallel processes
package suites

import (
	"testing"

	"github.com/keyconform/keyconform/suites/conformance"
)

func TestSuites(t *testing.T) { conformance.Run(t) }
