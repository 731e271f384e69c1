"""ops plan-comment on fixtures in Terraform's JSON plan format (format_version 1.x)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops import plan_comment
from ops.__main__ import main
from ops.plan_comment import GITHUB_LIMIT, MARKER, load_plan, render
from tests.conftest import ROOT

PLANS = ROOT / "tests" / "fixtures" / "plans"


def plan(name: str, stack: str = "dev/base") -> plan_comment.StackPlan:
    return load_plan(stack, PLANS / f"{name}.json")


def only(name: str) -> plan_comment.Change:
    (change,) = plan(name).changes
    return change


def test_create() -> None:
    assert (only("create").action, plan("create").count("create")) == ("create", 1)


def test_update_lists_the_changing_attributes() -> None:
    change = only("update")
    assert (change.action, change.attributes) == ("update", ("description", "tags"))


def test_delete() -> None:
    assert only("delete").action == "delete"


def test_replace_delete_before_create() -> None:
    change = only("replace_delete_first")
    assert (change.action, change.replace_order) == ("replace", "delete, then create")


def test_replace_create_before_delete() -> None:
    change = only("replace_create_first")
    assert (change.action, change.replace_order) == ("replace", "create, then delete")


def test_sensitive_attributes_are_named_never_shown() -> None:
    change = only("replace_delete_first")
    assert "password (sensitive)" in change.attributes
    text = render([plan("replace_delete_first")])
    assert '"x"' not in text and '"y"' not in text


def test_noop_is_no_change() -> None:
    noop = plan("noop")
    assert (noop.changes, noop.output_changes, noop.has_changes) == ([], [], False)


def test_read_is_listed_but_not_counted() -> None:
    read = plan("read")
    assert [c.action for c in read.changes] == ["read"]
    assert not read.has_changes


def test_import_is_counted() -> None:
    imported = plan("import")
    assert (imported.count("import"), only("import").imported) == (1, True)


def test_move_records_the_previous_address() -> None:
    change = only("move")
    assert change.moved_from == "aws_subnet.network_public-0_0F0F0F0F"
    assert plan("move").count("move") == 1


def test_forget() -> None:
    assert (only("forget").action, plan("forget").count("forget")) == ("forget", 1)


def test_module_addresses_are_kept_whole() -> None:
    addresses = [c.address for c in plan("module").changes]
    assert addresses == ["module.legacy.aws_iam_role.this", 'module.legacy.aws_iam_role_policy.this["ecs"]']


def test_output_changes() -> None:
    assert plan("outputs").output_changes == ["api_url (update)", "new_output (create)"]


def test_comment_starts_with_the_hidden_marker() -> None:
    assert render([plan("create")]).startswith(MARKER)


def test_destroys_and_replacements_come_before_the_details() -> None:
    text = render([plan("mixed_base"), plan("mixed_platform", "dev/platform")])
    warning = text.index("[!CAUTION]")
    assert warning < text.index("<details>")
    assert "destroy `aws_nat_gateway.network_nat-b_1A2B3C4D`" in text[: warning + 1000]
    assert "replace (delete, then create) `aws_db_instance.database_instance_ABCDEF12`" in text


def test_summary_table_counts_per_stack() -> None:
    text = render([plan("mixed_base"), plan("mixed_platform", "dev/platform")])
    assert "| `dev/base` | 1 | 1 | 2 |  |  | 1 |  | 1 |" in text
    assert "| `dev/platform` | 1 | 1 |  | 1 | 1 |  |  |  |" in text


def test_stacks_without_changes_fold_into_one_line() -> None:
    text = render([plan("noop", "dev/base"), plan("mixed_workers", "dev/workers"), plan("create", "prod/base")])
    assert "No changes: `dev/base`, `dev/workers`." in text
    assert "<summary><code>dev/base</code>" not in text


def test_several_stacks_in_one_comment() -> None:
    text = render([plan("mixed_base"), plan("mixed_platform", "dev/platform"), plan("create", "prod/base")])
    assert text.count(MARKER) == 1
    assert [s in text for s in ("<code>dev/base</code>", "<code>dev/platform</code>", "<code>prod/base</code>")] == [
        True,
        True,
        True,
    ]


def test_failed_plan_shows_its_error_tail() -> None:
    log = (PLANS / "platform_failed.log").read_text()
    text = render([plan_comment.failed("dev/platform", log)])
    assert "| `dev/platform` | **plan failed** |" in text
    assert "InvalidParameterCombination" in text
    assert "Initializing the backend" not in text  # only the tail


def test_pending_stack_says_why() -> None:
    text = render([plan_comment.pending("dev/platform", "workers is not applied yet")])
    assert "not planned: workers is not applied yet" in text


def _big_plan(creates: int, deletes: int) -> plan_comment.StackPlan:
    changes = [
        {
            "address": f"aws_ssm_parameter.param_{i:04d}_{'x' * 60}",
            "mode": "managed",
            "type": "aws_ssm_parameter",
            "name": f"p{i}",
            "change": {
                "actions": ["create"],
                "before": None,
                "after": {"name": str(i)},
                "after_unknown": {"arn": True},
            },
        }
        for i in range(creates)
    ]
    changes += [
        {
            "address": f"aws_s3_object.doomed_{i:04d}",
            "mode": "managed",
            "type": "aws_s3_object",
            "name": f"d{i}",
            "change": {"actions": ["delete"], "before": {"key": str(i)}, "after": None},
        }
        for i in range(deletes)
    ]
    return plan_comment.parse_plan("dev/platform", {"format_version": "1.2", "resource_changes": changes})


def test_more_than_300_changes_fit_with_every_warning() -> None:
    big = _big_plan(creates=900, deletes=40)
    text = render([big, plan("mixed_base")])
    assert len(text) <= GITHUB_LIMIT
    assert all(f"destroy `aws_s3_object.doomed_{i:04d}`" in text for i in range(40))
    assert "Details were cut" in text
    assert "| `dev/platform` | 900 |  | 40 |" in text


def test_even_thousands_of_destroys_stay_under_the_limit() -> None:
    text = render([_big_plan(creates=0, deletes=5000)])
    assert len(text) <= GITHUB_LIMIT
    assert "more: see the full plan" in text
    assert "| `dev/platform` |  |  | 5000 |" in text


def test_small_plans_are_not_cut() -> None:
    assert "Details were cut" not in render([plan("mixed_base")])


# -- the command ----------------------------------------------------------------------------------------------


def test_command_writes_the_comment_file(tmp_path: Path) -> None:
    out = tmp_path / "comment.md"
    status = main(["plan-comment", "--plan", f"dev/base={PLANS / 'mixed_base.json'}", "--out", str(out)])
    assert status == 0
    assert out.read_text().startswith(MARKER)


@pytest.mark.parametrize("fixture", ["truncated.json", "not_a_plan.json", "missing.json"])
def test_unreadable_plan_is_a_clear_error_with_status_2(fixture: str, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["plan-comment", "--plan", f"dev/base={PLANS / fixture}"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("error: ") and fixture in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_bad_flag_value_is_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan-comment", "--plan", "no-equals-sign"]) == 2


def test_docs_example_is_what_the_tool_renders() -> None:
    """docs/plan-comment-example.md is generated by `make docs`, never written by hand."""
    docs = runpy.run_path(str(ROOT / "scripts" / "docs.py"), run_name="docs")
    doc = (ROOT / "docs" / "plan-comment-example.md").read_text()
    committed = doc.split("<!-- begin -->\n", 1)[1].rsplit("\n<!-- end -->", 1)[0]
    assert committed == docs["example_comment"]()


@settings(max_examples=40, deadline=None)
@given(
    stacks=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=400),  # creates
            st.integers(min_value=0, max_value=200),  # deletes
            st.integers(min_value=1, max_value=300),  # address length
        ),
        min_size=1,
        max_size=4,
    )
)
def test_any_plan_fits_the_github_limit_and_keeps_its_summary(stacks: list[tuple[int, int, int]]) -> None:
    plans = []
    for n, (creates, deletes, width) in enumerate(stacks):
        changes = [{"address": f"aws_s3_object.{'c' * width}{i}", "change": {"actions": ["create"], "after": {}}}
                   for i in range(creates)]  # fmt: skip
        changes += [{"address": f"aws_s3_object.{'d' * width}{i}", "change": {"actions": ["delete"], "before": {}}}
                    for i in range(deletes)]  # fmt: skip
        plans.append(plan_comment.parse_plan(f"dev/s{n}", {"format_version": "1.2", "resource_changes": changes}))
    text = render(plans)
    assert len(text) <= GITHUB_LIMIT
    assert text.startswith(MARKER)
    for n, (creates, deletes, _) in enumerate(stacks):
        if creates or deletes:
            assert f"| `dev/s{n}` | {creates or ''} |  | {deletes or ''} |" in text
    if any(d for _, d, _ in stacks):
        assert "[!CAUTION]" in text
