#!/usr/bin/env bash
# Long scenario runs, outside `npm test` (which runs only the --quick forms):
# the full concurrency sweep, node failure and rolling restart at their default
# lengths side by side with a Redis Cluster, the same node failure driven by
# ioredis and node-redis and with static membership, scale-out / scale-in /
# partition on the node manager (embedded, and through an etcd the runner
# starts), and two minutes of chaos. Reports go under
# scenario-results/long-<time>/; the exit code is non-zero when any scenario's
# verdicts fail.
# Usage: bash scripts/scenario-long.sh [extra options for every scenario, e.g. --seed 1]
# Takes about 16 minutes on a 2-core machine.
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
run node-failure --static "$@"
run rolling-restart --against redis-cluster "$@"
run scale-out "$@"
run scale-out --client ioredis "$@"
run scale-in --remove-with cluster-remove "$@"
run partition "$@"
run chaos "$@"
if command -v etcd >/dev/null; then
  run scale-out --etcd "$@"
  run node-failure --etcd "$@"
  run partition --etcd "$@"
fi

echo "reports: $out (exit $status)"
exit $status
