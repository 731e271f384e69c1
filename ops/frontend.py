"""``ops deploy frontend``: release the Amplify branch (or follow the auto-build of a commit) and smoke it."""

from __future__ import annotations

from typing import Any

from ops import discovery
from ops.common import OpsError, Report, aws_call, client
from ops.waiting import Timing, smoke, wait_until

DONE, FAILED = {"SUCCEED"}, {"FAILED", "CANCELLED"}


def frontend_url(amplify: Any, app_id: str, branch: str) -> str:
    """The custom domain serving ``branch`` if there is one, else ``https://<branch>.<default domain>``."""
    domains = aws_call("amplify ListDomainAssociations", lambda: amplify.list_domain_associations(appId=app_id))
    for association in domains.get("domainAssociations", []):
        for sub in association.get("subDomains", []):
            setting = sub.get("subDomainSetting", {})
            if setting.get("branchName") == branch:
                prefix = setting.get("prefix", "")
                return f"https://{prefix + '.' if prefix else ''}{association['domainName']}"
    app = aws_call("amplify GetApp", lambda: amplify.get_app(appId=app_id))["app"]
    return f"https://{branch}.{app['defaultDomain']}"


def deploy(env: str, *, commit: str | None, url: str | None, timing: Timing, report: Report | None = None) -> str:
    report = report or Report()
    targets = discovery.read(env, "amplify/appId", "amplify/branchName", "amplify/region")
    app_id, branch = targets["amplify/appId"], targets["amplify/branchName"]
    amplify = client("amplify", targets["amplify/region"])
    report.section(f"Deploying the frontend of {env} (Amplify app {app_id}, branch {branch})")
    if commit:
        jobs = aws_call("amplify ListJobs", lambda: amplify.list_jobs(appId=app_id, branchName=branch, maxResults=50))
        matching = [j for j in jobs.get("jobSummaries", []) if j.get("commitId") == commit]
        if not matching:
            raise OpsError(f"no Amplify job for commit {commit} on {branch}: is auto-build on, and was it pushed?")
        job_id = matching[0]["jobId"]
        report.info(f"following auto-build job {job_id} of commit {commit}")
    else:
        started = aws_call(
            "amplify StartJob", lambda: amplify.start_job(appId=app_id, branchName=branch, jobType="RELEASE")
        )
        job_id = started["jobSummary"]["jobId"]
        report.info(f"started release job {job_id}")

    def check() -> tuple[bool | None, str]:
        job = aws_call("amplify GetJob", lambda: amplify.get_job(appId=app_id, branchName=branch, jobId=job_id))
        status = job["job"]["summary"]["status"]
        return (True if status in DONE else False if status in FAILED else None), status

    ok, status = wait_until(report, f"Amplify job {job_id}", check, timing)
    if not ok:
        raise OpsError(f"Amplify job {job_id} ended {status}")
    target = url or frontend_url(amplify, app_id, branch)
    if not smoke(report, target, timing):
        raise OpsError(f"Amplify job {job_id} succeeded but {target} does not answer 2xx")
    report.section(f"Frontend deployed: {target}")
    return target
