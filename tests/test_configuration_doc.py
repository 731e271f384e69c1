"""docs/configuration.md is generated from the schema: every key, its tier defaults, what it accepts and the
rules that check it. These tests regenerate it and read it the way a newcomer would."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from config import reference
from config.loader import CONFIG_DIR
from core.walk import leaves
from tests.conftest import ROOT

DOC = ROOT / "docs" / "configuration.md"
MARK = "<!-- generated below -->"


def _generated() -> str:
    return DOC.read_text().split(MARK, 1)[1].lstrip("\n")


def _rows() -> dict[str, list[str]]:
    """key -> the cells of its row in the committed page."""
    found = {}
    for line in _generated().splitlines():
        match = re.match(r"^\| `([a-z0-9_.]+)` \|", line)
        if match:
            found[match.group(1)] = [cell.strip() for cell in line.strip("|").split(" | ")]
    return found


def test_the_committed_reference_is_what_make_docs_generates() -> None:
    """Run `make docs` when this fails: the schema, its defaults or its rules changed."""
    assert _generated() == reference.render()


@pytest.mark.parametrize("env", sorted(p.stem for p in CONFIG_DIR.glob("*.yaml")))
def test_every_key_a_shipped_file_writes_is_documented(env: str) -> None:
    raw: dict[str, Any] = yaml.safe_load((CONFIG_DIR / f"{env}.yaml").read_text())
    documented = set(_rows())
    for path, _ in leaves(raw):
        key = re.sub(r"\[\d+\]$", "", path)
        assert key in documented, f"config/{env}.yaml writes {key}, which docs/configuration.md does not list"


def test_every_schema_key_has_a_row_with_both_tier_defaults() -> None:
    rows = _rows()
    keys = [row.key for row in reference.rows() if not (row.type == "section" and "." not in row.key)]
    assert keys and set(keys) == set(rows)
    assert rows["backend.desired_count"][2:4] == ["`1`", "`1`"]
    assert rows["database.multi_az"][2:4] == ["`false`", "`true`"], "tier defaults come from config/defaults.py"
    assert rows["database.backup_retention_days"][2:4] == ["`7`", "`30`"]
    assert rows["state.s3.bucket"][2:4] == ["required", "required"]


def test_rows_say_what_a_key_accepts_and_which_rule_checks_it() -> None:
    rows = _rows()
    assert "one of `s3`, `cloud`, `local`" in rows["state.backend"][1]
    assert "S3 bucket name" in rows["state.s3.bucket"][4]
    assert "1 to 3650" in rows["uploads.noncurrent_version_days"][4]
    assert "`check_sizes`" in rows["backend.min_count"][4]
    assert "production minimum" in rows["network.single_nat_gateway"][4]
    assert "`check_domains`" in rows["domains.route53_zone_id"][4]


def test_every_key_a_rule_refuses_is_listed_under_that_rule() -> None:
    """A rule names its keys in its docstring; a key it refuses but does not name would be missing here."""
    source = (ROOT / "config" / "rules.py").read_text()
    refused = set(re.findall(r'ConfigError\(\s*"([a-z_]+\.[a-z0-9_.]+)"', source))
    rows = _rows()
    for key in sorted(refused):
        assert key in rows, key
        assert "`check_" in rows[key][4] or "production minimum" in rows[key][4], key
