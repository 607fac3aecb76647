# The two commands a new machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run serve test install install-test system-deps-run system-deps-test translations i18n bench bench-orders bench-documents clean

run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	$(BIN)/flask run --host 127.0.0.1 --port 5000

## production-style server (put it behind the intranet's reverse proxy; see docs/deployment.md)
serve: install
	$(BIN)/flask db upgrade
	$(BIN)/flask analyze
	$(BIN)/gunicorn --workers $${WORKERS:-4} --bind $${BIND:-127.0.0.1:8000} --access-logfile - wsgi:app

## two workers (each its own SQLite file or PostgreSQL database); PYTEST_ARGS="-n 0 -k ..." for one.
## loadgroup: tests marked xdist_group (tests/test_multiworker.py's gunicorn) stay on one worker
PYTEST_ARGS ?= -n 2 --dist loadgroup
test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

install: system-deps-run $(VENV)/.installed translations
install-test: system-deps-test $(VENV)/.installed translations

system-deps-run:
	@scripts/system-deps.sh run
system-deps-test:
	@scripts/system-deps.sh test

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

translations: $(VENV)/.installed
	@$(BIN)/pybabel compile --statistics -d portal/translations 2>&1 | grep -v "^compiling" || true

## after changing user-facing strings: extract, merge into both catalogs, then translate zh
i18n: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o portal/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations --no-fuzzy-matching --ignore-obsolete
	$(BIN)/python scripts/fill_english.py portal/translations/en/LC_MESSAGES/messages.po

bench: install-test
	$(BIN)/python tests/bench/bench_customers.py

## Order pages at 5,000 orders (ORDERS=N to change): list, filters, detail, receivables, targets, my day
bench-orders: install-test
	$(BIN)/python tests/bench/bench_orders.py

## PDF documents: contract rendering, 50 delivery notes, re-download, memory over 300 renderings
bench-documents: install-test
	$(BIN)/python tests/bench/bench_documents.py

## Load: gunicorn (BENCH_WORKERS=4) and 8 clients over the main pages at 10,000 customers / 100,000 orders;
## BENCH_CUSTOMERS, BENCH_ORDERS, BENCH_SECONDS (per page), BENCH_REUSE=1, BENCH_WRITE_INTERVAL, PORTAL_BENCH_DATABASE_URL (see the script)
.PHONY: bench-load
bench-load: install-test
	$(BIN)/python tests/bench/bench_load.py

## Scale: each page's time at 1,000 orders against 100,000 in-process (target: within 1.5×); same knobs
.PHONY: bench-scale
bench-scale: install-test
	$(BIN)/python tests/bench/bench_scale.py

## Database faults under load: SQLite locked by another process, our own PostgreSQL cluster restarted (fast,
## immediate); 503s, no 500, recovery time, same workers, data checked. BENCH_FAULTS=pg-fast,... (see the script)
.PHONY: bench-faults
bench-faults: install-test
	$(BIN)/python tests/bench/bench_faults.py

## Soak: 10 minutes of moderate mixed load (reads, PDFs, writes) on 4 workers; RSS per worker every 30 s, PASS when
## flat; SOAK_SECONDS, SOAK_CLIENTS (4), SOAK_THINK (0.5 s), SOAK_CUSTOMERS/SOAK_ORDERS, PORTAL_BENCH_DATABASE_URL (see the script)
.PHONY: bench-soak
bench-soak: install-test
	$(BIN)/python tests/bench/bench_soak.py

clean:
	rm -rf $(VENV) .pytest_cache
