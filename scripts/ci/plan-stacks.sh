#!/usr/bin/env bash
# Plan every stack of one environment, in dependency order, into plans/<env>/.
#   scripts/ci/plan-stacks.sh <env>
# For each stack: <stack>.json (terraform show -json), <stack>.txt (human plan), or <stack>.log when the
# plan failed, or <stack>.pending when an upstream stack has no state yet (nothing to reference).
# Then writes plans/<env>/args, the arguments for `python -m ops plan-comment`.
set -uo pipefail
env_name="$1"
out="plans/${env_name}"
mkdir -p "$out"
: > "$out/args"
unapplied=""
for stack in base workers platform; do
  dir="cdktf.out/stacks/${stack}"
  label="${env_name}/${stack}"
  if [ -n "$unapplied" ]; then
    echo "$unapplied is not applied yet" > "$out/${stack}.pending"
    printf -- '--pending\n%s=%s is not applied yet\n' "$label" "$unapplied" >> "$out/args"
    continue
  fi
  if ! terraform -chdir="$dir" init -input=false -no-color > "$out/${stack}.log" 2>&1 \
    || ! terraform -chdir="$dir" plan -input=false -lock=false -no-color -out=tfplan >> "$out/${stack}.log" 2>&1; then
    printf -- '--failed\n%s=%s\n' "$label" "$out/${stack}.log" >> "$out/args"
    continue
  fi
  terraform -chdir="$dir" show -json tfplan > "$out/${stack}.json"
  terraform -chdir="$dir" show -no-color tfplan > "$out/${stack}.txt"
  printf -- '--plan\n%s=%s\n' "$label" "$out/${stack}.json" >> "$out/args"
  # Dependents read this stack's outputs from its state: with no state yet they cannot be planned.
  if [ -z "$(terraform -chdir="$dir" state list 2>/dev/null)" ]; then
    unapplied="$stack"
  fi
done
