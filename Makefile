# Plume's one command surface, and SAM's builder: `sam build` runs build-<LogicalId> (template
# Metadata BuildMethod: makefile) with ARTIFACTS_DIR set. See docs/adr/0004-stack-and-tooling.md.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

GO ?= go
FUNCTIONS := reevaluate evalworker sweeper
# Template logical id -> functions/<dir>.
dir_ReevaluateFunction := reevaluate
dir_EvalWorkerFunction := evalworker
dir_SweeperFunction := sweeper

GOLANGCI_LINT_VERSION ?= v2.15.0
GOLANGCI_LINT ?= $(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
RIE_VERSION ?= v0.0.0-20261030222936-bef5c4ba774d
RIE := bin/aws-lambda-rie
FUZZTIME ?= 10s
FUZZPKGS ?= ./...
FUNCTION ?= reevaluate
HOST_GOOS := $(shell $(GO) env GOOS)
HOST_GOARCH := $(shell $(GO) env GOARCH)

# $(call lambda,<output>,<goarch>,<function dir>): the one way a Lambda binary is built.
# lambda.norpc drops the legacy net/rpc shim that provided.al2023 never uses.
lambda = GOOS=linux GOARCH=$(2) CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o $(1) ./functions/$(3)

SAM_TARGETS := build-ReevaluateFunction build-EvalWorkerFunction build-SweeperFunction

.PHONY: help build $(SAM_TARGETS) dev test bench lint fuzz invoke tools clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'
	@echo "  build-<LogicalId>  what sam build runs (ARTIFACTS_DIR set): $(SAM_TARGETS)"

# sam build: build-<LogicalId> into $(ARTIFACTS_DIR)/bootstrap, linux/arm64.
$(SAM_TARGETS): build-%:
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set: sam build sets it; use make build" >&2; exit 2; }
	$(call lambda,$(ARTIFACTS_DIR)/bootstrap,arm64,$(dir_$*))

build: ## build every function into bin/<fn>/bootstrap (linux/arm64, as deployed)
	@$(foreach fn,$(FUNCTIONS),echo "bin/$(fn)/bootstrap" && $(call lambda,bin/$(fn)/bootstrap,arm64,$(fn)) &&) true

dev: ## run the whole stack locally: moto, table and queues from template.yaml, API, worker
	@$(GO) build -o bin/devstack ./cmd/devstack
	@exec bin/devstack

test: ## every test with the race detector, the emulator-backed ones included (the harness starts moto)
	$(GO) test -race -count=1 -timeout 8m ./...

bench: $(RIE) ## benchmarks (6 runs each, into bench.out; compare with benchstat), the AWS-call and write counts, cold starts
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./... | tee bench.out
	$(GO) test -count=1 -run 'TestAWSCallsPerRequest|TestWritesPerRun' -v ./internal/api/ ./internal/worker/ | grep -E '^(=== RUN|--- |\s+\S+_test.go)' | tee -a bench.out
	scripts/coldstart.sh 9 | tee -a bench.out
	@$(MAKE) build >/dev/null && ls -l bin/*/bootstrap | awk '{printf "%s %.1f MB (linux/arm64)\n", $$9, $$5/1048576}' | tee -a bench.out

lint: ## cfn-lint (runs the SAM translator), go vet, golangci-lint
	@v=$$(cfn-lint --version | awk '{print $$2}'); case "$$v" in 1.5[4-9]*|1.[6-9]*|[2-9]*) \
	  echo "warning: cfn-lint $$v no longer runs the SAM translator; pip install 'cfn-lint<1.54'" >&2;; esac
	cfn-lint template.yaml
	$(GO) vet ./...
	$(GOLANGCI_LINT) run

fuzz: ## run every Fuzz target (in FUZZPKGS, default ./...) for FUZZTIME (default 10s) each
	@for pkg in $$($(GO) list $(FUZZPKGS)); do \
	  list=$$($(GO) test -list '^Fuzz' "$$pkg"); \
	  for target in $$(grep '^Fuzz' <<<"$$list" || true); do \
	    echo "fuzz $$pkg $$target ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 2s "$$pkg"; \
	  done; \
	done

invoke: $(RIE) ## invoke EVENT=events/x.json [FUNCTION=reevaluate|evalworker|sweeper] under the RIE (needs make dev)
	@test -n "$(EVENT)" || { echo "usage: make invoke EVENT=events/x.json [FUNCTION=reevaluate|evalworker|sweeper]" >&2; exit 2; }
	@case "$(FUNCTION)" in reevaluate|evalworker|sweeper) ;; *) echo "FUNCTION must be reevaluate, evalworker or sweeper" >&2; exit 2;; esac
	@test -f .cache/dev.env || { echo "make invoke: .cache/dev.env not found: run make dev first (in another terminal)" >&2; exit 1; }
	@test "$(HOST_GOOS)" = linux || { echo "make invoke runs the Linux RIE; on $(HOST_GOOS) use sam local invoke" >&2; exit 2; }
	@$(call lambda,.cache/invoke/$(FUNCTION)/bootstrap,$(HOST_GOARCH),$(FUNCTION))
	@scripts/invoke.sh "$(EVENT)" "$(FUNCTION)" .cache/invoke/$(FUNCTION)/bootstrap

tools: ## install the Lambda Runtime Interface Emulator (RIE_VERSION) into bin/
	GOBIN=$(CURDIR)/bin $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

$(RIE):
	@$(MAKE) tools

clean: ## remove build outputs
	rm -rf bin .aws-sam .cache/invoke bench.out
