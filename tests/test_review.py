"""The review record of a prod plan (ops/review.py) and the apply report (ops/apply_report.py): what they keep,
what they compare, what they never hold."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ops import apply_report, review
from ops.__main__ import main
from ops.plan_comment import load_plan
from tests.conftest import ROOT

PLANS = ROOT / "tests" / "fixtures" / "plans"
SHA = "5d41402abc4b2a76b9719d911017c592ae1b2c3d"
CODE = b'{"resource": {}}'


def plan(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((PLANS / f"{name}.json").read_text())
    return document


def test_a_record_holds_no_value_of_the_plan() -> None:
    document = plan("sensitive_output")
    record = json.dumps(review.record("prod/platform", document, CODE, SHA))
    for change in document["resource_changes"]:
        for value in (change["change"].get("after") or {}).values():
            if isinstance(value, str) and len(value) > 3:
                assert value not in record
    for output in document.get("output_changes", {}).values():
        if isinstance(output.get("after"), str):
            assert output["after"] not in record


def test_the_same_plan_in_another_order_is_the_reviewed_plan() -> None:
    document = plan("mixed_platform")
    record = review.record("prod/platform", document, CODE, SHA)
    shuffled = copy.deepcopy(document)
    shuffled["resource_changes"].reverse()
    shuffled["timestamp"] = "2026-11-28T09:00:00Z"
    assert review.differences(record, "prod/platform", shuffled, CODE, SHA) == []


def test_a_sensitive_value_is_compared_as_sensitive_only() -> None:
    """What reviewers could not see is not part of what they approved; everything else is."""
    document = plan("update")
    document["resource_changes"][0]["change"]["after_sensitive"] = {"description": True}
    record = review.record("prod/base", document, CODE, SHA)
    changed = copy.deepcopy(document)
    changed["resource_changes"][0]["change"]["after"]["description"] = "another secret"
    assert review.differences(record, "prod/base", changed, CODE, SHA) == []
    changed["resource_changes"][0]["change"]["after_sensitive"] = {}
    assert review.differences(record, "prod/base", changed, CODE, SHA) != []


@pytest.mark.parametrize(
    ("what", "stack", "code", "commit", "said"),
    [("commit", "prod/base", CODE, "0" * 40, "the plan was reviewed for commit"),
     ("code", "prod/base", b"{}", SHA, "the synthesized stack differs"),
     ("stack", "prod/workers", CODE, SHA, "the review record is of 'prod/base'")],
)  # fmt: skip
def test_a_record_of_something_else_is_not_the_reviewed_plan(what: str, stack: str, code: bytes, commit: str,
                                                             said: str) -> None:  # fmt: skip
    record = review.record("prod/base", plan("update"), CODE, SHA)
    assert any(said in line for line in review.differences(record, stack, plan("update"), code, commit)), what


def test_an_output_change_is_part_of_the_review() -> None:
    record = review.record("prod/workers", plan("prod_workers_new_output"), CODE, SHA)
    without = plan("prod_workers_new_output")
    without["output_changes"] = {}
    found = review.differences(record, "prod/workers", without, CODE, SHA)
    assert found and "output changes" in found[0]


def test_an_errored_plan_cannot_be_reviewed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "code.json").write_bytes(CODE)
    status = main(["plan-review", "record", "--stack", "prod/base", "--plan", str(PLANS / "errored.json"), "--code",
                   str(tmp_path / "code.json"), "--commit", SHA, "--out", str(tmp_path / "r.json")])  # fmt: skip
    assert status == 1 and "cannot be reviewed" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


def test_the_check_command_exits_1_and_lists_the_differences(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    (tmp_path / "code.json").write_bytes(CODE)
    args = ["--stack", "prod/platform", "--code", str(tmp_path / "code.json"), "--commit", SHA]
    record = ["plan-review", "record", "--plan", str(PLANS / "prod_platform_new_parameter.json"), *args, "--out",
              str(tmp_path / "r.json")]  # fmt: skip
    assert main(record) == 0 and capsys.readouterr().out == "changes=true\n"
    check = ["plan-review", "check", "--reviewed", str(tmp_path / "r.json"), *args]
    assert main([*check, "--plan", str(PLANS / "prod_platform_new_parameter.json")]) == 0
    assert main([*check, "--plan", str(PLANS / "prod_platform_drifted.json")]) == 1
    captured = capsys.readouterr()
    assert "aws_ecs_service.service_service_99887766: planned now (update)" in captured.out
    assert captured.err.count("error:") == 1 and "dispatch the workflow again" in captured.err


# -- apply reports -----------------------------------------------------------------------------------------------


OUTPUTS = {
    "api_url": {"sensitive": False, "type": "string", "value": "https://api.viberglass.example"},
    "database_password": {"sensitive": True, "type": "string", "value": "hunter2hunter2"},
    "cross-stack-output-aws_vpcnetwork_vpc_4E8F0223id": {"sensitive": False, "type": "string", "value": "vpc-1"},
    "private_subnet_ids": {"sensitive": False, "type": ["list", "string"], "value": ["subnet-1", "subnet-2"]},
}


def test_the_report_shows_named_outputs_and_never_a_sensitive_value() -> None:
    text = apply_report.render(load_plan("prod/base", PLANS / "mixed_base.json"), OUTPUTS,
                               run_url="https://run", commit_url=f"https://c/commit/{SHA}")  # fmt: skip
    assert "hunter2" not in text and "| `database_password` | `(sensitive)` |" in text
    assert "cross-stack-output" not in text
    assert '| `private_subnet_ids` | `["subnet-1","subnet-2"]` |' in text
    assert "1 added, 1 changed, 2 destroyed, 1 moved, 1 output(s) changed." in text


def test_a_changed_backend_task_definition_asks_for_a_redeploy() -> None:
    changed = load_plan("dev/platform", PLANS / "dev_platform_task_memory.json")
    assert apply_report.backend_template_changed(changed)
    assert not apply_report.backend_template_changed(load_plan("prod/platform", PLANS / "fresh_platform.json"))
