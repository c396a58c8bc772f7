package sensitive

import (
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

func routeWithKeys(t *testing.T) *routev3.RouteConfiguration {
	t.Helper()
	per, err := anypb.New(&apikeyv3.ApiKeyAuthPerRoute{
		Credentials: []*apikeyv3.Credential{{Key: "k-123", Client: "client1"}, {Key: "k-456-longer", Client: "client2"}},
		KeySources:  []*apikeyv3.KeySource{{Header: "api-key"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &routev3.RouteConfiguration{
		Name: "listener~8080",
		VirtualHosts: []*routev3.VirtualHost{{
			Name: "vh", Domains: []string{"*"},
			TypedPerFilterConfig: map[string]*anypb.Any{"envoy.filters.http.api_key_auth": per},
		}},
	}
}

func TestRedactReplacesCredentialKeysInsideAny(t *testing.T) {
	rc := routeWithKeys(t)
	Redact(rc)
	js, err := protojson.Marshal(rc)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"k-123", "k-456-longer"} {
		if strings.Contains(string(js), secret) {
			t.Fatalf("redacted dump still holds a key: %s", strings.ReplaceAll(string(js), secret, "<KEY>"))
		}
	}
	var per apikeyv3.ApiKeyAuthPerRoute
	if err := rc.VirtualHosts[0].TypedPerFilterConfig["envoy.filters.http.api_key_auth"].UnmarshalTo(&per); err != nil {
		t.Fatal(err)
	}
	want := &apikeyv3.ApiKeyAuthPerRoute{
		// Envoy marks the whole credentials field sensitive, so client ids
		// are redacted too; key sources are not.
		Credentials: []*apikeyv3.Credential{{Key: Redacted, Client: Redacted}, {Key: Redacted, Client: Redacted}},
		KeySources:  []*apikeyv3.KeySource{{Header: "api-key"}},
	}
	if !proto.Equal(&per, want) {
		t.Fatalf("redacted config = %v, want %v", &per, want)
	}
}

func TestValuesAndScrub(t *testing.T) {
	vals := Values(routeWithKeys(t))
	want := []string{"k-456-longer", "client1", "client2", "k-123"}
	if strings.Join(vals, "|") != strings.Join(want, "|") {
		t.Fatalf("Values = %d values, want the %d credential strings longest first", len(vals), len(want))
	}
	msg := Scrub(`duplicate key "k-123" in listener~8080; "k-456-longer"`, vals)
	if msg != `duplicate key "[redacted]" in listener~8080; "[redacted]"` {
		t.Fatalf("Scrub = %q", msg)
	}
	if got := Values(&routev3.RouteConfiguration{Name: "no secrets"}); len(got) != 0 {
		t.Fatalf("Values of a message without sensitive fields = %v", got)
	}
}
