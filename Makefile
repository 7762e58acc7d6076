# PeerPath: `make run` to try it, `make test` to check it.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format schema install install-dev migrate seed clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "PeerPath needs Python 3.11 ($(PYTHON) not found; set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/python manage.py migrate --no-input

seed: migrate
	$(BIN)/python manage.py seed_demo --site-url http://$(HOST):$(PORT)

# Serves the site and runs the task worker beside it; Ctrl-C, or SIGTERM to make or to its
# whole process group (as a process manager sends), stops both within seconds.
# - The worker starts in a session of its own (os.setsid, then exec), so a signal sent to the
#   whole group reaches this shell but not the worker's processes. The shell then asks the
#   worker's main process alone to stop, and django-q2 stops the cluster in order. Were SIGTERM
#   to reach the cluster's sentinel too, it would die at once and the main process would wait
#   for it forever.
# - runserver runs in the background and the shell waits for it: a shell runs a trap only
#   between commands, so with runserver in the foreground a SIGTERM to the shell alone would
#   wait for runserver, which was never told to stop.
# - The trap ignores further signals while it waits, so the worker is asked once.
# - django-q2's cluster now and then never finishes stopping (its signal handler can deadlock);
#   after WORKER_STOP_SECONDS it is killed, all its processes at once. Nothing is lost: a text
#   being sent is reconciled by the next sweep, as after any killed worker.
WORKER_STOP_SECONDS ?= 10
WORKER ?= manage.py qcluster
run: seed
	@echo "PeerPath on http://$(HOST):$(PORT)/admin/ (Ctrl-C stops the site and the worker)"
	@$(BIN)/python -c 'import os, sys; os.setsid(); os.execv(sys.executable, [sys.executable, *sys.argv[1:]])' \
		$(WORKER) & worker=$$!; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT) & web=$$!; \
	stop_worker() { \
		kill $$worker 2>/dev/null; \
		( sleep $(WORKER_STOP_SECONDS); \
		  echo "The task worker did not stop within $(WORKER_STOP_SECONDS) s: killing it."; \
		  kill -9 -$$worker 2>/dev/null ) & watchdog=$$!; \
		wait $$worker; kill -9 $$watchdog 2>/dev/null; wait; \
	}; \
	trap 'trap "" INT TERM; kill $$web 2>/dev/null; stop_worker; exit 0' INT TERM; \
	wait $$web; status=$$?; \
	trap "" INT TERM; stop_worker; exit $$status

test: install-dev
	$(BIN)/pytest -n 2

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Writes the API's OpenAPI schema to api/openapi.yaml; a test keeps that copy current, so
# every change of the API's contract shows up as a reviewed diff.
schema: install
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file api/openapi.yaml

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-shm db.sqlite3-wal staticfiles
