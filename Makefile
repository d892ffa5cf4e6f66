# Targets for developers and CI. `make help` lists them.
GO ?= go
# The tests refuse to skip what CI must run: a real Redis, Chromium, xmlsec1,
# HAProxy.
TEST_ENV = BROKER_REQUIRE_REDIS=1 BROKER_REQUIRE_CHROMIUM=1 BROKER_REQUIRE_XMLSEC1=1 BROKER_REQUIRE_HAPROXY=1

.PHONY: help demo build deps test test-short vet fmt bench fuzz

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

demo: ## run the demo on 127.0.0.1:8080
	$(GO) run ./cmd/broker demo

build: ## build the broker binary into bin/
	$(GO) build -o bin/broker ./cmd/broker

deps: ## install redis-server, redis-sentinel, haproxy, chromium and xmlsec1 (Debian) when missing
	./.ci/install-deps

# The fixture generators live under testdata/, which ./... skips; vet them
# too so that they keep compiling against the packages they exercise.
GENERATORS = $(addprefix ./,$(wildcard testdata/*/gen))

vet: ## gofmt check and go vet (including the fixture generators)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./... $(GENERATORS)

test: deps vet ## install what the tests need, vet, then run every test with the race detector
	$(TEST_ENV) $(GO) test -race -timeout 30m ./...

test-short: ## quick tests without the race detector
	$(GO) test ./...

# One package at a time (-p 1), so that benchmarks do not share the CPU
# with each other; BENCHTIME=100x or 200ms for a quicker pass. Benchmarks
# that need a service (redis-server) skip when it is not installed.
BENCHTIME ?= 1s
bench: ## run the benchmarks (see docs/performance.md)
	$(GO) test -p 1 -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

fuzz: ## run each fuzz target briefly
	@for p in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$p 2>/dev/null | grep '^Fuzz'); do \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 10s $$p || exit 1; done; done
