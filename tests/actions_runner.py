"""A STAND-IN for the GitHub Actions runner, for the tests: GitHub cannot be reached from here.

It runs one workflow file's jobs on this machine, in the order their ``needs`` give, the way GitHub decides
them: a job's ``if`` (``${{ }}`` expressions over ``github``, ``inputs``, ``needs``, ``steps``, ``secrets``,
``env`` with ``==``, ``!=``, ``&&``, ``||``, ``!``, parentheses and the status functions) with GitHub's implicit
``success() &&`` when the expression has no status function, where ``success()`` of a job means every job
it depends on, directly or not, succeeded (a skipped ancestor skips it: the known GitHub behaviour). Every
``run:`` step runs in bash as GitHub runs it (``bash --noprofile --norc -eo pipefail``) with the workflow's,
job's and step's ``env``, ``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY`` and the ``GITHUB_*`` variables; step and
job outputs flow as on GitHub.

``uses:`` steps are not run. Set-up actions (checkout, setup-python, setup-terraform, caches, AWS
credentials, GitHub App tokens) are recorded and do nothing: the test prepares the workspace and puts
stand-ins (Terraform, gh, make, docker) first on PATH. ``actions/upload-artifact`` and
``actions/download-artifact`` copy files through a folder, with upload-artifact's rule that the stored paths
are relative to the least common ancestor of the uploaded files. Nothing here is GitHub: it only lets the
tests run the workflows' own shell code in the order and under the conditions GitHub would.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import load_yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}", re.S)
STATUS_FUNCTIONS = ("success(", "failure(", "cancelled(", "always(")
PASSIVE_ACTIONS = ("actions/checkout", "actions/setup-python", "hashicorp/setup-terraform", "actions/cache",
                   "aws-actions/configure-aws-credentials", "actions/create-github-app-token")  # fmt: skip


# -- expressions --------------------------------------------------------------------------------------------

TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||[!()\[\],])|"
    r"(?P<name>[A-Za-z_][A-Za-z0-9_.*-]*))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    found, position = [], 0
    text = text.strip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if not match:
            raise ValueError(f"cannot read expression {text!r} at {text[position:]!r}")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


def _loose(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "", "false")  # GitHub: '', 0, false and null are false


class Evaluator:
    def __init__(self, context: dict[str, Any], functions: dict[str, Any]) -> None:
        self.context, self.functions = context, functions

    def __call__(self, text: str) -> Any:
        self.tokens, self.at = _tokens(text), 0
        value = self._or()
        if self.at != len(self.tokens):
            raise ValueError(f"trailing tokens in {text!r}")
        return value

    def _peek(self) -> str:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else ""

    def _take(self) -> tuple[str, str]:
        self.at += 1
        return self.tokens[self.at - 1]

    def _or(self) -> Any:
        left = self._and()
        while self._peek() == "||":
            self._take()
            right = self._and()
            left = left if truthy(left) else right
        return left

    def _and(self) -> Any:
        left = self._compare()
        while self._peek() == "&&":
            self._take()
            right = self._compare()
            left = right if truthy(left) else left
        return left

    def _compare(self) -> Any:
        left = self._unary()
        while self._peek() in {"==", "!="}:
            op = self._take()[1]
            right = self._unary()
            left = (_loose(left) == _loose(right)) == (op == "==")
        return left

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not truthy(self._unary())
        return self._primary()

    def _primary(self) -> Any:
        kind, text = self._take()
        if text == "(":
            value = self._or()
            assert self._take()[1] == ")"
            return value
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text) if "." in text else int(text)
        if text in {"true", "false", "null"}:
            return {"true": True, "false": False, "null": None}[text]
        if self._peek() == "(":
            self._take()
            args = []
            while self._peek() != ")":
                args.append(self._or())
                if self._peek() == ",":
                    self._take()
            self._take()
            return self.functions[text](*args)
        found: Any = self.context
        for part in text.split("."):
            found = found.get(part, "") if isinstance(found, dict) else ""
        return found


def _functions(success: bool, failure: bool) -> dict[str, Any]:
    return {
        "success": lambda: success,
        "failure": lambda: failure,
        "cancelled": lambda: False,
        "always": lambda: True,
        "hashFiles": lambda *_: "stand-in-hash",
        "contains": lambda haystack, needle: _loose(needle) in _loose(haystack),
        "startsWith": lambda text, prefix: str(text).lower().startswith(str(prefix).lower()),
        "format": lambda text, *args: re.sub(r"\{(\d+)\}", lambda m: str(args[int(m.group(1))]), str(text)),
    }


def substitute(text: str, evaluate: Evaluator) -> str:
    """``text`` with every ``${{ }}`` replaced by its value, as GitHub does in ``env``, ``with`` and names."""

    def value(match: re.Match[str]) -> str:
        result = evaluate(match.group(1))
        return "true" if result is True else "false" if result is False else "" if result is None else str(result)

    return EXPRESSION.sub(value, text)


# -- jobs ---------------------------------------------------------------------------------------------------


@dataclass
class Job:
    name: str
    result: str = "pending"  # success | failure | skipped
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    log: str = ""
    environment: str = ""
    steps: list[str] = field(default_factory=list)  # what ran: "run: <name>", "uses: <action>"


def load(path: Path) -> dict[str, Any]:
    raw: dict[Any, Any] = load_yaml(path)
    data: dict[str, Any] = {str(k): v for k, v in raw.items() if k is not True}
    data["on"] = raw.get(True, raw.get("on"))
    return data


class Runner:
    """Runs ``workflow`` in ``workspace``; ``github`` is the github context (sha, ref, repository, ...)."""

    def __init__(self, workflow: Path, workspace: Path, *, github: dict[str, Any], inputs: dict[str, Any] | None = None,
                 secrets: dict[str, str] | None = None, env: dict[str, str] | None = None,
                 artifacts: Path | None = None) -> None:  # fmt: skip
        self.workflow = load(workflow)
        self.workspace = workspace
        self.github = {"server_url": "https://github.com", "run_id": "4242", "run_attempt": "1",
                       "event_name": "workflow_dispatch", "workspace": str(workspace), **github}  # fmt: skip
        self.inputs = inputs or {}
        self.secrets = secrets or {}
        self.env = env or {}
        self.artifacts = artifacts or workspace.parent / "artifacts"
        self.jobs: dict[str, Job] = {}

    def _needs(self, name: str) -> list[str]:
        needs = self.workflow["jobs"][name].get("needs", [])
        return [needs] if isinstance(needs, str) else list(needs)

    def _ancestors(self, name: str) -> set[str]:
        found: set[str] = set()
        for need in self._needs(name):
            found |= {need} | self._ancestors(need)
        return found

    def order(self) -> list[str]:
        done: list[str] = []
        pending = list(self.workflow["jobs"])
        while pending:
            ready = [j for j in pending if set(self._needs(j)) <= set(done)]
            assert ready, f"a cycle in needs: {pending}"
            done.append(ready[0])
            pending.remove(ready[0])
        return done

    def _context(self, name: str, steps: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
        needs = {n: {"result": self.jobs[n].result, "outputs": self.jobs[n].outputs} for n in self._needs(name)}
        return {"github": self.github, "inputs": self.inputs, "secrets": self.secrets, "needs": needs,
                "steps": steps, "env": env, "runner": {"os": "Linux", "temp": str(self.workspace.parent)},
                "matrix": {}, "vars": {}, "job": {}}  # fmt: skip

    def run(self) -> dict[str, Job]:
        for name in self.order():
            self.jobs[name] = self._job(name)
        return self.jobs

    def _job(self, name: str) -> Job:
        spec = self.workflow["jobs"][name]
        job = Job(name)
        ancestors = [self.jobs[a].result for a in self._ancestors(name)]
        condition = str(spec.get("if", ""))
        condition = EXPRESSION.sub(lambda m: m.group(1), condition) if condition else ""
        evaluate = Evaluator(self._context(name, {}, {}), _functions(
            all(r == "success" for r in ancestors), any(r == "failure" for r in ancestors)))  # fmt: skip
        if not any(f in condition for f in STATUS_FUNCTIONS):
            condition = f"success() && ({condition})" if condition else "success()"
        if not truthy(evaluate(condition)):
            job.result = "skipped"
            return job
        environment = spec.get("environment", "")
        job.environment = substitute(str(environment.get("name") if isinstance(environment, dict) else environment),
                                     evaluate)  # fmt: skip
        env = {
            k: substitute(str(v), evaluate) for k, v in {**self.workflow.get("env", {}), **spec.get("env", {})}.items()
        }
        steps: dict[str, Any] = {}
        failed = False
        summary = self.workspace.parent / f"summary-{name}.md"
        summary.write_text("")
        for index, step in enumerate(spec.get("steps", [])):
            context = self._context(name, steps, env)
            evaluate = Evaluator(context, _functions(not failed, failed))
            condition = EXPRESSION.sub(lambda m: m.group(1), str(step.get("if", "")))
            if not any(f in condition for f in STATUS_FUNCTIONS):
                condition = f"success() && ({condition})" if condition else "success()"
            if not truthy(evaluate(condition)):
                continue
            step_env = {**env, **{k: substitute(str(v), evaluate) for k, v in step.get("env", {}).items()}}
            if "uses" in step:
                job.steps.append(f"uses: {step['uses'].split('@')[0]}")
                ok = self._uses(step, evaluate)
                outputs: dict[str, str] = {}
            else:
                job.steps.append(f"run: {step.get('name') or step['run'].splitlines()[0]}")
                ok, outputs, log = self._run(name, index, step, step_env, summary)
                job.log += log
            if "id" in step:
                steps[step["id"]] = {"outputs": outputs, "outcome": "success" if ok else "failure"}
            failed = failed or not ok
        job.summary = summary.read_text()
        job.result = "failure" if failed else "success"
        evaluate = Evaluator(self._context(name, steps, env), _functions(not failed, failed))
        job.outputs = {k: substitute(str(v), evaluate) for k, v in spec.get("outputs", {}).items()}
        return job

    def _run(self, job: str, index: int, step: dict[str, Any], env: dict[str, str],
             summary: Path) -> tuple[bool, dict[str, str], str]:  # fmt: skip
        output = self.workspace.parent / f"output-{job}-{index}"
        output.write_text("")
        script = self.workspace.parent / f"step-{job}-{index}.sh"
        script.write_text(step["run"])
        variables = {
            **os.environ, **self.env, **env,
            "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_SHA": str(self.github.get("sha", "")), "GITHUB_REF": str(self.github.get("ref", "")),
            "GITHUB_REPOSITORY": str(self.github.get("repository", "")), "GITHUB_RUN_ID": str(self.github["run_id"]),
            "GITHUB_SERVER_URL": str(self.github["server_url"]), "GITHUB_EVENT_NAME": str(self.github["event_name"]),
            "GITHUB_ACTIONS": "true", "CI": "true",
        }  # fmt: skip
        cwd = self.workspace / step.get("working-directory", ".")
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd,
                                env=variables, capture_output=True, text=True, check=False)  # fmt: skip
        outputs = {}
        for line in output.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                outputs[key] = value
        return result.returncode == 0, outputs, result.stdout + result.stderr

    def _uses(self, step: dict[str, Any], evaluate: Evaluator) -> bool:
        action = step["uses"].split("@")[0]
        settings = {k: substitute(str(v), evaluate) for k, v in (step.get("with") or {}).items()}
        if action == "actions/upload-artifact":
            files = [self.workspace / line.strip() for line in settings["path"].splitlines() if line.strip()]
            files = [f for f in files if f.exists()]
            if not files:
                return settings.get("if-no-files-found", "warn") != "error"
            root = Path(os.path.commonpath([f if f.is_dir() else f.parent for f in files]))
            target = self.artifacts / settings["name"]
            for found in files:
                for file in [found] if found.is_file() else [p for p in found.rglob("*") if p.is_file()]:
                    (target / file.relative_to(root)).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(file, target / file.relative_to(root))
            return True
        if action == "actions/download-artifact":
            source = self.artifacts / settings["name"]
            if not source.is_dir():
                return False  # "Artifact not found"
            shutil.copytree(source, self.workspace / settings.get("path", "."), dirs_exist_ok=True)
            return True
        assert action in PASSIVE_ACTIONS, f"the runner stand-in does not know {action}"
        return True
