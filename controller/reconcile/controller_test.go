package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	apikeyauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/keyconform/keyconform/controller/api/v1alpha1"
	"github.com/keyconform/keyconform/controller/xds"
	"github.com/keyconform/keyconform/internal/apiservertest"
	"github.com/keyconform/keyconform/internal/logcapture"
	"github.com/keyconform/keyconform/sim/xdsclient/xdsclienttest"
)

const (
	apiKeyAuthFilter = "envoy.filters.http.api_key_auth"
	routeConfigName  = "listener~8080"
	directBody       = "invalid route configuration detected and replaced with a direct response."
	otherController  = gwv1.GatewayController("example.com/other-controller")
)

func create(t testing.TB, c client.Client, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := c.Create(context.Background(), o); err != nil {
			t.Fatalf("creating %T %s: %v", o, client.ObjectKeyFromObject(o), err)
		}
	}
}

func dialXDS(t testing.TB, cut *controllerUnderTest, node string) *xdsclienttest.Client {
	t.Helper()
	return xdsclienttest.Start(t, cut.xdsAddress, node)
}

// waitRoute waits until the route configuration satisfies check.
func waitRoute(t testing.TB, c *xdsclienttest.Client, what string, check func(*routev3.RouteConfiguration) error) *routev3.RouteConfiguration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var last error
	st, err := c.Wait(ctx, resource.RouteType, func(st xdsclienttest.State) bool {
		rc, ok := st.Resources[routeConfigName].(*routev3.RouteConfiguration)
		if !ok {
			last = fmt.Errorf("no route configuration %q", routeConfigName)
			return false
		}
		last = check(rc)
		return last == nil
	})
	if err != nil {
		t.Fatalf("%s: %v (last: %v)", what, err, last)
	}
	return st.Resources[routeConfigName].(*routev3.RouteConfiguration)
}

// credentials returns client id -> key of every api_key_auth per-route
// config in rc, wherever it is placed.
func credentials(t testing.TB, rc *routev3.RouteConfiguration) map[string]string {
	t.Helper()
	out := map[string]string{}
	add := func(cfgs map[string]*anypb.Any) {
		a := cfgs[apiKeyAuthFilter]
		if a == nil {
			return
		}
		per := &apikeyauthv3.ApiKeyAuthPerRoute{}
		if !a.MessageIs(per) {
			return
		}
		if err := a.UnmarshalTo(per); err != nil {
			t.Fatal(err)
		}
		for _, c := range per.GetCredentials() {
			out[c.GetClient()] = c.GetKey()
		}
	}
	add(rc.GetTypedPerFilterConfig())
	for _, vh := range rc.GetVirtualHosts() {
		add(vh.GetTypedPerFilterConfig())
		for _, r := range vh.GetRoutes() {
			add(r.GetTypedPerFilterConfig())
		}
	}
	return out
}

func hasClients(t testing.TB, want ...string) func(*routev3.RouteConfiguration) error {
	return func(rc *routev3.RouteConfiguration) error {
		got := slices.Sorted(maps.Keys(credentials(t, rc)))
		if !slices.Equal(got, want) {
			return fmt.Errorf("clients %v, want %v", got, want)
		}
		return nil
	}
}

func answersDirect500(rc *routev3.RouteConfiguration) error {
	for _, vh := range rc.GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			d := r.GetDirectResponse()
			if d == nil || d.GetStatus() != 500 || d.GetBody().GetInlineString() != directBody {
				return fmt.Errorf("route %v is not the 500 direct response", r.GetMatch())
			}
		}
	}
	return nil
}

// conditionIs checks one condition of a status list.
func conditionIs(conds []metav1.Condition, typ string, status metav1.ConditionStatus, reason string) error {
	c := meta.FindStatusCondition(conds, typ)
	switch {
	case c == nil:
		return fmt.Errorf("no %s condition in %+v", typ, conds)
	case c.Status != status || (reason != "" && c.Reason != reason):
		return fmt.Errorf("%s=%s/%s (%s), want %s/%s", typ, c.Status, c.Reason, c.Message, status, reason)
	case c.LastTransitionTime.IsZero():
		return fmt.Errorf("%s has no lastTransitionTime", typ)
	}
	return nil
}

func ours[T any](entries []T, controller func(T) gwv1.GatewayController) (T, error) {
	var zero T
	for _, e := range entries {
		if controller(e) == DefaultControllerName {
			return e, nil
		}
	}
	return zero, fmt.Errorf("no entry of %s among %d", DefaultControllerName, len(entries))
}

func routeParent(c client.Client, key types.NamespacedName) (gwv1.RouteParentStatus, *gwv1.HTTPRoute, error) {
	r := &gwv1.HTTPRoute{}
	if err := c.Get(context.Background(), key, r); err != nil {
		return gwv1.RouteParentStatus{}, nil, err
	}
	p, err := ours(r.Status.Parents, func(p gwv1.RouteParentStatus) gwv1.GatewayController { return p.ControllerName })
	return p, r, err
}

func policyAncestor(c client.Client, key types.NamespacedName) (gwv1.PolicyAncestorStatus, *v1alpha1.TrafficPolicy, error) {
	p := &v1alpha1.TrafficPolicy{}
	if err := c.Get(context.Background(), key, p); err != nil {
		return gwv1.PolicyAncestorStatus{}, nil, err
	}
	a, err := ours(p.Status.Ancestors, func(a gwv1.PolicyAncestorStatus) gwv1.GatewayController { return a.ControllerName })
	return a, p, err
}

func foreignCondition() []metav1.Condition {
	return []metav1.Condition{{Type: "Accepted", Status: "True", Reason: "Accepted", Message: "theirs", LastTransitionTime: metav1.Now().Rfc3339Copy()}}
}

func TestControllerTranslatesPublishesAndWritesStatus(t *testing.T) {
	cut := startController(t, DefaultDebounce)
	c := apiServers.Client(t, AddToScheme)
	ctx := context.Background()
	a := newApp("e2e")
	ads := dialXDS(t, cut, a.nodeID())

	create(t, c, a.objects()...)
	// Another implementation also serves this route and policy: its
	// entries must survive our writes.
	route := &gwv1.HTTPRoute{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: a.ns, Name: "httpbin"}, route); err != nil {
		t.Fatal(err)
	}
	route.Status.Parents = []gwv1.RouteParentStatus{{ParentRef: gwv1.ParentReference{Name: "elsewhere"}, ControllerName: otherController, Conditions: foreignCondition()}}
	if err := c.Status().Update(ctx, route); err != nil {
		t.Fatal(err)
	}
	policy := a.routePolicy("apikey-auth", v1alpha1.APIKeyAuth{SecretSelector: &v1alpha1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}})
	create(t, c,
		a.secret("keys-a", map[string]string{"team": "a"}, map[string]string{"client1": "k-e2e-111"}),
		a.secret("keys-b", nil, map[string]string{"client2": "k-e2e-222"}),
		policy,
	)
	policy.Status.Ancestors = []gwv1.PolicyAncestorStatus{{AncestorRef: gwv1.ParentReference{Name: "elsewhere"}, ControllerName: otherController, Conditions: foreignCondition()}}
	if err := c.Status().Update(ctx, policy); err != nil {
		t.Fatal(err)
	}

	// xDS: the route carries the policy's credentials, labelled Secret only.
	rc := waitRoute(t, ads, "route with the policy's credentials", hasClients(t, "client1"))
	if credentials(t, rc)["client1"] != "k-e2e-111" {
		t.Error("client1's key in xDS is not the one in its Secret") // never print a key
	}
	if _, err := ads.Wait(context.Background(), resource.ListenerType, func(st xdsclienttest.State) bool { return st.Resources[routeConfigName] != nil }); err != nil {
		t.Fatal(err)
	}

	// Status.
	eventually(t, "GatewayClass accepted", func() error {
		gc := &gwv1.GatewayClass{}
		if err := c.Get(ctx, types.NamespacedName{Name: DefaultGatewayClassName}, gc); err != nil {
			return err
		}
		if gc.Spec.ControllerName != DefaultControllerName {
			return fmt.Errorf("controller %s", gc.Spec.ControllerName)
		}
		return conditionIs(gc.Status.Conditions, "Accepted", "True", "Accepted")
	})
	eventually(t, "Gateway accepted, programmed, addressed", func() error {
		gw := &gwv1.Gateway{}
		if err := c.Get(ctx, types.NamespacedName{Namespace: a.ns, Name: "http"}, gw); err != nil {
			return err
		}
		if len(gw.Status.Addresses) != 1 || gw.Status.Addresses[0].Value != gatewayAddress {
			return fmt.Errorf("addresses %+v", gw.Status.Addresses)
		}
		if err := conditionIs(gw.Status.Conditions, "Accepted", "True", "Accepted"); err != nil {
			return err
		}
		return conditionIs(gw.Status.Conditions, "Programmed", "True", "Programmed")
	})
	eventually(t, "HTTPRoute accepted, other controller's entry kept", func() error {
		p, r, err := routeParent(c, types.NamespacedName{Namespace: a.ns, Name: "httpbin"})
		if err != nil {
			return err
		}
		if len(r.Status.Parents) != 2 || r.Status.Parents[0].ControllerName != otherController {
			return fmt.Errorf("parents %+v", r.Status.Parents)
		}
		return conditionIs(p.Conditions, "Accepted", "True", "Accepted")
	})
	eventually(t, "TrafficPolicy accepted on its Gateway, other controller's entry kept", func() error {
		anc, p, err := policyAncestor(c, client.ObjectKeyFromObject(policy))
		if err != nil {
			return err
		}
		if len(p.Status.Ancestors) != 2 || p.Status.Ancestors[0].ControllerName != otherController {
			return fmt.Errorf("ancestors %+v", p.Status.Ancestors)
		}
		if anc.AncestorRef.Name != "http" {
			return fmt.Errorf("ancestor %+v, want Gateway http", anc.AncestorRef)
		}
		return conditionIs(anc.Conditions, "Accepted", "True", "Valid")
	})
	eventually(t, "/readyz and /healthz answer 200", func() error {
		for _, path := range []string{"/readyz", "/healthz"} {
			resp, err := http.Get("http://" + cut.healthAddress + path)
			if err != nil {
				return err
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: %d %s", path, resp.StatusCode, body)
			}
		}
		return nil
	})

	// Selector membership follows labels: label keys-b, then unlabel keys-a.
	setLabels(t, c, a.ns, "keys-b", map[string]string{"team": "a"})
	waitRoute(t, ads, "keys-b joins when labelled", hasClients(t, "client1", "client2"))
	setLabels(t, c, a.ns, "keys-a", nil)
	waitRoute(t, ads, "keys-a leaves when unlabelled", hasClients(t, "client2"))

	// Re-translations that change only xDS leave every status untouched.
	// Start on a fresh second of the clock: a transition time wrongly
	// taken from it would then differ from the stored one.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	before, writesBefore := resourceVersions(t, c, a, policy), statusWrites()
	for _, ip := range []string{"10.244.0.8", "10.244.0.9"} {
		slice := a.endpointSlice(ip)
		if err := c.Get(ctx, client.ObjectKeyFromObject(slice), slice); err != nil {
			t.Fatal(err)
		}
		slice.Endpoints[0].Addresses = []string{ip}
		if err := c.Update(ctx, slice); err != nil {
			t.Fatal(err)
		}
		waitEndpoint(t, ads, ip)
	}
	// Translations run one at a time: the one that published .9 started
	// after the one that published .8 had written (or not) its statuses.
	if after := resourceVersions(t, c, a, policy); !maps.Equal(before, after) {
		t.Errorf("statuses rewritten by a translation that changed none:\nbefore %v\nafter  %v", before, after)
	}
	// The API server ignores an update that changes nothing, so count
	// the updates sent as well.
	if n := statusWrites() - writesBefore; n != 0 {
		t.Errorf("%v status updates sent by translations that changed no status", n)
	}
	assertNoKeysLogged(t, cut, "k-e2e-111", "k-e2e-222")
}

// statusWrites is the number of status updates the controller has sent.
func statusWrites() float64 {
	var n float64
	for _, kind := range []string{"GatewayClass", "Gateway", "HTTPRoute", "TrafficPolicy"} {
		n += testutil.ToFloat64(statusWritesTotal.WithLabelValues(kind))
	}
	return n
}

func setLabels(t testing.TB, c client.Client, ns, name string, labels map[string]string) {
	t.Helper()
	s := &corev1.Secret{}
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, s); err != nil {
		t.Fatal(err)
	}
	s.Labels = labels
	if err := c.Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

func waitEndpoint(t *testing.T, ads *xdsclienttest.Client, ip string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := ads.Wait(ctx, resource.EndpointType, func(st xdsclienttest.State) bool {
		for _, r := range st.Resources {
			for _, l := range r.(*endpointv3.ClusterLoadAssignment).GetEndpoints() {
				for _, e := range l.GetLbEndpoints() {
					if e.GetEndpoint().GetAddress().GetSocketAddress().GetAddress() == ip {
						return true
					}
				}
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("endpoint %s never published: %v", ip, err)
	}
}

// resourceVersions of every object whose status the controller writes.
func resourceVersions(t *testing.T, c client.Client, a app, policy *v1alpha1.TrafficPolicy) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, o := range []client.Object{
		&gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: DefaultGatewayClassName}},
		&gwv1.Gateway{ObjectMeta: a.meta("http")},
		&gwv1.HTTPRoute{ObjectMeta: a.meta("httpbin")},
		&v1alpha1.TrafficPolicy{ObjectMeta: a.meta(policy.Name)},
	} {
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(o), o); err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprintf("%T %s", o, client.ObjectKeyFromObject(o))] = o.GetResourceVersion()
	}
	return out
}

func assertNoKeysLogged(t *testing.T, cut *controllerUnderTest, keys ...string) {
	t.Helper()
	logs := cut.logs.String()
	if !strings.Contains(logs, "translated and published") {
		t.Fatal("the controller's logs were not captured")
	}
	for _, k := range keys {
		if strings.Contains(logs, k) {
			t.Errorf("the controller logged the key %q", k)
		}
	}
}

func TestInvalidPolicyFailsClosedWithoutLeakingKeys(t *testing.T) {
	cut := startController(t, DefaultDebounce)
	c := apiServers.Client(t, AddToScheme)
	ctx := context.Background()
	a := newApp("invalid")
	ads := dialXDS(t, cut, a.nodeID())
	const sharedKey = "k-shared-by-two-clients-9137"

	create(t, c, a.objects()...)
	policy := a.routePolicy("apikey-auth", v1alpha1.APIKeyAuth{SecretRef: &gwv1.SecretObjectReference{Name: "apikey"}})
	create(t, c, policy)

	// Missing Secret.
	waitRoute(t, ads, "covered route answers 500", answersDirect500)
	var invalidSince metav1.Time
	eventually(t, "policy Invalid: Secret missing", func() error {
		anc, _, err := policyAncestor(c, client.ObjectKeyFromObject(policy))
		if err != nil {
			return err
		}
		if err := conditionIs(anc.Conditions, "Accepted", "False", "Invalid"); err != nil {
			return err
		}
		acc := meta.FindStatusCondition(anc.Conditions, "Accepted")
		if !strings.Contains(acc.Message, "apikey") {
			return fmt.Errorf("message does not name the Secret: %q", acc.Message)
		}
		invalidSince = acc.LastTransitionTime
		return nil
	})
	eventually(t, "route rule replaced", func() error {
		p, _, err := routeParent(c, types.NamespacedName{Namespace: a.ns, Name: "httpbin"})
		if err != nil {
			return err
		}
		return conditionIs(p.Conditions, "Accepted", "False", "RouteRuleReplaced")
	})

	// The Secret appears, but one key is held by two clients.
	create(t, c, a.secret("apikey", nil, map[string]string{"alice": sharedKey, "bob": sharedKey}))
	eventually(t, "policy Invalid: key shared by two clients, named by client", func() error {
		anc, _, err := policyAncestor(c, client.ObjectKeyFromObject(policy))
		if err != nil {
			return err
		}
		if err := conditionIs(anc.Conditions, "Accepted", "False", "Invalid"); err != nil {
			return err
		}
		msg := meta.FindStatusCondition(anc.Conditions, "Accepted").Message
		if !strings.Contains(msg, "alice") || !strings.Contains(msg, "bob") {
			return fmt.Errorf("message does not name the clients: %q", msg)
		}
		return nil
	})
	waitRoute(t, ads, "still 500", answersDirect500)
	assertKeyNowhere(t, c, cut, ads, a, sharedKey)

	// Fixed: accepted, with a new transition time, and the key is served.
	s := &corev1.Secret{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: a.ns, Name: "apikey"}, s); err != nil {
		t.Fatal(err)
	}
	s.Data = nil
	s.StringData = map[string]string{"alice": sharedKey}
	if err := c.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	waitRoute(t, ads, "policy served once valid", hasClients(t, "alice"))
	eventually(t, "policy accepted once valid", func() error {
		anc, _, err := policyAncestor(c, client.ObjectKeyFromObject(policy))
		if err != nil {
			return err
		}
		if err := conditionIs(anc.Conditions, "Accepted", "True", "Valid"); err != nil {
			return err
		}
		if at := meta.FindStatusCondition(anc.Conditions, "Accepted").LastTransitionTime; at.Before(&invalidSince) {
			return fmt.Errorf("lastTransitionTime %s predates the Invalid one %s", at, invalidSince)
		}
		return nil
	})
}

// assertKeyNowhere checks every status in the namespace, the Gateway's
// xDS and the controller's logs for key.
func assertKeyNowhere(t *testing.T, c client.Client, cut *controllerUnderTest, ads *xdsclienttest.Client, a app, key string) {
	t.Helper()
	for _, list := range []client.ObjectList{&gwv1.GatewayList{}, &gwv1.HTTPRouteList{}, &v1alpha1.TrafficPolicyList{}} {
		if err := c.List(context.Background(), list, client.InNamespace(a.ns)); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(list)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), key) {
			t.Errorf("a %T holds the key", list)
		}
	}
	for _, typ := range []string{resource.ListenerType, resource.RouteType, resource.ClusterType, resource.EndpointType} {
		for name, r := range ads.Current(typ).Resources {
			b, err := protojson.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), key) {
				t.Errorf("xDS %s %q holds the key", typ, name)
			}
		}
	}
	assertNoKeysLogged(t, cut, key)
}

func TestEnsureGatewayClass(t *testing.T) {
	c := apiServers.Client(t, AddToScheme)
	ctx := context.Background()
	absent, foreign := newApp("absent").ns, newApp("foreign").ns // unique names
	create(t, c, &gwv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: foreign},
		Spec:       gwv1.GatewayClassSpec{ControllerName: otherController},
	})
	cases := []struct {
		class      string
		controller gwv1.GatewayController
		wantLog    string
	}{
		{absent, DefaultControllerName, "created the GatewayClass"},
		{absent, DefaultControllerName, "the GatewayClass exists"},
		{foreign, otherController, "belongs to another controller"},
	}
	for _, tc := range cases {
		logs := &logcapture.Buffer{}
		opts := Options{GatewayClassName: tc.class, Logger: slogTo(logs)}.withDefaults()
		if err := ensureGatewayClass(ctx, c, c, opts); err != nil {
			t.Fatalf("%s: %v", tc.class, err)
		}
		gc := &gwv1.GatewayClass{}
		if err := c.Get(ctx, types.NamespacedName{Name: tc.class}, gc); err != nil {
			t.Fatal(err)
		}
		if gc.Spec.ControllerName != tc.controller {
			t.Errorf("%s: controller %s, want %s", tc.class, gc.Spec.ControllerName, tc.controller)
		}
		if !strings.Contains(logs.String(), tc.wantLog) {
			t.Errorf("%s: log lacks %q:\n%s", tc.class, tc.wantLog, logs)
		}
	}
}

func TestSetupFailsClearlyWithAnIncompleteScheme(t *testing.T) {
	// A scheme lacking TrafficPolicy: the error says how to fix it.
	cfg := apiServers.Config(t)
	s := apiservertest.Scheme(t, AddToScheme)
	bare := runtime.NewScheme()
	for gvk := range s.AllKnownTypes() {
		if gvk.Group != v1alpha1.GroupName {
			obj, _ := s.New(gvk)
			bare.AddKnownTypeWithName(gvk, obj)
		}
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: bare, Metrics: metricsserver.Options{BindAddress: "0"}})
	if err != nil {
		t.Fatal(err)
	}
	err = SetupWithManager(mgr, xds.NewServer(nil), Options{})
	if err == nil || !strings.Contains(err.Error(), "build it with reconcile.AddToScheme") {
		t.Errorf("got %v", err)
	}
}
