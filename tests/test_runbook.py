"""docs/operations.md only mentions commands that exist, with flags they accept."""

from __future__ import annotations

import re
import shlex

import pytest

from ops.__main__ import build_parser
from tests.conftest import ROOT

RUNBOOK = (ROOT / "docs" / "operations.md").read_text()
COMMANDS = sorted({m.strip().rstrip("`") for m in re.findall(r"python -m ops ([^`\n|]+)", RUNBOOK)})


def test_the_runbook_mentions_the_commands() -> None:
    verbs = {c.split()[0] for c in COMMANDS}
    assert verbs >= {"bootstrap-state", "bootstrap-github-oidc", "secrets", "deploy", "rollback", "restart", "smoke"}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_runbook_command_parses(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Placeholders become values the argument checks accept: a commit id for <...sha>, a word otherwise.
    args = [a if not a.startswith("<") else ("3f2c1ab" if "sha" in a else "x") for a in shlex.split(command)]
    if args[-1] == "--help":
        with pytest.raises(SystemExit) as exit_info:
            build_parser().parse_args(args)
        assert exit_info.value.code == 0 and "example:" in capsys.readouterr().out
        return
    parsed = build_parser().parse_args(args)
    assert callable(parsed.handler)


def test_every_make_target_in_the_docs_exists() -> None:
    makefile = (ROOT / "Makefile").read_text()
    docs = RUNBOOK + (ROOT / "README.md").read_text()
    for target in set(re.findall(r"\bmake ([a-z][a-z-]*)", docs)):
        assert re.search(rf"^{target}:", makefile, re.M), target
