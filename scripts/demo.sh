#!/usr/bin/env bash
# The main job on the bundled example config: check it, show the providers,
# route the seed's scenarios, and explain a few decisions.
set -euo pipefail
cd "$(dirname "$0")/.."
T=".venv/bin/tacroute"
CFG="examples/config.toml"
[ -x .tools/node_modules/.bin/claude ] && export PATH="$PWD/.tools/node_modules/.bin:$PATH"
run() { printf '\n$ %s\n' "$*"; "$@"; }
run $T config validate --config $CFG
run $T providers --config $CFG
run $T routing --config $CFG
run $T route --config $CFG --priority critical --label security --explain
run $T route --config $CFG --priority low --label docs --hour 14 --json
run $T route --config $CFG --priority normal --retry-count 2 --hour 3 --explain
# What the rules would cost on 1,000 tasks that follow the seed's own assumptions.
run $T simulate examples/tasks.jsonl --config $CFG --compare examples/config-cheap-first.toml
