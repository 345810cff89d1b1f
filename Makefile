# Two commands for a newcomer: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# production's dependencies only (requirements.txt, as the image installs them), on the same
# interpreter as $(VENV): `make bench` measures the start-up in it as well (docs/benchmarks.md)
PRODUCTION_VENV := .venv-production
PORT ?= 8000
DEMO_PATIENTS ?= 300
BENCH_PATIENTS ?= 20000
BENCH_USERS ?= 20,50
# then upwards by BENCH_USERS_STEP users until p95 reaches 200 ms, at most BENCH_USERS_MAX (the capacity curve)
BENCH_USERS_STEP ?= 20
BENCH_USERS_MAX ?= 150
BENCH_ONLY ?= startup,survival,export,import,web

.PHONY: demo test lint migrate seed serve bench clean image

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

$(PRODUCTION_VENV)/.runtime: requirements.txt | $(BIN)/python
	rm -rf $(PRODUCTION_VENV)
	$(BIN)/python -m venv $(PRODUCTION_VENV)
	$(PRODUCTION_VENV)/bin/pip install --quiet --upgrade pip
	$(PRODUCTION_VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

## Set up (venv, migrations, demo cohort, users) and serve on http://127.0.0.1:$(PORT)
demo: $(VENV)/.runtime
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo --patients $(DEMO_PATIENTS)
	@echo "Serving on http://127.0.0.1:$(PORT)  (Ctrl-C to stop)"
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## Run the checks, then the whole test suite (SQLite unless DATABASE_URL is set)
test: lint
	mkdir -p var
	$(BIN)/pytest --validation-report=docs/validation

## Static checks: lint, format, import layers (docs/architecture.md), types, migrations
lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check --quiet .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/python manage.py makemigrations --check --dry-run

## Every benchmark on a database of its own (<DATABASE_URL's name>_b$(BENCH_PATIENTS), seeded once),
## figures to bench/results/bench-$(BENCH_PATIENTS).json and docs/benchmarks.md (PostgreSQL only)
bench: $(VENV)/.dev $(PRODUCTION_VENV)/.runtime
	$(BIN)/python bench/run_all.py --patients $(BENCH_PATIENTS) --users $(BENCH_USERS) \
		--users-step $(BENCH_USERS_STEP) --users-max $(BENCH_USERS_MAX) --only $(BENCH_ONLY) \
		--production-python $(PRODUCTION_VENV)/bin/python

## The production image, with the commit it holds baked in (docs/deployment.md)
image:
	docker build --build-arg GIT_SHA=$$(git rev-parse HEAD) -t il2ld-registry:latest .

clean:
	rm -rf var staticfiles
