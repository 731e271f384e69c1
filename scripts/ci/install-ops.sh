#!/usr/bin/env bash
# The ops commands need boto3, pydantic and PyYAML only (no cdktf): a fast install for deploy workflows.
set -euo pipefail
cd "$(dirname "$0")/../.."
python -m pip install --quiet --disable-pip-version-check -c constraints.txt boto3 pydantic PyYAML
