#!/usr/bin/env bash
# Long scenario runs, outside `npm test` (which runs only the --quick forms):
# the full concurrency sweep, node failure and rolling restart at their default
# lengths side by side with a Redis Cluster, and the same node failure driven by
# ioredis and node-redis. Reports go under scenario-results/long-<time>/; the
# exit code is non-zero when any scenario's verdicts fail.
# Usage: bash scripts/scenario-long.sh [extra options for every scenario, e.g. --seed 1]
# Takes about 10 minutes on a 2-core machine. Chaos (random faults) joins this
# list once the dynamic cluster makes it available (issue 14).
set -uo pipefail
cd "$(dirname "$0")/.."

npm run build --silent || exit 1
out="scenario-results/long-$(date -u +%Y-%m-%dT%H-%M-%SZ)"
status=0
run() {
  local name="$1"; shift
  echo "== ringcache scenario $name $*"
  node bin/ringcache.js scenario "$name" --out "$out/$name$(printf '%s' "$*" | tr -c 'a-z0-9' '-' | cut -c1-40)" "$@" || status=1
  echo
}

run load --clients 1,10,50,200 --duration 10 --against redis-cluster "$@"
run load --clients 1,10,50 --pipeline 16 --duration 10 --distribution zipf "$@"
run node-failure --against redis-cluster "$@"
run node-failure --client ioredis "$@"
run node-failure --client node-redis "$@"
run rolling-restart --against redis-cluster "$@"

echo "reports: $out (exit $status)"
exit $status
