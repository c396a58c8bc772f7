package provision

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Labels on everything provisioned.
const (
	// GatewayNameLabel is Gateway API's label for what an implementation
	// provisions for a Gateway (GEP-1762).
	GatewayNameLabel = "gateway.networking.k8s.io/gateway-name"
	// ManagedByLabel, with ManagedBy, marks what this controller owns; the
	// controller caches only objects that carry it.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedBy      = "keyconform-controller"
	nameLabel      = "app.kubernetes.io/name"
	instanceLabel  = "app.kubernetes.io/instance"
	envoyName      = "envoy"
)

const (
	// BootstrapKey is the ConfigMap entry holding the Envoy bootstrap.
	BootstrapKey = "envoy.yaml"
	// bootstrapHashAnnotation on the pod template makes a bootstrap change
	// roll the pods: Envoy reads its bootstrap once, at start.
	bootstrapHashAnnotation = "keyconform.dev/bootstrap-sha256"
	bootstrapDir            = "/etc/envoy"
	// envoyBinary is the path in both envoyproxy/envoy and its distroless
	// variant; naming it skips the former's entrypoint script.
	envoyBinary = "/usr/local/bin/envoy"
	// nonRootID is the conventional unprivileged user (distroless nonroot).
	nonRootID int64 = 65532
)

// Objects are one Gateway's data plane, in apply order: its ServiceAccount,
// the ConfigMap with the Envoy bootstrap, the Service and the Deployment.
// All are named after the Gateway, live in its namespace and have it as
// controlling owner, so deleting the Gateway deletes them. Objects is a
// pure function of its inputs.
func Objects(gw *gwv1.Gateway, cfg Config) ([]client.Object, error) {
	key := types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}
	if msgs := validation.IsDNS1035Label(gw.Name); len(msgs) > 0 {
		return nil, fmt.Errorf("Gateway %s: its data plane's Service takes its name, which must be a DNS-1035 label "+
			"(at most 63 lowercase letters, digits and '-', starting with a letter): %s; rename the Gateway", key, strings.Join(msgs, "; "))
	}
	ports, err := listenerPorts(gw)
	if err != nil {
		return nil, err
	}
	b, err := Bootstrap(key, cfg)
	if err != nil {
		return nil, err
	}
	bootstrap, err := RenderBootstrap(b)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(bootstrap)

	meta := func() metav1.ObjectMeta {
		return metav1.ObjectMeta{
			Name:      gw.Name,
			Namespace: gw.Namespace,
			Labels:    objectLabels(gw.Name),
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion:         gwv1.GroupVersion.String(),
				Kind:               "Gateway",
				Name:               gw.Name,
				UID:                gw.UID,
				Controller:         ptr.To(true),
				BlockOwnerDeletion: ptr.To(true),
			}},
		}
	}
	sa := &corev1.ServiceAccount{
		TypeMeta:   typeOfServiceAccount,
		ObjectMeta: meta(),
		// Envoy never calls the Kubernetes API.
		AutomountServiceAccountToken: ptr.To(false),
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   typeOfConfigMap,
		ObjectMeta: meta(),
		Data:       map[string]string{BootstrapKey: string(bootstrap)},
	}
	svc := &corev1.Service{
		TypeMeta:   typeOfService,
		ObjectMeta: meta(),
		Spec: corev1.ServiceSpec{
			Type:     cfg.ServiceType,
			Selector: selector(gw.Name),
		},
	}
	var containerPorts []corev1.ContainerPort
	for _, p := range ports {
		name := portName(p)
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{
			Name: name, Protocol: corev1.ProtocolTCP, Port: p, TargetPort: intstr.FromInt32(p),
		})
		containerPorts = append(containerPorts, corev1.ContainerPort{Name: name, ContainerPort: p, Protocol: corev1.ProtocolTCP})
	}
	containerPorts = append(containerPorts, corev1.ContainerPort{Name: "ready", ContainerPort: ReadyPort, Protocol: corev1.ProtocolTCP})

	deploy := &appsv1.Deployment{
		TypeMeta:   typeOfDeployment,
		ObjectMeta: meta(),
		Spec: appsv1.DeploymentSpec{
			// No replicas: left to the API server's default and to whoever
			// scales the Deployment (server-side apply keeps their value).
			Selector: &metav1.LabelSelector{MatchLabels: selector(gw.Name)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels:      objectLabels(gw.Name),
					Annotations: map[string]string{bootstrapHashAnnotation: hex.EncodeToString(sum[:])},
				},
				Spec: podSpec(gw.Name, cfg, containerPorts),
			},
		},
	}
	return []client.Object{sa, cm, svc, deploy}, nil
}

var (
	typeOfServiceAccount = metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}
	typeOfConfigMap      = metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}
	typeOfService        = metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}
	typeOfDeployment     = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}
)

// kinds are empty objects of each kind Objects returns, in its order.
func kinds() []client.Object {
	return []client.Object{
		&corev1.ServiceAccount{TypeMeta: typeOfServiceAccount},
		&corev1.ConfigMap{TypeMeta: typeOfConfigMap},
		&corev1.Service{TypeMeta: typeOfService},
		&appsv1.Deployment{TypeMeta: typeOfDeployment},
	}
}

func podSpec(name string, cfg Config, ports []corev1.ContainerPort) corev1.PodSpec {
	return corev1.PodSpec{
		ServiceAccountName:           name,
		AutomountServiceAccountToken: ptr.To(false),
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr.To(true),
			RunAsUser:      ptr.To(nonRootID),
			RunAsGroup:     ptr.To(nonRootID),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			// Listeners below 1024 (a Gateway on port 80) bind without any
			// capability. A safe, namespaced sysctl that PodSecurity's
			// restricted profile allows; some runtimes set it already.
			Sysctls: []corev1.Sysctl{{Name: "net.ipv4.ip_unprivileged_port_start", Value: "0"}},
		},
		Containers: []corev1.Container{{
			Name:    envoyName,
			Image:   cfg.EnvoyImage,
			Command: []string{envoyBinary},
			Args: []string{
				"--config-path", bootstrapDir + "/" + BootstrapKey,
				"--log-level", "info",
				// One Envoy per container: no hot restart, so no shared
				// memory to set up.
				"--disable-hot-restart",
			},
			Ports: ports,
			ReadinessProbe: &corev1.Probe{
				ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
					Path: readyPath, Port: intstr.FromString("ready"), Scheme: corev1.URISchemeHTTP,
				}},
				PeriodSeconds:    2,
				TimeoutSeconds:   1,
				SuccessThreshold: 1,
				FailureThreshold: 3,
			},
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("100m"),
				corev1.ResourceMemory: resource.MustParse("64Mi"),
			}},
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr.To(false),
				ReadOnlyRootFilesystem:   ptr.To(true),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
			VolumeMounts: []corev1.VolumeMount{{Name: "bootstrap", MountPath: bootstrapDir, ReadOnly: true}},
		}},
		Volumes: []corev1.Volume{{
			Name: "bootstrap",
			VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: name},
			}},
		}},
	}
}

// listenerPorts returns the Gateway's distinct listener ports in order
// (listeners may share a port, told apart by hostname), refusing the ports
// the data plane keeps for itself.
func listenerPorts(gw *gwv1.Gateway) ([]int32, error) {
	var ports []int32
	for _, l := range gw.Spec.Listeners {
		p := int32(l.Port)
		switch p {
		case AdminPort, ReadyPort:
			return nil, fmt.Errorf("Gateway %s/%s: listener %q uses port %d, which the data plane keeps for Envoy's admin interface (%d) and readiness probe (%d); choose another port",
				gw.Namespace, gw.Name, l.Name, p, AdminPort, ReadyPort)
		}
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	slices.Sort(ports)
	return ports, nil
}

// portName names a listener port as Envoy names its listener
// ("listener~8080"), in the characters Kubernetes allows (at most 15).
func portName(port int32) string {
	return "listener-" + strconv.Itoa(int(port))
}

func objectLabels(gateway string) map[string]string {
	l := selector(gateway)
	l[instanceLabel] = gateway
	l[ManagedByLabel] = ManagedBy
	return l
}

// selector is fixed for a Gateway's lifetime: a Deployment's selector
// cannot change.
func selector(gateway string) map[string]string {
	return map[string]string{nameLabel: envoyName, GatewayNameLabel: gateway}
}
