#!/usr/bin/env bash
# Plan every stack of one environment, in dependency order.
#   scripts/ci/plan-stacks.sh <env>          (after `make synth`, with the plan role's credentials)
# Leaves, for `python -m ops plan-comment @plans/<env>/args`:
#   plans/<env>/args            one argument a line: --plan/--text, --failed or --pending per stack
#   plans/<env>/<stack>.txt     the human plan (Terraform prints sensitive values as "(sensitive value)")
#   plans/<env>/<stack>.log     init/plan output of a stack that failed
#   plans/<env>/<stack>.pending a stack not planned because an upstream stack has no state yet
# The saved plan and its JSON stay beside the stack (cdktf.out/stacks/<stack>/tfplan and plan.json):
# they hold the database password and tokens in clear, so they never leave the runner.
# A stack on HCP Terraform (a `cloud` block; its workspace runs remotely) gets a speculative run instead:
# nothing is saved, the CLI streams the run's plan into <stack>.txt and names the run, and
# `python -m ops hcp-plan-json` downloads that run's redacted JSON plan to cdktf.out/stacks/<stack>/plan.json
# with the plan team's token (TF_TOKEN_app_terraform_io), which can queue plans but not apply or write state.
# Exit status 1 when any stack failed for any reason (init, plan, show, or reading its state:
# authentication errors included); 0 otherwise. Waiting for an unapplied upstream is not a failure.
set -uo pipefail
env_name="${1:?usage: plan-stacks.sh <env>}"
stacks="${PLAN_STACKS:-base workers platform}"
out="plans/${env_name}"
rm -rf "$out"
mkdir -p "$out"
: > "$out/args"
unapplied=""
failed=0
for stack in $stacks; do
  dir="cdktf.out/stacks/${stack}"
  label="${env_name}/${stack}"
  log="$out/${stack}.log"
  if [ -n "$unapplied" ]; then
    echo "$unapplied is not applied yet" > "$out/${stack}.pending"
    printf -- '--pending\n%s=%s is not applied yet\n' "$label" "$unapplied" >> "$out/args"
    continue
  fi
  rm -f "$dir/tfplan" "$dir/plan.json"
  lockfile=()
  # A committed lock file (scripts/ci/provider-locks.sh use) must be obeyed, never rewritten.
  [ -f "$dir/.terraform.lock.hcl" ] && lockfile=(-lockfile=readonly)
  # A cloud backend? Standard library only: -I -S (no site-packages, no user site) halves the start.
  cloud=false
  if [ -f "$dir/cdk.tf.json" ] && "${PYTHON:-python3}" -I -S -c 'import json, sys
sys.exit("cloud" not in json.load(open(sys.argv[1])).get("terraform", {}))' "$dir/cdk.tf.json" 2> /dev/null; then
    cloud=true
  fi
  if [ ! -f "$dir/cdk.tf.json" ]; then
    echo "Error: $dir/cdk.tf.json is missing: synthesize the stacks first (make synth)" > "$log"
    ok=false
  elif [ "$cloud" = true ]; then
    if terraform -chdir="$dir" init -input=false -no-color "${lockfile[@]}" > "$log" 2>&1 \
      && terraform -chdir="$dir" plan -input=false -no-color > "$out/${stack}.txt" 2>> "$log" \
      && "${PYTHON:-python3}" -m ops hcp-plan-json --log "$out/${stack}.txt" --out "$dir/plan.json" >> "$log" 2>&1 \
      && resources=$(terraform -chdir="$dir" state list 2>> "$log"); then
      ok=true
    else
      [ -f "$out/${stack}.txt" ] && cat "$out/${stack}.txt" >> "$log"
      ok=false
    fi
  elif terraform -chdir="$dir" init -input=false -no-color "${lockfile[@]}" > "$log" 2>&1 \
    && terraform -chdir="$dir" plan -input=false -lock=false -no-color -out=tfplan >> "$log" 2>&1 \
    && terraform -chdir="$dir" show -json tfplan > "$dir/plan.json" 2>> "$log" \
    && terraform -chdir="$dir" show -no-color tfplan > "$out/${stack}.txt" 2>> "$log" \
    && resources=$(terraform -chdir="$dir" state list 2>> "$log"); then
    ok=true
  else
    ok=false
  fi
  if [ "$ok" = true ]; then
    printf -- '--plan\n%s=%s\n--text\n%s=%s\n' "$label" "$dir/plan.json" "$label" "$out/${stack}.txt" >> "$out/args"
    rm -f "$log"
    # Dependents read this stack's outputs from its state: with no state yet they cannot be planned.
    [ -z "$resources" ] && unapplied="$stack"
  else
    printf -- '--failed\n%s=%s\n' "$label" "$log" >> "$out/args"
    echo "::error::${label}: $(grep -m1 -E '^(│ )?Error: ' "$log" || echo 'failed, see the plan comment')"
    failed=1
  fi
done
exit "$failed"
