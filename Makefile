# Herald. `make run` starts a server on its embedded default (dev mode);
# `make test` runs every test. Go comes from PATH or /usr/local/go/bin.
export PATH := $(PATH):/usr/local/go/bin
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/heraldhq/herald.Version=$(VERSION)

.PHONY: build run test lint test-go test-scale test-bench test-e2e fuzz bench clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/herald ./cmd/herald

run: build
	./bin/herald serve

# Everything CI runs: formatting, vet, the Go suite under the race detector,
# the bench's own end-to-end tests (test-bench: they build herald and run
# servers and workers for a minute or more, so they are behind the loadtest tag
# and out of test-go), and the end-to-end suites against the built binary.
test: lint test-go test-scale test-bench test-e2e

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags loadtest ./cmd/herald/internal/bench/

test-go:
	$(GO) test -race -count=1 -timeout 20m ./...

# The tests that load a node with many clients, full size: under -race
# (test-go) they run smaller, as the detector slows their clients tenfold.
test-scale:
	$(GO) test -count=1 -timeout 10m -run 'TestManyClientsResume|TestResumeSeam|TestChurnNeverCutsABystander' .
	$(GO) test -count=1 -timeout 10m -run 'TestClusterFanOut' ./cmd/herald/

# The end-to-end tests of `herald bench` (cmd/herald/internal/bench).
test-bench:
	$(GO) test -race -count=1 -tags loadtest -timeout 30m ./cmd/herald/internal/bench/

test-e2e: build
	@if [ -f e2e/package.json ]; then bash e2e/run.sh; else echo "no e2e suite yet"; fi

# Short fuzzing of every decoder of untrusted bytes.
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzDecodeCommand -fuzztime=30s ./internal/protocol/jsonproto/
	$(GO) test -run='^$$' -fuzz=FuzzDecodePayload -fuzztime=30s ./internal/protocol/eioproto/
	$(GO) test -run='^$$' -fuzz=FuzzDecoder -fuzztime=30s ./internal/protocol/sioproto/
	$(GO) test -run='^$$' -fuzz=FuzzVerify -fuzztime=30s ./internal/auth/
	$(GO) test -run='^$$' -fuzz=FuzzDecode -fuzztime=30s ./internal/protocol/record/
	$(GO) test -run='^$$' -fuzz=FuzzDecodeRouting -fuzztime=30s ./internal/protocol/sioproto/
	$(GO) test -run='^$$' -fuzz=FuzzReader -fuzztime=30s ./internal/transport/websocket/

bench:
	$(GO) test -run='^$$' -bench=. -benchtime=2s ./internal/hub/ ./internal/protocol/... ./internal/transport/websocket/

clean:
	rm -rf bin e2e/artifacts
