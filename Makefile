# The two commands of the README:
#   make demo   set up, then route the example tasks of examples/config.toml and explain why
#   make test   set up, then run ruff, mypy --strict and the whole test suite
# Set-up is a virtualenv in .venv with every distribution of this repository
# installed editable, the pinned Claude, Codex and Gemini CLIs in .tools/ (for
# the tests that run the real CLIs), and Debian's redis-server and chromium.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
CLAUDE_VERSION := 2.1.197
CODEX_VERSION := 0.169.0
GEMINI_VERSION := 0.61.0
TOOLS := .tools
PACKAGES := -e '.[dev]' -e plugins/conditions -e plugins/claude_cli -e plugins/openrouter \
            -e plugins/codex_cli -e plugins/gemini_cli -e plugins/redis -e 'plugins/ui[test]' -e examples/weekday
TYPED := core/tacroute plugins/conditions/tacroute_conditions plugins/claude_cli/tacroute_claude_cli \
         plugins/openrouter/tacroute_openrouter plugins/codex_cli/tacroute_codex_cli \
         plugins/gemini_cli/tacroute_gemini_cli plugins/ui/tacroute_ui examples/weekday/tacroute_weekday.py
# the fake OpenRouter server and its fixtures
TYPED += testkit/openrouter_server.py testkit/openrouter_fixtures.py
TYPED += testkit/agent_api.py testkit/openai_server.py testkit/gemini_server.py
# shared state on Redis: the plugin and the redis-server fixture
TYPED += plugins/redis/tacroute_redis testkit/redis_server.py

.PHONY: setup system-packages demo test lint typecheck pytest bench clean

# Debian's packages the tests start themselves: redis-server (shared state) and
# chromium (the web UI's browser tests; Playwright never downloads a browser
# here). Installed when missing and we are root, in one apt-get; another
# apt-get may hold the dpkg lock, so wait and try again (up to ~10 minutes).
system-packages:
	@missing=""; command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    for i in $$(seq 1 60); do \
	      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing && break; \
	      echo "apt-get busy or failed; trying again in 10 s"; sleep 10; \
	    done; \
	  else echo "missing Debian packages:$$missing (apt-get install$$missing)"; fi; \
	fi

$(VENV)/.installed: pyproject.toml plugins/*/pyproject.toml examples/weekday/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check $(PACKAGES)
	touch $@

# The three agent CLIs, pinned, from the npm registry only (Codex's platform
# binary is an optional npm dependency of @openai/codex). One install: npm
# would otherwise drop the packages a previous, narrower install put there.
$(TOOLS)/.installed-$(CLAUDE_VERSION)-$(CODEX_VERSION)-$(GEMINI_VERSION):
	mkdir -p $(TOOLS)
	cd $(TOOLS) && npm install --silent --no-audit --no-fund --prefix . @anthropic-ai/claude-code@$(CLAUDE_VERSION) \
		@openai/codex@$(CODEX_VERSION) @google/gemini-cli@$(GEMINI_VERSION)
	touch $@

setup: $(VENV)/.installed $(TOOLS)/.installed-$(CLAUDE_VERSION)-$(CODEX_VERSION)-$(GEMINI_VERSION) system-packages

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
