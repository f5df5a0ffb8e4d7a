# make run   - install if needed, migrate, translations, static files, demo data, then the web
#              server, a Celery worker and beat at http://127.0.0.1:$(PORT) (Ctrl-C stops all)
# make test  - install if needed, lint, migrations check, translations, then pytest
#              (PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set, SQLite otherwise)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-k orders -x"`.
PYTEST_ARGS ?=

.PHONY: help install messages lint test run clean

help:
	@echo "make run    start the shop at http://127.0.0.1:$(PORT)/ with worker and beat"
	@echo "make test   lint, check migrations and run the test suite"
	@echo "make lint   ruff and the missing-migrations check only"

install:
	@scripts/bootstrap.sh

messages: install
	@STRICT=1 DJANGO_SETTINGS_MODULE=config.settings.dev scripts/compilemessages.sh

lint: install
	@echo "==> ruff check"
	$(BIN)/ruff check .
	@echo "==> Checking for missing migrations"
	DJANGO_SETTINGS_MODULE=config.settings.dev $(BIN)/python manage.py makemigrations --check --dry-run

# pytest exits non-zero (5) when it collects no tests; nothing here masks that. Plain pytest:
# pytest-xdist (-n 2) was measured and did not speed this suite up (it works, with one SQLite
# file per xdist worker), so add `PYTEST_ARGS="-n 2"` yourself on a bigger machine.
test: lint messages
	@echo "==> pytest ($(if $(DATABASE_URL),PostgreSQL,SQLite)$(if $(REDIS_URL), + Redis,))"
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/pytest $(PYTEST_ARGS)

run:
	@PORT=$(PORT) scripts/run.sh

clean:
	rm -rf var/staticfiles var/broker var/celerybeat-schedule* .pytest_cache .ruff_cache
