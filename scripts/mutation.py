"""`make mutation`: mutation testing (mutmut) in groups, each with its own mutated files and its own tests.

    .venv/bin/python scripts/mutation.py run [GROUP ...] [--max-children N]   # default: every group, in order
    .venv/bin/python scripts/mutation.py report                               # score per module, all groups
    .venv/bin/python scripts/mutation.py report --survivors config.loader     # one module's surviving mutants
    .venv/bin/python scripts/mutation.py show config.loader.x_load__mutmut_3   # one mutant's diff
    .venv/bin/python scripts/mutation.py list                                 # the groups, their files and tests

mutmut 3.8.1 reads one `[tool.mutmut]` from the current folder's pyproject.toml and gives every mutated module
the same test selection, so a mutant of a function that the slow tests also reach (the config loader, called
by every moto-backed ops test) reruns them all. Here each group of `[tool.mutation.groups]` in pyproject.toml
runs as its own mutmut run in its own working copy, `mutants/<group>/`: links to the repository's files, and a
pyproject.toml whose `[tool.mutmut]` is the shared `[tool.mutmut]` plus the group's `only_mutate` and test
selection. mutmut keeps its own `mutants/` inside that copy, so a second run re-tests only changed functions.

Each group has a time budget (`minutes`): a run that goes over it is stopped and reported as failed, and the
command exits 1 after the other groups ran. mutmut's own per-mutant limit (`timeout_multiplier`,
`timeout_constant`) turns a mutant that loops or sleeps into a detected "timeout".

A mutant is *detected* when a test failed (killed) or ran out of time (timeout). The score is
detected / (detected + survived + no tests): a mutant that no selected test reaches counts against it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MUTMUT = ROOT / ".venv" / "bin" / "mutmut"
WORK = ROOT / "mutants"
# Left out of a group's working copy: the repository's own state, caches, and the working copies themselves.
NOT_LINKED = {".git", "mutants", "pyproject.toml", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis",
              "__pycache__", "cdktf.out"}  # fmt: skip
LINE = re.compile(r"^\s*(?P<name>\S+__mutmut_\d+): (?P<status>.+?)\s*$")
DETECTED = {"killed", "timeout"}
MISSED = {"survived", "no tests"}


class DefinitionError(Exception):
    """The groups in pyproject.toml are inconsistent (one line, shown as `error: ...`)."""


@dataclass(frozen=True)
class Group:
    name: str
    mutate: tuple[str, ...]  # paths (globs) of the mutated files, as mutmut's only_mutate
    tests: tuple[str, ...]  # test files (pytest arguments) the group's mutants are judged by
    minutes: float  # the group's time budget

    def owns(self, path: str) -> bool:
        return any(fnmatch(path, pattern) for pattern in self.mutate)


def load(pyproject: Path = ROOT / "pyproject.toml") -> tuple[dict[str, Any], list[Group]]:
    """The shared `[tool.mutmut]` and the groups, in their order in pyproject.toml, checked."""
    tool = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]
    base = dict(tool["mutmut"])
    for key in ("only_mutate", "pytest_add_cli_args_test_selection"):
        if key in base:
            raise DefinitionError(f"[tool.mutmut] {key}: set per group in [tool.mutation.groups], not shared")
    groups = []
    for name, spec in tool["mutation"]["groups"].items():
        unknown = set(spec) - {"mutate", "tests", "minutes"}
        if unknown:
            raise DefinitionError(f"mutation group {name}: unknown key(s) {', '.join(sorted(unknown))}")
        group = Group(name, tuple(spec["mutate"]), tuple(spec["tests"]), float(spec["minutes"]))
        if not group.mutate or not group.tests or group.minutes <= 0:
            raise DefinitionError(f"mutation group {name}: needs mutate, tests and minutes > 0")
        groups.append(group)
    root = pyproject.parent
    sources = sorted(str(p.relative_to(root)) for d in base["source_paths"] for p in (root / d).rglob("*.py"))
    for group in groups:
        for pattern in group.mutate:
            if not any(fnmatch(path, pattern) for path in sources):
                raise DefinitionError(f"mutation group {group.name}: {pattern} matches no file under source_paths")
        for test in group.tests:
            if not (root / test.split("::")[0]).is_file():
                raise DefinitionError(f"mutation group {group.name}: no test file {test}")
    for path in sources:
        owners = [g.name for g in groups if g.owns(path)]
        if len(owners) > 1:
            raise DefinitionError(f"{path} is mutated by more than one group: {', '.join(owners)}")
    return base, groups


def mutmut_config(base: dict[str, Any], group: Group) -> dict[str, Any]:
    return {**base, "only_mutate": list(group.mutate), "pytest_add_cli_args_test_selection": list(group.tests)}


def group_pyproject(text: str, config: dict[str, Any]) -> str:
    """The repository's pyproject.toml with its `[tool.mutmut]` table replaced by ``config``."""
    kept, skipping = [], False
    for line in text.splitlines():
        if line.startswith("["):
            skipping = line.strip() == "[tool.mutmut]"
        if not skipping:
            kept.append(line)
    body = "\n".join(f"{key} = {_toml(value)}" for key, value in config.items())
    out = "\n".join(kept).rstrip() + f"\n\n[tool.mutmut]\n{body}\n"
    if tomllib.loads(out)["tool"]["mutmut"] != config:  # the cut above relies on the table's layout
        raise DefinitionError("pyproject.toml: [tool.mutmut] could not be replaced for a group's run")
    return out


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise DefinitionError(f"[tool.mutmut]: cannot write {value!r}")


def prepare(group: Group, base: dict[str, Any]) -> Path:
    """The group's working copy: links to the repository's files, its own pyproject.toml, and the links its
    mutmut copy needs (the workflow tests call `.venv/bin/python`, the synth fixtures need node_modules, the
    checkov gate's tests `.tools/checkov`)."""
    work = WORK / group.name
    work.mkdir(parents=True, exist_ok=True)
    for entry in ROOT.iterdir():
        if entry.name in NOT_LINKED:
            continue
        link = work / entry.name
        if not link.is_symlink():
            link.symlink_to(os.path.relpath(entry, work))
    text = group_pyproject((ROOT / "pyproject.toml").read_text(encoding="utf-8"), mutmut_config(base, group))
    if not (work / "pyproject.toml").is_file() or (work / "pyproject.toml").read_text(encoding="utf-8") != text:
        (work / "pyproject.toml").write_text(text, encoding="utf-8")
    (work / "mutants").mkdir(exist_ok=True)
    for name in (".venv", "node_modules", ".tools"):
        link = work / "mutants" / name
        if link.is_dir() and not link.is_symlink():  # left by a test that ran without the link
            shutil.rmtree(link)
        if not link.is_symlink():
            link.symlink_to(Path("..") / name)
    return work


def run_group(group: Group, base: dict[str, Any], max_children: int) -> dict[str, Any]:
    """One mutmut run; its output goes to mutants/<group>.log. Stopped when it outlives the group's budget
    (`minutes` is for two children: with one, twice as long)."""
    work = prepare(group, base)
    budget = group.minutes * max(1.0, 2 / max_children)
    # The run's own temporary folder: the stacks the tests synthesize once per run (tests/conftest.py) never
    # outlive it, so a later run never reads stacks of older code.
    tmp = work / "tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    log = WORK / f"{group.name}.log"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    print(f"== mutation group {group.name}: {', '.join(group.mutate)} (budget {budget:g} min, log {log})",
          flush=True)  # fmt: skip
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(  # noqa: S603 - our own venv's mutmut, fixed arguments
            [str(MUTMUT), "run", "--max-children", str(max_children)],
            cwd=work, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "CHECKPOINT_DISABLE": "1", "TMPDIR": str(tmp)},
        )  # fmt: skip
        try:
            status: int | str = process.wait(timeout=budget * 60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            status = "over budget"
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(tmp, ignore_errors=True)
    wall = time.monotonic() - start
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    record = {"group": group.name, "status": status, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1)}
    (WORK / f"{group.name}.json").write_text(json.dumps(record) + "\n", encoding="utf-8")
    if status == 0:
        print(f"   done in {wall / 60:.1f} min wall, {cpu / 60:.1f} min CPU", flush=True)
    elif status == "over budget":
        print(f"error: mutation group {group.name} went over its {budget:g}-minute budget and was stopped "
              f"(its results so far are kept; {log})", file=sys.stderr, flush=True)  # fmt: skip
    else:
        print(f"error: mutation group {group.name}: mutmut exited {status} (see {log})", file=sys.stderr, flush=True)
    return record


def results(group: Group) -> list[tuple[str, str]]:
    """(mutant, status) of every mutant of the group's last run; none before its first run."""
    work = WORK / group.name
    if not (work / "mutants").is_dir():
        return []
    listing = subprocess.run(  # noqa: S603 - our own venv's mutmut, fixed arguments
        [str(MUTMUT), "results", "--all", "true"], cwd=work, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [(m["name"], m["status"]) for m in map(LINE.match, listing.stdout.splitlines()) if m]


def module(name: str) -> str:
    """``config.rules.x_check_sizes__mutmut_3`` -> ``config.rules``."""
    return ".".join(name.split(".")[:2])


def score(counts: Counter[str]) -> float | None:
    detected = sum(counts[s] for s in DETECTED)
    scored = detected + sum(counts[s] for s in MISSED)
    return 100 * detected / scored if scored else None


def table(found: list[tuple[str, str, str]]) -> list[str]:
    """Rows of (group, mutant, status) as a per-module table with a total."""
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for group, name, status in found:
        counts[(group, module(name))][status] += 1
    lines = [f"{'group':14} {'module':24} {'score':>6} {'killed':>7} {'timeout':>7} {'survived':>8} "
             f"{'no tests':>8} {'other':>6}"]  # fmt: skip
    total: Counter[str] = Counter()
    for (group, mod), c in sorted(counts.items()):
        total.update(c)
        lines.append(_row(group, mod, c))
    lines.append(_row("", "all", total))
    return lines


def _row(group: str, name: str, c: Counter[str]) -> str:
    value = score(c)
    shown = f"{value:.1f}%" if value is not None else "-"
    other = sum(n for s, n in c.items() if s not in DETECTED | MISSED)
    return (f"{group:14} {name:24} {shown:>6} {c['killed']:>7} {c['timeout']:>7} {c['survived']:>8} "
            f"{c['no tests']:>8} {other:>6}")  # fmt: skip


def report(groups: list[Group], survivors: str | None) -> int:
    found = [(g.name, name, status) for g in groups for name, status in results(g)]
    if survivors:
        for _, name, status in found:
            if module(name) == survivors and status in MISSED:
                print(f"{status:9} {name}")
        return 0
    print("\n".join(table(found)))
    for group in groups:
        timing = WORK / f"{group.name}.json"
        if timing.is_file():
            t = json.loads(timing.read_text(encoding="utf-8"))
            print(
                f"{group.name}: last run {t['status']}, {t['wall_s'] / 60:.1f} min wall, {t['cpu_s'] / 60:.1f} min CPU"
            )
    return 0


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0911 - one return per command
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run groups (default: all, in order), then report")
    run.add_argument("groups", nargs="*", metavar="GROUP")
    run.add_argument("--max-children", type=int, default=os.cpu_count() or 1)
    rep = sub.add_parser("report", help="score per module of every group's last run")
    rep.add_argument("--survivors", metavar="MODULE", help="list the surviving mutants of one module")
    show = sub.add_parser("show", help="one mutant's diff (mutmut show, in its group's working copy)")
    show.add_argument("mutant")
    sub.add_parser("list", help="the groups: mutated files, tests, budget")
    args = parser.parse_args(argv)
    try:
        base, groups = load()
    except DefinitionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.command == "list":
        for g in groups:
            print(f"{g.name} ({g.minutes:g} min): mutates {' '.join(g.mutate)}; tests {' '.join(g.tests)}")
        return 0
    if args.command == "show":
        path = module(args.mutant).replace(".", "/") + ".py"
        owner = next((g for g in groups if g.owns(path)), None)
        if owner is None:
            print(f"error: {args.mutant}: {path} is in no mutation group", file=sys.stderr)
            return 2
        return subprocess.run([str(MUTMUT), "show", args.mutant], cwd=WORK / owner.name, check=False).returncode  # noqa: S603
    if args.command == "report":
        return report(groups, args.survivors)
    unknown = sorted(set(args.groups) - {g.name for g in groups})
    if unknown:
        print(f"error: no mutation group {', '.join(unknown)} (groups: {', '.join(g.name for g in groups)})",
              file=sys.stderr)  # fmt: skip
        return 2
    chosen = [g for g in groups if not args.groups or g.name in args.groups]
    records = [run_group(g, base, args.max_children) for g in chosen]
    report(chosen, None)
    return 0 if all(r["status"] == 0 for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
