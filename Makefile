# The two commands of the README:
#   make demo   set up, then route the example tasks of examples/config.toml and explain why
#   make test   set up, then run ruff, mypy --strict and the whole test suite
# Set-up is a virtualenv in .venv with the four distributions and the example
# plugin installed editable, plus the pinned Claude CLI in .tools/ (for the
# tests that run the real CLI).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
CLAUDE_VERSION := 2.1.197
TOOLS := .tools
PACKAGES := -e '.[dev]' -e plugins/conditions -e plugins/claude_cli -e plugins/openrouter -e examples/weekday \
            -e 'plugins/ui[test]'
TYPED := core/tacroute plugins/conditions/tacroute_conditions plugins/claude_cli/tacroute_claude_cli \
         plugins/openrouter/tacroute_openrouter examples/weekday/tacroute_weekday.py \
         plugins/ui/tacroute_ui
# issue 4: the fake OpenRouter server and its fixtures
TYPED += testkit/openrouter_server.py testkit/openrouter_fixtures.py

.PHONY: setup chromium demo test lint typecheck pytest bench clean

$(VENV)/.installed: pyproject.toml plugins/*/pyproject.toml examples/weekday/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check $(PACKAGES)
	touch $@

$(TOOLS)/node_modules/.bin/claude:
	mkdir -p $(TOOLS)
	cd $(TOOLS) && npm install --silent --no-audit --no-fund --prefix . @anthropic-ai/claude-code@$(CLAUDE_VERSION)

# The UI's browser tests drive Debian's Chromium (Playwright never downloads a browser here).
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update && apt-get install -y chromium; fi

setup: $(VENV)/.installed $(TOOLS)/node_modules/.bin/claude chromium

# The demo runs Python only (no provider is ever spawned), so it needs the venv
# and not npm; the Claude CLI is for the tests (pytest: setup).
demo: $(VENV)/.installed
	@bash scripts/demo.sh

lint: $(VENV)/.installed
	$(BIN)/ruff check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy $(TYPED)

pytest: setup
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(VENV)/.installed
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) $(TOOLS)
