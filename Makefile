# ransomeye-tuner. `make plan` shows what the tuner would do on this machine,
# changing nothing; `make test` runs the tests (root and loop devices make it
# run the black-box tests too; without them they skip and say why).

GO       ?= go
BIN      := bin
VERSION  ?= $(shell cat VERSION 2>/dev/null || echo 0.1.0)
LDFLAGS  := -s -w -X github.com/ransomeye/ransomeye-tuner/internal/version.Version=$(VERSION)
# -buildmode=pie: position-independent executables, as distributions build
# theirs (Fedora's and Debian's hardening); still CGO_ENABLED=0 (no libc,
# only the dynamic loader, which relocates them).
GOFLAGS_BUILD := -trimpath -buildmode=pie -ldflags '$(LDFLAGS)'

.PHONY: all build plan test vet fmt integration integration-base demo package package-check man bench clean

all: build

build:
	CGO_ENABLED=0 $(GO) build $(GOFLAGS_BUILD) -o $(BIN)/ransomeye-tuner-generator ./generator
	CGO_ENABLED=0 $(GO) build $(GOFLAGS_BUILD) -o $(BIN)/ransomeye-tuner ./activator

# The main job: print the plan for this machine. Read-only.
plan: build
	$(BIN)/ransomeye-tuner plan

# Every .go file of the module, build tags or not, from go list (not git: a
# plain copy of the tree has no .git, and gofmt without files reads stdin).
GOFILES := $(GO) list -e -tags vmtest -f '{{$$d := .Dir}}{{range .GoFiles}}{{$$d}}/{{.}} {{end}}{{range .TestGoFiles}}{{$$d}}/{{.}} {{end}}{{range .XTestGoFiles}}{{$$d}}/{{.}} {{end}}{{range .IgnoredGoFiles}}{{$$d}}/{{.}} {{end}}' ./...

# gofmt, go vet, and both go.mod files tidy (the product's, and tools/go.mod
# for nfpm and go-md2man, which `make package` and `make man` run): a
# dependency the binaries do not use, or one marked indirect that they import,
# fails here. The binaries must link nothing from testkit/ (test harnesses
# and fakes).
vet:
	@files=$$($(GOFILES)) && [ -n "$$files" ] || { echo "vet: go list found no Go files" >&2; exit 1; }; \
	  bad=$$(gofmt -l $$files </dev/null) || exit 1; \
	  [ -z "$$bad" ] || { echo "gofmt needed:"; echo "$$bad"; exit 1; }
	@deps=$$($(GO) list -deps ./activator ./generator) || exit 1; \
	  test=$$(echo "$$deps" | grep '/testkit/') ; \
	  [ -z "$$test" ] || { echo "vet: the binaries link test-only packages:"; echo "$$test"; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags vmtest ./integration/...
	$(GO) mod tidy -diff || { echo "vet: go.mod is not tidy: run 'go mod tidy'" >&2; exit 1; }
	cd tools && $(GO) mod tidy -diff || { echo "vet: tools/go.mod is not tidy: run 'cd tools && go mod tidy'" >&2; exit 1; }

test: build vet
	$(GO) test -count=1 ./...

fmt:
	gofmt -w $$($(GOFILES)) </dev/null

# Boot tests in real VMs (qemu, TCG). See integration/README.md.
# The image gets the .deb that `make package` built (dpkg -i in the image).
# SUITE is the guest's Debian release: bookworm (systemd 252, every case),
# bullseye (247) or trixie (257) (the cases marked for every suite); the base
# image is cached per suite. CASES, when set, is a regular expression of case
# names to boot (e.g. CASES='01_|03_'); unset, every case of the suite boots.
SUITE ?= bookworm
CASES ?=
# The whole suite's time limit (go test -timeout): an hour fits a quiet CI
# machine; a host shared with other work needs more (SUITE_TIMEOUT=3h).
SUITE_TIMEOUT ?= 60m
integration: build package
	integration/deps.sh
	RANSOMEYE_SUITE=$(SUITE) RANSOMEYE_DEB=$(CURDIR)/dist/ransomeye-tuner_$(VERSION)_amd64.deb \
	  $(GO) test -count=1 -tags vmtest -timeout $(SUITE_TIMEOUT) -v -run 'TestBoot$(if $(CASES),/($(CASES)))' ./integration/...

# Only the cached base image of SUITE, or with LAYER= that package layer
# (suricata, postgresql) on its suite's base (CI builds the next suites'
# bases and the layers in the background while the first suite boots).
LAYER ?=
integration-base:
	integration/deps.sh
	RANSOMEYE_SUITE=$(SUITE) RANSOMEYE_LAYER=$(LAYER) $(GO) test -count=1 -tags vmtest -timeout 30m -run 'TestBase$$' -v ./integration/...

# One boot of case 1 on a fresh machine, ending with a readable summary.
demo: build package
	integration/deps.sh
	RANSOMEYE_DEB=$(CURDIR)/dist/ransomeye-tuner_$(VERSION)_amd64.deb \
	  $(GO) test -count=1 -tags vmtest -timeout 20m -run 'TestBoot/01_healthy' -v ./integration/... -demo

# dist/ransomeye-tuner_$(VERSION)_amd64.deb and dist/ransomeye-tuner-$(VERSION)-1.x86_64.rpm
# (nfpm, scripts/nfpm.yaml); `make package-check` runs lintian and rpm on them.
package: build
	GO=$(GO) scripts/package.sh $(VERSION)

package-check: package
	scripts/package-check.sh $(VERSION)

# Man pages from docs/man/*.md into dist/man (`man -l dist/man/ransomeye-tuner.8`).
man:
	GO=$(GO) scripts/man.sh dist/man $(VERSION)

# The benchmarks into BENCHMARKS.md (scripts/bench.sh). It names the Debian
# packages it lacks and stops; `make bench INSTALL=1` (root) installs them.
bench: build
	GO=$(GO) INSTALL=$(INSTALL) scripts/bench.sh

clean:
	rm -rf $(BIN) dist
