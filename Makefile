# The one entry point for building, testing and measuring; CI calls `make test`.
GO       ?= go
FUZZTIME ?= 30s
BENCHCOUNT ?= 10

.PHONY: all test vet lint fmt-check bench fuzz fuzz-short cover clean

all: test

## test: vet, then every package of every module with the race detector
test: vet
	$(GO) test -race -count=1 ./...

## vet (alias lint): gofmt and go vet
vet lint: fmt-check
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## bench: the token and middleware benchmarks, ready for benchstat
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCHCOUNT) . | tee bench.txt

## fuzz: the verifier fuzz target (FUZZTIME=30s by default)
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME) .

## cover: coverage summary of the core package
cover:
	$(GO) test -count=1 -coverprofile=cover.out .
	$(GO) tool cover -func=cover.out | tail -n 1

clean:
	rm -f cover.out bench.txt
