#!/usr/bin/env bash
# The one test command (README, .ci/run): install dependencies, bring the rig
# up, type-check, lint, build (with the workflow bundle), then run every test —
# unit tests and real-stack tests — in one node:test run.
#
#   bash scripts/test.sh            everything
#   bash scripts/test.sh unit       unit tests only (no rig needed)
#   bash scripts/test.sh rig        real-stack tests only
#
# With CI=true nothing is skipped: a missing prerequisite fails loudly.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
what=${1:-all}
t0=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$*" $(( $(date +%s) - t0 )); }

command -v node >/dev/null || { echo "ERROR: node (>= 20) is required" >&2; exit 1; }
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ "$what" != unit ]; then
  step "rig up"
  bash scripts/rig.sh up
fi

if [ "$what" = all ]; then
  step "typecheck, lint"
  npx tsc -p tsconfig.json --noEmit
  npx eslint --max-warnings=0 .
fi
if [ "$what" != unit ]; then
  step "build (the worker test runs dist/ with its workflow bundle)"
  npm run --silent build
fi

shopt -s globstar nullglob
files=()
[ "$what" = rig ] || files+=(test/unit/**/*.test.ts)
[ "$what" = unit ] || files+=(test/rig/**/*.test.ts)
[ ${#files[@]} -gt 0 ] || { echo "ERROR: no test files found" >&2; exit 1; }
step "node --test (${#files[@]} files)"
# One file at a time: the real-stack tests share the rig's stacks.
node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
step "done"
