package targets

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/keyconform/keyconform/controller/provision"
)

// Container engines kind runs nodes on (--kind-provider).
const (
	ProviderDocker = "docker"
	ProviderPodman = "podman"
)

// kindProviderEnv picks kind's node provider. e2e-framework runs the kind
// binary as a child process with this process's environment and has no
// option of its own for it.
const kindProviderEnv = "KIND_EXPERIMENTAL_PROVIDER"

// KubeconfigPlaceholder stands, in a printed plan, for the kubeconfig file
// of the cluster, which only exists once the cluster does.
const KubeconfigPlaceholder = "<kubeconfig of the cluster>"

// KindPlan is what the kind target does, in order. PlanKind computes it
// from the configuration alone, so it can be printed (`make e2e-plan`) and
// tested where no container engine runs; startKind carries it out.
type KindPlan struct {
	Cluster  string
	Provider string
	// Env is set for every kind command (see kindProviderEnv).
	Env []string
	// Helm is the helm binary the HelmInstall steps run.
	Helm  string
	Steps []Step
	// Notes say what the plan leaves to the cluster.
	Notes []string
}

// Action is what a step does.
type Action int

const (
	// CreateCluster: kind create cluster, through e2e-framework; an
	// existing cluster of that name is reused as it is.
	CreateCluster Action = iota
	// PullImage: pull Image on the host unless it is there already.
	PullImage
	// LoadImage: kind load docker-image, through e2e-framework (Docker).
	LoadImage
	// SaveImage: podman save Image to Archive. kind's docker-image loader
	// calls the docker binary whatever the provider, so with Podman images
	// go through an archive.
	SaveImage
	// LoadArchive: kind load image-archive, through e2e-framework.
	LoadArchive
	// InstallCRDs: the CRDs of fixtures/crds (of CRDGroup only, when set),
	// then wait until they are established.
	InstallCRDs
	// HelmInstall: helm upgrade --install Release, through e2e-framework.
	HelmInstall
	// CreateObjects: create or replace Objects.
	CreateObjects
	// ApplyDeploy: the plain YAML of Dir in file name order, then wait for
	// its Deployments.
	ApplyDeploy
)

// Step is one action and what it acts on.
type Step struct {
	Action Action
	// Args is the command line the step runs (with the kubeconfig as
	// KubeconfigPlaceholder); empty for steps done through the API.
	Args       []string
	Image      string
	Archive    string
	NodeImage  string
	ConfigFile string
	CRDGroup   string
	Release    HelmRelease
	Objects    []*unstructured.Unstructured
	Dir        string
}

// String is the step as the plan prints it.
func (s Step) String() string {
	switch s.Action {
	case CreateCluster:
		return strings.Join(s.Args, " ") + "   # an existing cluster of that name is reused as it is"
	case PullImage:
		return strings.Join(s.Args, " ") + "   # unless the image is present"
	case InstallCRDs:
		if s.CRDGroup != "" {
			return "install the " + s.CRDGroup + " CRDs of fixtures/crds, wait until established"
		}
		return "install the CRDs of fixtures/crds, wait until established"
	case CreateObjects:
		names := make([]string, len(s.Objects))
		for i, o := range s.Objects {
			names[i] = o.GetKind() + " " + strings.TrimPrefix(o.GetNamespace()+"/"+o.GetName(), "/")
		}
		return "create or replace " + strings.Join(names, ", ")
	case ApplyDeploy:
		return "apply the plain YAML of " + s.Dir + " in file name order, wait for its Deployments"
	default:
		return strings.Join(s.Args, " ")
	}
}

// Lines is the plan as printed: the environment of kind commands, each
// step, then the notes.
func (p KindPlan) Lines() []string {
	lines := []string{"# kind commands run with " + strings.Join(p.Env, " ")}
	for _, s := range p.Steps {
		lines = append(lines, s.String())
	}
	for _, n := range p.Notes {
		lines = append(lines, "# note: "+n)
	}
	return lines
}

// PlanKind is the plan for k. Image archives (Podman) go under scratch.
// Without k.Install it is the project's controller from k.DeployDir;
// with it, that implementation's charts.
func PlanKind(k KindConfig, scratch string) (KindPlan, error) {
	p := KindPlan{Cluster: k.ClusterName, Provider: k.Provider, Env: []string{kindProviderEnv + "=" + k.Provider}, Helm: k.Helm}
	create := []string{"kind", "create", "cluster", "--name", k.ClusterName}
	if k.ConfigFile != "" {
		create = append(create, "--config", k.ConfigFile)
	}
	if k.NodeImage != "" {
		create = append(create, "--image", k.NodeImage)
	}
	p.Steps = append(p.Steps, Step{Action: CreateCluster, Args: create, NodeImage: k.NodeImage, ConfigFile: k.ConfigFile})

	var pull []string
	var install []Step
	if k.Install != "" {
		inst, ok := KindInstalls[k.Install]
		if !ok {
			return KindPlan{}, fmt.Errorf("--kind-install=%q: want one of %s", k.Install, strings.Join(KindInstallNames(), ", "))
		}
		version := k.InstalledVersion()
		images, note := inst.images(version)
		if note != "" {
			p.Notes = append(p.Notes, note)
		}
		pull = images
		install = inst.install(version)
	} else {
		// fixtures/deploy leaves the controller's --envoy-image at its
		// default.
		pull = []string{provision.DefaultEnvoyImage}
		install = []Step{{Action: InstallCRDs}, {Action: ApplyDeploy, Dir: k.DeployDir}}
	}
	pull = dedupe(append(pull, k.Pull...))
	for _, img := range pull {
		p.Steps = append(p.Steps, Step{Action: PullImage, Image: img, Args: []string{k.Provider, "pull", img}})
	}
	for _, img := range dedupe(append(pull, k.Images...)) {
		p.Steps = append(p.Steps, loadSteps(k, img, scratch)...)
	}
	for _, s := range install {
		if s.Action == HelmInstall {
			s.Args = s.Release.helmCommand(k.Helm, k.ReadyTimeout, KubeconfigPlaceholder)
		}
		p.Steps = append(p.Steps, s)
	}
	return p, nil
}

// loadSteps put img, present on the host, into every node of the cluster.
func loadSteps(k KindConfig, img, scratch string) []Step {
	if k.Provider != ProviderPodman {
		return []Step{{Action: LoadImage, Image: img, Args: []string{"kind", "load", "docker-image", "--name", k.ClusterName, img}}}
	}
	archive := filepath.Join(scratch, archiveName(img))
	return []Step{
		{Action: SaveImage, Image: img, Archive: archive, Args: []string{ProviderPodman, "save", "--format", "docker-archive", "-o", archive, img}},
		{Action: LoadArchive, Image: img, Archive: archive, Args: []string{"kind", "load", "image-archive", "--name", k.ClusterName, archive}},
	}
}

// archiveName is a file name for img's archive.
func archiveName(img string) string {
	return strings.NewReplacer("/", "_", ":", "_", "@", "_").Replace(img) + ".tar"
}

func dedupe(list []string) []string {
	var out []string
	for _, v := range list {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
