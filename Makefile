# linli — two commands: `make run` and `make test`. Everything else is here for developers.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
export PORT
KEYWORDS := -k _l -k N_ -k lazy_gettext -k lazy_ngettext:1,2 -k pgettext:1c,2 -k lazy_pgettext:1c,2 -k npgettext:1c,2,3
CATALOG_DIRS := core/translations $(wildcard plugins/*/translations)

.PHONY: install run test test-sqlite translations messages bench screenshots clean demo

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

install: $(VENV)/.installed translations

# Compile every catalog (core and each plugin) into .mo files.
translations: $(VENV)/.installed
	@for d in $(CATALOG_DIRS); do \
	  if ls $$d/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then $(BIN)/pybabel --quiet compile -d $$d -D messages || exit 1; fi; \
	done

# Re-extract messages and merge them into the catalogs (then translate the new entries).
messages: $(VENV)/.installed
	$(BIN)/pybabel --quiet extract -F babel.cfg $(KEYWORDS) --no-location --no-wrap -o core/translations/messages.pot core templates
	$(BIN)/pybabel --quiet update --ignore-obsolete --no-fuzzy-matching --no-wrap -i core/translations/messages.pot -d core/translations
	@for p in $(wildcard plugins/*/); do \
	  name=$$(basename $$p); \
	  if [ -d $$p/translations ]; then \
	    $(BIN)/pybabel --quiet extract -F babel.cfg $(KEYWORDS) --no-location --no-wrap -o $$p/translations/messages.pot $$p && \
	    $(BIN)/pybabel --quiet update --ignore-obsolete --no-fuzzy-matching --no-wrap -i $$p/translations/messages.pot -d $$p/translations; \
	  fi; \
	done

# Serve on 127.0.0.1:$(PORT) with a demo community (created on the first run).
run: install
	$(BIN)/linli init
	$(BIN)/linli demo
	$(BIN)/linli run --port $(PORT)

demo: install
	$(BIN)/linli init
	$(BIN)/linli demo

# The whole suite on SQLite, then on PostgreSQL when TEST_DATABASE_URL is set. Bytecode is
# written (__pycache__, ignored by git) even where the shell sets PYTHONDONTWRITEBYTECODE: every
# pytest process (the runner and each worker, on both passes) and every server a test starts
# would otherwise compile the sources and rewrite the test modules again (collecting the suite:
# 12.3 s of CPU without, 4.2 s with).
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -q -n 2 --dist loadfile
test: install
	bash .ci/test-deps
	env -u TEST_DATABASE_URL $(PYTEST)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== PostgreSQL: $$TEST_DATABASE_URL (the browser journeys ran above)"; \
	  $(PYTEST) --ignore=tests/browser || exit 1; \
	fi

test-sqlite: install
	env -u TEST_DATABASE_URL $(PYTEST)

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

# Screenshots of every key page in three languages, phone and desktop, for docs/screenshots.md.
screenshots: install
	bash .ci/test-deps
	$(BIN)/python -m tests.browser.make_screenshots

clean:
	rm -rf $(VENV) build *.egg-info
