#!/usr/bin/env bash
# The whole test suite, as the README's test command and CI run it:
# installs what the tests need when it is missing, builds, type-checks, lints, tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# Real Redis tools are test peers: redis-cli and redis-benchmark (redis-tools),
# and redis-server for side-by-side runs.
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 && command -v redis-benchmark >/dev/null 2>&1 || missing+=(redis-tools)
# etcd (server, and etcdctl for the readiness check) for the EtcdKv tests.
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || missing+=(etcd-client)
# Debian's Chromium: the scenario test opens report.html in it, headless (playwright-core drives it).
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test: installing ${missing[*]} (Debian packages)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent          # integration tests start the compiled CLI, as users do
npx tsc --noEmit
npx eslint .
# Node 20's --test does not expand globs itself: list the files here.
mapfile -t files < <(find test -name '*.test.ts' | sort)
node --import tsx --test --test-reporter=spec --test-timeout=300000 "${files[@]}"
