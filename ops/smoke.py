"""``ops smoke``: is the environment up? API /health, the frontend URL, running vs desired tasks."""

from __future__ import annotations

from ops import discovery
from ops.common import OpsError, Report, aws_call, client
from ops.frontend import frontend_url
from ops.waiting import Timing, smoke


def run(env: str, *, frontend: str | None, timing: Timing, report: Report | None = None) -> None:
    report = report or Report()
    targets = discovery.read(env, "frontend/apiUrl", "ecs/cluster", "ecs/service", "amplify/appId",
                             "amplify/branchName", "amplify/region")  # fmt: skip
    report.section(f"Smoke test of {env}")
    failures = []
    api = targets["frontend/apiUrl"].rstrip("/") + "/health"
    if not smoke(report, api, timing, attempts=3):
        failures.append(f"API {api}")
    url = frontend or frontend_url(
        client("amplify", targets["amplify/region"]), targets["amplify/appId"], targets["amplify/branchName"]
    )
    if not smoke(report, url, timing, attempts=3):
        failures.append(f"frontend {url}")
    ecs = client("ecs", targets.region)
    services = aws_call(
        "ecs DescribeServices",
        lambda: ecs.describe_services(cluster=targets["ecs/cluster"], services=[targets["ecs/service"]]),
    )["services"]
    running = services[0]["runningCount"] if services else 0
    desired = services[0]["desiredCount"] if services else 0
    report.info(f"backend tasks: {running} running / {desired} desired")
    if not services or running < desired or desired == 0:
        failures.append(f"backend tasks {running}/{desired}")
    if failures:
        raise OpsError(f"smoke test of {env} failed: {'; '.join(failures)}")
    report.section(f"{env} is up")
