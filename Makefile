# Every target makes its own virtualenv on first use, so each works on a fresh clone.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-stamp
# Non-Python tools the tests use (buf for proto lint), installed from npm into .tools/
TOOLS   := .tools
BUF_VERSION := 1.75.0
TOOLS_STAMP := $(TOOLS)/.installed-stamp

.PHONY: test demo serve proto proto-check bench bench-quick container-test clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test,dev,bench]'
	touch $(STAMP)

$(TOOLS_STAMP):
	npm install --silent --no-save --no-package-lock --prefix $(TOOLS) @bufbuild/buf@$(BUF_VERSION)
	touch $(TOOLS_STAMP)

## test: the whole test suite (what .ci/run calls)
test: $(STAMP) $(TOOLS_STAMP)
	PATH="$(abspath $(TOOLS))/node_modules/.bin:$$PATH" $(PY) -m pytest -q

## demo: the main job: a server on the embedded default plus the tutorial through the SDK
demo: $(STAMP)
	$(VENV)/bin/gradwire demo

## serve: just the server, on 127.0.0.1:50051
serve: $(STAMP)
	$(VENV)/bin/gradwire serve

## proto: regenerate the Python stubs (and typed .pyi) from proto/
proto: $(STAMP)
	PATH="$(abspath $(VENV))/bin:$$PATH" scripts/gen_proto.sh

## proto-check: fail when the committed stubs are stale
proto-check: $(STAMP)
	PATH="$(abspath $(VENV))/bin:$$PATH" scripts/gen_proto.sh --check

bench: $(STAMP)
	$(PY) -m bench.run

bench-quick: $(STAMP)
	$(PY) -m bench.run --quick

## container-test: the container test through podman, on a machine with no Docker engine (needs root)
container-test: $(STAMP)
	deploy/podman-local.sh

clean:
	rm -rf $(VENV) $(TOOLS) build *.egg-info .pytest_cache
