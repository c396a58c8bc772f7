package translate

import (
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"
)

// goldenOutput is how an Output reads in output.yaml: Envoy resources as
// their proto JSON (Envoy's field names) and statuses by "namespace/name".
type goldenOutput struct {
	Proxies  []goldenProxy `json:"proxies"`
	Statuses goldenStatus  `json:"statuses"`
}

type goldenProxy struct {
	Gateway   string `json:"gateway"`
	NodeID    string `json:"nodeID"`
	Listeners []any  `json:"listeners"`
	Routes    []any  `json:"routes"`
	Clusters  []any  `json:"clusters"`
	Endpoints []any  `json:"endpoints"`
	Secrets   []any  `json:"secrets,omitempty"`
}

type goldenStatus struct {
	GatewayClasses  map[string]gwv1.GatewayClassStatus  `json:"gatewayClasses"`
	Gateways        map[string]gwv1.GatewayStatus       `json:"gateways"`
	HTTPRoutes      map[string][]gwv1.RouteParentStatus `json:"httpRoutes"`
	TrafficPolicies map[string]gwv1.PolicyStatus        `json:"trafficPolicies"`
}

// renderOutput is the golden text of an Output. Map keys come out sorted,
// so equal outputs render to equal bytes.
func renderOutput(out Output) ([]byte, error) {
	g := goldenOutput{Statuses: renderStatuses(out)}
	for _, p := range out.Proxies {
		gp := goldenProxy{Gateway: p.Gateway.String(), NodeID: p.NodeID}
		var err error
		if gp.Listeners, err = protosAsJSON(p.Listeners); err != nil {
			return nil, err
		}
		if gp.Routes, err = protosAsJSON(p.Routes); err != nil {
			return nil, err
		}
		if gp.Clusters, err = protosAsJSON(p.Clusters); err != nil {
			return nil, err
		}
		if gp.Endpoints, err = protosAsJSON(p.Endpoints); err != nil {
			return nil, err
		}
		if gp.Secrets, err = protosAsJSON(p.Secrets); err != nil {
			return nil, err
		}
		g.Proxies = append(g.Proxies, gp)
	}
	return yaml.Marshal(g)
}

func renderStatuses(out Output) goldenStatus {
	s := goldenStatus{
		GatewayClasses:  out.GatewayClasses,
		Gateways:        map[string]gwv1.GatewayStatus{},
		HTTPRoutes:      map[string][]gwv1.RouteParentStatus{},
		TrafficPolicies: map[string]gwv1.PolicyStatus{},
	}
	for k, v := range out.Gateways {
		s.Gateways[k.String()] = v
	}
	for k, v := range out.HTTPRoutes {
		s.HTTPRoutes[k.String()] = v
	}
	for k, v := range out.TrafficPolicies {
		s.TrafficPolicies[k.String()] = v
	}
	return s
}

// protosAsJSON converts messages to generic JSON values. protojson output
// is deliberately unstable in whitespace, so it is re-decoded rather than
// embedded as text.
func protosAsJSON[M proto.Message](msgs []M) ([]any, error) {
	out := make([]any, 0, len(msgs))
	for _, m := range msgs {
		b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("protojson: %w", err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
