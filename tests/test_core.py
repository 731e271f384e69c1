"""Pure logic (no cdktf): naming, CIDR rules, AWS value tables, policy statements. Property-tested."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import aws_limits
from core.iam import Statement, from_permissions, github_trust, policy_document, resolve, service_trust
from core.naming import Naming, shorten
from core.network import default_azs, first_overlap, outside

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=120)


@given(name=names, cap=st.integers(min_value=8, max_value=100))
def test_shorten_always_fits(name: str, cap: int) -> None:
    assert len(shorten(name, cap)) <= cap


@given(name=names, cap=st.integers(min_value=8, max_value=100))
def test_shorten_is_identity_when_it_fits_and_deterministic(name: str, cap: int) -> None:
    result = shorten(name, cap)
    assert result == shorten(name, cap)
    if len(name) <= cap:
        assert result == name


@given(a=names, b=names)
def test_shortened_distinct_long_names_stay_distinct(a: str, b: str) -> None:
    long_a, long_b = "x" * 70 + a, "x" * 70 + b
    if long_a != long_b:
        assert shorten(long_a, 32) != shorten(long_b, 32)


def test_naming_forms() -> None:
    n = Naming("dev")
    assert (n.name("backend-sg"), n.env_first("uploads"), n.log_group("ecs", "worker"), n.kms_alias("ssm")) == (
        "viberglass-dev-backend-sg",
        "dev-viberglass-uploads",
        "/ecs/viberglass-dev-worker",
        "alias/viberglass-dev-ssm",
    )
    assert n.parameter("database", "url") == "/viberglass/dev/database/url"


def test_env_first_names_fit_s3s_63_characters_by_default() -> None:
    n = Naming("dev")
    fits = "c" * (63 - len("dev-viberglass-"))
    assert n.env_first(fits) == f"dev-viberglass-{fits}"
    assert len(n.env_first(fits + "c")) == 63 and n.env_first(fits + "c") != f"dev-viberglass-{fits}c"


def test_naming_rejects_unsafe_environment_names() -> None:
    with pytest.raises(ValueError, match="lower-case"):
        Naming("Dev_1")


def test_default_azs_follow_the_region() -> None:
    assert default_azs("us-east-1") == ["us-east-1a", "us-east-1b"]


@given(prefix=st.integers(min_value=16, max_value=24), offset=st.integers(min_value=0, max_value=255))
def test_subnets_carved_from_the_vpc_are_inside_it(prefix: int, offset: int) -> None:
    vpc = ipaddress.IPv4Network("10.0.0.0/16")
    subnets = list(vpc.subnets(new_prefix=prefix))
    chosen = subnets[offset % len(subnets)]
    assert outside(vpc, [chosen]) == []
    assert outside(vpc, [ipaddress.IPv4Network("10.1.0.0/24")]) == [ipaddress.IPv4Network("10.1.0.0/24")]


def test_first_overlap_finds_nested_blocks() -> None:
    a, b, c = (ipaddress.IPv4Network(x) for x in ("10.0.1.0/24", "10.0.2.0/24", "10.0.1.128/25"))
    assert first_overlap([a, b, c]) == (a, c)
    assert first_overlap([a, b]) is None


@given(cpu=st.sampled_from(aws_limits.fargate_cpu_values()))
def test_every_listed_fargate_pair_is_accepted(cpu: int) -> None:
    assert all(aws_limits.is_fargate_size(cpu, m) for m in aws_limits.fargate_memory_values(cpu))


def test_fargate_rejects_pairs_outside_the_table() -> None:
    assert (aws_limits.is_fargate_size(256, 4096), aws_limits.is_fargate_size(300, 512)) == (False, False)
    assert aws_limits.is_fargate_size(2048, 4096)


@given(days=st.integers(min_value=1, max_value=4000))
def test_nearest_retention_is_accepted(days: int) -> None:
    assert aws_limits.nearest_retention(days) in aws_limits.LOG_RETENTION_DAYS


def test_statement_refuses_service_wide_actions() -> None:
    with pytest.raises(ValueError, match="whole service"):
        Statement(sid="Bad", actions=["s3:*"], resources=["arn:aws:s3:::b"])


def test_statement_refuses_unexplained_wildcard_resource() -> None:
    with pytest.raises(ValueError, match="wildcard_reason"):
        Statement(sid="Bad", actions=["ecr:GetAuthorizationToken"], resources=["*"])


def test_policy_document_refuses_duplicate_sids() -> None:
    s = Statement(sid="A", actions=["s3:GetObject"], resources=["arn:aws:s3:::b/*"])
    with pytest.raises(ValueError, match="duplicate"):
        policy_document([s, s])


def test_service_trust_pins_source_account() -> None:
    doc = json.loads(service_trust("ecs-tasks.amazonaws.com", "123456789012"))
    (stmt,) = doc["Statement"]
    assert stmt["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert stmt["Action"] == ["sts:AssumeRole"]


# -- what a refused size or retention suggests, and the one-line error format -----------------------------


def test_memory_choices_are_listed_or_described_as_a_range() -> None:
    described = {cpu: aws_limits.describe_memory_choices(cpu) for cpu in (256, 512, 1024, 8192, 16384)}
    assert described == {
        256: "512, 1024, 2048",
        512: "1024-4096 in steps of 1024",
        1024: "2048-8192 in steps of 1024",
        8192: "16384-61440 in steps of 4096",
        16384: "32768-122880 in steps of 8192",
    }


def test_the_nearest_retention_prefers_the_longer_one_on_a_tie() -> None:
    assert [aws_limits.nearest_retention(d) for d in (0, 2, 4, 6, 10, 11, 3653, 5000)] == [
        1,
        3,
        5,
        7,
        7,
        14,
        3653,
        3653,
    ]


def test_one_line_collapses_whitespace_and_cuts_at_the_limit() -> None:
    from core.cli import one_line

    assert one_line("a\n  b\tc") == "a b c"
    assert one_line("x" * 500) == "x" * 500
    assert one_line("x" * 501) == "x" * 497 + "..."
    assert one_line("abcdefghij", limit=8) == "abcde..."


def test_an_unexpected_error_is_its_type_and_first_line() -> None:
    from core.cli import describe

    assert describe(RuntimeError("boom\nmore")) == "RuntimeError: boom"
    assert describe(KeyError("multi-agent")) == "KeyError: 'multi-agent'"
    assert describe(ValueError("  ")) == "ValueError"
    assert describe(OSError()) == "OSError"


def test_tracebacks_only_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.cli import show_tracebacks

    monkeypatch.delenv("VIBERGLASS_TRACEBACK", raising=False)
    assert show_tracebacks() is False
    monkeypatch.setenv("VIBERGLASS_TRACEBACK", "1")
    assert show_tracebacks() is True


def test_a_bad_argument_is_one_error_line_naming_the_help_and_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    from core.cli import ArgumentParser

    parser = ArgumentParser(prog="viberglass-ops deploy")
    parser.add_argument("--env", required=True)
    with pytest.raises(SystemExit) as exited:
        parser.parse_args([])
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        "error: the following arguments are required: --env; see `viberglass-ops deploy --help`\n"
    )


# -- core/iam.py: statements, documents and trusts as data -----------------------------------------------------


def test_a_statement_is_written_with_sorted_actions_and_only_the_parts_it_has() -> None:
    bare = Statement(sid="Read", actions=["s3:ListBucket", "s3:GetObject"])
    assert bare.to_json() == {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"]}
    full = Statement(sid="Deny1", effect="Deny", actions=["iam:*"], resources=["arn:a", "arn:b"],
                     principals={"AWS": "arn:aws:iam::123456789012:root"},
                     conditions={"StringEquals": {"aws:SourceAccount": "123456789012"}})  # fmt: skip
    assert full.to_json() == {
        "Sid": "Deny1", "Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": ["iam:*"], "Resource": ["arn:a", "arn:b"],
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
    }  # fmt: skip
    assert list(full.to_json()) == ["Sid", "Effect", "Principal", "Action", "Resource", "Condition"]


def test_a_statement_refuses_each_unsafe_shape_with_its_reason() -> None:
    cases: dict[str, dict[str, Any]] = {
        "statement Empty: no actions": {"sid": "Empty", "actions": []},
        "statement Star: action '*' grants a whole service": {"sid": "Star", "actions": ["*"]},
        "statement Svc: action 's3:*' grants a whole service": {"sid": "Svc", "actions": ["s3:GetObject", "s3:*"]},
        "statement Any: resource '*' needs a wildcard_reason": {
            "sid": "Any",
            "actions": ["s3:GetObject"],
            "resources": ["arn:a", "*"],
        },
        "statement id 'a-b' must be letters and digits": {"sid": "a-b", "actions": ["s3:GetObject"]},
    }
    for message, kwargs in cases.items():
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            Statement(**kwargs)
    # A wildcard in a Deny is the safe direction, and an explained '*' resource is allowed.
    assert Statement(sid="D", effect="Deny", actions=["*"], resources=["*"], wildcard_reason="all").effect == "Deny"
    assert Statement(sid="E", actions=["ecr:GetAuthorizationToken"], resources=["*"], wildcard_reason="AWS").sid


def test_a_policy_document_is_versioned_json_of_its_statements_in_order() -> None:
    document = json.loads(policy_document([Statement(sid="B", actions=["s3:GetObject"]),
                                           Statement(sid="A", actions=["s3:PutObject"])]))  # fmt: skip
    assert document == {"Version": "2012-10-17", "Statement": [
        {"Sid": "B", "Effect": "Allow", "Action": ["s3:GetObject"]},
        {"Sid": "A", "Effect": "Allow", "Action": ["s3:PutObject"]}]}  # fmt: skip
    with pytest.raises(ValueError, match=re.escape("duplicate statement ids in ['A', 'A']") + "$"):
        policy_document([Statement(sid="A", actions=["s3:GetObject"])] * 2)


def test_the_github_trust_is_one_exact_subject_and_githubs_sts_audience() -> None:
    document = json.loads(github_trust("arn:aws:iam::1:oidc-provider/x", "repo:o/r:environment:prod"))
    host = "token.actions.githubusercontent.com"
    assert document == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GitHubActions",
                "Effect": "Allow",
                "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/x"},
                "Action": ["sts:AssumeRoleWithWebIdentity"],
                "Condition": {
                    "StringEquals": {f"{host}:aud": "sts.amazonaws.com", f"{host}:sub": "repo:o/r:environment:prod"}
                },
            }
        ],
    }


def test_the_service_trust_is_the_service_on_behalf_of_this_account_only() -> None:
    document = json.loads(service_trust("ecs-tasks.amazonaws.com", "123456789012"))
    assert document["Statement"] == [
        {
            "Sid": "TrustService",
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": ["sts:AssumeRole"],
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
        }
    ]


def test_resolve_fills_only_string_placeholders() -> None:
    assert resolve("arn:aws:s3:::{bucket}/{prefix}*", {"bucket": "b", "prefix": "p/", "list": ["x"]}) == (
        "arn:aws:s3:::b/p/*"
    )
    with pytest.raises(KeyError):
        resolve("{list}", {"list": ["x"]})


def test_permissions_become_statements_with_lists_expanded_and_conditions_filled() -> None:
    from types import SimpleNamespace

    permission = SimpleNamespace(
        sid="Pull", actions=["ecr:BatchGetImage"], wildcard_reason="",
        resources=["{repositories}", "arn:aws:ecr:{region}:{account}:repository/x", "{region}"],
        conditions={"StringEquals": {"aws:ResourceAccount": "{account}", "ecr:tags": ["{region}", "fixed"]}},
    )  # fmt: skip
    values = {"repositories": ["arn:r1", "arn:r2"], "region": "eu-west-1", "account": "123456789012"}
    (statement,) = from_permissions([permission], values, sid_prefix="Worker")
    assert statement == Statement(
        sid="WorkerPull", actions=["ecr:BatchGetImage"],
        resources=["arn:r1", "arn:r2", "arn:aws:ecr:eu-west-1:123456789012:repository/x", "eu-west-1"],
        conditions={"StringEquals": {"aws:ResourceAccount": "123456789012", "ecr:tags": ["eu-west-1", "fixed"]}},
    )  # fmt: skip
    assert from_permissions([permission], values)[0].sid == "Pull"
    explained = SimpleNamespace(sid="Token", actions=["ecr:GetAuthorizationToken"], resources=["*"],
                                conditions={}, wildcard_reason="AWS offers no narrower resource")  # fmt: skip
    assert from_permissions([explained], {})[0].wildcard_reason == "AWS offers no narrower resource"
