# The README's commands. Every target works from a fresh clone with Go installed; `test` also
# needs a Redis at REDIS_ADDR (default 127.0.0.1:6379), which .ci/run installs and starts.
GO ?= go
REDIS_ADDR ?= 127.0.0.1:6379
export REDIS_ADDR

.PHONY: demo test test-short build vet fmt-check chaos bench fuzz

## demo: pay the example file on an embedded Redis and the MoMo simulator, print the report
demo:
	$(GO) run ./cmd/demo

## test: unit and integration tests (real Redis at REDIS_ADDR, simulator over HTTP)
test: vet
	$(GO) test -count=1 -timeout 15m ./...

## test-short: the tests without the race detector's slow paths, for quick iterations
test-short:
	$(GO) test -count=1 -short ./...

## build: the commands into ./bin
build:
	$(GO) build -o bin/ ./cmd/...

vet: fmt-check
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## chaos: 1,000 payouts while workers are SIGKILLed, Redis restarts and MoMo misbehaves
chaos:
	$(GO) run ./cmd/chaos

## bench: product figures against baselines measured side by side; writes bench/results.json
bench:
	$(GO) run ./cmd/bench

FUZZTIME ?= 10m
FUZZ_TARGETS = ./internal/batch:FuzzReader ./internal/batch:FuzzNormalizeMSISDN \
	./internal/money:FuzzParse ./internal/momo:FuzzDecodeStatus ./internal/momo:FuzzParseErrorBody

## fuzz: each fuzz target for FUZZTIME (default 10m; CI runs them for a few seconds)
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$pkg; done
