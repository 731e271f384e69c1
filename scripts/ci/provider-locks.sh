#!/usr/bin/env bash
# Provider lock files: committed as locks/<stack>.terraform.lock.hcl, one per stack (dev and prod use the
# same providers), and copied next to each synthesized stack before `terraform init`.
#   scripts/ci/provider-locks.sh use <synth-dir>...        copy the committed lock files in (if any)
#   scripts/ci/provider-locks.sh generate <synth-dir>      `terraform providers lock` for the platforms
#                                                          people run on, written back to locks/
set -euo pipefail
mode="${1:?usage: provider-locks.sh use|generate <synth-dir>...}"
shift
mkdir -p locks
for root in "$@"; do
  for dir in "$root"/stacks/*/; do
    dir="${dir%/}"
    stack="${dir##*/}"
    committed="locks/${stack}.terraform.lock.hcl"
    case "$mode" in
      use)
        if [ -f "$committed" ]; then
          cp "$committed" "$dir/.terraform.lock.hcl"
          echo "lock file: $committed"
        else
          echo "::warning::no $committed yet: run scripts/ci/provider-locks.sh generate and commit it"
        fi
        ;;
      generate)
        terraform -chdir="$dir" providers lock \
          -platform=linux_amd64 -platform=linux_arm64 -platform=darwin_amd64 -platform=darwin_arm64
        cp "$dir/.terraform.lock.hcl" "$committed"
        echo "wrote $committed"
        ;;
      *)
        echo "unknown mode: $mode" >&2
        exit 2
        ;;
    esac
  done
done
