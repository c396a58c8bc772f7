package xdsclient

import (
	"errors"
	"strings"
	"testing"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/keyconform/keyconform/internal/xdstest"
)

type discoveryRequest = discoveryv3.DiscoveryRequest

func TestNACKDetailNeverCarriesAKey(t *testing.T) {
	per := xdstest.APIKeyAuth(t, map[string]string{"client1": "k-123-secret"}, true, "", "header:api-key")
	err := errors.New(`duplicate api key "k-123-secret" (clients client1, client2)`)
	d := scrubbedDetail(err, []*anypb.Any{per})
	if strings.Contains(d.GetMessage(), "k-123-secret") || !strings.Contains(d.GetMessage(), "[redacted]") {
		t.Fatalf("detail %q", strings.ReplaceAll(d.GetMessage(), "k-123-secret", "<KEY>"))
	}
}
