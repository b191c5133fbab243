# FaultMaven hub. `make run` serves on embedded defaults; `make test` is what CI runs.
GO      ?= go
BIN     := bin
PLUGINS := $(notdir $(patsubst %/main.go,%,$(wildcard plugins/*/main.go)))
PROTOC_GEN_GO_VERSION      := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.0
TOOLS   := $(CURDIR)/bin/tools
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: all build image plugins run test test-short bench bench-loghub proto lint tidy clean

all: build

build: plugins
	$(GO) build -ldflags "-X github.com/faultmaven/faultmaven/gateway/internal/cli.Version=$(VERSION)" -o $(BIN)/faultmaven ./gateway/cmd/faultmaven

# The container image (needs Docker; not run by CI here).
image:
	docker build -f deploy/docker/Dockerfile --build-arg VERSION=$(VERSION) -t faultmaven:$(VERSION) .

plugins:
	@mkdir -p $(BIN)/plugins
	@for p in $(PLUGINS); do \
		echo "build plugin $$p"; \
		$(GO) build -o $(BIN)/plugins/faultmaven-plugin-$$p ./plugins/$$p || exit 1; \
	done

# Serve the bundled sample logs through the files plugin on 127.0.0.1:8080.
run: build
	./$(BIN)/faultmaven kb ingest --config examples/faultmaven.yaml examples/runbooks
	./$(BIN)/faultmaven serve --config examples/faultmaven.yaml

# Every test, both modules. PostgreSQL tests use FAULTMAVEN_TEST_DATABASE_URL
# (default postgres://postgres@127.0.0.1:5432/test).
test: build
	cd sdk && $(GO) test -count=1 ./...
	$(GO) test -count=1 -timeout 20m ./...

test-short:
	cd sdk && $(GO) test -short ./...
	$(GO) test -short ./...

bench: build
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./...

# Loghub-2k accuracy (GA, FGA, PA, FTA per dataset, zero-config and benchmark
# protocol) and BGL alert detection; needs ../shared/loghub.
bench-loghub:
	$(GO) test -tags loghub -run 'TestLoghub$$|TestBGLAlerts' -count=1 -v ./core/loganalysis/loghub

proto:
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	cd sdk && PATH=$(TOOLS):$$PATH protoc -I proto \
		--go_out=. --go_opt=module=github.com/faultmaven/faultmaven/sdk \
		--go-grpc_out=. --go-grpc_opt=module=github.com/faultmaven/faultmaven/sdk \
		proto/faultmaven/plugin/v1/plugin.proto

lint:
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || (echo "gofmt needed" && exit 1)
	cd sdk && $(GO) vet ./...
	$(GO) vet ./...

tidy:
	cd sdk && $(GO) mod tidy
	$(GO) mod tidy

clean:
	rm -rf $(BIN) data
