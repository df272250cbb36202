# The one entry point for building, testing and measuring; CI calls it.
GO          ?= go
FUZZTIME    ?= 30s
BENCHCOUNT  ?= 10
BENCHSTAT   ?= benchstat
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
# The version every library module is released at next (see RELEASING.md).
RELEASE     ?= v0.1.0
# Every module of the workspace (go.work lists them).
MODULES     := $(shell $(GO) list -m -f '{{.Dir}}' 2>/dev/null)

.PHONY: all test test-modules test-stress vet lint fmt-check size-check staticcheck \
	release-check bench bench-remote interop fuzz cover cover-modules clean

all: test

## test: vet, then every package of every module with the race detector,
## against throwaway PostgreSQL and Redis servers on loopback; every module
## runs, and the end says which failed
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

## test-stress: make test while both cores are kept busy by a bounded CPU
## hog, then two make test runs at once (their servers on other ports)
test-stress:
	./scripts/test-stress.sh

## vet: gofmt, go vet on every module, and no tracked file over 1 MiB
## outside testdata/
vet: fmt-check size-check
	@for d in $(MODULES); do (cd "$$d" && $(GO) vet ./...) || exit 1; done

## lint: vet, then staticcheck (pinned) on every module
lint: vet staticcheck

staticcheck:
	@for d in $(MODULES); do echo "== staticcheck $$d"; (cd "$$d" && $(STATICCHECK) ./...) || exit 1; done

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

size-check:
	@big=$$(git ls-files -z | xargs -0 -r stat -c '%s %n' 2>/dev/null | \
		awk '$$1 > 1048576 && $$2 !~ /(^|\/)testdata\// { print }'); \
	if [ -n "$$big" ]; then echo "tracked files over 1 MiB outside testdata/:"; echo "$$big"; exit 1; fi

## release-check: every library module, laid out as a module proxy at
## $(RELEASE) from the committed tree, got alone in a fresh module outside
## the repository (GOWORK=off, empty module cache), built and vetted
release-check:
	cd scripts/releasecheck && $(GO) run . -repo ../.. -version $(RELEASE)

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

## fuzz: the verifier and claim-name fuzz targets (FUZZTIME=30s each by
## default); after changing expected results,
## `go test -run '^TestFuzzCorpus$$' -update-corpus .` rewrites the committed
## seeds
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME) .
	$(GO) test -run '^$$' -fuzz '^FuzzPayloadMembers$$' -fuzztime $(FUZZTIME) .

## cover: statement coverage per package of every module, against the test
## servers
cover:
	./scripts/with-test-servers.sh $(MAKE) --no-print-directory cover-modules

cover-modules:
	@for d in $(MODULES); do (cd "$$d" && $(GO) test -count=1 -cover ./... 2>&1 | grep -v 'no test files'); done

clean:
	rm -f cover.out bench.txt bench-remote.txt
