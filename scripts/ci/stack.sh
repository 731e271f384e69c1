#!/usr/bin/env bash
# One stack of one environment, as the deploy workflows run it (after `make synth`), in GitHub Actions:
#   scripts/ci/stack.sh plan  <env> <stack>             (plan role) plan for review: the value-free review
#                                                       record reviewed/<stack>.json for the apply job
#   scripts/ci/stack.sh apply <env> <stack> [RECORD]    (apply role) plan again, refuse unless it is the plan
#                                                       of RECORD (when given), apply that saved plan
# Both write report/<stack>.md for the job summary (plan: the value-free summary and the human plan with
# sensitive values redacted; apply: what changed, the outputs that matter, links) and key=value lines to
# $GITHUB_OUTPUT (plan: changes=true|false; apply: backend_template=changed|unchanged).
# The saved plan, its JSON and the outputs file (sensitive outputs included) hold secrets in clear: they stay in
# cdktf.out/stacks/<stack>/ on this runner and are never uploaded or printed.
set -euo pipefail
mode="${1:?usage: stack.sh plan|apply <env> <stack> [reviewed record]}"
env_name="${2:?usage: stack.sh plan|apply <env> <stack> [reviewed record]}"
stack="${3:?usage: stack.sh plan|apply <env> <stack> [reviewed record]}"
record="${4:-}"
dir="cdktf.out/stacks/${stack}"
label="${env_name}/${stack}"
commit="${GITHUB_SHA:?GITHUB_SHA is not set}"
run_url="${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-}/actions/runs/${GITHUB_RUN_ID:-}"
commit_url="${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-}/commit/${commit}"
output="${GITHUB_OUTPUT:-/dev/null}"
work="plans/${env_name}"
mkdir -p "$work" report reviewed
log="$work/${stack}.log"

fail() {
  echo "::error::${label}: $1"
  grep -A 12 -E '^(│ )?Error: ' "$log" >&2 || tail -n 20 "$log" >&2
  exit 1
}

[ -f "$dir/cdk.tf.json" ] || { echo "::error::$dir/cdk.tf.json is missing: synthesize first (make synth)"; exit 1; }
lockfile=()
# A committed lock file (scripts/ci/provider-locks.sh use) must be obeyed, never rewritten.
[ -f "$dir/.terraform.lock.hcl" ] && lockfile=(-lockfile=readonly)
terraform -chdir="$dir" init -input=false -no-color "${lockfile[@]}" > "$log" 2>&1 || fail "terraform init failed"
rm -f "$dir/tfplan" "$dir/plan.json"

case "$mode" in
  plan)
    # The plan role cannot take the state lock; the apply job plans again under the lock before applying.
    terraform -chdir="$dir" plan -input=false -lock=false -no-color -out=tfplan >> "$log" 2>&1 \
      || fail "plan failed: $(grep -m1 -E '^(│ )?Error: ' "$log" || echo 'see the log')"
    terraform -chdir="$dir" show -json tfplan > "$dir/plan.json"
    terraform -chdir="$dir" show -no-color tfplan > "$work/${stack}.txt"
    python -m ops plan-review record --stack "$label" --plan "$dir/plan.json" --code "$dir/cdk.tf.json" \
      --commit "$commit" --out "reviewed/${stack}.json" >> "$output"
    python -m ops plan-comment --plan "$label=$dir/plan.json" --text "$label=$work/${stack}.txt" \
      --commit "$commit" --full-plan "the human plan below" --out "report/${stack}.comment.md" \
      --job-summary "report/${stack}.plan.md"
    {
      [ -z "${REASON:-}" ] || printf '**Reason:** %s\n\n' "$REASON"
      cat "report/${stack}.comment.md" "report/${stack}.plan.md"
    } > "report/${stack}.md"
    rm -f "report/${stack}.comment.md" "report/${stack}.plan.md"
    ;;
  apply)
    terraform -chdir="$dir" plan -input=false -no-color -out=tfplan >> "$log" 2>&1 \
      || fail "plan failed: $(grep -m1 -E '^(│ )?Error: ' "$log" || echo 'see the log')"
    terraform -chdir="$dir" show -json tfplan > "$dir/plan.json"
    if [ -n "$record" ]; then
      # Exactly the reviewed plan, or nothing: same commit, same code, same changes, same values.
      if ! python -m ops plan-review check --reviewed "$record" --stack "$label" --plan "$dir/plan.json" \
        --code "$dir/cdk.tf.json" --commit "$commit" > "$work/${stack}.check" 2>&1; then
        cat "$work/${stack}.check"
        {
          tick='`'
          printf '### %s%s%s not applied\n\nThe plan made at apply time is not the reviewed plan, so nothing was applied:\n\n' \
            "$tick" "$label" "$tick"
          grep '^  - ' "$work/${stack}.check" || true
          printf '\nDispatch the workflow again to review a fresh plan.\n'
        } > "report/${stack}.md"
        echo "::error::${label}: not the reviewed plan (the differences are in the log and the job summary); nothing was applied"
        exit 1
      fi
      cat "$work/${stack}.check"
    fi
    failed=()
    # Terraform itself refuses the saved plan if the state changed since this job made it ("Saved plan is stale").
    if ! terraform -chdir="$dir" apply -input=false -no-color tfplan 2>&1 | tee -a "$log"; then
      failed=(--failed "terraform apply failed: $(grep -m1 -E '^(│ )?Error: ' "$log" || echo 'see the log')")
    fi
    terraform -chdir="$dir" output -json > "$dir/outputs.json" 2>> "$log" || echo '{}' > "$dir/outputs.json"
    python -m ops apply-report --stack "$label" --plan "$dir/plan.json" --outputs "$dir/outputs.json" \
      --run-url "$run_url" --commit-url "$commit_url" --out "report/${stack}.md" "${failed[@]}" >> "$output"
    rm -f "$dir/outputs.json"
    if [ "${#failed[@]}" -gt 0 ]; then
      echo "::error::${label}: ${failed[1]}"
      exit 1
    fi
    ;;
  *)
    echo "unknown mode: $mode (plan or apply)" >&2
    exit 2
    ;;
esac
