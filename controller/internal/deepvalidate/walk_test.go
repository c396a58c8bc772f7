package deepvalidate

import (
	"errors"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	apikeyauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/keyconform/keyconform/internal/xdstest"
)

const hcmAt = `Listener "listener~8080".filter_chains[0].filters[0].typed_config(envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager)`

func TestWalkFindsWhatValidateAllCannot(t *testing.T) {
	cases := []struct {
		name    string
		res     func(t *testing.T) proto.Message
		require bool
		// wantErr are fragments of the error, in order; none: no error.
		wantErr []string
	}{
		{
			name: "valid listener",
			res:  func(t *testing.T) proto.Message { return xdstest.Listener(t, 8080) },
		},
		{
			name: "rule broken inside an Any",
			res: func(t *testing.T) proto.Message {
				return xdstest.Listener(t, 8080, func(h *hcmv3.HttpConnectionManager) { h.StatPrefix = "" })
			},
			wantErr: []string{hcmAt + ": ", "StatPrefix"},
		},
		{
			name: "rule broken in an Any inside an Any",
			res: func(t *testing.T) proto.Message {
				return xdstest.Listener(t, 8080, func(h *hcmv3.HttpConnectionManager) {
					h.HttpFilters[0].GetTypedConfig().Value = mustMarshal(t, &apikeyauthv3.ApiKeyAuth{Credentials: []*apikeyauthv3.Credential{{Client: "c"}}})
				})
			},
			wantErr: []string{hcmAt + ".http_filters[0].typed_config(envoy.extensions.filters.http.api_key_auth.v3.ApiKeyAuth): ", "Credential.Key"},
		},
		{
			name: "undecodable Any in a map",
			res: func(t *testing.T) proto.Message {
				return &routev3.RouteConfiguration{Name: "r", TypedPerFilterConfig: map[string]*anypb.Any{
					"f": {TypeUrl: "type.googleapis.com/no.such.Type"},
				}}
			},
			wantErr: []string{`RouteConfiguration "r".typed_per_filter_config["f"]: cannot decode type.googleapis.com/no.such.Type`},
		},
		{
			name:    "message without rules, allowed",
			res:     withWellKnownType,
			require: false,
		},
		{
			name:    "message without rules, required",
			res:     withWellKnownType,
			require: true,
			wantErr: []string{`RouteConfiguration "r".typed_per_filter_config["f"](google.protobuf.BoolValue): no generated validation`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.res(t)
			err := Walker{RequireRules: tc.require}.Walk(Root(string(res.ProtoReflect().Descriptor().Name()), cachev3.GetResourceName(res)), res)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Walk: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Walk found nothing; want %q", tc.wantErr)
			}
			rest := err.Error()
			for _, want := range tc.wantErr {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("error lacks %q (in order):\n%s", want, err)
				}
				rest = rest[i+len(want):]
			}
		})
	}
}

// OnMessage sees every message, packed ones included; OnPacked sees each
// Any after its content, innermost first, and its error is placed there.
func TestWalkHooks(t *testing.T) {
	l := xdstest.Listener(t, 8080)
	var messages []protoreflect.FullName
	var packed []string
	w := Walker{
		OnMessage: func(_ *Path, m protoreflect.Message) { messages = append(messages, m.Descriptor().FullName()) },
		OnPacked: func(at *Path, _ *anypb.Any, inner proto.Message) error {
			packed = append(packed, string(inner.ProtoReflect().Descriptor().FullName()))
			if _, ok := inner.(*apikeyauthv3.ApiKeyAuth); ok {
				return errors.New("rejected by the hook")
			}
			return nil
		},
	}
	err := w.Walk(Root("Listener", l.GetName()), l)
	if want := hcmAt + ".http_filters[0].typed_config(envoy.extensions.filters.http.api_key_auth.v3.ApiKeyAuth): rejected by the hook"; err == nil || err.Error() != want {
		t.Errorf("Walk error %v, want %s", err, want)
	}
	wantPacked := []string{
		"envoy.extensions.filters.http.api_key_auth.v3.ApiKeyAuth",
		"envoy.extensions.filters.http.router.v3.Router",
		"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
	}
	if strings.Join(packed, " ") != strings.Join(wantPacked, " ") {
		t.Errorf("OnPacked saw %v, want %v", packed, wantPacked)
	}
	seen := map[protoreflect.FullName]bool{}
	for _, m := range messages {
		seen[m] = true
	}
	for _, want := range []protoreflect.FullName{"envoy.config.listener.v3.Listener", "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", "envoy.extensions.filters.http.router.v3.Router"} {
		if !seen[want] {
			t.Errorf("OnMessage never saw %s (saw %v)", want, messages)
		}
	}
	if seen["google.protobuf.Any"] {
		t.Error("OnMessage saw an Any itself")
	}
}

func withWellKnownType(t *testing.T) proto.Message {
	a, err := anypb.New(wrapperspb.Bool(true))
	if err != nil {
		t.Fatal(err)
	}
	return &routev3.RouteConfiguration{Name: "r", TypedPerFilterConfig: map[string]*anypb.Any{"f": a}}
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
