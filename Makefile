# Both entry points install what they need and are quick when already installed.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint clean bench test-system-packages translations

$(STAMP): pyproject.toml
	@command -v python3 >/dev/null || { echo "python3 is required"; exit 1; }
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# Browser parts (bpmn-js for the diagram, swagger-ui for the API docs) come from the npm registry:
# `npm ci` installs package-lock.json into node_modules (never committed), again when the lock changes.
NODE_STAMP := node_modules/.package-lock.json

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

run: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/nomflow demo

lint: $(STAMP)
	$(VENV)/bin/ruff check workflows service tests bench
	$(VENV)/bin/mypy workflows service

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
	@# Documents: LibreOffice renders the PDF from the DOCX, in Liberation Serif (Times New Roman's
	@# metrics, every Vietnamese glyph); poppler's pdftotext/pdftoppm read the PDFs back in the tests.
	@if ! command -v soffice >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1 || \
	    [ ! -f /usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf ]; then \
	  echo 'Installing LibreOffice Writer, Liberation fonts and poppler-utils for the documents'; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    libreoffice-writer-nogui fonts-liberation2 poppler-utils \
	    || { echo 'could not install the document packages (needs root or sudo)' >&2; exit 1; }; \
	fi
	@# PKCS#11 signing is tested on a SoftHSM2 token (tests/documents/test_pkcs11_signing.py).
	@if [ ! -f /usr/lib/softhsm/libsofthsm2.so ] || ! command -v softhsm2-util >/dev/null 2>&1; then \
	  echo 'Installing the Debian softhsm2 package for the PKCS#11 signing tests'; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends softhsm2 \
	    || { echo 'could not install softhsm2 (needs root or sudo)' >&2; exit 1; }; \
	fi
	@# The browser tests (tests/web) drive Debian's Chromium; `playwright install` cannot download here.
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo 'Installing the Debian chromium package for the browser tests'; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium \
	    || { echo 'could not install chromium (needs root or sudo)' >&2; exit 1; }; \
	fi

test: lint test-system-packages $(NODE_STAMP)
	@# pytest exits 5 when it collected nothing: that must fail, never pass quietly.
	$(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	  if [ $$status -eq 5 ]; then echo 'pytest collected no tests' >&2; exit 1; fi; exit $$status

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Re-extract the pages' messages (Vietnamese source text) and merge them into the English catalogue;
# the app compiles the catalogue itself at start.
# The use cases' error messages are Vietnamese literals passed to these exceptions; the pages show
# them through the catalogue, so they are extracted like gettext calls.
ERROR_KEYWORDS := -k Forbidden -k Conflict -k InvalidInput -k NotFound -k catalogued

translations: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k lazy_gettext $(ERROR_KEYWORDS) --no-location --sort-output \
	  -o service/translations/messages.pot .
	$(VENV)/bin/pybabel update -N -i service/translations/messages.pot -d service/translations -w 100

bench: $(STAMP)
	$(PY) bench/engine.py
