package xdsclient

import (
	"context"
	"fmt"
	"maps"
	"slices"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// deltaWire is incremental ADS (DeltaAggregatedResources): requests carry
// the names subscribed and unsubscribed since the server was last told,
// responses the resources added or changed and the names removed.
type deltaWire struct{}

func (deltaWire) apiType() string { return "DELTA_GRPC" }

func (deltaWire) open(ctx context.Context, conn *grpc.ClientConn) (grpc.ClientStream, error) {
	return discoveryv3.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
}

func (deltaWire) recv(stream grpc.ClientStream) (response, error) {
	resp := &discoveryv3.DeltaDiscoveryResponse{}
	if err := stream.RecvMsg(resp); err != nil {
		return nil, err
	}
	return deltaResponse{resp}, nil
}

// request follows Envoy's DeltaSubscriptionState::getNextRequestAckless:
// the first request of a stream names the whole subscription and, in
// initial_resource_versions, what is held, so that the server (perhaps a
// new one) sends only what differs. A wildcard type subscribes with no
// names at all: the legacy wildcard form Envoy sends first
// (isInitialRequestForLegacyWildcard), which go-control-plane v0.14 takes
// as wildcard on a stream's first request of a type unless the server
// deactivates legacy wildcard (stream.NewDeltaSubscription). Only an
// answer carries a nonce.
func (deltaWire) request(typeURL string, s *subscription, node *corev3.Node, ans *answer) proto.Message {
	req := &discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: typeURL}
	if !s.sent && len(s.held) > 0 {
		req.InitialResourceVersions = map[string]string{}
		for name, r := range s.held {
			if s.wildcard || contains(s.names, name) {
				req.InitialResourceVersions[name] = r.GetVersion()
			}
		}
	}
	if !s.wildcard {
		req.ResourceNamesSubscribe = without(s.names, s.announced)
		req.ResourceNamesUnsubscribe = without(s.announced, s.names)
	}
	if ans != nil {
		req.ResponseNonce, req.ErrorDetail = ans.nonce, ans.detail
	}
	return req
}

type deltaResponse struct {
	*discoveryv3.DeltaDiscoveryResponse
}

func (r deltaResponse) header() (typeURL, version, nonce string) {
	return r.GetTypeUrl(), r.GetSystemVersionInfo(), r.GetNonce()
}

// resolve upserts the response's resources into a copy of the held set and
// deletes its removed_resources, so that a rejected response leaves the
// held set as it was. It checks the response as Envoy's
// DeltaSubscriptionState::handleGoodResponse does
// (source/extensions/config_subscription/grpc/delta_subscription_state.cc):
//   - a name appears at most once among resources and removed_resources;
//   - a resource without a body whose name and version are held is a TTL
//     heartbeat and changes nothing (isHeartbeatResponse); any other
//     resource without a body is rejected, as Envoy rejects it for the type
//     URL of its empty Any not matching the response's;
//   - a body must be of the response's type;
//   - a named type ignores resources it did not subscribe to, which a
//     server may send before it learns of an unsubscription.
func (r deltaResponse) resolve(s *subscription) ([]*anypb.Any, map[string]*discoveryv3.Resource, error) {
	held := maps.Clone(s.held)
	if held == nil {
		held = map[string]*discoveryv3.Resource{}
	}
	seen := map[string]bool{}
	for _, res := range r.GetResources() {
		name := res.GetName()
		if seen[name] {
			return nil, nil, fmt.Errorf("duplicate name %q found among added/updated resources", name)
		}
		seen[name] = true
		if res.GetResource() == nil {
			if h, ok := s.held[name]; ok && h.GetVersion() == res.GetVersion() {
				continue
			}
			return nil, nil, fmt.Errorf("resource %q has no body and is not a heartbeat of a version held (version %q)", name, res.GetVersion())
		}
		if t := res.GetResource().GetTypeUrl(); t != r.GetTypeUrl() {
			return nil, nil, fmt.Errorf("resource %q is of type %s, not the response's %s", name, t, r.GetTypeUrl())
		}
		if s.isAnnounced(name) {
			held[name] = res
		}
	}
	for _, name := range r.GetRemovedResources() {
		if seen[name] {
			return nil, nil, fmt.Errorf("duplicate name %q found in the union of added+removed resources", name)
		}
		seen[name] = true
		delete(held, name)
	}
	resources := make([]*anypb.Any, 0, len(held))
	for _, name := range slices.Sorted(maps.Keys(held)) {
		resources = append(resources, held[name].GetResource())
	}
	return resources, held, nil
}

// contains reports whether the sorted names hold name.
func contains(names []string, name string) bool {
	_, found := slices.BinarySearch(names, name)
	return found
}

// without returns the sorted names a not in the sorted names b.
func without(a, b []string) []string {
	return slices.DeleteFunc(slices.Clone(a), func(name string) bool { return contains(b, name) })
}
