#!/usr/bin/env bash
# The one Terraform version (terraform.env) as a step output for hashicorp/setup-terraform:
#   - id: terraform
#     run: scripts/ci/terraform-version.sh
#   - uses: hashicorp/setup-terraform@...
#     with: { terraform_version: "${{ steps.terraform.outputs.version }}" }
set -euo pipefail
cd "$(dirname "$0")/../.."
version=$(sed -n 's/^TERRAFORM_VERSION=//p' terraform.env)
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "terraform.env: bad TERRAFORM_VERSION '$version'" >&2; exit 1; }
echo "version=$version" >> "${GITHUB_OUTPUT:-/dev/stdout}"
