package scenarios

import (
	"net/http"

	"github.com/keyconform/keyconform/suites/features"
	"github.com/keyconform/keyconform/suites/scenario"
)

// fragmentRejected is Envoy's answer to a request-target with a #fragment
// (ConnectionManagerUtility::maybeNormalizePath under the default
// http_reject_path_with_fragment): 400 with no body, sent by the
// connection manager before routing and the http filters.
var fragmentRejected = scenario.Response{Status: http.StatusBadRequest, NoBody: true}

func init() {
	withFragment := anything.WithTarget("/anything#frag")
	Catalog.Register(scenario.Scenario{
		ShortName: "FragmentRejected",
		Description: "A request whose request-target carries a #fragment (`GET /anything#frag`) gets 400 with no body " +
			"and never reaches the backend, with a valid key or without one (not the filter's 401: it is refused before any filter); " +
			"the same request without the fragment and with the key is allowed.",
		Features:  []features.Name{features.APIKeyAuth, features.FragmentRejected},
		Keys:      []string{"client1"},
		Manifests: withBase("secret.yaml", "policy.yaml"),
		Steps: []scenario.Step{
			allowed(anything.WithHeader("api-key", key("client1")), received().Without("api-key")),
			scenario.Expect(withFragment.WithHeader("api-key", key("client1")), fragmentRejected),
			scenario.Expect(withFragment, fragmentRejected),
			scenario.Expect(anything.WithTarget("/anything?q=1#frag").WithHeader("api-key", key("client1")), fragmentRejected),
		},
	})
}
