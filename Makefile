# Both entry points install what they need and are quick when already installed.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint clean bench test-system-packages

$(STAMP): pyproject.toml
	@command -v python3 >/dev/null || { echo "python3 is required"; exit 1; }
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/nomflow demo

lint: $(STAMP)
	$(VENV)/bin/ruff check workflows service tests bench
	$(VENV)/bin/mypy workflows

# The service tests also run on PostgreSQL: their fixture starts a throwaway server from the Debian
# package's binaries (initdb, pg_ctl), installed here once; nothing is started by make. Skipped when
# NOMFLOW_TEST_PG_URL names an existing server.
PG_BINARIES := $(wildcard /usr/lib/postgresql/*/bin/initdb /usr/local/bin/initdb /usr/local/pgsql/bin/initdb)
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

test-system-packages:
	@if [ -z "$$NOMFLOW_TEST_PG_URL" ] && [ -z "$(PG_BINARIES)" ] && ! command -v initdb >/dev/null 2>&1; then \
	  echo 'Installing the Debian postgresql package for the PostgreSQL half of the tests'; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql \
	    || { echo 'could not install postgresql (needs root or sudo)' >&2; exit 1; }; \
	fi

test: lint test-system-packages
	@# pytest exits 5 when it collected nothing: that must fail, never pass quietly.
	$(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	  if [ $$status -eq 5 ]; then echo 'pytest collected no tests' >&2; exit 1; fi; exit $$status

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

bench: $(STAMP)
	$(PY) bench/engine.py
