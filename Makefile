# The one entry point for building, testing and measuring; CI calls `make test`.
GO         ?= go
FUZZTIME   ?= 30s
BENCHCOUNT ?= 10
BENCHSTAT  ?= benchstat
# Every module of the workspace (the root, and the store modules once go.work lists them).
MODULES    := $(shell $(GO) list -m -f '{{.Dir}}' 2>/dev/null)

.PHONY: all test test-modules vet lint fmt-check bench bench-remote interop fuzz cover clean

all: test

## test: vet, then every package of every module with the race detector,
## against throwaway PostgreSQL and Redis servers on loopback
test: vet
	./scripts/with-test-servers.sh $(MAKE) --no-print-directory test-modules

# Every module runs even when an earlier one fails; the end prints one line
# per module and the target fails if any did.
test-modules:
	@summary=""; failed=0; \
	for d in $(MODULES); do \
		echo "== go test $$d"; \
		if (cd "$$d" && $(GO) test -race -count=1 ./...); then \
			summary="$$summary\nok   $$d"; \
		else \
			summary="$$summary\nFAIL $$d"; failed=1; \
		fi; \
	done; \
	printf "== modules:$$summary\n"; \
	exit $$failed

## vet (alias lint): gofmt and go vet on every module
vet lint: fmt-check
	@for d in $(MODULES); do (cd "$$d" && $(GO) vet ./...) || exit 1; done

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## bench: the token and middleware benchmarks, ready for benchstat
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCHCOUNT) . | tee bench.txt

## bench-remote: Verify through a warm jwks.RemoteKeySet against the local
## KeySet on the same token, as a benchstat table (bar: remote <= 1.05x local)
bench-remote:
	$(GO) test -run '^$$' -bench 'VerifyRemote|VerifyLocal' -benchmem -count $(BENCHCOUNT) ./jwks/ | tee bench-remote.txt
	$(BENCHSTAT) -col '.name@(VerifyLocal VerifyRemote)' bench-remote.txt

## interop: the jose (Node.js) interoperability tests alone, verbose; make
## test runs them too
interop:
	$(GO) test -count=1 -v ./interop/

## fuzz: the verifier fuzz target (FUZZTIME=30s by default); after changing
## expected results, `go test -run '^TestFuzzCorpus$$' -update-corpus .`
## rewrites the committed seeds
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME) .

## cover: coverage summary of the core package
cover:
	$(GO) test -count=1 -coverprofile=cover.out .
	$(GO) tool cover -func=cover.out | tail -n 1

clean:
	rm -f cover.out bench.txt bench-remote.txt
