# The one entry point: `make run`, `make test`, `make lint`, `make bench`.
# CPython 3.13 where the machine has it (pyenv's, or on PATH): of the interpreters here it lets
# the fewest known interpreter-bug reproducers through (docs/isolation.md); else python3.
PYTHON ?= $(firstword $(wildcard /root/.pyenv/versions/3.13*/bin/python3) \
                      $(shell command -v python3.13) python3)
PYVER := $(shell $(PYTHON) -c 'import sys; print(sys.version.split()[0])')
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(BIN)/.installed-$(PYVER)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint bench redis-server clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,lint]'
	touch $@

# Debian's redis-server: the embedded default for `make run` and the tests' private server.
redis-server:
	@command -v redis-server >/dev/null || { \
	  echo "installing Debian's redis-server"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends redis-server >/dev/null; }

run: $(STAMP)
	@if [ -z "$$ACTIONS_REDIS_URL" ]; then $(MAKE) --no-print-directory redis-server; fi
	$(BIN)/actions-runtime serve

test: $(STAMP) redis-server
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check runtime sandbox worker tests bench
	$(BIN)/mypy runtime sandbox worker

bench: $(STAMP) redis-server
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var build *.egg-info
