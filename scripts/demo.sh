#!/usr/bin/env bash
# A real zero-downtime deploy on the rig ("the embedded default"): brings the
# rig up, starts a worker, deploys the Traefik stack from v1 to v2 with
# `composure deploy --wait`, and exits with the deploy's exit code.
#
#   bash scripts/demo.sh [REF]     (default v2; try never-healthy to see a rollback)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ref=${1:-v2}
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
bash scripts/rig.sh up
bash scripts/rig.sh reset traefik
rig=${COMPOSURE_RIG_DIR:-/var/lib/composure-rig}
export TEMPORAL_ADDRESS=127.0.0.1:7233 COMPOSURE_TASK_QUEUE="composure-demo-$$"
node --import tsx src/cli/main.ts worker >"$rig/logs/demo-worker.log" 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT
echo "Before: $(curl -s http://127.0.0.1:18080/api/)"
set +e
node --import tsx src/cli/main.ts --config "$rig/composure.yml" deploy traefik --ref "$ref" --wait
code=$?
set -e
echo "After: $(curl -s http://127.0.0.1:18080/api/)   (exit code $code)"
exit $code
