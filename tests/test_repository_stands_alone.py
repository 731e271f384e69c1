"""The repository stands alone: nothing in it cites a document a clone does not have (a spec kept elsewhere,
a sibling folder). What a maintainer needs is written into docs/ (docs/design.md for the overview)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.conftest import ROOT

SKIP = {".git", ".venv", ".tools", "node_modules", "cdktf.out", ".mypy_cache", ".ruff_cache", ".pytest_cache",
        ".hypothesis", "__pycache__", ".gen", "terraform-state"}  # fmt: skip
TEXT = {".py", ".md", ".yml", ".yaml", ".toml", ".txt", ".sh", ".cfg", ".json", ".cjs", ".mjs", ".env", ""}
OUTSIDE = re.compile(r"SPEC ?§|\bSPEC\.md\b|APP-CONTRACT|\.\./shared\b|\b(?:the|by the|as the) spec\b", re.I)


def _files() -> list[Path]:
    """The repository's files, tracked or new (``git ls-files``: what a clone or the next commit has),
    without what git ignores (virtualenvs, node_modules, synth output, mutmut's ``mutants/`` copy)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\0")  # fmt: skip
    found = []
    for name in filter(None, listed):
        path = ROOT / name
        parts = set(path.relative_to(ROOT).parts)
        if path.is_file() and not parts & SKIP and path.suffix in TEXT and path.name != "package-lock.json":
            found.append(path)
    return found


def test_no_file_cites_a_document_outside_the_repository() -> None:
    me = Path(__file__).resolve()
    offenders = []
    for path in _files():
        if path.resolve() == me:
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert offenders == [], "\n".join(offenders)


def test_the_check_finds_a_citation() -> None:
    assert OUTSIDE.search('"""The one place that imports cdktf (SPEC §1)."""')
    assert OUTSIDE.search("see ../shared/notes for why") and OUTSIDE.search("as the spec asks")
    assert not OUTSIDE.search("importlib.util.find_spec('botocore')") and not OUTSIDE.search("a build spec here")


def test_the_design_overview_exists_and_is_linked() -> None:
    assert (ROOT / "docs" / "design.md").is_file()
    assert "docs/design.md" in (ROOT / "README.md").read_text()
