package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/keyconform/keyconform/controller/provision"
	"github.com/keyconform/keyconform/controller/reconcile"
	"github.com/keyconform/keyconform/fixtures"
	"github.com/keyconform/keyconform/internal/apiservertest"
	"github.com/keyconform/keyconform/internal/logcapture"
	"github.com/keyconform/keyconform/sim/kubeassets"
)

var fixturesDir = filepath.Join("..", "..", "..", "fixtures")

// deployObjects decodes fixtures/deploy through its kustomization, after
// checking the kustomization is nothing but the list of the folder's other
// files (so applying them one by one, as the kind target does with a
// rendered copy, installs the same).
func deployObjects(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	dir := filepath.Join(fixturesDir, "deploy")
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k map[string]any
	if err := yaml.Unmarshal(raw, &k); err != nil {
		t.Fatal(err)
	}
	var resources []string
	for key, v := range k {
		switch key {
		case "apiVersion", "kind":
		case "resources":
			for _, r := range v.([]any) {
				resources = append(resources, r.(string))
			}
		default:
			t.Errorf("kustomization.yaml has %q: it must only list the files, or applying them one by one would differ", key)
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var plain []string
	for _, f := range files {
		if filepath.Base(f) != "kustomization.yaml" {
			plain = append(plain, filepath.Base(f))
		}
	}
	sort.Strings(resources)
	if !slices.Equal(resources, plain) {
		t.Fatalf("kustomization.yaml lists %v, the folder holds %v", resources, plain)
	}
	var out []*unstructured.Unstructured
	for _, f := range resources {
		objs, err := fixtures.File(os.DirFS(dir), f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, objs...)
	}
	return out
}

// kubectl kustomize renders fixtures/deploy to the same objects as the
// files read one by one.
func TestDeployKustomizationRendersTheFiles(t *testing.T) {
	kubectl, err := kubeassets.Binary("kubectl")
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(kubectl, "kustomize", filepath.Join(fixturesDir, "deploy"))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl kustomize: %v\n%s", err, stderr.String())
	}
	rendered, err := fixtures.Decode("kustomize output", stdout.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	key := func(u *unstructured.Unstructured) string {
		return u.GetKind() + " " + u.GetNamespace() + "/" + u.GetName()
	}
	files := map[string]*unstructured.Unstructured{}
	for _, o := range deployObjects(t) {
		files[key(o)] = o
	}
	if len(rendered) != len(files) {
		t.Errorf("kustomize renders %d objects, the files hold %d", len(rendered), len(files))
	}
	for _, r := range rendered {
		f, ok := files[key(r)]
		if !ok {
			t.Errorf("kustomize renders %s, which no file holds", key(r))
			continue
		}
		a, _ := yaml.Marshal(r.Object)
		b, _ := yaml.Marshal(f.Object)
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between kustomize and the file:\n%s\n---\n%s", key(r), a, b)
		}
	}
}

// controllerObjects finds the controller's Deployment, Service and
// NetworkPolicy in the deploy manifests.
func controllerObjects(t *testing.T, objs []*unstructured.Unstructured) (*appsv1.Deployment, *corev1.Service, *networkingv1.NetworkPolicy) {
	t.Helper()
	d, s, np := &appsv1.Deployment{}, &corev1.Service{}, &networkingv1.NetworkPolicy{}
	found := map[string]bool{}
	for _, o := range objs {
		var into any
		switch o.GetKind() {
		case "Deployment":
			into = d
		case "Service":
			into = s
		case "NetworkPolicy":
			into = np
		default:
			continue
		}
		if found[o.GetKind()] {
			t.Fatalf("fixtures/deploy holds more than one %s", o.GetKind())
		}
		found[o.GetKind()] = true
		if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, into, true); err != nil {
			t.Fatal(err)
		}
	}
	if len(found) != 3 {
		t.Fatalf("fixtures/deploy lacks the controller's Deployment, Service or NetworkPolicy: has %v", found)
	}
	return d, s, np
}

func namedPort(ports []corev1.ContainerPort, name string) int32 {
	for _, p := range ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

func portOf(t *testing.T, addr string) int32 {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return int32(n)
}

// The controller's flags in the Deployment are valid and agree with its
// ports, probes and Service, and the Envoy it provisions dials that Service.
func TestDeployManifestAgreesWithTheController(t *testing.T) {
	d, svc, np := controllerObjects(t, deployObjects(t))
	c := d.Spec.Template.Spec.Containers[0]
	cfg, err := parseFlags(c.Args, &bytes.Buffer{})
	if err != nil {
		t.Fatalf("the Deployment's args %q: %v", c.Args, err)
	}
	if cfg.provision != provisionEnvoy {
		t.Errorf("the Deployment runs -provision=%s, want envoy: nothing else runs the data planes on a cluster", cfg.provision)
	}
	for _, p := range []struct {
		name, addr string
	}{{"xds", cfg.xdsAddress}, {"health", cfg.healthAddress}, {"metrics", cfg.metricsAddress}} {
		host, _, _ := net.SplitHostPort(p.addr)
		if host != "" || namedPort(c.Ports, p.name) != portOf(t, p.addr) {
			t.Errorf("container port %q is %d; the controller listens on %q (want all interfaces, same port)", p.name, namedPort(c.Ports, p.name), p.addr)
		}
	}
	if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.ReadinessProbe.HTTPGet.Port.StrVal != "health" ||
		c.LivenessProbe.HTTPGet.Path != "/healthz" || c.LivenessProbe.HTTPGet.Port.StrVal != "health" {
		t.Errorf("probes %v / %v: want /readyz and /healthz on port health", c.ReadinessProbe.HTTPGet, c.LivenessProbe.HTTPGet)
	}
	want := fmt.Sprintf("%s.%s.svc.cluster.local:%d", svc.Name, svc.Namespace, svc.Spec.Ports[0].Port)
	if cfg.envoy.XDSAddress != want || svc.Spec.Ports[0].TargetPort.StrVal != "xds" {
		t.Errorf("Envoy dials %s; the xDS Service is %s -> %v", cfg.envoy.XDSAddress, want, svc.Spec.Ports[0].TargetPort)
	}
	if c.ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("imagePullPolicy %s: kind loads the image, it must not be pulled", c.ImagePullPolicy)
	}
	// The NetworkPolicy guards the controller's pods: xDS only from the
	// Envoy pods it provisions, probes and metrics from anywhere.
	podLabels := labels.Set(d.Spec.Template.Labels)
	if sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector); err != nil || !sel.Matches(podLabels) {
		t.Errorf("the NetworkPolicy selects %v, not the controller's pods %v", np.Spec.PodSelector, podLabels)
	}
	envoy, err := provision.Objects(&gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "edge", UID: "u"},
		Spec:       gwv1.GatewaySpec{Listeners: []gwv1.Listener{{Name: "http", Protocol: gwv1.HTTPProtocolType, Port: 8080}}},
	}, cfg.envoy)
	if err != nil {
		t.Fatal(err)
	}
	envoyPods := labels.Set(envoy[3].(*appsv1.Deployment).Spec.Template.Labels)
	if len(np.Spec.Ingress) != 2 {
		t.Fatalf("NetworkPolicy ingress rules: %+v, want the xDS one and the open one", np.Spec.Ingress)
	}
	xdsRule, open := np.Spec.Ingress[0], np.Spec.Ingress[1]
	if len(xdsRule.From) != 1 || xdsRule.From[0].NamespaceSelector == nil || len(xdsRule.From[0].NamespaceSelector.MatchLabels) != 0 {
		t.Errorf("the xDS rule must admit provisioned Envoy pods of every namespace: %+v", xdsRule.From)
	} else if sel, err := metav1.LabelSelectorAsSelector(xdsRule.From[0].PodSelector); err != nil || !sel.Matches(envoyPods) || sel.Matches(labels.Set{"app.kubernetes.io/name": "envoy"}) {
		t.Errorf("the xDS rule's pod selector %v must match provisioned Envoy pods %v and nothing merely named envoy", xdsRule.From[0].PodSelector, envoyPods)
	}
	rulePorts := func(r networkingv1.NetworkPolicyIngressRule) []int32 {
		var out []int32
		for _, p := range r.Ports {
			out = append(out, p.Port.IntVal)
		}
		return out
	}
	if got, want := rulePorts(xdsRule), []int32{namedPort(c.Ports, "xds")}; !slices.Equal(got, want) {
		t.Errorf("xDS rule ports %v, want %v", got, want)
	}
	if got, want := rulePorts(open), []int32{namedPort(c.Ports, "metrics"), namedPort(c.Ports, "health")}; len(open.From) != 0 || !slices.Equal(got, want) {
		t.Errorf("open rule from %v ports %v, want anyone to %v", open.From, got, want)
	}

	// `make e2e` swaps DEPLOY_IMG for the image it built, by name.
	makefile, err := os.ReadFile(filepath.Join("..", "..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^DEPLOY_IMG := (\S+)$`).FindSubmatch(makefile)
	if m == nil || !strings.HasPrefix(c.Image, string(m[1])+":") {
		t.Errorf("the Deployment runs %s; the Makefile's DEPLOY_IMG (%s) must name it, or make e2e runs an image kind never loaded", c.Image, m)
	}
}

// startEnv starts a real API server with fixtures/crds installed and
// returns it with an admin client.
func startEnv(t *testing.T) (*envtest.Environment, client.Client) {
	t.Helper()
	env, cfg := apiservertest.Start(t)
	return env, newClient(t, cfg)
}

func newClient(t *testing.T, cfg *rest.Config) client.Client {
	t.Helper()
	s := runtime.NewScheme()
	if err := reconcile.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Every deploy manifest passes server-side dry-run, then is applied; the
// controller then runs as its ServiceAccount, bound only by the manifests'
// RBAC, with the manifests' flags: it becomes ready, provisions the seed's
// Gateway and reports the Service's address, and is refused what the
// ClusterRole does not grant.
func TestDeployManifestsInstallAWorkingController(t *testing.T) {
	env, admin := startEnv(t)
	ctx := t.Context()
	objs := deployObjects(t)
	applyAll(t, admin, objs)

	d, _, _ := controllerObjects(t, objs)
	// Its pod meets PodSecurity's restricted profile (as the provisioned
	// Envoy pods do, see controller/provision).
	restricted := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "restricted", Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}}}
	if err := admin.Create(ctx, restricted); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: restricted.Name, Name: "controller"}, Spec: d.Spec.Template.Spec}
	if err := admin.Create(ctx, pod, client.DryRunAll); err != nil {
		t.Errorf("the controller's pod is refused under PodSecurity restricted: %v", err)
	}
	sa := d.Spec.Template.Spec.ServiceAccountName
	user, err := env.AddUser(envtest.User{
		Name:   "system:serviceaccount:" + d.Namespace + ":" + sa,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + d.Namespace, "system:authenticated"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, kc, 0o600); err != nil {
		t.Fatal(err)
	}

	// The manifest's flags, with the listeners moved to loopback (the
	// later value of a flag wins).
	health := loopbackAddress(t)
	args := append(slices.Clone(d.Spec.Template.Spec.Containers[0].Args),
		"--kubeconfig", kubeconfig, "--xds-address", loopbackAddress(t),
		"--health-address", health, "--metrics-address", "0")
	runCtx, stop := context.WithCancel(context.Background())
	logs := &logcapture.Buffer{}
	exit := make(chan int, 1)
	go func() { exit <- run(runCtx, args, logs) }()
	t.Cleanup(func() {
		stop()
		select {
		case code := <-exit:
			if code != exitOK {
				t.Errorf("exit code %d:\n%s", code, logs.String())
			}
		case <-time.After(20 * time.Second):
			t.Errorf("still running 20s after the interrupt")
		}
	})
	waitFor(t, "the controller is ready", logs, func() error { return get("http://"+health+"/readyz", "") })

	// The sample app, which `make e2e` deploys with the controller: the
	// seed's Gateway "http" and httpbin.
	app, err := fixtures.Objects(os.DirFS(fixturesDir), "sample-app")
	if err != nil {
		t.Fatal(err)
	}
	applyAll(t, admin, app)
	key := client.ObjectKey{Namespace: "kgateway-system", Name: "http"}
	var svc corev1.Service
	waitFor(t, "the seed's Gateway gets its Envoy Deployment, Service, ConfigMap and ServiceAccount", logs, func() error {
		for _, obj := range []client.Object{&corev1.ServiceAccount{}, &corev1.ConfigMap{}, &appsv1.Deployment{}, &svc} {
			if err := admin.Get(ctx, key, obj); err != nil {
				return fmt.Errorf("%T: %w", obj, err)
			}
		}
		return nil
	})
	// A load balancer controller gives the Service its address (a TEST-NET
	// address: nothing here dials it); the controller, reading Services
	// as its role allows, reports it.
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.10"}}
	if err := admin.Status().Update(ctx, &svc); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the Gateway's status address is its Service's load balancer's", logs, func() error {
		var gw gwv1.Gateway
		if err := admin.Get(ctx, key, &gw); err != nil {
			return err
		}
		if len(gw.Status.Addresses) != 1 || gw.Status.Addresses[0].Value != "192.0.2.10" {
			return fmt.Errorf("status addresses %+v, want 192.0.2.10", gw.Status.Addresses)
		}
		return nil
	})
	if strings.Contains(logs.String(), "forbidden") {
		t.Errorf("the controller was refused something it needs; the ClusterRole lacks it:\n%s", logs.String())
	}

	// Least privilege, checked: what it has no business doing is refused.
	ucfg := user.Config()
	as := newClient(t, ucfg)
	secret := &corev1.Secret{}
	secret.Namespace, secret.Name = "kgateway-system", "apikey"
	for what, err := range map[string]error{
		"create a Secret": as.Create(ctx, secret),
		"list Pods":       as.List(ctx, &corev1.PodList{}),
		"update a Gateway": func() error {
			var gw gwv1.Gateway
			if err := admin.Get(ctx, key, &gw); err != nil {
				return err
			}
			return as.Update(ctx, &gw)
		}(),
	} {
		if !apierrors.IsForbidden(err) {
			t.Errorf("the controller's ServiceAccount may %s (%v); the ClusterRole grants too much", what, err)
		}
	}
}

// applyAll server-side dry-runs then applies each object in order (a
// namespaced object's dry-run needs its namespace to exist).
func applyAll(t *testing.T, c client.Client, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, o := range objs {
		if err := c.Apply(t.Context(), client.ApplyConfigurationFromUnstructured(o.DeepCopy()), client.FieldOwner("deploy-test"), client.DryRunAll); err != nil {
			t.Fatalf("server-side dry-run of %s %s/%s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
		if err := c.Apply(t.Context(), client.ApplyConfigurationFromUnstructured(o.DeepCopy()), client.FieldOwner("deploy-test")); err != nil {
			t.Fatalf("applying %s %s/%s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
	}
}

// waitFor retries check for 30s, failing with its last error and the logs.
func waitFor(t *testing.T, what string, logs *logcapture.Buffer, check func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30s: %v\n%s", what, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
