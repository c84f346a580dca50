# The one entry point: `make run`, `make test`, `make lint`, `make bench`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint bench redis-server clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,lint]'
	touch $@

# Debian's redis-server: the embedded default for `make run` and the tests' private server.
redis-server:
	@command -v redis-server >/dev/null || { \
	  echo "installing Debian's redis-server"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends redis-server >/dev/null; }

run: $(BIN)/.installed
	@if [ -z "$$ACTIONS_REDIS_URL" ]; then $(MAKE) --no-print-directory redis-server; fi
	$(BIN)/actions-runtime serve

test: $(BIN)/.installed redis-server
	$(BIN)/pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check runtime sandbox worker tests bench
	$(BIN)/mypy runtime sandbox worker

bench: $(BIN)/.installed redis-server
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var build *.egg-info
