package scenarios

import (
	"net/http"

	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

// grpcUnauthorized is the filter's 401 as a gRPC client gets it: Envoy's
// trailers-only local reply (Http::Utility::prepareLocalReply), HTTP 200
// without a body, content-type application/grpc, grpc-status 16
// (UNAUTHENTICATED, Grpc::Utility::httpToGrpcStatus of 401) and
// grpc-message the body percent-encoded, which leaves
// "Client authentication failed." as it is (PercentEncoding::encode
// escapes only bytes outside ' '..'}' and '%'). No challenge either.
var grpcUnauthorized = scenario.Response{
	Status: http.StatusOK,
	NoBody: true,
	Headers: map[string][]string{
		"Content-Type":     {"application/grpc"},
		"Grpc-Status":      {"16"},
		"Grpc-Message":     {scenario.UnauthorizedBody},
		"Www-Authenticate": {},
	},
}

func init() {
	// A unary call's request line and content type; the body does not matter.
	call := scenario.Request{Method: http.MethodPost, Path: "/anything"}
	grpc := call.WithHeader("content-type", "application/grpc")
	grpcProto := call.WithHeader("content-type", "application/grpc+proto")
	Catalog.Register(scenario.Scenario{
		ShortName: "GRPCLocalReply",
		Description: "A gRPC client (content-type application/grpc or application/grpc+proto) without a valid key gets " +
			"HTTP 200 with grpc-status 16 and grpc-message `Client authentication failed.` and no body instead of the plain 401, " +
			"and its call never reaches the backend; with the key the call reaches the backend without it.",
		Features:  []features.Name{features.APIKeyAuth, features.GRPCLocalReply},
		Keys:      []string{"client1", "unknown"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(grpc.WithHeader("api-key", key("client1")),
				received().Header("Content-Type", "application/grpc").Without("api-key")),
			scenario.Expect(grpc, grpcUnauthorized),
			scenario.Expect(grpc.WithHeader("api-key", key("unknown")), grpcUnauthorized),
			scenario.Expect(grpcProto, grpcUnauthorized),
			allowed(grpcProto.WithHeader("api-key", key("client1")),
				received().Header("Content-Type", "application/grpc+proto").Without("api-key")),
			// The same call without a gRPC content type gets the plain 401.
			denied(call.WithHeader("content-type", "application/json")),
		},
	})
}
