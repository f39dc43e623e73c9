# picogo — every entry point a developer or CI needs.
GO        ?= go
GOBIN     ?= $(shell $(GO) env GOPATH)/bin
STATICCHECK := $(GOBIN)/staticcheck
SEEDS     ?= 200
SEED      ?= 1
CYCLES    ?= 100

.PHONY: all build test lint run sim sim-mutants sql-oracles chaos bench bench-go bench-sim fuzz fmt clean

all: build

## build: compile every package and the picogo binary into ./bin
build:
	$(GO) build ./...
	$(GO) build -o bin/picogo ./cmd/picogo

## test: everything CI runs (unit tests, interaction scripts, determinism guard),
## then, built with -tags mutants, the tests that switch mutants on (in mutants_test.go
## files, named ...Mutant...; core/raft's testdata/*_mutant.txt scripts)
MUTANT_TESTS = ./core/raft/ ./core/node/ ./sim/
test:
	$(GO) test -count=1 -timeout 20m ./...
	$(GO) test -count=1 -timeout 20m -tags mutants -run 'Mutant|TestInteractions/_mutant$$' $(MUTANT_TESTS)

## lint: gofmt, go vet, staticcheck (installed on first use)
lint: $(STATICCHECK)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags mutants ./...
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags mutants ./...

$(STATICCHECK):
	$(GO) install honnef.co/go/tools/cmd/staticcheck@latest

fmt:
	gofmt -w $$(git ls-files '*.go')

## run: start picogo on its embedded default: one instance on 127.0.0.1:3301, data in ./picogo-data
## (set PICOGO_ADMIN_PASSWORD to give admin a password)
run: build
	./bin/picogo run

## sim: run the seeded simulator over SEEDS seeds starting at SEED
sim: build
	./bin/picogo sim --seeds $(SEEDS) --start $(SEED)

## sim-mutants: prove the simulator catches every known bug (at most 2000 seeds each);
## mutants exist only in bin/picogo-mutants, built with -tags mutants
sim-mutants:
	$(GO) build -tags mutants -o bin/picogo-mutants ./cmd/picogo
	./bin/picogo-mutants sim --mutants --seeds 2000

## sql-oracles: the SQL oracles run long (docs/sql-tests.md): TLP, NoREC and the SQLite
## differential on exec, the distributed property on plan, SQL_ORACLE_ITERATIONS cases
## each (default 20000) from SQL_ORACLE_SEED (default 1)
SQL_ORACLE_ITERATIONS ?= 20000
SQL_ORACLE_SEED       ?= 1
sql-oracles:
	SQL_ORACLE_ITERATIONS=$(SQL_ORACLE_ITERATIONS) SQL_ORACLE_SEED=$(SQL_ORACLE_SEED) \
	  $(GO) test -count=1 -timeout 2h -v -run 'TestTLP|TestNoREC|TestSQLiteDifferential|TestSQLiteCorpus|TestDistributedRandom' \
	  ./core/sql/oracles/ ./core/sql/plan/

## chaos: SIGKILL/SIGSTOP real instances for CYCLES cycles (default 100) under load, the global-table workload then the sharded one (--sharded); check linearizability and lost writes
chaos: build
	./bin/picogo chaos --cycles $(CYCLES)
	./bin/picogo chaos --sharded --cycles $(CYCLES)

## bench-sim: simulator speed (virtual seconds per wall second, events per second, seeds
## per minute); BASE=rev runs the simulator of git revision rev in turn with this one,
## as each runs (its own GOGC) and the code alone (both at GOGC=1000)
bench-sim:
	GO=$(GO) scripts/bench-sim $(BASE)

## fuzz: every fuzz target for FUZZTIME each (default 60s); a crasher is kept in testdata/fuzz
FUZZTIME ?= 60s
FUZZ_TARGETS = ./net/iproto:FuzzReadFrame ./net/iproto:FuzzDecodeRequest ./net/iproto:FuzzDecodeResponse \
	./net/tcp:FuzzReadHeader ./proc:FuzzDecode ./disk/simdisk:FuzzRecover ./disk/simdisk:FuzzDecodePayload
FUZZ_TARGETS += ./core/sql/value:FuzzArith ./core/sql/parse:FuzzParse ./core/sql/plan:FuzzPlan ./net/pgwire:FuzzServerInput
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

## bench: picogo against etcd (durable writes), Tarantool (iproto calls, SQL) and
## PostgreSQL (its wire protocol), and the simulator's speed, in one run (docs/BENCHMARKS.md);
## installs etcd-server, tarantool and postgresql when missing. The report goes to stdout
## and BENCH_OUT; BENCHFLAGS adds flags, e.g.
## make bench BENCHFLAGS='--duration 3s --rounds 1 --clients 1,16'
BENCH_OUT  ?= docs/BENCHMARKS.md.new
BENCHFLAGS ?=
bench: build
	@command -v etcd >/dev/null 2>&1 && command -v tarantool >/dev/null 2>&1 && \
	  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || scripts/install-bench-deps
	./bin/picogo bench --out $(BENCH_OUT) $(BENCHFLAGS)

## bench-go: every Go micro-benchmark (go test -bench)
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
