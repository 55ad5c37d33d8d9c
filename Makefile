# resize-operator. Targets follow kubebuilder's names; run-local, lambda and
# bench are ours. Every tool is built or installed into bin/ on first use.

IMG ?= resize-operator:latest
SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

LOCALBIN ?= $(CURDIR)/bin
ENVTEST_DIR ?= $(LOCALBIN)/k8s
CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint
RIE_VERSION ?= v0.0.0-20261030222936-bef5c4ba774d
RIE ?= $(LOCALBIN)/aws-lambda-rie
LOCALAWS ?= $(LOCALBIN)/localaws
LOCALKUBE ?= $(LOCALBIN)/localkube
NPM_TOOLS ?= $(CURDIR)/hack/tools/npm/node_modules
KUBECTL ?= kubectl

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate the CRD and RBAC manifests from the markers in api/ and controllers/.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases

.PHONY: generate
generate: controller-gen ## Generate the DeepCopy methods of the API types.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt
fmt: ## Run gofmt over both modules.
	gofmt -l -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet over both modules.
	go vet ./...
	cd hack && go vet ./...

.PHONY: lint
lint: golangci-lint ## Run golangci-lint on both modules (the root and hack/).
	$(GOLANGCI_LINT) run ./...
	cd hack && $(GOLANGCI_LINT) run ./...

# The local AWS stack owns 127.0.0.1:4566, so the packages that start it run
# one at a time (-p 1 in hack/, where the stack's and the end-to-end tests live).
.PHONY: test
test: build envtest localaws localkube npm-tools rie ## Run every test: unit, envtest + local AWS integration, end to end.
	KUBEBUILDER_ASSETS="$(ENVTEST_DIR)" LOCALAWS_BIN="$(LOCALAWS)" ASL_VALIDATOR="$(NPM_TOOLS)/.bin/asl-validator" \
		AWS_LAMBDA_RIE="$(RIE)" \
		go test ./... -count=1 -timeout 20m
	cd hack && KUBEBUILDER_ASSETS="$(ENVTEST_DIR)" LOCALAWS_BIN="$(LOCALAWS)" LOCALKUBE_BIN="$(LOCALKUBE)" \
		MANAGER_BIN="$(LOCALBIN)/manager" go test -p 1 ./... -count=1 -timeout 20m

##@ Build

.PHONY: lambda
lambda: ## Build the reproducible ResizeImage bundles (bootstrap zips for x86_64 and arm64) that the manager embeds.
	hack/build-lambda.sh

.PHONY: build
build: manifests generate fmt vet lambda ## Build the manager binary.
	go build -o $(LOCALBIN)/manager .

.PHONY: run
run: manifests generate lambda ## Run the controller against the current kubeconfig and AWS credentials.
	go run . $(ARGS)

.PHONY: run-local
run-local: build envtest localaws localkube ## Run the whole pipeline on this machine: local AWS, a Kubernetes API server and the controller.
	hack/run-local.sh

.PHONY: bench
bench: ## Benchmark the ResizeImage path against Pillow and vipsthumbnail on real photos.
	hack/bench-lambda/run.sh

##@ Deployment

.PHONY: install
install: manifests ## Install the CRD into the cluster of the current kubeconfig.
	$(KUBECTL) apply --server-side -k config/crd

.PHONY: uninstall
uninstall: manifests ## Remove the CRD from the cluster of the current kubeconfig.
	$(KUBECTL) delete --ignore-not-found -k config/crd

.PHONY: deploy
deploy: manifests ## Deploy the controller (image IMG) into the cluster of the current kubeconfig.
	$(KUBECTL) kustomize config/default | sed "s|image: resize-operator:latest|image: $(IMG)|" | \
		$(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: ## Remove the controller from the cluster of the current kubeconfig.
	$(KUBECTL) delete --ignore-not-found -k config/default

##@ Dependencies

.PHONY: envtest
envtest: ## Build kube-apiserver and etcd for envtest into bin/k8s (once per machine).
	hack/build-envtest.sh $(ENVTEST_DIR)

.PHONY: localaws
localaws: ## Build the local AWS stack (kumo behind our front door).
	cd hack && go build -o $(LOCALAWS) ./localaws

.PHONY: localkube
localkube: ## Build localkube: envtest's API server as a long-lived process, for run-local and the end-to-end test.
	cd hack && go build -o $(LOCALKUBE) ./localkube

.PHONY: npm-tools
npm-tools: $(NPM_TOOLS)/.installed ## Install the validators the tests run (asl-validator).
# A stamp, because the files npm unpacks keep their packages' old dates and
# would look out of date forever.
$(NPM_TOOLS)/.installed: hack/tools/npm/package.json hack/tools/npm/package-lock.json
	cd hack/tools/npm && npm ci --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: rie
rie: $(RIE) ## Install the Lambda runtime interface emulator, which runs the real bootstrap in the Lambda tests.
$(RIE):
	GOBIN=$(LOCALBIN) go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN)
$(CONTROLLER_GEN):
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT)
$(GOLANGCI_LINT):
	GOBIN=$(LOCALBIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

##@ Image

.PHONY: docker-build
docker-build: ## Build the manager image IMG (needs a Docker engine).
	docker build -t $(IMG) .

.PHONY: docker-push
docker-push: ## Push the manager image IMG.
	docker push $(IMG)
