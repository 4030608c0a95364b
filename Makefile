# The two commands: `make run` serves http://127.0.0.1:8000 (SQLite), `make test` runs the suite.
# Both install what they need: a virtualenv with the package, Tesseract and fonts (apt-get, as
# root), and for tests the npm FHIR validators.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
STAMP  := $(VENV)/.installed
NPM_STAMP := tests/validators/node_modules/.installed
APT_PACKAGES := tesseract-ocr tesseract-ocr-eng fonts-dejavu-core fonts-liberation fonts-freefont-ttf

.PHONY: run test install system-deps validators lint train evaluate bench clean

run: install system-deps
	$(BIN)/fhir-gateway serve --host $(HOST) --port $(PORT)

test: install system-deps validators
	$(BIN)/ruff check .
	$(BIN)/pytest -q

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian packages: installed when missing and we are root; otherwise say what to install.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Please install as root: apt-get install$$missing"; exit 1; \
	  fi; \
	fi

validators: $(NPM_STAMP)

$(NPM_STAMP): tests/validators/package.json tests/validators/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	  else echo "Please install Node.js and npm (apt-get install nodejs npm)"; exit 1; fi; }
	cd tests/validators && npm ci --no-audit --no-fund --silent
	touch $(NPM_STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check fhir_gateway

train: install
	$(BIN)/python -m models.train

evaluate: install
	$(BIN)/python -m models.evaluate

bench: install system-deps
	$(BIN)/python bench/api_throughput.py

clean:
	rm -rf $(VENV) tests/validators/node_modules .pytest_cache
