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

.PHONY: run
run: tools ## The local environment as the seed's "Before you begin" describes (gateway on localhost:8080).
	$(GO) build -o bin/ ./sim/cmd/localenv
	bin/localenv $(if $(LISTEN_OVERRIDE),--listen-override $(LISTEN_OVERRIDE))

.PHONY: build
build: ## Build all binaries into bin/.
	$(GO) build -o bin/ ./controller/cmd/... ./sim/cmd/...

.PHONY: tools
tools: ## kube-apiserver, etcd, kubectl into bin/k8s (built from source once: ~10 min; cached after).
	@scripts/k8s-binaries.sh bin/k8s

.PHONY: vet
vet: ## go vet.
	$(GO) vet ./...

.PHONY: test
test: vet tools ## Everything that runs here: unit, golden, envtest, then the suites on the sim.
	$(GO) test $$($(GO) list ./... | grep -v '/suites$$')
	$(MAKE) --no-print-directory e2e-sim

# Conformance suites (see suites/README.md). Reports land in $(ARTIFACTS).
GINKGO ?= $(GO) tool ginkgo
E2E_PROCS ?= 4
E2E_ARGS ?=
GATEWAY_CLASS ?= kgateway
SUPPORTED_FEATURES ?=

.PHONY: e2e-sim
e2e-sim: tools ## The suites on the local environment (sim target).
	ARTIFACTS=$(abspath $(ARTIFACTS)) $(GINKGO) $(if $(CI),--no-color) -p --procs=$(E2E_PROCS) --timeout=20m ./suites -- \
		--target=sim --poll-interval=20ms $(E2E_ARGS)

.PHONY: e2e-cluster
e2e-cluster: ## The suites on the current kubeconfig's cluster, any implementation (GATEWAY_CLASS, SUPPORTED_FEATURES).
	ARTIFACTS=$(abspath $(ARTIFACTS)) $(GINKGO) $(if $(CI),--no-color) -p --procs=$(E2E_PROCS) --timeout=60m ./suites -- \
		--target=cluster --gateway-class=$(GATEWAY_CLASS) --supported-features=$(SUPPORTED_FEATURES) $(E2E_ARGS)
