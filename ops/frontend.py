"""``ops deploy frontend`` and ``ops rollback frontend`` (Amplify Hosting).

deploy: start a RELEASE job of the environment's branch (Amplify builds the branch's newest commit), or,
with ``--commit``, follow the auto-build job of that commit; wait for it and smoke the site.

rollback: Amplify keeps no deployable artifacts of earlier builds; what redeploys an earlier commit is a
RETRY of the job that built it (StartJob ``jobType=RETRY`` with that ``jobId``): Amplify checks that job's
commit out again and builds it with the branch's current settings. A RELEASE always builds the branch's
newest commit (its ``commitId`` is only a label), so it cannot roll back. The new job's commit is checked
after it succeeds.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from functools import partial
from typing import Any

from ops import discovery
from ops.common import InputError, OpsError, Report, aws_call, client
from ops.waiting import Timing, smoke, wait_until

DONE, FAILED = {"SUCCEED"}, {"FAILED", "CANCELLED"}
# Jobs looked at when finding a commit (Amplify lists newest first, 50 a page).
JOB_SEARCH_PAGES = 10


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


@dataclass
class Branch:
    env: str
    app_id: str
    name: str
    amplify: Any
    report: Report
    timing: Timing

    @classmethod
    def of(cls, env: str, report: Report, timing: Timing) -> Branch:
        targets = discovery.read(env, "amplify/appId", "amplify/branchName", "amplify/region")
        amplify = client("amplify", targets["amplify/region"])
        return cls(env, targets["amplify/appId"], targets["amplify/branchName"], amplify, report, timing)

    def jobs(self) -> list[dict[str, Any]]:
        """The branch's job summaries, newest first (at most JOB_SEARCH_PAGES pages)."""
        found: list[dict[str, Any]] = []
        token = ""
        for _ in range(JOB_SEARCH_PAGES):
            extra = {"nextToken": token} if token else {}
            page = aws_call(
                "amplify ListJobs",
                partial(self.amplify.list_jobs, appId=self.app_id, branchName=self.name, maxResults=50, **extra),
            )
            found += page.get("jobSummaries", [])
            token = page.get("nextToken") or ""
            if not token:
                break
        return found

    def commit_jobs(self, commit: str) -> tuple[str, list[dict[str, Any]]]:
        """(full commit id, its jobs newest first) for a full or short SHA; exactly one commit must match."""
        jobs = self.jobs()
        commits = sorted({str(j.get("commitId", "")) for j in jobs if str(j.get("commitId", "")).startswith(commit)})
        if not commits:
            raise InputError(
                f"no Amplify job of {self.name} built a commit starting {commit} (the newest {len(jobs)} jobs "
                "were searched): give a commit this branch built, as 7 to 40 characters of its SHA"
            )
        if len(commits) > 1:
            raise InputError(
                f"{commit} matches {len(commits)} built commits ({', '.join(commits[:5])}): give more characters"
            )
        return commits[0], [j for j in jobs if j.get("commitId") == commits[0]]

    def job_of(self, commit: str) -> str:
        """The newest job of ``commit``; right after a push Amplify may not have started it yet, so this
        waits for it (several commits matching a short SHA is an error at once)."""
        found: dict[str, str] = {}

        def check() -> tuple[bool | None, str]:
            try:
                full, jobs = self.commit_jobs(commit)
            except InputError as error:
                if "no Amplify job" in str(error):
                    return None, f"no job for {commit} yet (auto-build starts it after the push)"
                raise
            found.update(commit=full, job=str(jobs[0]["jobId"]))
            return True, f"job {found['job']} builds {full}"

        # At most 10 minutes for Amplify to start the job (the same clock, interval and progress lines).
        starting = dataclasses.replace(self.timing, timeout=min(self.timing.timeout, 600))
        ok, status = wait_until(self.report, f"Amplify job of {commit}", check, starting)
        if not ok:
            raise InputError(
                f"no Amplify job of {self.name} built a commit starting {commit} ({status}): is auto-build on, "
                "was the commit pushed to that branch? Give 7 to 40 characters of its SHA"
            )
        self.report.info(f"following job {found['job']} of commit {found['commit']}")
        return found["job"]

    def wait(self, job_id: str) -> dict[str, Any]:
        summary: dict[str, Any] = {}

        def check() -> tuple[bool | None, str]:
            job = aws_call(
                "amplify GetJob", lambda: self.amplify.get_job(appId=self.app_id, branchName=self.name, jobId=job_id)
            )
            summary.update(job["job"]["summary"])
            status = str(summary["status"])
            return (True if status in DONE else False if status in FAILED else None), status

        ok, status = wait_until(self.report, f"Amplify job {job_id}", check, self.timing)
        if not ok:
            raise OpsError(f"Amplify job {job_id} ended {status}")
        return summary

    def smoke(self, url: str | None, what: str) -> str:
        target = url or frontend_url(self.amplify, self.app_id, self.name)
        if not smoke(self.report, target, self.timing):
            raise OpsError(f"{what} succeeded but {target} does not answer 2xx")
        return target


def deploy(env: str, *, commit: str | None, url: str | None, timing: Timing, report: Report | None = None) -> str:
    report = report or Report()
    branch = Branch.of(env, report, timing)
    report.section(f"Deploying the frontend of {env} (Amplify app {branch.app_id}, branch {branch.name})")
    if commit:
        job_id = branch.job_of(commit)
    else:
        started = aws_call(
            "amplify StartJob",
            lambda: branch.amplify.start_job(appId=branch.app_id, branchName=branch.name, jobType="RELEASE"),
        )
        job_id = started["jobSummary"]["jobId"]
        report.info(f"started release job {job_id} (the newest commit of {branch.name})")
    branch.wait(job_id)
    target = branch.smoke(url, f"Amplify job {job_id}")
    report.section(f"Frontend deployed: {target}")
    return target


def rollback(env: str, *, to_commit: str, url: str | None, timing: Timing, report: Report | None = None) -> str:
    """Rebuild and deploy the commit ``to_commit`` (full or short SHA) by retrying the job that built it."""
    report = report or Report()
    if not re.fullmatch(r"[0-9a-f]{7,40}", to_commit):
        raise InputError(f"--to-commit {to_commit!r}: give 7 to 40 characters of a commit SHA")
    branch = Branch.of(env, report, timing)
    full, jobs = branch.commit_jobs(to_commit)
    good = [j for j in jobs if j.get("status") in DONE]
    source = (good or jobs)[0]
    report.section(
        f"Rolling the frontend of {env} back to {full}: retrying Amplify job {source['jobId']} "
        f"({source.get('status', '?')}), which built it"
    )
    started = aws_call(
        "amplify StartJob",
        lambda: branch.amplify.start_job(
            appId=branch.app_id,
            branchName=branch.name,
            jobType="RETRY",
            jobId=str(source["jobId"]),
            jobReason=f"rollback to {full} (viberglass-ops)",
        ),
    )
    job_id = str(started["jobSummary"]["jobId"])
    report.info(f"started job {job_id}")
    summary = branch.wait(job_id)
    if summary.get("commitId") != full:
        raise OpsError(
            f"Amplify job {job_id} built {summary.get('commitId')!r}, not {full}: the site was not rolled back"
        )
    target = branch.smoke(url, f"Amplify job {job_id}")
    report.section(f"Frontend rolled back to {full}: {target}")
    return target
