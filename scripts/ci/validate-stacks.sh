#!/usr/bin/env bash
# `terraform validate` of every synthesized stack of every environment, without a backend or credentials
# (so it runs on every pull request, forks and Dependabot included).
#   scripts/ci/validate-stacks.sh <synth-dir>...     e.g. .tools/synth/dev .tools/synth/prod
# Uses a stack's lock file read-only when one is there (scripts/ci/provider-locks.sh use). Exit 1 when any
# stack does not initialise or validate.
set -uo pipefail
failed=0
for root in "$@"; do
  for dir in "$root"/stacks/*/; do
    dir="${dir%/}"
    lockfile=()
    [ -f "$dir/.terraform.lock.hcl" ] && lockfile=(-lockfile=readonly)
    if terraform -chdir="$dir" init -backend=false -input=false -no-color "${lockfile[@]}" > "$dir/validate.log" 2>&1 \
      && terraform -chdir="$dir" validate -no-color >> "$dir/validate.log" 2>&1; then
      echo "valid: $dir"
    else
      echo "::error::invalid: $dir"
      cat "$dir/validate.log"
      failed=1
    fi
  done
done
exit "$failed"
