package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/e2e-framework/klient/k8s/resources"

	"github.com/keyconform/keyconform/suites/scenario"
)

// leakSweepKinds are the objects whose status (or, for Events, whole
// content) an implementation writes and a key must never reach: Events,
// the dialect's policies, routes and Gateways.
func (x *execution) leakSweepKinds() []schema.GroupVersionKind {
	policy := x.dialect.PolicyKind()
	return []schema.GroupVersionKind{
		{Version: "v1", Kind: "EventList"},
		policy.GroupVersion().WithKind(policy.Kind + "List"),
		{Group: scenario.HTTPRouteKind.Group, Version: scenario.HTTPRouteKind.Version, Kind: "HTTPRouteList"},
		{Group: scenario.GatewayKind.Group, Version: scenario.GatewayKind.Version, Kind: "GatewayList"},
	}
}

// sweepLeaks looks for a known key in every Event of the scenario's
// namespaces and in the status of every policy, route and Gateway there.
// After a failure it also logs those statuses (redacted), which is what a
// user debugging an implementation looks at first.
func (x *execution) sweepLeaks(ctx context.Context, failed bool) error {
	var errs []error
	for _, ns := range x.namespaces {
		for _, gvk := range x.leakSweepKinds() {
			list := &unstructured.UnstructuredList{}
			list.SetGroupVersionKind(gvk)
			err := withTimeout(ctx, x.timeouts.APITimeout, func(ctx context.Context) error {
				return x.res.List(ctx, list, resources.WithFieldSelector("metadata.namespace="+ns))
			})
			if meta.IsNoMatchError(err) {
				continue // a kind the cluster does not serve holds no key
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("leak sweep: listing %s in %s: %w", gvk.Kind, ns, err))
				continue
			}
			for _, item := range list.Items {
				if failed && item.GetKind() != "Event" {
					status, _ := json.Marshal(item.Object["status"])
					x.logf("status of %s %s/%s: %s", item.GetKind(), ns, item.GetName(), status)
				}
				if where := x.leakIn(item); where != "" {
					errs = append(errs, fmt.Errorf("an API key leaked into %s %s/%s: %s", item.GetKind(), ns, item.GetName(), where))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// leakIn returns the redacted part of obj that holds a key: the status of
// anything, the whole of an Event.
func (x *execution) leakIn(obj unstructured.Unstructured) string {
	part := obj.Object["status"]
	if obj.GetKind() == "Event" {
		part = obj.Object
	}
	raw, err := json.Marshal(part)
	if err != nil || !x.redactor.Leaks(string(raw)) {
		return ""
	}
	return x.redactor.Redact(string(raw))
}
