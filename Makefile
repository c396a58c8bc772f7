SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO ?= go
ARTIFACTS ?= _artifacts

.PHONY: help
help: ## Show the targets.
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: generate
generate: ## Regenerate deep-copy code and CRDs (fixtures/crds).
	$(GO) tool controller-gen object paths=./controller/api/...
	$(GO) tool controller-gen crd paths=./controller/api/... output:crd:dir=fixtures/crds
	scripts/gateway-api-crds.sh fixtures/crds

LISTEN_OVERRIDE ?=
# IMPL picks the control plane: keyconform (the reference controller) or
# envoy-gateway (Envoy Gateway's own, built by tools-envoy-gateway); for
# `make e2e` also kgateway, and there kgateway and envoy-gateway mean their
# released Helm charts on kind.
IMPL ?= keyconform

.PHONY: run
run: tools $(if $(filter envoy-gateway,$(IMPL)),tools-envoy-gateway) ## The local environment as the seed's "Before you begin" describes (gateway on localhost:8080); IMPL=envoy-gateway: Envoy Gateway's quickstart (localhost:80).
	$(GO) build -o bin/ ./sim/cmd/localenv
	bin/localenv --implementation $(IMPL) $(if $(LISTEN_OVERRIDE),--listen-override $(LISTEN_OVERRIDE))

.PHONY: build
build: ## Build all binaries into bin/ (keyconform-suites: the conformance suites as one program).
	$(GO) build -o bin/ ./controller/cmd/... ./sim/cmd/... ./suites/cmd/...

.PHONY: tools
tools: ## kube-apiserver, etcd, kubectl into bin/k8s (built from source once: ~10 min; cached after).
	@scripts/k8s-binaries.sh bin/k8s

.PHONY: tools-envoy-gateway
tools-envoy-gateway: ## Envoy Gateway's control plane (v1.9.1) and its CRDs into bin/envoy-gateway (built from its Go module once: ~5-7 min; cached after).
	@scripts/envoy-gateway.sh bin/envoy-gateway

.PHONY: vet
vet: ## go vet.
	$(GO) vet ./...

.PHONY: test
test: vet tools tools-envoy-gateway ## Everything that runs here: unit, golden, envtest, then the suites on the sim and against `make run`.
	$(GO) test $$($(GO) list ./... | grep -v -e '/suites$$' -e '/suites/reliability$$' -e '/suites/gatewayapi$$')
	$(MAKE) --no-print-directory reliability
	$(MAKE) --no-print-directory e2e-sim IMPL=keyconform
	$(MAKE) --no-print-directory e2e-sim IMPL=envoy-gateway
	$(MAKE) --no-print-directory e2e-against-run
	$(MAKE) --no-print-directory conformance-gateway-api IMPL=envoy-gateway
	$(MAKE) --no-print-directory conformance-gateway-api IMPL=keyconform

# Conformance suites (see suites/README.md). Reports land in $(ARTIFACTS).
GINKGO ?= $(GO) tool ginkgo
E2E_PROCS ?= 4
E2E_ARGS ?=
GATEWAY_CLASS ?= kgateway
SUPPORTED_FEATURES ?=

# Implementations whose outcome on the sim is compared with a committed
# baseline (suites/baselines) instead of requiring every scenario to pass.
SIM_BASELINE = $(if $(filter envoy-gateway,$(IMPL)),suites/baselines/$(IMPL)-sim.yaml)
SIM_RUN = sim$(if $(filter-out keyconform kgateway,$(IMPL)),-$(IMPL))
SIM_RESULTS = $(abspath $(ARTIFACTS))/results-$(SIM_RUN).json
# The suite's leak scan lists any key found in what the run left here; a
# baseline run's failures are judged by compare-baseline, its leaks by this.
SIM_LEAKS = $(abspath $(ARTIFACTS))/leaks-$(SIM_RUN).txt
# ... and failures of its setup or teardown, which are no scenario's.
SIM_SUITE_ERRORS = $(abspath $(ARTIFACTS))/suite-errors-$(SIM_RUN).txt

.PHONY: e2e-sim
e2e-sim: tools $(if $(filter envoy-gateway,$(IMPL)),tools-envoy-gateway) ## The suites on the local environment (sim target); IMPL=envoy-gateway: on Envoy Gateway's control plane, in its dialect, compared with its baseline.
	rm -f $(SIM_RESULTS) $(SIM_LEAKS) $(SIM_SUITE_ERRORS)
	ARTIFACTS=$(abspath $(ARTIFACTS)) $(GINKGO) $(if $(CI),--no-color) -p --procs=$(E2E_PROCS) --timeout=20m ./suites -- \
		--target=sim --poll-interval=20ms $(if $(filter-out keyconform,$(IMPL)),--implementation=$(IMPL)) $(E2E_ARGS) \
		$(if $(SIM_BASELINE),|| echo "[baseline] the suite reported failures; comparing them with $(SIM_BASELINE)")
	$(if $(SIM_BASELINE),$(GO) run ./suites/cmd/compare-baseline -baseline $(SIM_BASELINE) -results $(SIM_RESULTS))
	$(if $(SIM_BASELINE),@if [ -s $(SIM_LEAKS) ]; then cat $(SIM_LEAKS); echo "[leaks] API keys in what the run left: see $(SIM_LEAKS)"; exit 1; fi)
	$(if $(SIM_BASELINE),@if [ -s $(SIM_SUITE_ERRORS) ]; then cat $(SIM_SUITE_ERRORS); echo "[suite] the suite's own setup or teardown failed: see the output above"; exit 1; fi)

.PHONY: reliability
reliability: tools ## About 1000 requests/s through the reference implementation while faults happen one at a time; fails on any request wrongly allowed (figures: $(ARTIFACTS)/reliability/reliability.json).
	ARTIFACTS=$(abspath $(ARTIFACTS)) $(GO) test ./suites/reliability -count=1 -v -timeout 10m

# GATEWAY_API_ARGS: the upstream suite's own flags, e.g. --run-test=HTTPRouteSimpleSameNamespace.
GATEWAY_API_ARGS ?=
# The tests known to fail on the sim for IMPL, each with why; left out, so
# that any failure is a regression.
GATEWAY_API_BASELINE = $(wildcard suites/gatewayapi/baselines/$(IMPL).yaml)

.PHONY: conformance-gateway-api
conformance-gateway-api: tools $(if $(filter envoy-gateway,$(IMPL)),tools-envoy-gateway) ## The upstream Gateway API conformance suite (GATEWAY-HTTP core) on the local environment with IMPL's control plane (envoy-gateway or keyconform), less its baseline's known failures; the report goes to $(ARTIFACTS).
	ARTIFACTS=$(abspath $(ARTIFACTS)) $(GO) test ./suites/gatewayapi -count=1 -timeout 60m -v -args \
		--implementation=$(if $(filter keyconform kgateway,$(IMPL)),kgateway,$(IMPL)) \
		$(if $(GATEWAY_API_BASELINE),--baseline=$(abspath $(GATEWAY_API_BASELINE))) $(GATEWAY_API_ARGS)

FUZZTIME ?= 10m

.PHONY: fuzz
fuzz: ## Fuzz the translator with any policy and Secret (FuzzPolicyFailsClosed) for FUZZTIME (10m); its corpus is kept in controller/translate/testdata/fuzz.
	$(GO) test ./controller/translate -run '^$$' -fuzz FuzzPolicyFailsClosed -fuzztime $(FUZZTIME)

# MUTANTS=name,... runs only those mutants (internal/mutant names them).
MUTANTS ?=

.PHONY: mutants
mutants: tools ## The suites once per deliberate bug of the reference implementation (internal/mutant), after a control run; prints which scenarios kill each (~25 min on 2 cores).
	mkdir -p bin/mutants
	$(GINKGO) build --tags=mutants -o $(abspath bin/mutants)/ ./suites
	$(GO) run -tags mutants ./suites/cmd/mutants -suite $(abspath bin/mutants)/suites.test -artifacts $(abspath $(ARTIFACTS))/mutants \
		-procs $(E2E_PROCS) $(if $(MUTANTS),-only $(MUTANTS))

# The reference implementation's identity, for reports of the cluster target
# run against it (the cluster target requires one).
KEYCONFORM_IDENTITY = --organization=keyconform --project=keyconform --url=https://github.com/keyconform/keyconform \
	--version=dev --contact=@keyconform/maintainers

.PHONY: e2e-against-run
e2e-against-run: tools ## The keyconform-suites program, from outside the checkout, on the cluster target against the environment of `make run`.
	$(GO) build -o bin/ ./sim/cmd/localenv ./suites/cmd/keyconform-suites
	ARTIFACTS=$(abspath $(ARTIFACTS)) scripts/e2e-against-run.sh bin/localenv bin/keyconform-suites $(KEYCONFORM_IDENTITY) $(if $(CI),--ginkgo.no-color) $(E2E_ARGS)

.PHONY: e2e-cluster
e2e-cluster: ## The suites on the current kubeconfig's cluster, any implementation (GATEWAY_CLASS, SUPPORTED_FEATURES).
	ARTIFACTS=$(abspath $(ARTIFACTS)) $(GINKGO) $(if $(CI),--no-color) -p --procs=$(E2E_PROCS) --timeout=60m ./suites -- \
		--target=cluster --gateway-class=$(GATEWAY_CLASS) --supported-features=$(SUPPORTED_FEATURES) $(E2E_ARGS)

# --- Images, cross-builds and the kind path (README: "Running on kind and on other clusters").

IMG ?= ghcr.io/keyconform/keyconform-controller
TAG ?= dev
# KIND_PROVIDER=podman runs kind's nodes on Podman (kind's
# KIND_EXPERIMENTAL_PROVIDER), and images are built, pulled and saved with
# Podman too.
KIND_PROVIDER ?= docker
CONTAINER_TOOL ?= $(if $(filter podman,$(KIND_PROVIDER)),podman,docker)
# PLATFORM (e.g. linux/arm64) builds the image for another platform.
PLATFORM ?=
PLATFORMS ?= linux/amd64 linux/arm64
KIND_VERSION ?= v0.33.0
KIND ?= $(or $(shell command -v kind 2>/dev/null),$(GO) run sigs.k8s.io/kind@$(KIND_VERSION))
KIND_CLUSTER ?= keyconform-e2e
# kind v0.33.0's own node image.
KIND_NODE_IMAGE ?= kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5
# A kind cluster config file (kind: Cluster); the node images it names win
# unless KIND_NODE_IMAGE is given too.
KIND_CONFIG ?=
KUBECTL ?= $(or $(shell command -v kubectl 2>/dev/null),bin/k8s/kubectl)
KEEP_CLUSTER ?=
# The image name fixtures/deploy runs; `make e2e` swaps in $(IMG):$(TAG).
DEPLOY_IMG := ghcr.io/keyconform/keyconform-controller
E2E_DEPLOY_DIR := $(abspath $(ARTIFACTS))/deploy
E2E_OVERLAY_DIR := bin/e2e-kustomize
# A released implementation `make e2e` installs from its Helm chart instead
# of building the controller (CHART_VERSION: another than the pinned one).
KIND_INSTALL = $(filter kgateway envoy-gateway,$(IMPL))
CHART_VERSION ?=
# helm on PATH, else one tools-helm builds from the Go module proxy.
HELM_VERSION ?= v3.19.5
HELM ?= $(or $(shell command -v helm 2>/dev/null),$(abspath bin/helm))
# The kind target's flags, shared by e2e and e2e-plan. Paths are absolute:
# the suites run from ./suites.
E2E_KIND_FLAGS = --target=kind --kind-cluster-name=$(KIND_CLUSTER) --kind-provider=$(KIND_PROVIDER) \
	$(if $(and $(KIND_CONFIG),$(filter file,$(origin KIND_NODE_IMAGE))),,--kind-node-image=$(KIND_NODE_IMAGE)) \
	$(if $(KIND_CONFIG),--kind-config=$(abspath $(KIND_CONFIG))) \
	--kind-keep-cluster=$(if $(filter 1 true yes,$(KEEP_CLUSTER)),true,false) \
	$(if $(KIND_INSTALL),--kind-install=$(KIND_INSTALL) --kind-helm=$(HELM) $(if $(CHART_VERSION),--kind-chart-version=$(CHART_VERSION)),\
	  --kind-load-images=$(IMG):$(TAG) --kind-deploy-dir=$(E2E_DEPLOY_DIR))

.PHONY: cross
cross: ## Static binaries (CGO_ENABLED=0) for linux/amd64 and linux/arm64 into bin/<os>_<arch>/.
	for p in $(PLATFORMS); do \
	  echo "cross: $$p"; \
	  CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -trimpath -ldflags='-s -w' -o bin/$${p%/*}_$${p#*/}/ ./controller/cmd/... ./sim/cmd/...; \
	done

.PHONY: images
images: ## The controller image IMG:TAG (CONTAINER_TOOL=docker|podman, PLATFORM=linux/arm64).
	$(CONTAINER_TOOL) build $(if $(PLATFORM),--platform=$(PLATFORM)) -t $(IMG):$(TAG) .

.PHONY: e2e
e2e: $(if $(KIND_INSTALL),$(if $(filter $(abspath bin/helm),$(HELM)),tools-helm),images e2e-manifests) ## The suites on a kind cluster: the controller and Envoy built here, or IMPL=kgateway|envoy-gateway from its Helm chart (KEEP_CLUSTER=1, KIND_PROVIDER=podman, KIND_CONFIG=file).
	ARTIFACTS=$(abspath $(ARTIFACTS)) $(GINKGO) $(if $(CI),--no-color) -p --procs=$(E2E_PROCS) --timeout=60m ./suites -- \
		$(E2E_KIND_FLAGS) $(E2E_ARGS)

# The controller's manifests for `make e2e`: fixtures/deploy with
# $(IMG):$(TAG), then the sample app, as plain YAML in file order.
.PHONY: e2e-manifests
e2e-manifests:
	rm -rf $(E2E_DEPLOY_DIR) $(E2E_OVERLAY_DIR)
	mkdir -p $(E2E_DEPLOY_DIR) $(E2E_OVERLAY_DIR)
	printf '%s\n' 'apiVersion: kustomize.config.k8s.io/v1beta1' 'kind: Kustomization' \
	  'resources: [../../fixtures/deploy]' \
	  'images: [{name: $(DEPLOY_IMG), newName: $(IMG), newTag: $(TAG)}]' > $(E2E_OVERLAY_DIR)/kustomization.yaml
	$(KUBECTL) kustomize $(E2E_OVERLAY_DIR) > $(E2E_DEPLOY_DIR)/00-keyconform.yaml
	for f in fixtures/sample-app/*.yaml; do cp "$$f" "$(E2E_DEPLOY_DIR)/10-sample-app-$$(basename "$$f")"; done

.PHONY: e2e-plan
e2e-plan: ## Print what `make e2e` would run on kind with the same variables (IMPL, KIND_PROVIDER, KIND_CONFIG, ...), and what this machine lacks for it; creates nothing.
	ARTIFACTS=$(abspath $(ARTIFACTS)) $(GO) run ./suites/cmd/kind-plan $(E2E_KIND_FLAGS)

.PHONY: tools-helm
tools-helm: ## helm (v3.19.5) into bin/helm from the Go module proxy, for `make e2e IMPL=...` where none is on PATH.
	@if [ -x bin/helm ] && bin/helm version --template '{{.Version}}' | grep -qx '$(HELM_VERSION)'; then exit 0; fi; \
	  echo "tools-helm: building helm $(HELM_VERSION) into bin/ (takes a few minutes once)"; \
	  GOBIN=$(abspath bin) $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

.PHONY: e2e-down
e2e-down: ## Delete the kind cluster `make e2e` created (KIND_CLUSTER, KIND_PROVIDER).
	KIND_EXPERIMENTAL_PROVIDER=$(KIND_PROVIDER) $(KIND) delete cluster --name $(KIND_CLUSTER)
