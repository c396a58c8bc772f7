package localenv

import (
	"context"
	"fmt"
	"net"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/provision"
)

// publishService creates the Service a cluster provisioner gives a
// Gateway (named after it) and, when every listener port is served on the
// same port of 127.0.0.1, reports 127.0.0.1 as its load balancer address.
// The seed document finds its gateway that way:
// `kubectl get svc -n kgateway-system http -o jsonpath=...ingress[0]...`.
func (d *dataPlanes) publishService(ctx context.Context, gw *gwv1.Gateway, ports []uint32) error {
	objs, err := provision.Objects(gw, provision.DefaultConfig())
	if err != nil {
		// The Service is a convenience for finding the gateway: one the
		// provisioner would refuse (e.g. its name is no DNS label) still
		// has its data plane.
		d.log.Warn("no Service for the gateway", "gateway", client.ObjectKeyFromObject(gw).String(), "error", err)
		return nil
	}
	var svc *corev1.Service
	for _, o := range objs {
		if s, ok := o.(*corev1.Service); ok {
			svc = s
		}
	}
	if svc == nil {
		return fmt.Errorf("provisioning of gateway %s/%s gave no Service", gw.Namespace, gw.Name)
	}
	var existing corev1.Service
	err = d.client.Get(ctx, client.ObjectKeyFromObject(svc), &existing)
	switch {
	case err == nil && existing.Labels[provision.ManagedByLabel] != provision.ManagedBy:
		// As the cluster provisioner does: never take over someone else's
		// Service (say, a backend that happens to share the Gateway's name).
		d.log.Warn("a Service of the gateway's name exists and is not ours; leaving it alone",
			"gateway", client.ObjectKeyFromObject(gw).String())
		return nil
	case err != nil && !apierrors.IsNotFound(err):
		return fmt.Errorf("reading service %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	u, err := provision.ApplyForm(svc)
	if err != nil {
		return err
	}
	if err := d.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying service %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	if !servedOnSamePorts(ports, d.listenAddress) {
		return nil
	}
	// A merge patch needs no read first: the manager's cache may not have
	// seen the Service it just applied.
	patch := client.RawPatch(types.MergePatchType, []byte(`{"status":{"loadBalancer":{"ingress":[{"ip":"127.0.0.1"}]}}}`))
	if err := d.client.Status().Patch(ctx, svc, patch); err != nil {
		return fmt.Errorf("reporting the address of service %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	return nil
}

// deleteService removes the Gateway's Service: the environment runs no
// garbage collector to follow its owner reference.
func (d *dataPlanes) deleteService(ctx context.Context, key types.NamespacedName) error {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	var current corev1.Service
	if err := d.client.Get(ctx, key, &current); err != nil {
		return client.IgnoreNotFound(err)
	}
	if current.Labels[provision.ManagedByLabel] != provision.ManagedBy {
		return nil // someone else's Service of that name
	}
	if err := d.client.Delete(ctx, svc); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting service %s: %w", key, err)
	}
	return nil
}

func servedOnSamePorts(ports []uint32, listenAddress func(uint32) string) bool {
	for _, p := range ports {
		if listenAddress(p) != net.JoinHostPort("127.0.0.1", strconv.FormatUint(uint64(p), 10)) {
			return false
		}
	}
	return true
}
