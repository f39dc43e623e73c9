# picogo — every entry point a developer or CI needs.
GO        ?= go
GOBIN     ?= $(shell $(GO) env GOPATH)/bin
STATICCHECK := $(GOBIN)/staticcheck
SEEDS     ?= 200
SEED      ?= 1

.PHONY: all build test lint run sim sim-mutants bench bench-sim fuzz fmt clean

all: build

## build: compile every package and the picogo binary into ./bin
build:
	$(GO) build ./...
	$(GO) build -o bin/picogo ./cmd/picogo

## test: everything CI runs (unit tests, interaction scripts, determinism guard)
test:
	$(GO) test -count=1 -timeout 20m ./...

## lint: gofmt, go vet, staticcheck (installed on first use)
lint: $(STATICCHECK)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

$(STATICCHECK):
	$(GO) install honnef.co/go/tools/cmd/staticcheck@latest

fmt:
	gofmt -w $$(git ls-files '*.go')

## run: start picogo on its embedded default (lands with the runtime issue)
run: build
	./bin/picogo run

## sim: run the seeded simulator over SEEDS seeds starting at SEED
sim: build
	./bin/picogo sim --seeds $(SEEDS) --start $(SEED)

## sim-mutants: prove the simulator catches every known bug (at most 2000 seeds each)
sim-mutants: build
	./bin/picogo sim --mutants --seeds 2000

## bench-sim: simulator speed (virtual seconds per wall second, seeds per minute)
bench-sim:
	$(GO) test -run '^$$' -bench BenchmarkSimulator -benchtime 20x ./sim/

## fuzz: every fuzz target for FUZZTIME each (default 60s); a crasher is kept in testdata/fuzz
FUZZTIME ?= 60s
FUZZ_TARGETS = ./net/iproto:FuzzReadFrame ./net/iproto:FuzzDecodeRequest ./net/iproto:FuzzDecodeResponse \
	./net/tcp:FuzzReadHeader ./proc:FuzzDecode ./disk/simdisk:FuzzRecover ./disk/simdisk:FuzzDecodePayload
fuzz:
	@for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; echo "== $$fn ($$pkg), $(FUZZTIME)"; \
	  out=$$($(GO) test $$pkg -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) 2>&1); rc=$$?; \
	  echo "$$out" | grep -v '^fuzz: elapsed' | tail -2; \
	  if [ $$rc -ne 0 ]; then \
	    if echo "$$out" | grep -q 'context deadline exceeded' && ! echo "$$out" | grep -q 'Failing input written'; then \
	      echo "   (the fuzzer tripped over its own deadline at the end — golang/go#75804 — with no failing input)"; \
	    else exit 1; fi; \
	  fi; \
	done

## bench: benchmarks (lands with the benchmark issue)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
