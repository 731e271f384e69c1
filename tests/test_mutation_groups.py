"""`make mutation` (scripts/mutation.py): the groups of `[tool.mutation.groups]`, each one mutmut run with its own
mutated files and tests, a budget that stops a run loudly, and one report over every group."""

from __future__ import annotations

import importlib.util
import os
import stat
import sys
import tomllib
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import ROOT


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutation_script", ROOT / "scripts" / "mutation.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


mutation = _load_script()

# The "project's own logic": config rules and schema, core, plan comment, policy rules, bootstrap and
# deploy decisions (and the HCP run reader).
LISTED = [
    "config/rules.py", "config/checks.py", "config/loader.py", "config/defaults.py", "config/schema.py",
    "core/iam.py", "core/ci_iam.py", "core/naming.py", "core/hcp.py", "ops/plan_comment.py", "policy/rules.py",
    "ops/bootstrap_state.py", "ops/bootstrap_oidc.py", "ops/backend.py", "ops/images.py", "ops/waiting.py",
    "ops/hcp_runs.py",
]  # fmt: skip


def test_every_listed_module_is_mutated_by_exactly_one_group() -> None:
    _, groups = mutation.load()
    for path in LISTED:
        assert [g.name for g in groups if g.owns(path)] != [], path
    assert [g.name for g in groups if g.owns("config/loader.py")] == ["config"]
    assert [g.name for g in groups if g.owns("ops/backend.py")] == ["ops_deploy"]


def test_a_group_is_judged_only_by_its_own_tests() -> None:
    """The config loader's mutants never rerun the moto-backed deploy tests (what kept the run unbounded), and
    the deploy decisions are judged by their own tests, not by whole deploys."""
    by_name = {g.name: g for g in mutation.load()[1]}
    assert not any("test_ops_deploy.py" in test for group in by_name.values() for test in group.tests)
    assert by_name["ops_deploy"].tests == ("tests/test_ops_backend.py", "tests/test_ops_images.py")


def _pyproject(tmp_path: Path, groups: str, base: str = "") -> Path:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    start = text.index("\n[tool.mutmut]\n") + 1
    shared = 'source_paths = ["config/", "core/", "ops/", "policy/"]\n' + base
    path = tmp_path / "pyproject.toml"
    path.write_text(f"{text[:start]}[tool.mutmut]\n{shared}\n[tool.mutation.groups]\n{groups}\n", encoding="utf-8")
    for folder in ("config", "core", "ops", "policy", "tests"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    return path


@pytest.mark.parametrize(
    ("groups", "base", "problem"),
    [
        ('a = {minutes = 1, mutate = ["core/*"], tests = ["tests/test_core.py"]}\n'
         'b = {minutes = 1, mutate = ["core/iam.py"], tests = ["tests/test_core.py"]}', "",
         "core/iam.py is mutated by more than one group: a, b"),
        ('a = {minutes = 1, mutate = ["core/nothing.py"], tests = ["tests/test_core.py"]}', "",
         "mutation group a: core/nothing.py matches no file under source_paths"),
        ('a = {minutes = 1, mutate = ["core/*"], tests = ["tests/test_none.py"]}', "",
         "mutation group a: no test file tests/test_none.py"),
        ('a = {minutes = 0, mutate = ["core/*"], tests = ["tests/test_core.py"]}', "",
         "mutation group a: needs mutate, tests and minutes > 0"),
        ('a = {minutes = 1, mutate = ["core/*"], tests = ["tests/test_core.py"], test = []}', "",
         "mutation group a: unknown key(s) test"),
        ('a = {minutes = 1, mutate = ["core/*"], tests = ["tests/test_core.py"]}', 'only_mutate = ["core/*"]\n',
         "[tool.mutmut] only_mutate: set per group in [tool.mutation.groups], not shared"),
    ],
    ids=["module-in-two-groups", "pattern-matching-nothing", "missing-test-file", "no-budget", "typo", "shared"],
)  # fmt: skip
def test_an_inconsistent_group_definition_is_refused(tmp_path: Path, groups: str, base: str, problem: str) -> None:
    with pytest.raises(mutation.DefinitionError) as refused:
        mutation.load(_pyproject(tmp_path, groups, base))
    assert str(refused.value) == problem


def test_a_groups_run_reads_the_shared_settings_plus_its_own_files_and_tests() -> None:
    base, groups = mutation.load()
    config = next(g for g in groups if g.name == "config")
    text = mutation.group_pyproject((ROOT / "pyproject.toml").read_text(encoding="utf-8"),
                                    mutation.mutmut_config(base, config))  # fmt: skip
    tool = tomllib.loads(text)["tool"]
    assert tool["mutmut"]["only_mutate"] == list(config.mutate)
    assert tool["mutmut"]["pytest_add_cli_args_test_selection"] == list(config.tests)
    assert tool["mutmut"]["pytest_add_cli_args"] == base["pytest_add_cli_args"]
    assert tool["mutmut"]["timeout_multiplier"] == base["timeout_multiplier"]
    # the rest of pyproject.toml (pytest's settings, read by the tests in mutmut's copy) is kept
    assert tool["pytest"] == tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]


def test_a_group_over_its_budget_is_stopped_and_reported_as_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A STAND-IN for mutmut (a script that never finishes, as mutmut did when it stalled on a module glob):
    the run is stopped at the group's budget, said on stderr, recorded, and the group counts as failed."""
    standin = tmp_path / "mutmut"
    standin.write_text('#!/bin/sh\necho "started in $TMPDIR"\nexec sleep 60\n')
    standin.chmod(standin.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(mutation, "MUTMUT", standin)
    monkeypatch.setattr(mutation, "WORK", tmp_path / "work")
    base, _ = mutation.load()
    group = mutation.Group("policy", ("policy/rules.py",), ("tests/test_policy_rules.py",), 0.5 / 60)
    record = mutation.run_group(group, base, max_children=2)
    assert record["status"] == "over budget" and record["wall_s"] < 10
    assert "error: mutation group policy went over its 0.00833333-minute budget and was stopped" in (
        capsys.readouterr().err
    )
    # the run had a temporary folder of its own, removed after it
    assert (tmp_path / "work" / "policy.log").read_text() == f"started in {tmp_path}/work/policy/tmp\n"
    assert not (tmp_path / "work" / "policy" / "tmp").exists()
    work = tmp_path / "work" / "policy"
    assert tomllib.loads((work / "pyproject.toml").read_text())["tool"]["mutmut"]["only_mutate"] == ["policy/rules.py"]
    assert os.readlink(work / "mutants" / ".venv") == "../.venv"
    assert (work / "mutants" / ".venv").resolve() == (ROOT / ".venv").resolve()
    assert (work / "tests").resolve() == ROOT / "tests" and not (work / ".git").exists()


def test_the_score_counts_an_unreached_mutant_against_the_module() -> None:
    c: Counter[str] = Counter({"killed": 8, "timeout": 1, "survived": 0, "no tests": 1, "suspicious": 3})
    assert mutation.score(c) == 90.0
    assert mutation.score(Counter({"skipped": 2})) is None


def test_the_report_has_one_row_per_module_with_its_group_and_a_total() -> None:
    found: list[Any] = [
        ("config", "config.loader.x_load__mutmut_1", "killed"),
        ("config", "config.loader.x_parse__mutmut_2", "survived"),
        ("policy", "policy.rules.x__argument__mutmut_1", "timeout"),
    ]
    rows = mutation.table(found)
    assert rows[1].split() == ["config", "config.loader", "50.0%", "1", "0", "1", "0", "0"]
    assert rows[2].split() == ["policy", "policy.rules", "100.0%", "0", "1", "0", "0", "0"]
    assert rows[3].split() == ["all", "66.7%", "1", "1", "1", "0", "0"]
