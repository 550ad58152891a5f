# Beaver: two commands do all the set-up on a fresh Debian machine.
#   make run   installs what is missing, builds, and serves on a managed PostgreSQL
#   make test  installs what is missing and runs every test on real PostgreSQL

GO        ?= go
BIN       := bin/beaver
VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
DATA_DIR  ?= ./var
ADDR      ?= 127.0.0.1:8080
# A synthetic region loaded in the background on first start (0: none).
DEMO_PERSONS ?= 50000
# Debian packages the project needs: the PostgreSQL server for the managed
# cluster and the tests; Chromium, fonts and poppler for pages and PDFs.
DEB_PKGS  := postgresql chromium fonts-dejavu-core poppler-utils

.PHONY: run test build deps citus bench lint fuzz validate clean

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/beaver

# deps installs the missing Debian packages when run as root, and otherwise
# names them and stops.
deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	  else \
	    echo "missing Debian packages:$$missing"; \
	    echo "install them as root: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

# citus builds and installs the Citus extension for the scale-out tests
# (engine/scaleout, schema/pgtest/citustest) when it is missing: Citus is
# not in Debian's packages, so it is built from the pinned source in
# BEAVER_CITUS_SRC (about 7 minutes on 2 cores, once per machine). As root,
# as deps installs packages; `make run` never needs it.
BEAVER_CITUS_SRC ?= $(firstword $(wildcard ../shared/vendor/citus /work/shared/vendor/citus))
citus: deps
	@lib=$$(ls /usr/lib/postgresql/*/lib/citus.so 2>/dev/null | head -n 1); \
	if [ -z "$$lib" ]; then \
	  if [ -z "$(BEAVER_CITUS_SRC)" ] || [ ! -x "$(BEAVER_CITUS_SRC)/build-citus.sh" ]; then \
	    echo "Citus is not installed and no source was found: set BEAVER_CITUS_SRC to the folder of build-citus.sh"; exit 1; \
	  fi; \
	  if [ "$$(id -u)" != 0 ]; then echo "Citus is not installed: run 'make citus' as root"; exit 1; fi; \
	  apt-get update -q >/dev/null; "$(BEAVER_CITUS_SRC)/build-citus.sh"; \
	fi

run: deps build
	$(BIN) serve --data-dir $(DATA_DIR) --addr $(ADDR) --demo-persons $(DEMO_PERSONS)

# Tests start their own managed PostgreSQL clusters (one per test binary),
# unless TEST_DATABASE_URL names a server to use. The scale-out tests (a
# Citus cluster of three servers and a 20,000-person region, twice) run
# after the others, so that they do not starve the browser tests of CPU.
test: deps citus
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 18m $$($(GO) list ./... | grep -v /engine/scaleout)
	$(GO) test -count=1 -timeout 18m ./engine/scaleout

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3x ./...

# validate generates synthetic regions with several seeds and planted values,
# runs the example studies on each (on a managed PostgreSQL in $(DATA_DIR),
# one database per region) and writes docs/validation.md. About 3 minutes a
# region at the default size.
VALIDATE_SEEDS   ?= 1,2,3
VALIDATE_PERSONS ?= 50000
validate: deps build
	$(BIN) validate --data-dir $(DATA_DIR) --seeds $(VALIDATE_SEEDS) --persons $(VALIDATE_PERSONS) --out docs/validation.md

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzReadCSV -fuzztime 30s ./stats/

clean:
	rm -rf bin
