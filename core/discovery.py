"""The deployment-discovery contract: SSM parameters the platform stack writes and workflows and ``ops``
commands read, under ``/viberglass/<env>/``. One list, so writer and readers cannot drift apart."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

# suffix under /viberglass/<env>/ -> what it holds
PARAMETERS: dict[str, str] = {
    "deployment/region": "AWS region of the environment",
    "deployment/ecrRepository": "backend image repository URL",
    "deployment/backendDeployRoleArn": "GitHub OIDC role of the application repository's backend deploys",
    "deployment/frontendDeployRoleArn": "GitHub OIDC role of the application repository's frontend releases",
    "deployment/workersDeployRoleArn": "GitHub OIDC role of the application repository's worker image pushes",
    "ecs/cluster": "backend ECS cluster name",
    "ecs/service": "backend ECS service name",
    "ecs/taskFamily": "backend task definition family",
    "ecs/taskDefinition": "ARN of the backend task definition Terraform registered (every deploy starts from it)",
    "ecs/containerName": "backend container name in the task definition",
    "alb/dns": "load balancer DNS name",
    "frontend/apiUrl": "public API URL the frontend calls",
    "amplify/appId": "Amplify app id",
    "amplify/branchName": "Amplify branch",
    "amplify/region": "Amplify region",
}
ALARM_TOPIC = "alarms/topicArn"

# `/viberglass/<anything that stands for the environment>/<suffix>` in workflow YAML, shell or Python:
# ${{ inputs.env }}, ${ENV}, $ENV, {env}, or a literal environment name.
_READ = re.compile(
    r"/viberglass/(?:\$\{\{[^}]*\}\}|\$\{[A-Za-z_]+\}|\$[A-Za-z_]+|\{[a-z_.]+\}|[a-z0-9-]+)/([A-Za-z0-9_/-]+[A-Za-z0-9])"
)


def parameter_reads(text: str) -> set[str]:
    """Suffixes of every ``/viberglass/<env>/...`` name mentioned in ``text``."""
    return set(_READ.findall(text))


def reads_in(paths: Iterable[Path]) -> dict[str, set[str]]:
    """suffix -> files that mention it, for every text file under ``paths``."""
    found: dict[str, set[str]] = {}
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for file in files:
            if file.suffix not in {".py", ".yml", ".yaml", ".sh", ".md"} or "__pycache__" in file.parts:
                continue
            for suffix in parameter_reads(file.read_text(encoding="utf-8", errors="replace")):
                found.setdefault(suffix, set()).add(str(file))
    return found


def missing(reads: dict[str, set[str]], created: set[str]) -> dict[str, set[str]]:
    """Reads that no stack creates (``created`` holds suffixes). A read that stops at a templated part
    (``backend/{name}`` reads as ``backend``) is satisfied by any created parameter under that path."""

    def exists(suffix: str) -> bool:
        return suffix in created or any(name.startswith(f"{suffix}/") for name in created)

    return {suffix: files for suffix, files in reads.items() if not exists(suffix)}
