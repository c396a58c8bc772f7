package translate

import (
	"fmt"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// invalidBackendCluster is the weighted-cluster entry standing for the
// invalid backends of a rule that also has valid ones. No such cluster
// exists, so Envoy answers those requests with the route's
// cluster_not_found_response_code: 500, as Gateway API requires.
const invalidBackendCluster = "invalid-backend"

// backend is one resolved backendRef: a Service port with its cluster.
type backend struct {
	cluster string
	service types.NamespacedName
	port    corev1.ServicePort
	weight  uint32
}

// resolveBackends resolves a rule's backendRefs to Service ports. Invalid
// references are reported on refs and their weight returned, so that the
// same share of requests fails.
func resolveBackends(ix *index, route *gwv1.HTTPRoute, rule int, refs []gwv1.HTTPBackendRef, problems *problems) (valid []backend, invalidWeight uint32) {
	for i := range refs {
		ref := &refs[i].BackendRef
		weight := uint32(1)
		if ref.Weight != nil {
			weight = uint32(max(*ref.Weight, 0))
		}
		b, reason, msg := resolveBackend(ix, route, ref)
		if reason != "" {
			problems.add(reason, fmt.Sprintf("rules[%d].backendRefs[%d]: %s", rule, i, msg))
			invalidWeight += weight
			continue
		}
		if weight == 0 {
			continue
		}
		b.weight = weight
		valid = append(valid, b)
	}
	return valid, invalidWeight
}

func resolveBackend(ix *index, route *gwv1.HTTPRoute, ref *gwv1.BackendRef) (backend, string, string) {
	group, kind := coreGroup, kindService
	if ref.Group != nil {
		group = string(*ref.Group)
	}
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	if group != coreGroup || kind != kindService {
		return backend{}, string(gwv1.RouteReasonInvalidKind),
			fmt.Sprintf("backend kind %s/%s is not supported: reference a core Service", group, kind)
	}
	ns := route.Namespace
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	key := keyOf(ns, string(ref.Name))
	from := referrer{group: gatewayGroup, kind: kindHTTPRoute, namespace: route.Namespace}
	if !ix.referenceGranted(from, coreGroup, kindService, key) {
		return backend{}, string(gwv1.RouteReasonRefNotPermitted),
			fmt.Sprintf("Service %s is in another namespace and no ReferenceGrant in namespace %s allows HTTPRoutes from namespace %s to reference it",
				key, ns, route.Namespace)
	}
	svc := ix.services[key]
	if svc == nil {
		return backend{}, string(gwv1.RouteReasonBackendNotFound), fmt.Sprintf("Service %s not found", key)
	}
	if ref.Port == nil {
		return backend{}, string(gwv1.RouteReasonBackendNotFound), fmt.Sprintf("Service %s: a port is required", key)
	}
	for _, p := range svc.Spec.Ports {
		if p.Port == int32(*ref.Port) {
			return backend{cluster: clusterName(key, p.Port), service: key, port: p}, "", ""
		}
	}
	return backend{}, string(gwv1.RouteReasonBackendNotFound), fmt.Sprintf("Service %s has no port %d", key, *ref.Port)
}

// backendAction is how a rule forwards: to one cluster, split by weight, or
// (no valid backend at all) a 500 answered by Envoy itself.
func backendAction(valid []backend, invalidWeight uint32) *routev3.Route_Route {
	if len(valid) == 1 && invalidWeight == 0 {
		return &routev3.Route_Route{Route: &routev3.RouteAction{
			ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: valid[0].cluster},
		}}
	}
	if len(valid) == 0 {
		return nil
	}
	wc := &routev3.WeightedCluster{}
	for _, b := range valid {
		wc.Clusters = append(wc.Clusters, &routev3.WeightedCluster_ClusterWeight{
			Name:   b.cluster,
			Weight: wrapperspb.UInt32(b.weight),
		})
	}
	action := &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_WeightedClusters{WeightedClusters: wc}}
	if invalidWeight > 0 {
		wc.Clusters = append(wc.Clusters, &routev3.WeightedCluster_ClusterWeight{
			Name:   invalidBackendCluster,
			Weight: wrapperspb.UInt32(invalidWeight),
		})
		action.ClusterNotFoundResponseCode = routev3.RouteAction_INTERNAL_SERVER_ERROR
	}
	return &routev3.Route_Route{Route: action}
}
