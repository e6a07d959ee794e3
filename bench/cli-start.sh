#!/usr/bin/env bash
# npm run bench:cli: how long each CLI takes to print --help (goal: at most 1 s), as a user runs
# it (`node bin/<name>.mjs`, what npx runs), and `node -e 0` for the machine's own floor. Median
# of CLI_START_RUNS (5) runs, in ms. Builds dist/ first (npm run build), so it measures the
# compiled CLIs; nothing is asserted: on a busy machine every figure, the floor included, grows.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${CLI_START_RUNS:-5}
node scripts/build.mjs

median_ms() {
  local times=()
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    times+=($(((end - start) / 1000000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p"
}

printf '%-14s %8s\n' 'command' 'median ms'
printf '%-14s %8s\n' 'node -e 0' "$(median_ms node -e 0)"
for name in $(node -e 'console.log(Object.keys(require("./package.json").bin).join(" "))'); do
  printf '%-14s %8s\n' "$name" "$(median_ms node "bin/$name.mjs" --help)"
done
