package controlplane_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/controlplane"
	"github.com/keyconform/keyconform/controller/provision"
	"github.com/keyconform/keyconform/controller/reconcile"
	"github.com/keyconform/keyconform/internal/apiservertest"
	"github.com/keyconform/keyconform/internal/logcapture"
)

// startController runs the controller as the binary does with
// --provision=envoy, through the composition root. It returns the logs.
func startController(t *testing.T) *logcapture.Buffer {
	t.Helper()
	logs := &logcapture.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := provision.DefaultConfig()
	cp, err := controlplane.New(apiServers.Config(t), controlplane.Options{Provision: &cfg, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cp.Run(ctx, lis) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("controller stopped with: %v", err)
		}
	})
	return logs
}

func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	apiservertest.Eventually(t, what, 30*time.Second, check)
}

// newGateway creates a Gateway of class and returns it as stored.
func newGateway(t *testing.T, c client.Client, ns, name, class string, ports ...int32) *gwv1.Gateway {
	t.Helper()
	gw := &gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       gwv1.GatewaySpec{GatewayClassName: gwv1.ObjectName(class)},
	}
	for _, p := range ports {
		gw.Spec.Listeners = append(gw.Spec.Listeners, gwv1.Listener{
			Name: gwv1.SectionName(fmt.Sprintf("port-%d", p)), Protocol: gwv1.HTTPProtocolType, Port: gwv1.PortNumber(p),
		})
	}
	if err := c.Create(t.Context(), gw); err != nil {
		t.Fatal(err)
	}
	return gw
}

func namespace(t *testing.T, c client.Client) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "provision-"}}
	if err := c.Create(t.Context(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

func listenerPortsOf(d *appsv1.Deployment, s *corev1.Service) ([]int32, []int32) {
	var container, service []int32
	for _, p := range d.Spec.Template.Spec.Containers[0].Ports {
		if p.Name != "ready" {
			container = append(container, p.ContainerPort)
		}
	}
	for _, p := range s.Spec.Ports {
		service = append(service, p.Port)
	}
	return container, service
}

func statusAddresses(gw *gwv1.Gateway) []string {
	var out []string
	for _, a := range gw.Status.Addresses {
		out = append(out, a.Value)
	}
	return out
}

// A Gateway of our class gets its data plane, which follows its listeners;
// its status address comes from the provisioned Service.
func TestProvisionsAndUpdatesTheDataPlane(t *testing.T) {
	c := apiServers.Client(t, reconcile.AddToScheme)
	startController(t)
	ctx := t.Context()
	ns := namespace(t, c)
	gw := newGateway(t, c, ns, "http", reconcile.DefaultGatewayClassName, 8080)
	key := client.ObjectKeyFromObject(gw)

	var deploy appsv1.Deployment
	var svc corev1.Service
	eventually(t, "the Deployment and Service serve listener 8080", func() error {
		if err := c.Get(ctx, key, &deploy); err != nil {
			return err
		}
		if err := c.Get(ctx, key, &svc); err != nil {
			return err
		}
		if cp, sp := listenerPortsOf(&deploy, &svc); !slices.Equal(cp, []int32{8080}) || !slices.Equal(sp, []int32{8080}) {
			return fmt.Errorf("container ports %v, Service ports %v", cp, sp)
		}
		return nil
	})
	for _, obj := range []client.Object{&corev1.ServiceAccount{}, &corev1.ConfigMap{}, &deploy, &svc} {
		if err := c.Get(ctx, key, obj); err != nil {
			t.Fatalf("%T: %v", obj, err)
		}
		if ref := metav1.GetControllerOf(obj); ref == nil || ref.UID != gw.UID {
			t.Errorf("%T is not controlled by the Gateway: %+v", obj, ref)
		}
	}
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || svc.Spec.ClusterIP == "" {
		t.Fatalf("Service type %s, cluster IP %q", svc.Spec.Type, svc.Spec.ClusterIP)
	}

	eventually(t, "no status address and not Programmed while the load balancer is pending", func() error {
		if err := c.Get(ctx, key, gw); err != nil {
			return err
		}
		if got := statusAddresses(gw); len(got) > 0 {
			return fmt.Errorf("status addresses %v, want none", got)
		}
		p := meta.FindStatusCondition(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed))
		if p == nil || p.Status != metav1.ConditionFalse || p.Reason != string(gwv1.GatewayReasonAddressNotAssigned) {
			return fmt.Errorf("Programmed condition %+v, want False/AddressNotAssigned", p)
		}
		return nil
	})

	// A load balancer controller fills in the ingress (a TEST-NET address:
	// nothing here ever dials it).
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.10"}}
	if err := c.Status().Update(ctx, &svc); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the Gateway's status address is the load balancer's", func() error {
		if err := c.Get(ctx, key, gw); err != nil {
			return err
		}
		if got := statusAddresses(gw); !slices.Equal(got, []string{"192.0.2.10"}) {
			return fmt.Errorf("status addresses %v", got)
		}
		return nil
	})

	gw.Spec.Listeners = append(gw.Spec.Listeners, gwv1.Listener{Name: "admin", Protocol: gwv1.HTTPProtocolType, Port: 8081})
	if err := c.Update(ctx, gw); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the Deployment and Service follow a new listener", func() error {
		if err := c.Get(ctx, key, &deploy); err != nil {
			return err
		}
		if err := c.Get(ctx, key, &svc); err != nil {
			return err
		}
		if cp, sp := listenerPortsOf(&deploy, &svc); !slices.Equal(cp, []int32{8080, 8081}) || !slices.Equal(sp, []int32{8080, 8081}) {
			return fmt.Errorf("container ports %v, Service ports %v", cp, sp)
		}
		return nil
	})

	// Someone edits the Deployment: the controller's fields come back, a
	// scale it does not manage stays.
	deploy.Spec.Template.Spec.Containers[0].Image = "example.com/not-envoy:v1"
	deploy.Spec.Replicas = new(int32(3))
	if err := c.Update(ctx, &deploy); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the edited image is put back, the replicas kept", func() error {
		if err := c.Get(ctx, key, &deploy); err != nil {
			return err
		}
		if img := deploy.Spec.Template.Spec.Containers[0].Image; img != provision.DefaultEnvoyImage || *deploy.Spec.Replicas != 3 {
			return fmt.Errorf("image %s, replicas %d", img, *deploy.Spec.Replicas)
		}
		return nil
	})
}

// Gateways of other controllers' classes get nothing; a Gateway whose
// class goes away loses its data plane.
func TestProvisionsOnlyOurClasses(t *testing.T) {
	c := apiServers.Client(t, reconcile.AddToScheme)
	startController(t)
	ctx := t.Context()
	ns := namespace(t, c)
	theirs := &gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: ns + "-theirs"}, Spec: gwv1.GatewayClassSpec{ControllerName: "example.com/another-controller"}}
	mine := &gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: ns + "-mine"}, Spec: gwv1.GatewayClassSpec{ControllerName: reconcile.DefaultControllerName}}
	for _, gc := range []*gwv1.GatewayClass{theirs, mine} {
		if err := c.Create(ctx, gc); err != nil {
			t.Fatal(err)
		}
	}
	// Queued first, so handled before the one awaited below. The other
	// controller has made a Service for its Gateway, owned by it: not ours
	// to touch.
	foreign := newGateway(t, c, ns, "foreign", theirs.Name, 8080)
	theirSvc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: foreign.Name, OwnerReferences: []metav1.OwnerReference{{
			APIVersion: gwv1.GroupVersion.String(), Kind: "Gateway", Name: foreign.Name, UID: foreign.UID, Controller: new(true),
		}}},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 8080}}},
	}
	if err := c.Create(ctx, theirSvc); err != nil {
		t.Fatal(err)
	}
	moving := newGateway(t, c, ns, "moving", mine.Name, 8080)

	eventually(t, "the Gateway of our second class is provisioned", func() error {
		return c.Get(ctx, client.ObjectKeyFromObject(moving), &appsv1.Deployment{})
	})
	for _, obj := range []client.Object{&corev1.ServiceAccount{}, &corev1.ConfigMap{}, &appsv1.Deployment{}} {
		if err := c.Get(ctx, client.ObjectKeyFromObject(foreign), obj); !apierrors.IsNotFound(err) {
			t.Errorf("%T for the Gateway of another controller's class: %v", obj, err)
		}
	}
	var svc corev1.Service
	if err := c.Get(ctx, client.ObjectKeyFromObject(theirSvc), &svc); err != nil || svc.UID != theirSvc.UID || len(svc.Labels) != 0 {
		t.Errorf("the other controller's Service was deleted or changed: %v %+v", err, svc.ObjectMeta)
	}

	if err := c.Delete(ctx, mine); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the data plane of a Gateway whose class was deleted is removed", func() error {
		for _, obj := range []client.Object{&corev1.ServiceAccount{}, &corev1.ConfigMap{}, &corev1.Service{}, &appsv1.Deployment{}} {
			if err := c.Get(ctx, client.ObjectKeyFromObject(moving), obj); !apierrors.IsNotFound(err) {
				return fmt.Errorf("%T still there (%v)", obj, err)
			}
		}
		return nil
	})
}

// An object in the way that is not the Gateway's is left alone, nothing is
// created for that Gateway, and the log says what to do.
func TestLeavesOthersObjectsAlone(t *testing.T) {
	c := apiServers.Client(t, reconcile.AddToScheme)
	logs := startController(t)
	ctx := t.Context()
	ns := namespace(t, c)
	theirs := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "taken"}, Data: map[string]string{"app.conf": "theirs"}}
	if err := c.Create(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	gw := newGateway(t, c, ns, "taken", reconcile.DefaultGatewayClassName, 8080)

	want := "ConfigMap " + ns + "/taken exists and was not provisioned by keyconform-controller for Gateway " + ns + "/taken"
	eventually(t, "the conflict is logged", func() error {
		if !strings.Contains(logs.String(), want) {
			return errors.New("not yet")
		}
		return nil
	})
	if !strings.Contains(logs.String(), "delete or rename that ConfigMap, or rename the Gateway") {
		t.Errorf("the log does not say what to do:\n%s", logs.String())
	}
	var cm corev1.ConfigMap
	if err := c.Get(ctx, client.ObjectKeyFromObject(theirs), &cm); err != nil {
		t.Fatal(err)
	}
	if cm.Data["app.conf"] != "theirs" || len(cm.Data) != 1 || len(cm.OwnerReferences) != 0 {
		t.Errorf("their ConfigMap was changed: %+v", cm)
	}
	for _, obj := range []client.Object{&corev1.ServiceAccount{}, &corev1.Service{}, &appsv1.Deployment{}} {
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: gw.Name}, obj); !apierrors.IsNotFound(err) {
			t.Errorf("%T created for a Gateway whose ConfigMap name is taken: %v", obj, err)
		}
	}
}

// A Gateway whose data plane cannot be made (here: a name a Service cannot
// take) gets nothing, and the log says why and what to do.
func TestUnprovisionableGatewayIsLogged(t *testing.T) {
	c := apiServers.Client(t, reconcile.AddToScheme)
	logs := startController(t)
	ctx := t.Context()
	ns := namespace(t, c)
	gw := newGateway(t, c, ns, "edge.v1", reconcile.DefaultGatewayClassName, 8080)
	eventually(t, "the reason is logged", func() error {
		if !strings.Contains(logs.String(), "Gateway "+ns+"/edge.v1: its data plane's Service takes its name, which must be a DNS-1035 label") {
			return errors.New("not yet")
		}
		return nil
	})
	if !strings.Contains(logs.String(), "rename the Gateway") {
		t.Errorf("the log does not say what to do:\n%s", logs.String())
	}
	for _, obj := range []client.Object{&corev1.ServiceAccount{}, &corev1.ConfigMap{}, &appsv1.Deployment{}} {
		if err := c.Get(ctx, client.ObjectKeyFromObject(gw), obj); !apierrors.IsNotFound(err) {
			t.Errorf("%T created for an unprovisionable Gateway: %v", obj, err)
		}
	}
}
