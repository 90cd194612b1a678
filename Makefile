# 网上技术市场 — developer commands. GNU make; needs only Python 3.11+ on the machine.
#
#   make run     install, migrate the SQLite database, load the demo data, serve http://127.0.0.1:8000
#   make test    the whole suite (integration tests skip unless DATABASE_URL/REDIS_URL name real services)
#   make help    everything else
#
# Variables: PYTHON (interpreter that creates .venv), PYTEST_ARGS (e.g. "-n auto", "-k verification"),
# ADDR (runserver address), REDIS_URL (worker/beat broker).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
MANAGE := $(BIN)/python manage.py
PYTEST_ARGS ?=
ADDR ?= 127.0.0.1:8000
# Services of `make test-integration` when the environment names none (the CI machine's layout).
INTEGRATION_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/techmarket
INTEGRATION_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: help install messages makemessages migrate demo run test test-integration lint format check \
	worker beat collectstatic clean distclean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

# --- environment -------------------------------------------------------------------------------------------

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11+ is needed; run e.g. 'make install PYTHON=python3.12'." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Re-installs whenever pyproject.toml changes (new or bumped dependencies).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(STAMP) messages ## create .venv, install the project with its dev tools, compile translations

# Babel compiles the gettext catalogues, so GNU gettext is only needed to *extract* messages (makemessages).
# pybabel skips a catalogue whose header is still marked fuzzy and exits 0; the check after it turns that,
# and any other catalogue left without a fresh .mo, into an error instead of untranslated pages.
messages: $(STAMP) ## compile locale/*/LC_MESSAGES/*.po to .mo
	@shopt -s nullglob; po_files=(locale/*/LC_MESSAGES/*.po); \
	if [ $${#po_files[@]} -eq 0 ]; then echo "messages: no .po catalogues under locale/ yet, nothing to compile"; exit 0; fi; \
	for domain in $$(for po in "$${po_files[@]}"; do basename "$$po" .po; done | sort -u); do \
		$(BIN)/pybabel compile --statistics -d locale -D "$$domain" || exit 1; \
	done; \
	for po in "$${po_files[@]}"; do \
		mo="$${po%.po}.mo"; \
		if [ ! -f "$$mo" ] || [ "$$mo" -ot "$$po" ]; then \
			echo "messages: $$po was not compiled (is its header still marked '#, fuzzy'?)" >&2; exit 1; \
		fi; \
	done

makemessages: $(STAMP) ## extract messages into the .po catalogues (needs GNU gettext)
	@command -v xgettext >/dev/null || { echo "makemessages needs GNU gettext (apt-get install gettext)." >&2; exit 1; }
	$(MANAGE) makemessages -l zh_Hans -l en --ignore '.venv/*' --ignore 'staticfiles/*' --ignore 'media/*'
	@# Babel's reader is lenient; GNU msgfmt is the strict syntax and placeholder check, since it is here anyway.
	@for po in locale/*/LC_MESSAGES/*.po; do msgfmt --check -o /dev/null "$$po" || exit 1; done

# --- database and demo -------------------------------------------------------------------------------------

migrate: install ## apply migrations (SQLite db.sqlite3 unless DATABASE_URL is set)
	$(MANAGE) migrate --noinput

demo: migrate ## load the demo market (idempotent) and print its logins
	$(MANAGE) seed_demo

# DEBUG is on by default, so whitenoise serves static files straight from the app and static/ directories
# (WHITENOISE_USE_FINDERS follows DEBUG): no collectstatic needed. No broker is set, so Celery runs eagerly.
run: demo ## install, migrate, seed the demo data, then runserver on $(ADDR)
	@echo "Serving on http://$(ADDR)/  (admin: http://$(ADDR)/admin/, API: http://$(ADDR)/api/)"
	$(MANAGE) runserver $(ADDR)

# --- quality -----------------------------------------------------------------------------------------------

# One pytest run over the whole suite, integration tests included (they skip without services). Plain, not
# -n auto: on the 2-core CI machine xdist saved little (294 tests: SQLite 18 s -> 16 s, PostgreSQL+Redis 32 s
# -> 24 s) for a less readable log; PYTEST_ARGS="-n auto" works when wanted (worker tests use a queue of their
# own). Exit code 5 (no tests collected) fails the target like any other failure.
test: install ## run the whole test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Runs against the environment's DATABASE_URL/REDIS_URL, else the local defaults above; a skipped test fails
# the run (REQUIRE_INTEGRATION_TESTS), since asking for integration tests and skipping them proves nothing.
test-integration: install ## integration tests against real PostgreSQL and Redis (local defaults)
	DATABASE_URL="$${DATABASE_URL:-$(INTEGRATION_DATABASE_URL)}" REDIS_URL="$${REDIS_URL:-$(INTEGRATION_REDIS_URL)}" \
		REQUIRE_INTEGRATION_TESTS=1 $(BIN)/python -m pytest -m integration -rs -v $(PYTEST_ARGS)

lint: $(STAMP) ## ruff check and ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## ruff: fix what can be fixed, then format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: install ## Django system checks and missing migrations
	$(MANAGE) check
	$(MANAGE) makemigrations --check --dry-run

# --- background processes ----------------------------------------------------------------------------------

# Start the web process with the same REDIS_URL (e.g. `REDIS_URL=redis://127.0.0.1:6379/0 make run`),
# otherwise it runs tasks eagerly itself and the worker receives nothing.
worker: install ## Celery worker on REDIS_URL (default redis://127.0.0.1:6379/0)
	REDIS_URL="$${REDIS_URL:-redis://127.0.0.1:6379/0}" $(BIN)/celery -A marketplace worker --loglevel=INFO

beat: install ## Celery beat (periodic jobs of CELERY_BEAT_SCHEDULE) on REDIS_URL
	REDIS_URL="$${REDIS_URL:-redis://127.0.0.1:6379/0}" $(BIN)/celery -A marketplace beat --loglevel=INFO \
		--schedule=$(VENV)/celerybeat-schedule

collectstatic: install ## gather static files into staticfiles/ (production; DEBUG serves them directly)
	$(MANAGE) collectstatic --noinput

# --- cleaning ----------------------------------------------------------------------------------------------

clean: ## remove caches and build output (keeps .venv, the database and uploaded files)
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	find locale -name '*.mo' -delete
	rm -rf staticfiles .pytest_cache .ruff_cache build *.egg-info

distclean: clean ## also remove .venv, db.sqlite3 and media/
	rm -rf $(VENV) db.sqlite3 media
