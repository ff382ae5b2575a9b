# Thin targets over scripts/: see README.md.
BOOK  ?= book
BUILD ?= _build
VENV  ?= .venv
PY    := $(VENV)/bin/python
BUILD_CMD = $(PY) -m scripts.build --book $(BOOK) --build $(BUILD)

.DEFAULT_GOAL := all
.PHONY: all html pdf epub test check report serve bench clean setup system system-test system-check lint

all: setup
	$(BUILD_CMD) html pdf epub

html pdf epub: setup
	$(BUILD_CMD) $@

# --- setup: system packages (when missing), the venv, pinned Python packages ---------
setup: system $(VENV)/.installed

system:
	@bash scripts/setup-system.sh build

system-test:
	@bash scripts/setup-system.sh test

system-check:
	@bash scripts/setup-system.sh check

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

# Browsers come from Debian (chromium), never from a package's own download.
node_modules/.installed: package.json package-lock.json
	PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
	touch $@

# --- checks ---------------------------------------------------------------------------
test: setup system-test node_modules/.installed
	$(PY) -m pytest -q

check: setup system-check node_modules/.installed
	$(PY) -m scripts.check --book $(BOOK) --build $(BUILD)

report: setup
	$(PY) -m scripts.textcheck --book $(BOOK) --report

lint: setup
	$(VENV)/bin/ruff check scripts conf tests

serve: setup
	$(VENV)/bin/sphinx-autobuild -b html -c conf $(BOOK) $(BUILD)/serve --watch conf

bench: setup
	$(PY) -m scripts.bench

clean:
	rm -rf $(BUILD)
