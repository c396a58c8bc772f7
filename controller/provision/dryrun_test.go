package provision

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/keyconform/keyconform/controller/reconcile"
)

// The generated objects pass the real API server's validation (schemas,
// defaulting, admission) by server-side dry-run, and a pod made from the
// Deployment's template passes PodSecurity's restricted profile.
func TestObjectsPassServerSideDryRun(t *testing.T) {
	c := apiServers.Client(t, reconcile.AddToScheme)
	ctx := t.Context()
	for _, tc := range objectCases {
		t.Run(tc.name, func(t *testing.T) {
			ns := restrictedNamespace(t, c, "dryrun-")
			gw := tc.gw.DeepCopy()
			gw.Namespace = ns
			objs := caseObjects(t, gw, tc.cfg)
			for _, obj := range objs {
				u, err := ApplyForm(obj)
				if err != nil {
					t.Fatal(err)
				}
				if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldOwner), client.ForceOwnership, client.DryRunAll); err != nil {
					t.Errorf("server-side dry-run of %s %s/%s: %v", u.GetKind(), ns, u.GetName(), err)
				}
			}
			deploy := objs[3].(*appsv1.Deployment)
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: gw.Name + "-pod", Namespace: ns, Labels: deploy.Spec.Template.Labels},
				Spec:       deploy.Spec.Template.Spec,
			}
			if err := c.Create(ctx, pod, client.DryRunAll); err != nil {
				t.Errorf("a pod of the Deployment's template is refused in a namespace enforcing PodSecurity restricted: %v", err)
			}
		})
	}
}

// The PodSecurity check above is live: the same namespace refuses a pod
// that breaks the restricted profile.
func TestRestrictedNamespaceRefusesPrivilegedPods(t *testing.T) {
	c := apiServers.Client(t, reconcile.AddToScheme)
	ns := restrictedNamespace(t, c, "dryrun-")
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "privileged", Namespace: ns},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "c", Image: "example.com/c:v1",
			SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)},
		}}},
	}
	err := c.Create(t.Context(), pod, client.DryRunAll)
	if err == nil || !strings.Contains(err.Error(), "violates PodSecurity") {
		t.Fatalf("a privileged pod got %v, want a PodSecurity refusal", err)
	}
}

// restrictedNamespace creates a namespace enforcing PodSecurity restricted.
func restrictedNamespace(t *testing.T, c client.Client, prefix string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		GenerateName: prefix,
		Labels:       map[string]string{"pod-security.kubernetes.io/enforce": "restricted"},
	}}
	if err := c.Create(t.Context(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}
