"""ops plan-comment on fixtures in Terraform's JSON plan format (format_version 0.1 ... 1.2).

The fixtures in tests/fixtures/plans/ follow `terraform show -json` of Terraform 1.10/1.11 (format 1.2)
and of older releases (0.1: Terraform 0.12-0.14, 0.2: 0.15-1.0, 1.0: 1.1); the comment is checked by
parsing it with markdown-it-py (CommonMark + GitHub tables), the way GitHub renders it.
"""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from ops import plan_comment
from ops.__main__ import main
from ops.plan_comment import GITHUB_LIMIT, MARKER, load_plan, render
from tests.conftest import ROOT

PLANS = ROOT / "tests" / "fixtures" / "plans"
GFM = MarkdownIt("commonmark", {"html": True}).enable("table")


def plan(name: str, stack: str = "dev/base") -> plan_comment.StackPlan:
    return load_plan(stack, PLANS / (name if "." in name else f"{name}.json"))


def only(name: str) -> plan_comment.Change:
    (change,) = plan(name).changes
    return change


def html_of(markdown: str) -> str:
    return str(GFM.render(markdown))


# -- every action list of Terraform's JSON plan format -------------------------------------------------------


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


def test_create_then_forget_is_a_replacement_that_keeps_the_old_object() -> None:
    change = only("create_forget")
    assert (change.action, change.replace_order) == (
        "replace",
        "create, then forget the old object, which stays in AWS",
    )
    assert plan("create_forget").counts()["replace"] == 1


def test_noop_is_no_change() -> None:
    noop = plan("noop")
    assert (noop.changes, noop.output_changes, noop.has_changes) == ([], [], False)


def test_read_is_counted_as_read_but_is_not_a_change() -> None:
    read = plan("read")
    assert [c.action for c in read.changes] == ["read"]
    assert (read.count("read"), read.has_changes) == (1, False)


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


def test_unknown_action_list_fails_only_that_stack() -> None:
    document = {"format_version": "1.2", "resource_changes": [{"address": "a.b", "change": {"actions": ["explode"]}}]}
    with pytest.raises(plan_comment.PlanError, match=r"unknown change actions \['explode'\]"):
        plan_comment.parse_plan("dev/base", document)


# -- replacement reasons, deposed objects, drift, reads ------------------------------------------------------


def test_replacement_shows_the_forcing_paths_not_computed_attributes() -> None:
    db = plan("replace_paths").changes[0]
    assert db.attributes == ("identifier",)
    assert db.reason == "an attribute that cannot be updated in place changed"


def test_tainted_replacement_gives_its_reason() -> None:
    tainted = plan("replace_paths").changes[2]
    assert (tainted.reason, tainted.attributes) == ("tainted", ())


def test_replacement_reason_and_paths_reach_the_warning() -> None:
    text = render([plan("replace_paths")])
    warning = text[text.index("[!CAUTION]") : text.index("| stack |")]
    assert "`aws_db_instance.database_instance_ABCDEF12`: an attribute that cannot be updated" in warning
    assert "forced by `identifier`" in warning
    assert "`arn`" not in text and "`id`" not in text


def test_delete_reasons_are_shown() -> None:
    text = render([plan("delete_reasons")])
    assert 'registry_repository_A1B2C3D4["codex"]`: for_each key no longer present' in text
    assert "`aws_sqs_queue.old_queue_99AA88BB`: no longer in the configuration" in text


def test_deposed_object_is_not_the_live_resource() -> None:
    deposed = plan("deposed")
    (change,) = deposed.changes
    assert (change.action, change.deposed) == ("delete", "4e3f2a1b")
    text = render([deposed])
    assert "**destroy deposed object** `4e3f2a1b` of `aws_lb_target_group.alb_backend-tg_5A6B7C8D`" in text


def test_drift_gets_its_own_lines_and_the_headline() -> None:
    drifted = plan("drift")
    assert [c.address for c in drifted.drift] == ["aws_security_group.backend-sg_sg_1234ABCD"]
    text = render([drifted])
    assert "1 resource changed outside Terraform" in text.splitlines()[2]
    assert "**Changed outside Terraform" in text


def test_a_stack_with_only_data_reads_is_not_no_changes() -> None:
    text = render([plan("reads_only", "dev/platform"), plan("noop", "dev/base")])
    assert "No changes: `dev/base`." in text
    assert "Only data sources read at apply, no changes: `dev/platform`." in text
    assert "| `dev/platform` | data reads only |" in text


def test_output_changes_get_their_own_lines() -> None:
    text = render([plan("outputs")])
    assert "**Outputs**\n- `api_url (update)`\n- `new_output (create)`" in text


# -- formats and refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [("format_0_1", ["replace", "create"]), ("format_0_2", ["update"]), ("format_1_0", ["no-op"])],
)
def test_older_format_versions_are_read(fixture: str, expected: list[str]) -> None:
    read = plan(fixture)
    assert read.status == "planned"
    assert [c.action for c in read.changes] == expected


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("state_file.json", "a Terraform state file, not a plan"),
        ("state_show.json", "`terraform show -json` of a state, not of a plan"),
        ("not_a_plan.json", "not a Terraform JSON plan (no format_version)"),
        ("format_2_0.json", "plan format_version 2.0 is not one this tool reads"),
        ("truncated.json", "cannot read plan JSON (JSONDecodeError"),
        ("not_json.txt", "cannot read plan JSON (JSONDecodeError"),
        ("binary_plan.tfplan", "cannot read plan JSON"),
        ("missing.json", "cannot read plan JSON (FileNotFoundError"),
    ],
)
def test_non_plans_are_refused_with_one_line(fixture: str, reason: str) -> None:
    refused = load_plan("dev/base", PLANS / fixture)
    assert refused.status == "failed"
    assert refused.error.startswith(f"{fixture}: ") and reason in refused.error
    assert "\n" not in refused.error


def test_errored_plan_is_failed_and_counted_nowhere() -> None:
    errored = plan("errored", "dev/workers")
    text = render([errored, plan("create", "dev/base")])
    assert errored.status == "failed" and errored.counts() == dict.fromkeys(plan_comment.COUNTED, 0)
    assert text.splitlines()[2] == "## Terraform plan: 1 to add, 0 to change, 0 to destroy, **1 stack failed**"
    assert "| `dev/workers` | **failed** |" in text


# -- rendering -----------------------------------------------------------------------------------------------


def test_comment_starts_with_the_hidden_marker() -> None:
    assert render([plan("create")]).startswith(MARKER)


def test_comment_names_its_commit() -> None:
    assert "Planned for commit `3f2c1ab9e8d7`." in render([plan("create")], commit="3f2c1ab9e8d7")


def test_destroys_and_replacements_come_before_the_details() -> None:
    text = render([plan("mixed_base"), plan("mixed_platform", "dev/platform")])
    warning = text.index("[!CAUTION]")
    assert warning < text.index("<details>")
    assert "**destroy** `aws_nat_gateway.network_nat-b_1A2B3C4D`" in text[: warning + 1000]
    assert "**replace** (delete, then create) `aws_db_instance.database_instance_ABCDEF12`" in text


def test_summary_table_counts_per_stack() -> None:
    text = render([plan("mixed_base"), plan("mixed_platform", "dev/platform")])
    assert "| `dev/base` | changes | 1 | 1 | 2 |  |  | 1 |  |  | 1 |" in text
    assert "| `dev/platform` | changes | 1 | 1 |  | 1 | 1 |  |  | 1 |  |" in text


def test_stacks_without_changes_fold_into_one_line() -> None:
    text = render([plan("noop", "dev/base"), plan("mixed_workers", "dev/workers"), plan("create", "prod/base")])
    assert "No changes: `dev/base`, `dev/workers`." in text
    assert "<summary><code>dev/base</code>" not in text


def test_sensitive_attributes_are_named_never_shown() -> None:
    change = only("replace_delete_first")
    assert change.attributes == ()  # no replace_paths in this plan: nothing claimed to force it
    text = render([plan("update"), plan("replace_paths", "dev/platform"), plan("sensitive_output", "dev/x")])
    for secret in ("correct-horse-battery-staple-1", "old-password-123", "new-password-456"):
        assert secret not in text


def test_failed_plan_shows_its_error_tail() -> None:
    log = (PLANS / "platform_failed.log").read_text()
    text = render([plan_comment.failed("dev/platform", log, reason=plan_comment.first_error(log))])
    assert "| `dev/platform` | **failed** |" in text
    assert "**`dev/platform` failed**: `Error: creating RDS DB Instance" in text
    assert "Initializing the backend" not in text  # only the tail


def test_pending_stack_says_why() -> None:
    text = render([plan_comment.pending("dev/platform", "workers is not applied yet")])
    assert "not planned: `workers is not applied yet`" in text


def test_markup_in_addresses_is_shown_literally() -> None:
    text = render([plan("markup"), plan("create", "dev/other")])
    page = html_of(text)
    assert "<img" not in page and "<a href" not in page and "<strong>bold" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count("<details>") == page.count("</details>") == 2
    assert "<code>aws_ssm_parameter.p_0A[&quot;a|b`c``d&lt;/details&gt;&quot;]</code>" in page


def test_pipes_in_names_keep_the_table_intact() -> None:
    text = render([plan("create", "dev/a|b"), plan("create", "dev/c")])
    rows = [line for line in text.splitlines() if line.startswith("| `dev/")]
    assert len(rows) == 2
    assert rows[0].startswith("| `dev/a\\|b` | changes |")  # GitHub splits cells on a bare | even in code
    assert html_of(text).count("<tr>") == 3  # header and two stacks, nothing split into extra cells


def _big_plan(creates: int, deletes: int, stack: str = "dev/platform") -> plan_comment.StackPlan:
    changes = [
        {"address": f"aws_ssm_parameter.param_{i:04d}_{'x' * 60}", "change": {"actions": ["create"], "after": {}}}
        for i in range(creates)
    ]
    changes += [
        {"address": f"aws_s3_object.doomed_{i:04d}", "change": {"actions": ["delete"], "before": {"key": str(i)}}}
        for i in range(deletes)
    ]
    return plan_comment.parse_plan(stack, {"format_version": "1.2", "resource_changes": changes})


def test_more_than_300_changes_fit_with_every_warning() -> None:
    text = render([_big_plan(creates=900, deletes=40), plan("mixed_base")])
    assert len(text) <= GITHUB_LIMIT
    assert all(f"**destroy** `aws_s3_object.doomed_{i:04d}`" in text for i in range(40))
    assert "Parts were shortened" in text
    assert "| `dev/platform` | changes | 900 |  | 40 |" in text


def test_one_huge_stack_cannot_hide_a_small_stacks_replacement() -> None:
    text = render([_big_plan(creates=0, deletes=5000), plan("replace_paths", "prod/platform")])
    assert len(text) <= GITHUB_LIMIT
    assert "more in `dev/platform`: see the full plan" in text
    assert "`aws_db_instance.database_instance_ABCDEF12`: an attribute" in text
    assert "| `dev/platform` | changes |  |  | 5000 |" in text


def test_a_huge_failure_log_neither_breaks_the_fence_nor_hides_destroys() -> None:
    log = "\n".join(f"line {i} ``` `````` {'y' * 500}" for i in range(3000)) + "\nError: boom"
    text = render([plan_comment.failed("prod/base", log), plan("mixed_base"), _big_plan(0, 200, "dev/big")])
    assert len(text) <= GITHUB_LIMIT
    assert all(f"`aws_s3_object.doomed_{i:04d}`" in text for i in range(200))
    assert "**destroy** `aws_nat_gateway.network_nat-b_1A2B3C4D`" in text
    tokens = GFM.parse(text)
    assert tokens[-2].type == "inline" and "Full plan" in tokens[-2].content  # not swallowed by a fence


def test_small_plans_are_not_cut() -> None:
    assert "Parts were shortened" not in render([plan("mixed_base")])


# -- the machine-readable summary and the value-free digest -------------------------------------------------


def test_summary_format_is_pinned() -> None:
    plans = [plan("mixed_platform", "dev/platform"), plan("errored", "dev/workers"), plan_comment.pending("p", "x")]
    assert plan_comment.summary(plans) == {
        "stacks": [
            {"name": "dev/platform", "status": "planned",
             "counts": {"create": 1, "update": 1, "delete": 0, "replace": 1, "import": 1, "move": 0, "forget": 0,
                        "read": 1}},
            {"name": "dev/workers", "status": "failed", "counts": dict.fromkeys(plan_comment.COUNTED, 0)},
            {"name": "p", "status": "pending", "counts": dict.fromkeys(plan_comment.COUNTED, 0)},
        ]
    }  # fmt: skip


def test_digest_round_trips_without_any_value() -> None:
    plans = [plan("replace_paths"), plan("sensitive_output", "dev/o"), plan("drift", "dev/d"),
             plan_comment.failed("dev/f", "Error: x"), plan_comment.pending("dev/p", "base not applied")]  # fmt: skip
    digest = json.dumps(plan_comment.to_digest(plans))
    assert plan_comment.from_digest(json.loads(digest)) == plans
    for value in ("correct-horse-battery-staple-1", "old-password-123", "viberglass-dev-postgres", "someone"):
        assert value not in digest


def test_unreadable_digest_is_a_failed_stack(tmp_path: Path) -> None:
    bad = tmp_path / "prod.json"
    bad.write_text('{"digest_version": 1, "stacks": [{"name": "x", "changes": [{"action": "explode"}]}]}')
    (failed,) = plan_comment.load_digest(bad, fallback_name="prod")
    assert (failed.name, failed.status) == ("prod", "failed")


# -- sensitive values in the human plan text ---------------------------------------------------------------


def test_sensitive_values_are_found_in_attributes_outputs_and_state() -> None:
    found = plan_comment.sensitive_values(json.loads((PLANS / "replace_paths.json").read_text()))
    assert "correct-horse-battery-staple-1" in found and "viberglass-dev-postgres" not in found
    outputs = plan_comment.sensitive_values(json.loads((PLANS / "sensitive_output.json").read_text()))
    assert {"postgres://app:old-password-123@db:5432/app", "postgres://app:new-password-456@db:5432/app"} <= outputs


def test_job_summary_redacts_what_terraform_left_in_clear(tmp_path: Path) -> None:
    text = tmp_path / "base.txt"
    text.write_text('  ~ password = "correct-horse-battery-staple-1"\n  ~ port = 5432\n')
    secrets = plan_comment.sensitive_values(json.loads((PLANS / "replace_paths.json").read_text()))
    out = plan_comment.job_summary([plan("replace_paths")], {"dev/base": str(text)}, {"dev/base": secrets})
    assert "correct-horse-battery-staple-1" not in out
    assert '~ password = "(sensitive value)"' in out and "1 sensitive value that Terraform printed" in out


def test_job_summary_never_shows_a_text_whose_plan_json_is_unreadable(tmp_path: Path) -> None:
    text = tmp_path / "base.txt"
    text.write_text("secret-looking-text")
    out = plan_comment.job_summary([plan("create")], {"dev/base": str(text)}, {})
    assert "secret-looking-text" not in out and "Not shown" in out


# -- the command ----------------------------------------------------------------------------------------------

EVERY_KIND = ["create", "update", "delete", "replace_delete_first", "replace_create_first", "create_forget",
              "noop", "read", "reads_only", "forget", "import", "move", "module", "outputs", "deposed", "drift",
              "replace_paths", "delete_reasons", "markup", "sensitive_output", "format_0_1", "format_0_2",
              "format_1_0", "errored", "state_file", "state_show", "not_a_plan", "format_2_0", "truncated",
              "not_json.txt", "binary_plan.tfplan"]  # fmt: skip
BAD = {"errored", "state_file", "state_show", "not_a_plan", "format_2_0", "truncated", "not_json.txt",
       "binary_plan.tfplan"}  # fmt: skip


def test_every_kind_of_input_in_one_run(tmp_path: Path) -> None:
    args = ["plan-comment", "--out", str(tmp_path / "c.md"), "--summary", str(tmp_path / "s.json")]
    for name in EVERY_KIND:
        args += ["--plan", f"s/{name}={PLANS / (name if '.' in name else name + '.json')}"]
    args += ["--failed", f"s/log={PLANS / 'platform_failed.log'}", "--pending", "s/pending=base is not applied yet"]
    assert main(args) == 0
    comment = (tmp_path / "c.md").read_text()
    assert len(comment) <= GITHUB_LIMIT and comment.endswith("\n")
    stacks = {s["name"]: s for s in json.loads((tmp_path / "s.json").read_text())["stacks"]}
    assert {n for n, s in stacks.items() if s["status"] == "failed"} == {f"s/{n}" for n in BAD} | {"s/log"}
    assert stacks["s/pending"]["status"] == "pending"
    for name in set(EVERY_KIND) - BAD:
        assert stacks[f"s/{name}"]["counts"] == plan(name).counts(), name
        assert f"| `s/{name}` |" in comment
    for name in BAD:
        assert f"| `s/{name}` | **failed** |" in comment
    assert stacks["s/create_forget"]["counts"]["replace"] == 1
    assert stacks["s/replace_paths"]["counts"]["replace"] == 3


def test_file_stays_within_the_limit_with_its_newline(tmp_path: Path) -> None:
    out = tmp_path / "c.md"
    many = tmp_path / "many.json"
    changes = [{"address": f"aws_s3_object.{'o' * 200}{i}", "change": {"actions": ["delete"], "before": {}}}
               for i in range(3000)]  # fmt: skip
    many.write_text(json.dumps({"format_version": "1.2", "resource_changes": changes}))
    assert main(["plan-comment", "--plan", f"dev/base={many}", "--out", str(out)]) == 0
    assert len(out.read_text()) <= GITHUB_LIMIT


def test_a_comment_at_the_limit_still_fits_with_its_newline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file is the rendered text plus a newline: the text must be rendered one character shorter."""
    monkeypatch.setattr(plan_comment, "render", lambda _plans, *, limit, **_: "x" * limit)
    out = tmp_path / "c.md"
    assert main(["plan-comment", "--plan", f"dev/base={PLANS / 'create.json'}", "--out", str(out)]) == 0
    assert len(out.read_text()) == GITHUB_LIMIT


def test_arguments_from_a_file(tmp_path: Path) -> None:
    argfile = tmp_path / "args"
    argfile.write_text(f"--plan\ndev/base={PLANS / 'create.json'}\n--pending\ndev/workers=base is not applied yet\n")
    out = tmp_path / "c.md"
    assert main(["plan-comment", f"@{argfile}", "--out", str(out)]) == 0
    assert "not planned: `base is not applied yet`" in out.read_text()


def test_digests_from_other_jobs_are_combined(tmp_path: Path) -> None:
    main(["plan-comment", "--plan", f"dev/base={PLANS / 'delete.json'}", "--save-digest", str(tmp_path / "dev.json")])
    main(["plan-comment", "--plan", f"prod/base={PLANS / 'create.json'}", "--save-digest", str(tmp_path / "prod.json")])
    out = tmp_path / "c.md"
    assert main(["plan-comment", "--digest", str(tmp_path / "dev.json"), "--digest", str(tmp_path / "prod.json"),
                 "--digest", str(tmp_path / "gone.json"), "--out", str(out)]) == 0  # fmt: skip
    text = out.read_text()
    assert "| `dev/base` | changes |  |  | 1 |" in text and "| `prod/base` | changes | 1 |" in text
    assert "| `gone` | **failed** |" in text


def test_bad_flag_value_is_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan-comment", "--plan", "no-equals-sign"]) == 2
    assert capsys.readouterr().err.startswith("error: --plan 'no-equals-sign'")


def test_no_input_is_status_2() -> None:
    assert main(["plan-comment"]) == 2


def test_docs_example_is_what_the_tool_renders() -> None:
    """docs/plan-comment-example.md is generated by `make docs`, never written by hand."""
    docs = runpy.run_path(str(ROOT / "scripts" / "docs.py"), run_name="docs")
    doc = (ROOT / "docs" / "plan-comment-example.md").read_text()
    committed = doc.split("<!-- begin -->\n", 1)[1].rsplit("\n<!-- end -->", 1)[0]
    assert committed == docs["example_comment"]()


# -- properties over generated plans -------------------------------------------------------------------------

ACTIONS = [["create"], ["update"], ["delete"], ["no-op"], ["read"], ["forget"], ["create", "forget"],
           ["delete", "create"], ["create", "delete"]]  # fmt: skip
KIND = {"create": "create", "update": "update", "delete": "delete", "read": "read", "forget": "forget"}
NASTY = st.lists(
    st.sampled_from([*'ab_.[]"`|<>*#&\\ \n/-0', "</details>", "```", "<!--", "<img src=x>"]), max_size=20
).map("".join)


@st.composite
def resource_change(draw: st.DrawFn, i: int, names: st.SearchStrategy[str]) -> dict[str, Any]:
    actions = draw(st.sampled_from(ACTIONS))
    rc: dict[str, Any] = {"address": f"aws_x.r{i}_{draw(names)}", "change": {"actions": actions}}
    if draw(st.booleans()) and actions != ["read"]:
        rc["change"]["importing"] = {"id": "x"}
    if draw(st.integers(0, 5)) == 0:
        rc["previous_address"] = f"aws_x.old{i}"
    if actions == ["delete"] and draw(st.integers(0, 4)) == 0:
        rc["deposed"] = "00aa11bb"
    if len(actions) == 2:
        rc["change"]["replace_paths"] = [[draw(names) or "name"]]
    return rc


@st.composite
def stack(draw: st.DrawFn) -> dict[str, Any]:
    # The nasty names of one stack are drawn once, up to a dozen, and each change picks one: a change costs a
    # handful of draws instead of ~20 (a 250-change stack was most of an example's time), and a name
    # hypothesis shrinks is shrunk everywhere it is used.
    names = st.sampled_from(draw(st.lists(NASTY, min_size=1, max_size=12)))
    n = draw(st.integers(0, 250))
    return {"format_version": draw(st.sampled_from(["0.1", "0.2", "1.0", "1.1", "1.2"])),
            "resource_changes": [draw(resource_change(i, names)) for i in range(n)]}  # fmt: skip


def expected_counts(document: dict[str, Any]) -> dict[str, int]:
    counts = dict.fromkeys(plan_comment.COUNTED, 0)
    for rc in document["resource_changes"]:
        actions = rc["change"]["actions"]
        kind = "replace" if len(actions) == 2 else KIND.get(actions[0])
        if kind:
            counts[kind] += 1
        counts["import"] += "importing" in rc["change"]
        counts["move"] += "previous_address" in rc
    return counts


# Plans of up to 5 x 250 changes are meant to be big (the size limit is the point); hypothesis' health check
# against large generated data would fail such a run at random.
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.data_too_large])
@given(stacks=st.lists(stack(), min_size=1, max_size=5), failing=st.integers(0, 5), commit=NASTY)
def test_any_plans_fit_parse_and_keep_every_stack(stacks: list[dict[str, Any]], failing: int, commit: str) -> None:
    plans = [plan_comment.parse_plan(f"dev/s{n}", doc) for n, doc in enumerate(stacks)]
    if failing < len(plans):
        plans[failing] = plan_comment.failed(plans[failing].name, "```\n" * 50 + "Error: x")
    text = render(plans, commit=commit)
    assert len(text) <= GITHUB_LIMIT and text.startswith(MARKER)
    assert "\n" not in text.splitlines()[2]
    tokens = GFM.parse(text)
    last = tokens[-2].content
    assert tokens[-2].type == "inline" and ("Full plan" in last or "Parts were shortened" in last)
    page = GFM.renderer.render(tokens, GFM.options, {})  # html_of(text), from the tokens already parsed
    assert page.count("<details>") == page.count("</details>")
    assert "<img" not in page
    summary = plan_comment.summary(plans)
    for n, (document, entry) in enumerate(zip(stacks, summary["stacks"], strict=True)):
        assert f"| `dev/s{n}` |" in text
        if n != failing:
            assert entry["counts"] == expected_counts(document)
            dangerous = [c for c in plans[n].changes if c.action in {"delete", "replace"}]
            if dangerous and len(dangerous) <= 3:  # a small stack's destroys are always in sight
                assert all(plan_comment.code(c.address) in text for c in dangerous)
        else:
            assert entry["status"] == "failed"


# -- behaviours a one-line slip would break (literal numbers and words: not the module's own constants) ----

# GitHub refuses an issue or pull-request comment body longer than this many characters. Written here as
# GitHub's number, never imported from ops.plan_comment: a changed constant there must fail this test.
GITHUB_COMMENT_BODY_LIMIT = 65536


def test_a_huge_plan_fills_but_never_exceeds_githubs_comment_limit() -> None:
    for creates, deletes in ((900, 40), (3000, 0), (10000, 200)):
        text = render([_big_plan(creates, deletes)])
        assert GITHUB_COMMENT_BODY_LIMIT - 1000 < len(text) <= GITHUB_COMMENT_BODY_LIMIT, (creates, deletes)


def test_the_comment_file_with_its_newline_fits_githubs_limit(tmp_path: Path) -> None:
    out = tmp_path / "comment.md"
    digest = tmp_path / "big.json"
    digest.write_text(json.dumps(plan_comment.to_digest([_big_plan(5000, 100)])))
    assert main(["plan-comment", "--digest", str(digest), "--out", str(out)]) == 0
    assert GITHUB_COMMENT_BODY_LIMIT - 1000 < len(out.read_text()) <= GITHUB_COMMENT_BODY_LIMIT


def test_a_stack_whose_only_changes_are_outputs_has_changes() -> None:
    """Applying it changes what other stacks and the deploy workflows read: never "No changes"."""
    text = render([plan("outputs", "dev/workers"), plan("noop", "prod/base")])
    assert "| `dev/workers` | changes |" in text
    assert "No changes: `prod/base`.\n" in text
    assert "<summary><code>dev/workers</code>: outputs only</summary>" in text
    assert "## Terraform plan: 0 to add, 0 to change, 0 to destroy\n" in text
    assert plan("outputs").has_changes


def test_the_last_line_links_the_full_plan() -> None:
    text = render([plan("mixed_base")], full_plan="the summaries of https://github.example/run/7")
    assert text.splitlines()[-1] == "_Full plan: the summaries of https://github.example/run/7._"


def test_a_shortened_comment_still_ends_with_the_link_to_the_full_plan() -> None:
    text = render([_big_plan(900, 40)], full_plan="https://github.example/run/8")
    assert text.splitlines()[-1] == (
        "_Parts were shortened to fit GitHub's comment limit; the full plan is in https://github.example/run/8._"
    )


def test_the_caution_block_comes_before_the_table() -> None:
    text = render([plan("mixed_base"), plan("mixed_platform", "dev/platform")])
    assert text.index("> [!CAUTION]") < text.index("| stack | result |") < text.index("<details>")


def test_destroys_and_replacements_are_each_counted_once() -> None:
    """mixed_base destroys 2 resources; mixed_platform replaces 1 (a replacement is not also a destroy)."""
    text = render([plan("mixed_base"), plan("mixed_platform", "dev/platform")])
    assert "> **2 resources will be destroyed and 1 resource replaced.**" in text
    assert "> **`dev/base`: 2 destroys, 0 replacements**" in text
    assert "> **`dev/platform`: 0 destroys, 1 replacement**" in text
    assert text.splitlines()[2] == (
        "## Terraform plan: 2 to add, 2 to change, 2 to destroy, 1 to replace, 1 to import, 1 to move"
    )


# -- what each kind of resource change is read as, whole -------------------------------------------------------

C = plan_comment.Change
CANNOT_UPDATE = "an attribute that cannot be updated in place changed"
PARSED: dict[str, list[plan_comment.Change]] = {
    "create": [C("aws_vpc.network_vpc_4E8F0223", "create")],
    "update": [C("aws_security_group.backend-sg_group_21F014B1", "update", ("description", "tags"))],
    "delete": [C("aws_nat_gateway.network_nat-b_1A2B3C4D", "delete")],
    "replace_delete_first": [C("aws_db_instance.database_instance_ABCDEF12", "replace", (), "delete, then create",
                               CANNOT_UPDATE)],
    "replace_create_first": [C("aws_acm_certificate.load-balancer_api-certificate_certificate_11223344", "replace",
                               (), "create, then delete", CANNOT_UPDATE)],
    "create_forget": [C("aws_s3_bucket.legacy_bucket_0A0B0C0D", "replace", (),
                        "create, then forget the old object, which stays in AWS")],
    "read": [C("data.aws_caller_identity.account_current_12345678", "read")],
    "import": [C("aws_s3_bucket.uploads_bucket_556152F0", "no-op", imported=True)],
    "move": [C("aws_subnet.network_public-a_A182901C", "no-op", moved_from="aws_subnet.network_public-0_0F0F0F0F")],
    "forget": [C("aws_kms_key.key_key_9F8E7D6C", "forget")],
    "module": [C("module.legacy.aws_iam_role.this", "update", ("description",)),
               C('module.legacy.aws_iam_role_policy.this["ecs"]', "create")],
    "delete_reasons": [C('aws_ecr_repository.registry_repository_A1B2C3D4["codex"]', "delete",
                         reason="for_each key no longer present"),
                       C("aws_sqs_queue.old_queue_99AA88BB", "delete", reason="no longer in the configuration")],
    "deposed": [C("aws_lb_target_group.alb_backend-tg_5A6B7C8D", "delete", deposed="4e3f2a1b")],
    "replace_paths": [
        C("aws_db_instance.database_instance_ABCDEF12", "replace", ("identifier",), "delete, then create",
          CANNOT_UPDATE),
        C("aws_ecs_task_definition.backend_task_11223344", "replace", ("container_definitions",),
          "create, then delete", CANNOT_UPDATE),
        C("aws_instance.tainted_AABBCCDD", "replace", (), "delete, then create", "tainted"),
    ],
    "reads_only": [C("data.aws_ssm_parameter.frontend_github-token_ABCD1234", "read",
                     reason="it depends on changes pending apply")],
    "noop": [],
    "outputs": [],
}  # fmt: skip


@pytest.mark.parametrize("fixture", sorted(PARSED))
def test_each_fixture_is_read_as_exactly_these_changes(fixture: str) -> None:
    parsed = plan(fixture)
    assert (parsed.changes, parsed.error, parsed.status) == (PARSED[fixture], "", "planned")


def test_drift_and_outputs_are_read_apart_from_the_changes() -> None:
    drift = plan("drift")
    tags = C("aws_security_group.backend-sg_sg_1234ABCD", "update", ("tags",))
    assert (drift.changes, drift.drift, drift.output_changes) == ([tags], [tags], [])
    assert plan("outputs").output_changes == ["api_url (update)", "new_output (create)"]


def _rc(actions: Any, **change: Any) -> dict[str, Any]:
    return {"format_version": "1.2", "resource_changes": [{"address": "aws_x.y", "change": {"actions": actions,
                                                                                              **change}}]}  # fmt: skip


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (_rc("create"), "change actions 'create' are not a list"),
        (_rc(["create", "update"]), "unknown change actions ['create', 'update']"),
        (_rc(["destroy"]), "unknown change actions ['destroy']"),
        (_rc([]), "unknown change actions []"),
        ({"format_version": "1.2", "resource_changes": [{"change": {"actions": ["create"]}}]},
         "a resource change without an address"),
        ({"format_version": "1.2", "resource_changes": ["x"]}, "a resource change without an address"),
        ({"format_version": "1.2", "resource_changes": [], "output_changes": {"o": {"actions": ["replace"]}}},
         "unknown change actions ['replace']"),
    ],
)  # fmt: skip
def test_an_unreadable_change_fails_its_stack_with_one_reason(document: dict[str, Any], reason: str) -> None:
    with pytest.raises(plan_comment.PlanError) as caught:
        plan_comment.parse_plan("dev/base", document)
    assert str(caught.value) == reason


def test_what_an_update_changes_is_named_never_shown() -> None:
    change = plan_comment.parse_plan("s", _rc(
        ["update"],
        before={"a": 1, "b": "x", "same": 1, "secret": "old"},
        after={"a": 2, "b": "x", "same": 1, "secret": "new", "added": True},
        after_unknown={"arn": True, "b": False},
        before_sensitive={"secret": True},
    )).changes[0]  # fmt: skip
    assert change.attributes == ("a", "added", "arn (known after apply)", "secret (sensitive)")


def test_every_sensitive_value_of_a_plan_is_collected() -> None:
    document = {
        "resource_changes": [{"change": {"before": {"p": "before-password", "n": 1},
                                         "before_sensitive": {"p": True}, "after": {"l": ["a", "list-secret"]},
                                         "after_sensitive": {"l": [False, True]}}}],
        "resource_drift": [{"change": {"after": {"d": {"k": "drifted-secret"}},
                                       "after_sensitive": {"d": {"k": True}}}}],
        "output_changes": {"o": {"after": "output-secret", "after_sensitive": True}},
        "planned_values": {"root_module": {"resources": [{"values": {"v": "planned-secret"},
                                                          "sensitive_values": {"v": True}}],
                                           "child_modules": [{"resources": [{"values": {"w": "child-secret\nline-two"},
                                                                             "sensitive_values": {"w": True}}]}]},
                           "outputs": {"x": {"value": "planned-output", "sensitive": True}, "y": {"value": "public"}}},
        "prior_state": {"values": {"root_module": {"resources": [{"values": {"s": "state-secret"},
                                                                  "sensitive_values": {"s": True}}]}}},
        "configuration": {"root_module": {"variables": {"token": {"sensitive": True}, "name": {}}}},
        "variables": {"token": {"value": "variable-secret"}, "name": {"value": "public-name"}},
    }  # fmt: skip
    assert plan_comment.sensitive_values(document) == {
        "before-password", "list-secret", "drifted-secret", "output-secret", "planned-secret",
        "child-secret\nline-two", "child-secret", "line-two", "planned-output", "state-secret", "variable-secret",
    }  # fmt: skip
    assert plan_comment.sensitive_values(["not", "a", "plan"]) == set()


def test_redaction_replaces_long_values_only_and_counts_them() -> None:
    text, count = plan_comment.redact("pw=hunter2hunter2 port=5432 again hunter2hunter2", {"hunter2hunter2", "5432"})
    assert (text, count) == ("pw=(sensitive value) port=5432 again (sensitive value)", 2)
    assert plan_comment.redact("12345678", {"12345678"}) == ("(sensitive value)", 1)
    assert plan_comment.redact("1234567", {"1234567"}) == ("1234567", 0)


def test_the_first_terraform_error_line_is_the_reason() -> None:
    log = "Initializing...\n│ Error: No valid credential sources found\n│ \nError: second"
    assert plan_comment.first_error(log) == "Error: No valid credential sources found"
    assert plan_comment.first_error("all fine") == "failed (no Terraform error line; see the log)"
    assert plan_comment.first_error("Error: " + "x" * 500) == ("Error: " + "x" * 500)[:400]


def test_a_failed_stack_keeps_the_last_twenty_lines_of_its_log() -> None:
    log = "\n".join(f"line {i}" for i in range(30)) + "\n\n"
    failed = plan_comment.failed("dev/base", log)
    assert failed.log.splitlines() == [f"line {i}" for i in range(10, 30)]
    assert (failed.error, failed.status) == ("plan failed", "failed")
    assert plan_comment.failed("dev/base", "", reason="init failed").log == "(no output)"


def test_inline_code_and_fences_cannot_be_closed_by_what_they_quote() -> None:
    assert plan_comment.code("a`b") == "``a`b``"
    assert plan_comment.code("`x`") == "`` `x` ``"
    assert plan_comment.code("") == "`  `"  # an empty span needs its padding
    assert plan_comment.code("a\nb") == "`a\\x0ab`"
    assert plan_comment.cell("a|b") == "`a\\|b`"
    assert plan_comment.fenced("x\n````\ny") == ["`````", "x", "````", "y", "`````"]
    assert plan_comment.fenced("") == ["```", "", "```"]
    assert plan_comment.html_code("<a>\x7f") == "<code>&lt;a&gt;\\x7f</code>"


def test_the_details_of_a_stack_list_every_group_in_order() -> None:
    """Replacements first, then destroys, creates, updates, forgets, reads, imports, moves, drift, outputs."""
    parts = ("replace_paths", "delete_reasons", "deposed", "import", "move", "forget", "read", "update", "create")
    stack = plan_comment.StackPlan(
        "dev/x", changes=[c for p in parts for c in plan(p).changes], drift=plan("drift").drift,
        output_changes=["o (create)"],
    )  # fmt: skip
    assert plan_comment._details(stack) == [
        "<details><summary><code>dev/x</code>: 1 to add, 1 to change, 3 to destroy, 3 to replace, 1 to import, "
        "1 to move, 1 to forget, 1 to read</summary>",
        "",
        "**Replace**",
        f"- `aws_db_instance.database_instance_ABCDEF12` (delete, then create): {CANNOT_UPDATE}; forced by "
        "`identifier`",
        f"- `aws_ecs_task_definition.backend_task_11223344` (create, then delete): {CANNOT_UPDATE}; forced by "
        "`container_definitions`",
        "- `aws_instance.tainted_AABBCCDD` (delete, then create): tainted",
        "",
        "**Destroy**",
        '- `aws_ecr_repository.registry_repository_A1B2C3D4["codex"]`: for_each key no longer present',
        "- `aws_sqs_queue.old_queue_99AA88BB`: no longer in the configuration",
        "- `aws_lb_target_group.alb_backend-tg_5A6B7C8D` (deposed object `4e3f2a1b`)",
        "",
        "**Create**",
        "- `aws_vpc.network_vpc_4E8F0223`",
        "",
        "**Update in place**",
        "- `aws_security_group.backend-sg_group_21F014B1`; changes `description`, `tags`",
        "",
        "**Forget (removed from state, kept in AWS)**",
        "- `aws_kms_key.key_key_9F8E7D6C`",
        "",
        "**Read during apply (data sources)**",
        "- `data.aws_caller_identity.account_current_12345678`",
        "",
        "**Import**",
        "- `aws_s3_bucket.uploads_bucket_556152F0`",
        "",
        "**Move**",
        "- `aws_subnet.network_public-0_0F0F0F0F` → `aws_subnet.network_public-a_A182901C`",
        "",
        "**Changed outside Terraform (drift; the plan above puts it back)**",
        "- `aws_security_group.backend-sg_sg_1234ABCD`; changes `tags`",
        "",
        "**Outputs**",
        "- `o (create)`",
        "",
        "</details>",
    ]


def test_the_job_summary_shows_each_redacted_plan_in_a_fence(tmp_path: Path) -> None:
    text = tmp_path / "base.txt"
    text.write_text("  + password = hunter2hunter2\n  ~ name = x\n")
    plans = [plan("create", "dev/base"), plan("create", "dev/unread"), plan("create", "dev/gone")]
    summary = plan_comment.job_summary(
        plans, {"dev/base": str(text), "dev/unread": str(text), "dev/gone": str(tmp_path / "missing.txt")},
        {"dev/base": {"hunter2hunter2"}, "dev/gone": set()},
    )  # fmt: skip
    assert summary.splitlines()[:12] == [
        "## Terraform plans", "",
        "### `dev/base`", "", "_1 sensitive value that Terraform printed in clear were redacted._", "",
        "```", "  + password = (sensitive value)", "  ~ name = x", "```", "",
        "### `dev/unread`",
    ]  # fmt: skip
    assert "_Not shown: its plan JSON could not be read, so its sensitive values are unknown._" in summary
    assert "### `dev/gone`\n\n_Not shown: [Errno 2] No such file or directory:" in summary


# -- the comment's exact text: every line, blank line and word is the behaviour (not a golden file) ---------

C_ = plan_comment.Change


def _mixed_plans() -> list[plan_comment.StackPlan]:
    base = plan_comment.StackPlan("dev/base", changes=[
        C_("aws_vpc.main", "create"),
        C_("aws_db_instance.db", "replace", ("identifier", "engine"), "delete, then create", "tainted"),
        C_("aws_sqs_queue.old", "delete", (), "", "no longer in the configuration"),
        C_("aws_kms_key.k", "update", ("description",)),
    ], output_changes=["vpc_id (create)"])  # fmt: skip
    return [
        base,
        plan_comment.pending("dev/workers", "base is not applied yet"),
        plan_comment.pending("dev/extra", "base is not applied yet"),
        plan_comment.failed("dev/platform", "Initializing...\nError: No valid credential sources found"),
        plan_comment.StackPlan("dev/hcp"),
        plan_comment.StackPlan("dev/dns"),
        plan_comment.StackPlan("dev/reads", changes=[C_("data.aws_caller_identity.me", "read")]),
        plan_comment.StackPlan("dev/more-reads", changes=[C_("data.aws_region.here", "read")]),
    ]


def test_a_comment_with_every_kind_of_stack_reads_exactly_so() -> None:
    """Changes, two pending, one failed, two without changes and two with data reads only, in one comment."""
    expected = MIXED_TEXT
    assert render(_mixed_plans(), commit="0123abc", full_plan="the run's job summary") == expected


def test_without_a_commit_or_a_link_the_comment_names_no_commit_and_points_at_the_job_summary() -> None:
    text = render(_mixed_plans()[4:6])
    assert text.splitlines()[:3] == [MARKER, "", "## Terraform plan: 0 to add, 0 to change, 0 to destroy"]
    assert "Planned for commit" not in text
    assert text.endswith("\n\nNo changes: `dev/hcp`, `dev/dns`.\n\n_Full plan: the job summary._")


def _long_plans() -> list[plan_comment.StackPlan]:
    base = plan_comment.StackPlan("dev/base", changes=[C_(f"aws_sqs_queue.q{i}", "delete") for i in range(6)]
                                  + [C_(f"aws_vpc.v{i}", "create") for i in range(8)])  # fmt: skip
    return [base, plan_comment.failed("dev/platform", "\n".join(f"log line {i}" for i in range(12)))]


def test_a_comment_1300_characters_long_shortens_only_the_details() -> None:
    text = render(_long_plans(), commit="c0ffee", full_plan="https://example.test/run/1", limit=1300)
    assert (text, len(text)) == (CUT_1300, 1263)


def test_a_comment_1000_characters_long_shortens_the_warnings_and_the_log_and_drops_the_details() -> None:
    text = render(_long_plans(), commit="c0ffee", full_plan="https://example.test/run/1", limit=1000)
    assert (text, len(text)) == (CUT_1000, len(CUT_1000))
    assert len(text) <= 1000


# -- how space is shared and what a shortened section keeps -------------------------------------------------


def test_space_is_shared_max_min_fairly() -> None:
    """Floors first; needs smaller than an even share are met in full, the rest split the remainder evenly."""
    assert plan_comment._fair_shares([10, 50, 100], [5, 5, 5], 120) == [10, 50, 60]
    assert plan_comment._fair_shares([100, 10], [0, 0], 60) == [50, 10]  # the small need is met first
    assert plan_comment._fair_shares([50, 40], [0, 30], 80) == [40, 40]  # ordered by need above the floor
    assert plan_comment._fair_shares([10, 100], [0, 0], 21) == [10, 11]  # a need equal to the share is met
    assert plan_comment._fair_shares([100], [5], 50) == [50]  # the floor plus the whole remainder
    assert plan_comment._fair_shares([10], [5], 6) == [6]  # one character left is still handed out
    shares = plan_comment._fair_shares([100, 100], [0, 0], 5)
    assert shares == [2, 2] and all(isinstance(share, int) for share in shares)  # whole characters


def test_floors_are_kept_when_the_budget_does_not_cover_them() -> None:
    assert plan_comment._fair_shares([10, 10], [6, 6], 10) == [6, 6]
    assert plan_comment._fair_shares([10, 10], [6, 6], 12) == [6, 6]


@pytest.mark.parametrize(
    ("room", "kept"),
    [(7, ["h", "+3"]), (8, ["h", "aa", "+2"]), (11, ["h", "aa", "+2"]), (12, ["h", "aa", "bbb", "+1"]),
     (13, ["h", "aa", "bbb", "+1"]), (14, ["h", "aa", "bbb", "cccc"]), (0, ["h", "+3"])],
)  # fmt: skip
def test_a_shortened_section_keeps_its_first_line_and_what_fits_with_the_more_line(room: int, kept: list[str]) -> None:
    """Each line costs its length plus a newline; the "more" line must fit too (or the first line alone stays)."""
    assert plan_comment._fit(["h", "aa", "bbb", "cccc"], room, lambda n: f"+{n}") == kept


@pytest.mark.parametrize(
    ("room", "block"),
    [(13, ["H"]), (14, ["H", "", "```", "l2", "```"]), (16, ["H", "", "```", "l2", "```"]),
     (17, ["H", "", "```", "l1", "l2", "```"])],
)  # fmt: skip
def test_a_failure_keeps_the_last_log_lines_that_fit_in_a_fence(room: int, block: list[str]) -> None:
    assert plan_comment._fit_tail(["H"], ["l1", "l2"], room) == block
    assert plan_comment._fit_tail(["H"], [], 100) == ["H"]


def test_a_log_line_over_400_characters_is_shortened_to_400_and_marked() -> None:
    failed = plan_comment.failed("dev/base", "a" * 400 + "\n" + "b" * 401)
    head, log = plan_comment._failure_section(failed)
    assert head == ["**`dev/base` failed**: `plan failed`"]
    assert log == ["a" * 400, "b" * 400 + " [...]"]


# -- reading plans: every refusal in its own words ------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (["a", "list"], "not a Terraform JSON plan (a JSON list)"),
        ("text", "not a Terraform JSON plan (a JSON str)"),
        ({"lineage": "x"}, "a Terraform state file, not a plan (give `terraform show -json <planfile>`)"),
        ({"serial": 3}, "a Terraform state file, not a plan (give `terraform show -json <planfile>`)"),
        ({"version": 4, "resources": []},
         "a Terraform state file, not a plan (give `terraform show -json <planfile>`)"),
        ({"version": 4}, "not a Terraform JSON plan (no format_version)"),
        ({"resources": []}, "not a Terraform JSON plan (no format_version)"),
        ({"format_version": "2.0", "resource_changes": []},
         "plan format_version 2.0 is not one this tool reads (0.x and 1.x)"),
        ({"format_version": "1.2", "values": {}},
         "`terraform show -json` of a state, not of a plan (give it the saved plan file)"),
        ({"format_version": "1.2"}, "not a Terraform JSON plan (no planned_values or resource_changes)"),
    ],
)  # fmt: skip
def test_what_is_not_a_plan_is_named_in_one_line(document: Any, reason: str) -> None:
    with pytest.raises(plan_comment.PlanError) as caught:
        plan_comment.parse_plan("dev/base", document)
    assert str(caught.value) == reason


def test_a_plan_with_planned_values_only_is_a_plan_without_changes() -> None:
    parsed = plan_comment.parse_plan("dev/base", {"format_version": "1.2", "planned_values": {}})
    assert (parsed.status, parsed.changes, parsed.has_changes) == ("planned", [], False)


def test_a_plan_whose_structure_breaks_the_reader_is_malformed_with_the_python_error() -> None:
    document = _rc(["delete", "create"], replace_paths=5)
    with pytest.raises(plan_comment.PlanError) as caught:
        plan_comment.parse_plan("dev/base", document)
    assert str(caught.value) == "malformed plan (TypeError: 'int' object is not iterable)"


def test_an_errored_plan_says_terraform_stopped_part_way() -> None:
    parsed = plan_comment.parse_plan("dev/base", {"format_version": "1.2", "resource_changes": [], "errored": True})
    assert parsed.error == (
        "Terraform reported the plan as errored: it stopped part-way, so its changes are incomplete"
    )


def test_json_nested_too_deeply_is_a_failed_stack_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    parsed = plan_comment.load_plan("dev/base", path)
    assert (parsed.name, parsed.error) == ("dev/base", "deep.json: JSON nested too deeply to be a plan")


def test_replace_paths_are_written_as_terraform_addresses_them() -> None:
    document = _rc(["delete", "create"], replace_paths=[[], "name", ["tags", "Name"], ["ingress", 0, "cidr_blocks", 1],
                                                        ["a", "b", "c"]])  # fmt: skip
    (change,) = plan_comment.parse_plan("dev/base", document).changes
    assert change.attributes == ('tags["Name"]', 'ingress[0]["cidr_blocks"][1]', 'a["b"]["c"]')


def test_an_attribute_marked_sensitive_only_after_the_change_is_named_sensitive() -> None:
    document = _rc(["update"], before={"p": "a"}, after={"p": "b"}, after_sensitive={"p": True})
    assert plan_comment.parse_plan("dev/base", document).changes[0].attributes == ("p (sensitive)",)


def test_a_reason_terraform_adds_later_is_shown_as_terraform_names_it() -> None:
    document = _rc(["delete"])
    document["resource_changes"][0]["action_reason"] = "delete_because_of_something_new"
    assert plan_comment.parse_plan("dev/base", document).changes[0].reason == "delete_because_of_something_new"


# -- digests: refusals and every field kept ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ([], "not a plan digest (digest_version 1 expected)"),
        ({"digest_version": 2, "stacks": []}, "not a plan digest (digest_version 1 expected)"),
        ({"digest_version": 1, "stacks": ["x"]}, "a digest stack without a name"),
        ({"digest_version": 1, "stacks": [{"name": 7}]}, "a digest stack without a name"),
        ({"digest_version": 1, "stacks": [{"name": "s", "changes": ["x"]}]}, "a change is not an object"),
        ({"digest_version": 1, "stacks": [{"name": "s", "changes": [{"action": "explode"}]}]},
         "unknown action 'explode'"),
        ({"digest_version": 1, "stacks": [{"name": "s", "changes": [{"action": "create", "attributes": [1]}]}]},
         "attributes is not a list of strings"),
        ({"digest_version": 1, "stacks": [{"name": "s", "changes": [{"action": "create", "attributes": "a"}]}]},
         "attributes is not a list of strings"),
        ({"digest_version": 1, "stacks": [{"name": "s", "output_changes": None}]},
         "output_changes is not a list of strings"),
    ],
)  # fmt: skip
def test_a_malformed_digest_is_refused_in_its_own_words(document: Any, reason: str) -> None:
    with pytest.raises(plan_comment.PlanError) as caught:
        plan_comment.from_digest(document)
    assert str(caught.value) == reason


def test_a_digest_keeps_every_action_and_every_field_of_a_change() -> None:
    changes: list[dict[str, Any]] = [{"address": f"aws_x.{a}", "action": a} for a in ("read", "forget", "no-op")]
    changes.append({"address": "aws_x.m", "action": "update", "imported": True, "moved_from": "aws_x.old",
                    "deposed": "00aa", "reason": "r", "replace_order": "o", "attributes": ["a"]})  # fmt: skip
    (stack,) = plan_comment.from_digest({"digest_version": 1, "stacks": [{"name": "s", "changes": changes}]})
    assert [c.action for c in stack.changes] == ["read", "forget", "no-op", "update"]
    assert stack.changes[3] == C_("aws_x.m", "update", ("a",), "o", "r", True, "aws_x.old", "00aa")
    assert (stack.changes[0].attributes, stack.output_changes) == ((), [])


# -- sensitive values, redaction and quoting --------------------------------------------------------------------


def test_sensitive_values_inside_maps_and_lists_are_all_found_and_booleans_never() -> None:
    document = {"resource_changes": [{"change": {
        "before": None, "before_sensitive": {"tags": {"k": True}, "l": [True]},
        "after": {"m": {"k": "map-secret-1"}, "l": ["list-secret-1"], "flag": True, "short": ["x", "list-2-secret"]},
        "after_sensitive": {"m": True, "l": True, "flag": True, "short": [False, True, True]},
    }}]}  # fmt: skip
    assert plan_comment.sensitive_values(document) == {"map-secret-1", "list-secret-1", "list-2-secret"}
    # A list mask over a value that is not a list (a provider's inconsistent plan) marks nothing.
    odd = {"resource_changes": [{"change": {"after": {"l": "not a list"}, "after_sensitive": {"l": [True]}}}]}
    assert plan_comment.sensitive_values(odd) == set()


def test_the_longest_secret_is_redacted_first_and_every_occurrence_counted() -> None:
    text, count = plan_comment.redact(
        "abcdefghijkl and abcdefgh and zyxwvuts", {"abcdefgh", "abcdefghijkl", "zyxwvuts"}
    )
    assert (text, count) == ("(sensitive value) and (sensitive value) and (sensitive value)", 3)


def test_code_spans_are_padded_only_where_a_backtick_or_space_touches_the_fence() -> None:
    assert plan_comment.code("`a") == "`` `a ``"
    assert plan_comment.code("a`") == "`` a` ``"
    assert plan_comment.code(" a") == "`  a `"
    assert plan_comment.code("a ") == "` a  `"
    assert plan_comment.code("a") == "`a`"


def test_c1_control_characters_are_escaped_and_a_no_break_space_is_not() -> None:
    assert plan_comment.code("a\x9fb\xa0c") == "`a\\x9fb\xa0c`"


def test_the_first_error_line_may_start_with_terraforms_box_drawing_only() -> None:
    assert plan_comment.first_error("XError: not a Terraform line\n│ Error: the real one") == "Error: the real one"


# -- words of the warnings, the table and the headline ----------------------------------------------------------


def test_a_replacement_without_reason_or_forcing_attribute_says_only_what_and_how() -> None:
    change = C_("aws_x.y", "replace", (), "create, then delete")
    assert plan_comment._how(change) == "**replace** (create, then delete) `aws_x.y`"
    forced = C_("aws_x.y", "replace", ("a", "b"), "delete, then create")
    assert plan_comment._how(forced) == "**replace** (delete, then create) `aws_x.y`; forced by `a`, `b`"


def test_a_deposed_object_line_keeps_its_order_and_reason() -> None:
    change = C_("aws_x.y", "delete", (), "delete, then create", "tainted", deposed="00aa")
    assert plan_comment._change_line(change) == ("- `aws_x.y` (delete, then create) (deposed object `00aa`): tainted")


def test_a_failure_log_cut_to_fit_says_the_comment_was_shortened() -> None:
    """Only the failure section is cut (no stack has changes, so there are no details to cut)."""
    failed = plan_comment.StackPlan("dev/x", error="plan failed", log="\n".join(f"line {i}" for i in range(2000)))
    text = render([failed], limit=1500)
    assert "line 1999" in text and "line 0\n" not in text
    assert text.endswith("\n_Parts were shortened to fit GitHub's comment limit; the full plan is in the job summary._")


def test_every_stack_whose_details_are_cut_keeps_its_shortened_details() -> None:
    plans = [plan_comment.StackPlan(f"dev/{s}", changes=[C_(f"aws_vpc.{s}{i}", "create") for i in range(30)])
             for s in ("a", "b")]  # fmt: skip
    text = render(plans, limit=1500)
    assert text.count("<details><summary>") == 2 and text.count("</details>") == 2
    assert text.count("more lines: see the full plan)") == 2
    assert "`aws_vpc.a0`" in text and "`aws_vpc.b0`" in text


def test_a_table_longer_than_the_limit_leaves_the_headline_and_the_link_only() -> None:
    """Only absurd inputs get here (thousands of stacks): the verdict and the link to the full plan stay."""
    plans = [plan_comment.pending(f"dev/stack-{i}", "waiting") for i in range(40)]
    text = render(plans, full_plan="the run", limit=400)
    assert text == "\n".join([
        MARKER, "", "## Terraform plan: 0 to add, 0 to change, 0 to destroy, 40 stacks not planned", "",
        "_Parts were shortened to fit GitHub's comment limit; the full plan is in the run._",
    ])  # fmt: skip
    assert render(plans, full_plan="the run", limit=60) == text[:60]


def test_pending_stacks_are_counted_in_the_headline() -> None:
    one = [plan_comment.pending("dev/a", "waiting")]
    two = [*one, plan_comment.pending("dev/b", "waiting")]
    assert plan_comment._headline(one) == "## Terraform plan: 0 to add, 0 to change, 0 to destroy, 1 stack not planned"
    assert plan_comment._headline(two).endswith(", 2 stacks not planned")


# -- the job summary ------------------------------------------------------------------------------------------


def test_the_job_summary_of_one_stack_ends_with_one_newline(tmp_path: Path) -> None:
    text = tmp_path / "base.txt"
    text.write_text("no secret here\n")
    summary = plan_comment.job_summary([plan("create", "dev/base")], {"dev/base": str(text)}, {"dev/base": set()})
    assert summary == "## Terraform plans\n\n### `dev/base`\n\n```\nno secret here\n```\n\n"


def test_a_plan_text_that_is_not_utf8_is_shown_with_replacement_characters(tmp_path: Path) -> None:
    text = tmp_path / "base.txt"
    text.write_bytes(b"name = caf\xe9\n")
    summary = plan_comment.job_summary([plan("create", "dev/base")], {"dev/base": str(text)}, {"dev/base": set()})
    assert "name = caf\ufffd\n" in summary


def test_unshown_stacks_are_said_so_in_their_own_paragraph(tmp_path: Path) -> None:
    shown = tmp_path / "c.txt"
    shown.write_text("shown\n")
    plans = [plan("create", "dev/a"), plan("create", "dev/b"), plan("create", "dev/c")]
    texts = {"dev/a": str(tmp_path / "x"), "dev/b": str(tmp_path / "gone.txt"), "dev/c": str(shown)}
    summary = plan_comment.job_summary(plans, texts, {"dev/b": set(), "dev/c": set()})
    lines = summary.splitlines()
    unknown = "_Not shown: its plan JSON could not be read, so its sensitive values are unknown._"
    assert lines[:6] == ["## Terraform plans", "", "### `dev/a`", "", unknown, ""]
    assert lines[6:9] == [
        "### `dev/b`",
        "",
        f"_Not shown: [Errno 2] No such file or directory: '{tmp_path / 'gone.txt'}'._",
    ]
    assert lines[9:] == ["", "### `dev/c`", "", "```", "shown", "```", ""]


@pytest.mark.parametrize(("stacks", "kept"), [(1, 990), (2, 495)])
def test_each_stack_gets_an_equal_share_of_the_one_mib_step_summary(tmp_path: Path, stacks: int, kept: int) -> None:
    """(1,000,000 - 10,000) bytes shared by the shown stacks, counted in UTF-8 bytes with each line's newline:
    lines of 999 bytes ("é" is two) plus the newline fill a share of 990,000 (or 495,000) exactly."""
    text = tmp_path / "plan.txt"
    text.write_text(("é" * 10 + "x" * 979 + "\n") * 2_000, encoding="utf-8")
    names = [f"dev/s{i}" for i in range(stacks)]
    summary = plan_comment.job_summary([plan("create", n) for n in names], dict.fromkeys(names, str(text)),
                                       {n: set() for n in names})  # fmt: skip
    section = summary.split("### `dev/s0`")[1].split("```")[1].strip("\n").splitlines()
    assert len(section) == kept + 1
    assert section[-1] == "[... cut to fit GitHub's step-summary limit]"
    if stacks == 2:
        assert summary.count("[... cut to fit GitHub's step-summary limit]") == 2


# What `_mixed_plans()` renders to, line by line.
MIXED_TEXT = "\n".join([
    '<!-- viberglass-plan-comment -->',
    '',
    '## Terraform plan: 1 to add, 1 to change, 1 to destroy, 1 to replace, **1 stack failed**, 2 stacks not planned',
    '',
    'Planned for commit `0123abc`.',
    '',
    '> [!CAUTION]',
    '> **1 resource will be destroyed and 1 resource replaced.**',
    '>',
    '> **`dev/base`: 1 destroy, 1 replacement**',
    '> - **replace** (delete, then create) `aws_db_instance.db`: tainted; forced by `identifier`, `engine`',
    '> - **destroy** `aws_sqs_queue.old`: no longer in the configuration',
    '',
    '**`dev/platform` failed**: `plan failed`',
    '',
    '```',
    'Initializing...',
    'Error: No valid credential sources found',
    '```',
    '',
    '| stack | result | create | update | delete | replace | import | move | forget | read | outputs |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    '| `dev/base` | changes | 1 | 1 | 1 | 1 |  |  |  |  | 1 |',
    '| `dev/workers` | not planned: `base is not applied yet` | | | | | | | | | |',
    '| `dev/extra` | not planned: `base is not applied yet` | | | | | | | | | |',
    '| `dev/platform` | **failed** | | | | | | | | | |',
    '| `dev/hcp` | no changes |  |  |  |  |  |  |  |  |  |',
    '| `dev/dns` | no changes |  |  |  |  |  |  |  |  |  |',
    '| `dev/reads` | data reads only |  |  |  |  |  |  |  | 1 |  |',
    '| `dev/more-reads` | data reads only |  |  |  |  |  |  |  | 1 |  |',
    '',
    'No changes: `dev/hcp`, `dev/dns`.',
    '',
    'Only data sources read at apply, no changes: `dev/reads`, `dev/more-reads`.',
    '',
    '<details><summary><code>dev/base</code>: 1 to add, 1 to change, 1 to destroy, 1 to replace</summary>',
    '',
    '**Replace**',
    '- `aws_db_instance.db` (delete, then create): tainted; forced by `identifier`, `engine`',
    '',
    '**Destroy**',
    '- `aws_sqs_queue.old`: no longer in the configuration',
    '',
    '**Create**',
    '- `aws_vpc.main`',
    '',
    '**Update in place**',
    '- `aws_kms_key.k`; changes `description`',
    '',
    '**Outputs**',
    '- `vpc_id (create)`',
    '',
    '</details>',
    '',
    "_Full plan: the run's job summary._",
])  # fmt: skip

# `_long_plans()` within 1,300 characters: every warning and the whole log kept, the details cut.
CUT_1300 = "\n".join([
    '<!-- viberglass-plan-comment -->',
    '',
    '## Terraform plan: 8 to add, 0 to change, 6 to destroy, **1 stack failed**',
    '',
    'Planned for commit `c0ffee`.',
    '',
    '> [!CAUTION]',
    '> **6 resources will be destroyed and 0 resources replaced.**',
    '>',
    '> **`dev/base`: 6 destroys, 0 replacements**',
    '> - **destroy** `aws_sqs_queue.q0`',
    '> - **destroy** `aws_sqs_queue.q1`',
    '> - **destroy** `aws_sqs_queue.q2`',
    '> - **destroy** `aws_sqs_queue.q3`',
    '> - **destroy** `aws_sqs_queue.q4`',
    '> - **destroy** `aws_sqs_queue.q5`',
    '',
    '**`dev/platform` failed**: `plan failed`',
    '',
    '```',
    'log line 0',
    'log line 1',
    'log line 2',
    'log line 3',
    'log line 4',
    'log line 5',
    'log line 6',
    'log line 7',
    'log line 8',
    'log line 9',
    'log line 10',
    'log line 11',
    '```',
    '',
    '| stack | result | create | update | delete | replace | import | move | forget | read | outputs |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    '| `dev/base` | changes | 8 |  | 6 |  |  |  |  |  |  |',
    '| `dev/platform` | **failed** | | | | | | | | | |',
    '',
    '<details><summary><code>dev/base</code>: 8 to add, 6 to destroy</summary>',
    '',
    '**Destroy**',
    '- `aws_sqs_queue.q0`',
    '- `aws_sqs_queue.q1`',
    '- `aws_sqs_queue.q2`',
    '- `aws_sqs_queue.q3`',
    '- `aws_sqs_queue.q4`',
    '- ... (12 more lines: see the full plan)',
    '',
    '</details>',
    '',
    "_Parts were shortened to fit GitHub's comment limit; the full plan is in https://example.test/run/1._",
])  # fmt: skip

# `_long_plans()` within 1,000 characters: three destroys, the log's last lines, no details.
CUT_1000 = "\n".join([
    '<!-- viberglass-plan-comment -->',
    '',
    '## Terraform plan: 8 to add, 0 to change, 6 to destroy, **1 stack failed**',
    '',
    'Planned for commit `c0ffee`.',
    '',
    '> [!CAUTION]',
    '> **6 resources will be destroyed and 0 resources replaced.**',
    '>',
    '> **`dev/base`: 6 destroys, 0 replacements**',
    '> - **destroy** `aws_sqs_queue.q0`',
    '> - **destroy** `aws_sqs_queue.q1`',
    '> - **destroy** `aws_sqs_queue.q2`',
    '> - ... and 3 more in `dev/base`: see the full plan',
    '',
    '**`dev/platform` failed**: `plan failed`',
    '',
    '```',
    'log line 3',
    'log line 4',
    'log line 5',
    'log line 6',
    'log line 7',
    'log line 8',
    'log line 9',
    'log line 10',
    'log line 11',
    '```',
    '',
    '| stack | result | create | update | delete | replace | import | move | forget | read | outputs |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    '| `dev/base` | changes | 8 |  | 6 |  |  |  |  |  |  |',
    '| `dev/platform` | **failed** | | | | | | | | | |',
    '',
    "_Parts were shortened to fit GitHub's comment limit; the full plan is in https://example.test/run/1._",
])  # fmt: skip


# -- what each refusal says, whole (parse_plan, load_plan, from_digest) -------------------------------------

NOT_PLANS = {
    "json-list": ([], "not a Terraform JSON plan (a JSON list)"),
    "json-text": ("x", "not a Terraform JSON plan (a JSON str)"),
    "state-lineage": ({"lineage": "x"}, "a Terraform state file, not a plan (give `terraform show -json <planfile>`)"),
    "state-serial": ({"serial": 1}, "a Terraform state file, not a plan (give `terraform show -json <planfile>`)"),
    "state-version-and-resources": ({"version": 4, "resources": []},
                                    "a Terraform state file, not a plan (give `terraform show -json <planfile>`)"),
    "version-without-resources": ({"version": 4}, "not a Terraform JSON plan (no format_version)"),
    "format-2": ({"format_version": "2.0"}, "plan format_version 2.0 is not one this tool reads (0.x and 1.x)"),
    "format-with-a-tail": ({"format_version": "1.2x", "planned_values": {}},
                           "plan format_version 1.2x is not one this tool reads (0.x and 1.x)"),
    "show-of-a-state": ({"format_version": "1.2", "values": {}},
                        "`terraform show -json` of a state, not of a plan (give it the saved plan file)"),
    "no-plan-sections": ({"format_version": "1.2"},
                         "not a Terraform JSON plan (no planned_values or resource_changes)"),
    "replace-paths-not-a-list": (
        {"format_version": "1.2",
         "resource_changes": [{"address": "a.b", "change": {"actions": ["delete", "create"], "replace_paths": 5}}]},
        "malformed plan (TypeError: 'int' object is not iterable)"),
    "output-change-not-an-object": ({"format_version": "1.2", "resource_changes": [], "output_changes": {"o": 5}},
                                    "change actions None are not a list"),
    "drift-without-an-address": ({"format_version": "1.2", "resource_drift": [{"change": {"actions": ["update"]}}],
                                  "planned_values": {}}, "a resource change without an address"),
}  # fmt: skip


@pytest.mark.parametrize(("document", "reason"), NOT_PLANS.values(), ids=NOT_PLANS)
def test_each_kind_of_non_plan_is_refused_with_this_whole_reason(document: Any, reason: str) -> None:
    with pytest.raises(plan_comment.PlanError) as caught:
        plan_comment.parse_plan("dev/base", document)
    assert str(caught.value) == reason


@pytest.mark.parametrize(
    "document",
    [{"plan_format_version": "1.2"}, {"format_version": "0.1", "planned_values": {}},
     {"format_version": 1.2, "resource_changes": []}, {"format_version": "1.0", "resource_changes": None}],
    ids=["hcp-redacted-plan-without-changes", "format-0.1", "numeric-format-version", "null-resource-changes"],
)  # fmt: skip
def test_plans_without_changes_in_every_accepted_shape_are_read_as_no_changes(document: dict[str, Any]) -> None:
    assert plan_comment.parse_plan("dev/base", document) == plan_comment.StackPlan("dev/base")


def test_output_changes_are_read_in_name_order_without_no_ops() -> None:
    document: dict[str, Any] = {"format_version": "1.2", "resource_changes": [], "resource_drift": None,
                "output_changes": {"b": {"actions": ["no-op"]}, "c": {"actions": ["create"]},
                                   "a": {"actions": ["delete"]}}}  # fmt: skip
    assert plan_comment.parse_plan("s", document).output_changes == ["a (delete)", "c (create)"]


def test_an_errored_plan_keeps_what_it_read_and_says_why_it_failed() -> None:
    errored = plan_comment.parse_plan("s", {**_rc(["create"]), "errored": True})
    assert errored.changes == [C("aws_x.y", "create")]
    assert errored.error == (
        "Terraform reported the plan as errored: it stopped part-way, so its changes are incomplete"
    )
    assert plan_comment.parse_plan("s", {**_rc(["create"]), "errored": False}).error == ""


def test_a_no_op_that_is_imported_or_moved_is_kept_and_a_plain_one_is_not() -> None:
    document = {"format_version": "1.2", "resource_changes": [
        {"address": "a.plain", "change": {"actions": ["no-op"], "importing": None}},
        {"address": "a.imported", "change": {"actions": ["no-op"], "importing": {}}},
        {"address": "a.moved", "previous_address": "a.old", "change": {"actions": ["no-op"]}},
        {"address": "a.deposed", "deposed": "00ff", "action_reason": "made_up_reason",
         "change": {"actions": ["delete"]}},
        {"address": "a.replaced", "action_reason": None,
         "change": {"actions": ["create", "delete"], "replace_paths": [["tags", "Name"], ["ingress", 0, "cidr"], [],
                                                                      "x"]}},
    ]}  # fmt: skip
    assert plan_comment.parse_plan("s", document).changes == [
        C("a.imported", "no-op", imported=True),
        C("a.moved", "no-op", moved_from="a.old"),
        C("a.deposed", "delete", reason="made_up_reason", deposed="00ff"),
        C("a.replaced", "replace", ('tags["Name"]', 'ingress[0]["cidr"]'), "create, then delete"),
    ]


def test_an_update_with_sensitive_values_on_either_side_names_them_only() -> None:
    change = plan_comment.parse_plan("s", _rc(
        ["update"], before={"a": "x", "b": "y"}, after={"a": "x2", "b": "y2", "c": None},
        after_sensitive={"a": True}, before_sensitive={"b": False}, after_unknown={"c": False, "d": True},
    )).changes[0]  # fmt: skip
    assert change.attributes == ("a (sensitive)", "b", "d (known after apply)")


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"[" * 100_000, "plan.json: JSON nested too deeply to be a plan"),
     (b"\xff\xfe", "plan.json: cannot read plan JSON (UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in "
                   "position 0: invalid start byte)"),
     (b"{", "plan.json: cannot read plan JSON (JSONDecodeError: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1))"),
     (b"[]", "plan.json: not a Terraform JSON plan (a JSON list)")],
    ids=["nested-too-deeply", "not-utf8", "not-json", "not-a-plan"],
)  # fmt: skip
def test_a_plan_file_that_cannot_be_read_is_a_failed_stack_with_this_whole_reason(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(content)
    assert load_plan("dev/base", path) == plan_comment.StackPlan("dev/base", error=reason)


BAD_DIGESTS = {
    "a-list": ([], "not a plan digest (digest_version 1 expected)"),
    "another-version": ({"digest_version": 2, "stacks": []}, "not a plan digest (digest_version 1 expected)"),
    "stack-not-an-object": ({"digest_version": 1, "stacks": ["x"]}, "a digest stack without a name"),
    "stack-without-a-name": ({"digest_version": 1, "stacks": [{"name": 5}]}, "a digest stack without a name"),
    "change-not-an-object": ({"digest_version": 1, "stacks": [{"name": "x", "changes": ["c"]}]},
                             "a change is not an object"),
    "drift-unknown-action": ({"digest_version": 1, "stacks": [{"name": "x", "drift": [{"action": "explode"}]}]},
                             "unknown action 'explode'"),
    "change-without-action": ({"digest_version": 1, "stacks": [{"name": "x", "changes": [{"address": "a"}]}]},
                              "unknown action ''"),
    "attributes-not-strings": ({"digest_version": 1, "stacks": [{"name": "x", "changes": [
        {"action": "update", "attributes": [1]}]}]}, "attributes is not a list of strings"),
    "attributes-null": ({"digest_version": 1, "stacks": [{"name": "x", "changes": [
        {"action": "update", "attributes": None}]}]}, "attributes is not a list of strings"),
    "outputs-not-a-list": ({"digest_version": 1, "stacks": [{"name": "x", "output_changes": "o"}]},
                           "output_changes is not a list of strings"),
}  # fmt: skip


@pytest.mark.parametrize(("document", "reason"), BAD_DIGESTS.values(), ids=BAD_DIGESTS)
def test_each_kind_of_bad_digest_is_refused_with_this_whole_reason(document: Any, reason: str) -> None:
    with pytest.raises(plan_comment.PlanError) as caught:
        plan_comment.from_digest(document)
    assert str(caught.value) == reason


def test_a_digest_stack_leaves_out_what_it_does_not_have() -> None:
    digest = {"digest_version": 1, "stacks": [
        {"name": "bare"},
        {"name": "full", "changes": [{"address": "a.b", "action": "no-op", "imported": 1}],
         "drift": [{"address": "c.d", "action": "update", "moved_from": None}], "output_changes": ["o (create)"],
         "error": None, "log": 0, "note": "n"},
    ]}  # fmt: skip
    assert plan_comment.from_digest(digest) == [
        plan_comment.StackPlan("bare"),
        plan_comment.StackPlan("full", changes=[C("a.b", "no-op", imported=True)], drift=[C("c.d", "update")],
                               output_changes=["o (create)"], note="n"),
    ]  # fmt: skip
    assert plan_comment.from_digest({"digest_version": 1}) == []


def test_an_unreadable_digest_file_says_why_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "prod.json"
    bad.write_text('{"digest_version": 1, "stacks": [{"name": "x", "changes": [{"action": "explode"}]}]}')
    assert plan_comment.load_digest(bad, fallback_name="prod") == [
        plan_comment.StackPlan("prod", error="prod.json: cannot read plan digest (unknown action 'explode')")
    ]
    bad.write_bytes(b"\xff")
    (failed,) = plan_comment.load_digest(bad, fallback_name="prod")
    assert failed.error.startswith("prod.json: cannot read plan digest ('utf-8' codec can't decode byte 0xff")


# -- the comment, whole ----------------------------------------------------------------------------------------

TABLE_HEAD = [
    "| stack | result | create | update | delete | replace | import | move | forget | read | outputs |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
]


def test_every_kind_of_stack_result_renders_as_this_whole_comment() -> None:
    S = plan_comment.StackPlan
    plans = [plan_comment.failed("f1", "x"), plan_comment.failed("f2", "y"),
             plan_comment.pending("p", "base not applied"), S("q"), S("r", changes=[C("d.x", "read")]),
             S("o", output_changes=["u (update)"]),
             S("fg", changes=[C("k.k", "forget")], drift=[C("a.a", "update"), C("b.b", "delete")]),
             S("failed-with-drift", drift=[C("z.z", "update")], error="e")]  # fmt: skip
    assert render(plans).splitlines() == [
        MARKER, "",
        "## Terraform plan: 0 to add, 0 to change, 0 to destroy, 1 to forget, **3 stacks failed**, 1 stack not "
        "planned, 2 resources changed outside Terraform", "",
        "**`f1` failed**: `plan failed`", "", "```", "x", "```", "",
        "**`f2` failed**: `plan failed`", "", "```", "y", "```", "",
        "**`failed-with-drift` failed**: `e`", "",
        *TABLE_HEAD,
        "| `f1` | **failed** | | | | | | | | | |",
        "| `f2` | **failed** | | | | | | | | | |",
        "| `p` | not planned: `base not applied` | | | | | | | | | |",
        "| `q` | no changes |  |  |  |  |  |  |  |  |  |",
        "| `r` | data reads only |  |  |  |  |  |  |  | 1 |  |",
        "| `o` | changes |  |  |  |  |  |  |  |  | 1 |",
        "| `fg` | changes |  |  |  |  |  |  | 1 |  |  |",
        "| `failed-with-drift` | **failed** | | | | | | | | | |", "",
        "No changes: `q`.", "",
        "Only data sources read at apply, no changes: `r`.", "",
        "<details><summary><code>o</code>: outputs only</summary>", "",
        "**Outputs**", "- `u (update)`", "",
        "</details>", "",
        "<details><summary><code>fg</code>: 1 to forget</summary>", "",
        "**Forget (removed from state, kept in AWS)**", "- `k.k`", "",
        "**Changed outside Terraform (drift; the plan above puts it back)**", "- `a.a`", "- `b.b`", "",
        "</details>", "",
        "_Full plan: the job summary._",
    ]  # fmt: skip


def test_a_deposed_destroy_and_a_forced_replacement_render_as_this_whole_comment() -> None:
    one = plan_comment.StackPlan("one", changes=[
        C("a.a", "delete", deposed="dd", reason="tainted"),
        C("b.b", "replace", ("x", "y"), "delete, then create", "why"),
    ])  # fmt: skip
    assert render([one], commit="abc", full_plan="the run log").splitlines() == [
        MARKER, "",
        "## Terraform plan: 0 to add, 0 to change, 1 to destroy, 1 to replace", "",
        "Planned for commit `abc`.", "",
        "> [!CAUTION]",
        "> **1 resource will be destroyed and 1 resource replaced.**",
        ">",
        "> **`one`: 1 destroy, 1 replacement**",
        "> - **destroy deposed object** `dd` of `a.a`: tainted",
        "> - **replace** (delete, then create) `b.b`: `why`; forced by `x`, `y`", "",
        *TABLE_HEAD,
        "| `one` | changes |  |  | 1 | 1 |  |  |  |  |  |", "",
        "<details><summary><code>one</code>: 1 to destroy, 1 to replace</summary>", "",
        "**Replace**", "- `b.b` (delete, then create): `why`; forced by `x`, `y`", "",
        "**Destroy**", "- `a.a` (deposed object `dd`): tainted", "",
        "</details>", "",
        "_Full plan: the run log._",
    ]  # fmt: skip


def _crowded() -> list[plan_comment.StackPlan]:
    big = plan_comment.StackPlan("big", changes=[C(f"aws_s3_object.o{i}", "delete") for i in range(8)]
                                 + [C(f"aws_vpc.v{i}", "create") for i in range(8)])  # fmt: skip
    small = plan_comment.StackPlan("small", changes=[C("aws_db.db", "replace", (), "delete, then create")])
    return [big, small, plan_comment.failed("bad", "\n".join(f"log line {i}" for i in range(10)))]


def test_a_comment_over_its_limit_shortens_each_warning_and_log_fairly() -> None:
    """1,000 characters: the large stack's destroys and the failure's log are cut, the small stack's one
    replacement is kept whole, the details give way first, and the footer says parts were shortened."""
    assert render(_crowded(), limit=1000).splitlines() == [
        MARKER, "",
        "## Terraform plan: 8 to add, 0 to change, 8 to destroy, 1 to replace, **1 stack failed**", "",
        "> [!CAUTION]",
        "> **8 resources will be destroyed and 1 resource replaced.**",
        ">",
        "> **`big`: 8 destroys, 0 replacements**",
        "> - **destroy** `aws_s3_object.o0`",
        "> - **destroy** `aws_s3_object.o1`",
        "> - ... and 6 more in `big`: see the full plan",
        ">",
        "> **`small`: 0 destroys, 1 replacement**",
        "> - **replace** (delete, then create) `aws_db.db`", "",
        "**`bad` failed**: `plan failed`", "",
        "```", *(f"log line {i}" for i in range(5, 10)), "```", "",
        *TABLE_HEAD,
        "| `big` | changes | 8 |  | 8 |  |  |  |  |  |  |",
        "| `small` | changes |  |  |  | 1 |  |  |  |  |  |",
        "| `bad` | **failed** | | | | | | | | | |", "",
        "_Parts were shortened to fit GitHub's comment limit; the full plan is in the job summary._",
    ]  # fmt: skip


def test_a_comment_with_room_for_the_warnings_but_not_the_details_drops_the_details() -> None:
    text = render(_crowded(), limit=1300)
    assert "> - **destroy** `aws_s3_object.o7`" in text and "```\nlog line 0\n" in text
    assert "<details>" not in text
    assert text.endswith(
        "\n\n_Parts were shortened to fit GitHub's comment limit; the full plan is in the job summary._"
    )


def test_a_details_block_over_its_share_keeps_its_first_lines_and_says_how_many_more() -> None:
    stack = plan_comment.StackPlan("c", changes=[C(f"aws_vpc.v{i}", "create") for i in range(12)],
                                   output_changes=["x (create)"])  # fmt: skip
    assert render([stack], limit=560).splitlines()[-10:] == [
        "<details><summary><code>c</code>: 12 to add</summary>", "",
        "**Create**", "- `aws_vpc.v0`", "- `aws_vpc.v1`", "- ... (14 more lines: see the full plan)", "",
        "</details>", "",
        "_Parts were shortened to fit GitHub's comment limit; the full plan is in the job summary._",
    ]  # fmt: skip
    # The whole comment is 611 characters; the budget keeps room for the longer "shortened" footer and 16
    # characters to spare, so 690 is the smallest limit that shows it whole.
    assert len(render([stack], limit=690)) == 611
    assert "- ... (5 more lines: see the full plan)" in render([stack], limit=689)


@pytest.mark.parametrize("limit", range(300, 1800, 13))
def test_at_any_limit_the_comment_fits_and_ends_with_its_footer(limit: int) -> None:
    text = render(_crowded(), limit=limit)
    assert len(text) <= limit
    assert text.splitlines()[-1].startswith("_")
    assert text.startswith(MARKER + "\n\n## Terraform plan: 8 to add,")


def test_max_min_fair_shares_meet_small_needs_and_split_the_rest_evenly() -> None:
    assert plan_comment._fair_shares([10, 100, 100], [0, 0, 0], 150) == [10, 70, 70]
    assert plan_comment._fair_shares([50, 40], [30, 0], 100) == [50, 40]  # ordered by need above the floor
    assert plan_comment._fair_shares([50, 40], [30, 0], 60) == [45, 15]
    assert plan_comment._fair_shares([10, 100], [5, 5], 8) == [5, 5]  # floors even over budget
    assert plan_comment._fair_shares([10, 20], [0, 0], 30) == [10, 20]
    assert plan_comment._fair_shares([], [], 30) == []


def test_fitting_lines_keeps_the_first_and_says_how_many_more_at_the_exact_boundary() -> None:
    lines = ["H", "aa", "bb", "cc"]  # 11 characters with their newlines

    def more(n: int) -> str:
        return f"+{n}"

    assert plan_comment._fit(lines, 11, more) == lines
    assert plan_comment._fit(lines, 10, more) == ["H", "aa", "+2"]
    assert plan_comment._fit(lines, 8, more) == ["H", "aa", "+2"]
    assert plan_comment._fit(lines, 7, more) == ["H", "+3"]
    assert plan_comment._fit(lines, 0, more) == ["H", "+3"]


def test_a_failure_keeps_as_many_of_its_last_log_lines_as_fit() -> None:
    head, log = ["H"], ["l1", "l2"]
    assert plan_comment._fit_tail(head, log, 17) == ["H", "", "```", "l1", "l2", "```"]
    assert plan_comment._fit_tail(head, log, 16) == ["H", "", "```", "l2", "```"]
    assert plan_comment._fit_tail(head, log, 14) == ["H", "", "```", "l2", "```"]
    assert plan_comment._fit_tail(head, log, 13) == ["H"]
    assert plan_comment._fit_tail(head, [], 100) == ["H"]


def test_a_log_line_longer_than_400_characters_is_shortened() -> None:
    failed = plan_comment.failed("s", "a" * 400 + "\n" + "b" * 401)
    head, log = plan_comment._failure_section(failed)
    assert head == ["**`s` failed**: `plan failed`"]
    assert log == ["a" * 400, "b" * 400 + " [...]"]


def test_the_caution_section_of_a_stack_counts_its_destroys_and_replacements() -> None:
    stack = plan_comment.StackPlan("s", changes=[C("a.a", "delete"), C("b.b", "delete"), C("c.c", "create"),
                                                 C("d.d", "replace", replace_order="create, then delete")])  # fmt: skip
    lines, more = plan_comment._caution_section(stack)
    assert lines == ["> **`s`: 2 destroys, 1 replacement**", "> - **destroy** `a.a`", "> - **destroy** `b.b`",
                     "> - **replace** (create, then delete) `d.d`"]  # fmt: skip
    assert more(3) == "> - ... and 3 more in `s`: see the full plan"


def test_the_headline_names_pending_stacks_and_drift_only_when_there_are_some() -> None:
    drifted = plan_comment.StackPlan("d", drift=[C("a.a", "update")])
    headline = plan_comment._headline
    assert (
        headline([drifted])
        == "## Terraform plan: 0 to add, 0 to change, 0 to destroy, 1 resource changed outside Terraform"
    )
    assert headline([plan_comment.pending("p", "x"), plan_comment.pending("q", "y")]) == (
        "## Terraform plan: 0 to add, 0 to change, 0 to destroy, 2 stacks not planned"
    )
    moved = plan_comment.StackPlan("m", changes=[C("a.a", "no-op", imported=True, moved_from="a.b")])
    assert headline([moved]) == "## Terraform plan: 0 to add, 0 to change, 0 to destroy, 1 to import, 1 to move"


# -- the job summary, whole ----------------------------------------------------------------------------------


def test_the_job_summary_cuts_a_plan_at_its_share_of_the_step_summary_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two stacks share (limit - 10,000) evenly; a line that would pass the share ends the text."""
    monkeypatch.setattr(plan_comment, "JOB_SUMMARY_LIMIT", 10_000 + 2 * 12)
    text = tmp_path / "t.txt"
    text.write_text("12345\nabcde\nvwxyz\n")  # 6 bytes a line with its newline: two fit in a share of 12
    plans = [plan("create", "a"), plan("create", "b")]
    secrets: dict[str, set[str]] = {"a": set(), "b": set()}
    assert plan_comment.job_summary(plans, {"a": str(text), "b": str(text)}, secrets) == "\n".join([
        "## Terraform plans", "",
        "### `a`", "", "```", "12345", "abcde", "[... cut to fit GitHub's step-summary limit]", "```", "",
        "### `b`", "", "```", "12345", "abcde", "[... cut to fit GitHub's step-summary limit]", "```", "", "",
    ])  # fmt: skip
    text.write_text("12345\nabcd\n")
    assert "abcd\n```" in plan_comment.job_summary(plans[:1], {"a": str(text)}, secrets)


def test_the_job_summary_counts_every_redacted_value_and_leaves_stacks_without_text_out(tmp_path: Path) -> None:
    text = tmp_path / "t.txt"
    text.write_text("x=hunter2hunter2 y=hunter2hunter2 z=\xe9\n")
    out = plan_comment.job_summary([plan("create", "a"), plan("create", "b")], {"a": str(text)},
                                   {"a": {"hunter2hunter2"}, "b": set()})  # fmt: skip
    assert out == "\n".join([
        "## Terraform plans", "",
        "### `a`", "", "_2 sensitive values that Terraform printed in clear were redacted._", "",
        "```", "x=(sensitive value) y=(sensitive value) z=\xe9", "```", "", "",
    ])  # fmt: skip
    assert plan_comment.job_summary([], {}, {}) == "## Terraform plans\n\n"


def test_redaction_replaces_the_longest_secret_first() -> None:
    assert plan_comment.redact("password-long-one", {"password", "password-long-one"}) == ("(sensitive value)", 1)


def _nine_ten_and_a_failure() -> list[plan_comment.StackPlan]:
    nine = plan_comment.StackPlan("nine", changes=[C(f"aws_s3_object.o{i}", "delete") for i in range(9)])
    ten = plan_comment.StackPlan("ten", changes=[C(f"aws_s3_object.p{i}", "delete") for i in range(10)])
    return [nine, ten, plan_comment.failed("bad", "\n".join(f"log line {i}" for i in range(10)))]


def _above_the_table(text: str) -> list[str]:
    return text[: text.index("| stack |")].splitlines()


HEAD_19 = [MARKER, "", "## Terraform plan: 0 to add, 0 to change, 19 to destroy, **1 stack failed**", "",
           "> [!CAUTION]", "> **19 resources will be destroyed and 0 resources replaced.**", ">",
           "> **`nine`: 9 destroys, 0 replacements**"]  # fmt: skip


def test_each_warning_keeps_room_for_its_head_and_its_and_n_more_line_before_any_log() -> None:
    """The floor of a warning is its head and "... and N more" with N's own digits (9, 10): at 870 characters
    both floors and one log line fit, at 868 the log gives way."""
    floors = [*HEAD_19, "> - ... and 9 more in `nine`: see the full plan", ">",
              "> **`ten`: 10 destroys, 0 replacements**", "> - ... and 10 more in `ten`: see the full plan", "",
              "**`bad` failed**: `plan failed`", ""]  # fmt: skip
    assert _above_the_table(render(_nine_ten_and_a_failure(), limit=872)) == [*floors, "```", "log line 9", "```", ""]
    assert _above_the_table(render(_nine_ten_and_a_failure(), limit=870)) == floors


def test_a_short_log_is_shown_whole_and_the_warnings_share_what_is_left() -> None:
    assert _above_the_table(render(_nine_ten_and_a_failure(), limit=1322)) == [
        *HEAD_19, *(f"> - **destroy** `aws_s3_object.o{i}`" for i in range(3)),
        "> - ... and 6 more in `nine`: see the full plan", ">",
        "> **`ten`: 10 destroys, 0 replacements**", *(f"> - **destroy** `aws_s3_object.p{i}`" for i in range(4)),
        "> - ... and 6 more in `ten`: see the full plan", "",
        "**`bad` failed**: `plan failed`", "", "```", *(f"log line {i}" for i in range(10)), "```", "",
    ]  # fmt: skip


def test_a_failure_alone_may_use_the_whole_budget_not_three_quarters() -> None:
    fail = [plan_comment.failed("bad", "\n".join(f"log line {i}" for i in range(10)))]
    head = [MARKER, "", "## Terraform plan: 0 to add, 0 to change, 0 to destroy, **1 stack failed**", "",
            "**`bad` failed**: `plan failed`", ""]  # fmt: skip
    assert _above_the_table(render(fail, limit=465)) == [*head, "```", "log line 9", "```", ""]
    assert _above_the_table(render(fail, limit=464)) == head


def test_stacks_that_only_read_data_are_listed_together() -> None:
    reads = [plan_comment.StackPlan(n, changes=[C("data.x.y", "read")]) for n in ("a", "b")]
    assert "\n\nOnly data sources read at apply, no changes: `a`, `b`.\n\n" in render(reads)


def test_a_deposed_object_line_keeps_the_replacement_order_before_it() -> None:
    change = C("a.a", "replace", replace_order="create, then delete", deposed="d1", reason="tainted")
    assert plan_comment._change_line(change) == "- `a.a` (create, then delete) (deposed object `d1`): tainted"


def test_only_an_error_line_after_terraforms_box_character_is_the_reason() -> None:
    assert plan_comment.first_error("XError: not this one\n  │ Error: this one") == "Error: this one"


def test_a_digest_keeps_reads_forgets_moves_and_deposed_objects_apart() -> None:
    changes = [C("d.a", "read"), C("k.k", "forget"), C("m.m", "no-op", moved_from="m.old"),
               C("t.t", "delete", deposed="00ff")]  # fmt: skip
    stack = plan_comment.StackPlan("s", changes=changes)
    assert plan_comment.from_digest(json.loads(json.dumps(plan_comment.to_digest([stack])))) == [stack]


def test_values_under_a_sensitive_map_or_list_are_all_collected_and_nothing_else() -> None:
    document = {"resource_changes": [{"change": {
        "after": {"tags": {"a": "secret-in-a-map", "n": None, "b": True, "deep": {"x": ["nested-list-secret"]}},
                  "list": ["list-item-secret", 12345678], "short": ["first-of-two", "second-of-two"],
                  "text": "a-plain-string-value", "map": {"k": "value-of-a-map"}},
        "after_sensitive": {"tags": True, "list": True, "short": [True], "text": {"a": True}, "map": [True]},
    }}]}  # fmt: skip
    assert plan_comment.sensitive_values(document) == {
        "secret-in-a-map", "nested-list-secret", "list-item-secret", "12345678", "first-of-two",
    }  # fmt: skip


def test_redaction_replaces_the_longest_secret_first_and_counts_every_secret() -> None:
    assert plan_comment.redact("aaaaaaaaa-zzzzzzzz", {"zzzzzzzz", "aaaaaaaaa-zzzzzzzz"}) == ("(sensitive value)", 1)
    assert plan_comment.redact("first-secret second-secret", {"first-secret", "second-secret"}) == (
        "(sensitive value) (sensitive value)",
        2,
    )


def test_the_job_summary_of_stacks_it_cannot_show_whole(tmp_path: Path) -> None:
    """A stack without its plan JSON and a stack whose text is gone each say so; the stacks after them are
    still shown; bytes that are not UTF-8 are shown as replacement characters."""
    text = tmp_path / "t.txt"
    text.write_bytes(b"ok \xff\n")
    gone = tmp_path / "gone.txt"
    plans = [plan("create", "unread"), plan("create", "gone"), plan("create", "shown")]
    out = plan_comment.job_summary(plans, {"unread": str(text), "gone": str(gone), "shown": str(text)},
                                   {"gone": set(), "shown": set()})  # fmt: skip
    assert out.splitlines() == [
        "## Terraform plans", "",
        "### `unread`", "", "_Not shown: its plan JSON could not be read, so its sensitive values are unknown._", "",
        "### `gone`", "", f"_Not shown: [Errno 2] No such file or directory: '{gone}'._", "",
        "### `shown`", "", "```", "ok \ufffd", "```", "",
    ]  # fmt: skip


def test_a_single_stack_gets_the_whole_step_summary_share(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan_comment, "JOB_SUMMARY_LIMIT", 10_000 + 12)
    text = tmp_path / "t.txt"
    text.write_text("12345\nabcde\nvwxyz\n")
    out = plan_comment.job_summary([plan("create", "a")], {"a": str(text)}, {"a": set()})
    assert out.splitlines()[4:8] == ["```", "12345", "abcde", "[... cut to fit GitHub's step-summary limit]"]


def test_a_small_stacks_details_stay_whole_while_a_large_ones_give_way() -> None:
    small = plan_comment.StackPlan("small", changes=[C("aws_vpc.v", "create")])
    big = plan_comment.StackPlan("big", changes=[C(f"aws_vpc.v{i}", "create") for i in range(12)])
    small_whole = ["<details><summary><code>small</code>: 1 to add</summary>", "", "**Create**", "- `aws_vpc.v`", "",
                   "</details>", "", "<details><summary><code>big</code>: 12 to add</summary>", ""]  # fmt: skip
    footer = "_Parts were shortened to fit GitHub's comment limit; the full plan is in the job summary._"

    def details(limit: int) -> list[str]:
        text = render([small, big], limit=limit)
        return text[text.index("<details>") :].splitlines()

    assert details(659) == [*small_whole, "- ... (14 more lines: see the full plan)", "", "</details>", "", footer]
    assert details(670) == [*small_whole, "**Create**", "- ... (13 more lines: see the full plan)", "", "</details>",
                            "", footer]  # fmt: skip


def test_a_failure_whose_log_was_cut_says_so_in_the_footer() -> None:
    fail = [plan_comment.failed("bad", "\n".join(f"log line {i}" for i in range(10)))]
    assert render(fail, limit=365).splitlines()[-1] == (
        "_Parts were shortened to fit GitHub's comment limit; the full plan is in the job summary._"
    )


def test_a_code_span_is_padded_when_it_starts_or_ends_with_a_backtick_or_space() -> None:
    assert [plan_comment.code(t) for t in ("`x", "x`", " x", "x ")] == ["`` `x ``", "`` x` ``", "`  x `", "` x  `"]
    assert plan_comment.code("a\xa0b") == "`a\xa0b`"  # U+00A0 is printable: only C0, DEL and C1 are escaped


def test_fair_shares_at_their_edges() -> None:
    assert plan_comment._fair_shares([10, 30, 30], [0, 0, 0], 32) == [10, 11, 11]  # a need equal to the even share
    assert plan_comment._fair_shares([10, 100, 100], [0, 0, 0], 151) == [10, 70, 70]  # whole characters only
    assert plan_comment._fair_shares([5], [10], 10) == [10]  # a floor above the need is kept
    assert plan_comment._fair_shares([10], [0], 1) == [1]  # one character left is still handed out


def test_a_limit_below_the_headline_keeps_the_start_of_the_verdict() -> None:
    assert render([plan_comment.failed("bad", "x")], limit=120) == (
        f"{MARKER}\n\n## Terraform plan: 0 to add, 0 to change, 0 to destroy, **1 stack failed**\n\n_Parts wer"
    )


HOSTILE = (
    "x\n\n</details>\n\n## Terraform plan: 0 to add, 0 to change, 0 to destroy\n"
    "<!-- [see](https://evil.test) @org/team ![](https://evil.test/p.png)"
)


def test_what_a_digest_or_a_log_says_is_shown_literally_never_as_markdown_or_html() -> None:
    """A digest travels between jobs and a failure's first line quotes the configuration: a reason, a
    replacement order or an error that is not one of the comment's own phrases is a code span, so it can
    neither open an HTML comment that hides the rest nor add a heading, a link, an image or a mention."""
    digest = {"digest_version": plan_comment.DIGEST_VERSION, "stacks": [
        {"name": "dev/a", "changes": [
            {"address": "aws_s3_bucket.x", "action": "delete", "reason": HOSTILE},
            {"address": "aws_s3_bucket.y", "action": "replace", "replace_order": HOSTILE, "reason": HOSTILE},
        ]},
        {"name": "dev/b", "error": f"Error: {HOSTILE}", "log": "Error: the log"},
    ]}  # fmt: skip
    text = render(plan_comment.from_digest(digest), commit="abc", full_plan="the run log")
    tokens = [t for block in MarkdownIt("gfm-like").parse(text) for t in [block, *(block.children or [])]]
    html = [t.content.strip() for t in tokens if t.type in {"html_block", "html_inline"}]
    # Only the comment's own HTML: its marker and the stacks' collapsible details, opened and closed in pairs.
    assert html[0] == MARKER and not any("evil" in h or "<!--" in h for h in html[1:])
    assert sum(h.startswith("<details>") for h in html) == sum(h.endswith("</details>") for h in html) > 0
    assert [t.attrs for t in tokens if t.type in {"link_open", "image"}] == []
    headings = [i for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert [tokens[i + 1].content for i in headings] == [text.splitlines()[2].removeprefix("## ")]
    # Plain text (where GitHub would make a mention or a link) never holds what the digest or the log said.
    assert not [t.content for t in tokens if t.type == "text" and ("@org" in t.content or "evil" in t.content)]
    # Each hostile field as code where the comment shows it: two reasons and a replacement order, each in the
    # warning and in the details, and the error.
    assert sum("@org/team" in t.content for t in tokens if t.type == "code_inline") == 7
