#!/usr/bin/env bash
# CI job set-up timings (install + synth) for docs/performance.md: a fresh clone's `make synth`, with
# empty download caches (cold: a CI run whose caches missed) and with warm ones (restored caches).
#   bench/ci_setup.sh [commit]        (default HEAD; clones into a temporary folder)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
commit="${1:-HEAD}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() {  # run <label> <uv cache> <npm cache>
  rm -rf "$work/clone"
  git clone --quiet "$repo" "$work/clone"
  git -C "$work/clone" checkout --quiet "$commit"
  local start end
  start=$(date +%s.%N)
  (cd "$work/clone" && UV_CACHE_DIR="$2" npm_config_cache="$3" make synth > "$work/$1.log" 2>&1)
  end=$(date +%s.%N)
  printf '%s\t%.1f s\n' "$1" "$(echo "$end - $start" | bc)"
}
run cold "$work/uv-cache" "$work/npm-cache"
run warm "$work/uv-cache" "$work/npm-cache"
run warm-again "$work/uv-cache" "$work/npm-cache"
