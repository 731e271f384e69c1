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


# -- walking documents, CIDR helpers, the Terraform version file, the discovery contract -------------------


def test_leaves_name_every_scalar_by_its_dotted_and_indexed_path() -> None:
    from core.walk import leaves

    document = {"network": {"cidr": "10.0.0.0/16", "public_subnets": ["10.0.1.0/24", "10.0.2.0/24"]}, "n": 1}
    assert list(leaves(document)) == [
        ("network.cidr", "10.0.0.0/16"),
        ("network.public_subnets[0]", "10.0.1.0/24"),
        ("network.public_subnets[1]", "10.0.2.0/24"),
        ("n", 1),
    ]


def test_leaves_of_a_top_level_list_and_of_a_scalar_keep_their_paths() -> None:
    from core.walk import leaves

    assert list(leaves([{"a": [True]}, None])) == [("[0].a[0]", True), ("[1]", None)]
    assert list(leaves("alone")) == [("", "alone")]
    assert list(leaves({1: "x"})) == [("1", "x")]


def test_strings_are_every_string_leaf_and_nothing_else() -> None:
    from core.walk import strings

    assert list(strings({"a": ["x", 1, {"b": "y"}], "c": None, "d": 2.5, "e": "z"})) == ["x", "y", "z"]


def test_a_cidr_with_host_bits_set_is_refused() -> None:
    from core.network import parse_cidr

    assert parse_cidr("10.0.1.0/24") == ipaddress.IPv4Network("10.0.1.0/24")
    with pytest.raises(ValueError, match="has host bits set"):
        parse_cidr("10.0.1.5/24")


def test_default_azs_count_up_from_a_to_at_most_f() -> None:
    assert default_azs("eu-west-1", 3) == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert default_azs("eu-west-1", 1) == ["eu-west-1a"]
    assert default_azs("x", 6) == ["xa", "xb", "xc", "xd", "xe", "xf"]


def test_the_az_key_is_the_zone_letter() -> None:
    from core.network import az_key

    assert (az_key("eu-west-1b"), az_key("us-east-1f")) == ("b", "f")


def test_a_subnet_only_partly_inside_the_vpc_is_outside_it() -> None:
    vpc = ipaddress.IPv4Network("10.0.0.0/24")
    inside, wider, elsewhere = (ipaddress.IPv4Network(x) for x in ("10.0.0.0/25", "10.0.0.0/23", "10.9.0.0/24"))
    assert outside(vpc, [inside, wider, elsewhere, vpc]) == [wider, elsewhere]


def test_the_first_overlap_is_the_first_pair_in_input_order() -> None:
    a, b, c, d = (ipaddress.IPv4Network(x) for x in ("10.0.0.0/24", "10.0.1.0/24", "10.0.1.0/25", "10.0.0.0/25"))
    assert first_overlap([a, b, c, d]) == (a, d)
    assert first_overlap([b, c]) == (b, c)
    assert first_overlap([]) is None


def test_terraform_env_reads_key_value_lines_and_skips_comments_and_blanks(tmp_path: Any) -> None:
    from core.toolchain import required_version, terraform_env

    env = tmp_path / "terraform.env"
    env.write_text(
        "# comment = 1\n\n  # indented comment\n TERRAFORM_VERSION = 1.11.4 \nTERRAFORM_MIN_VERSION=1.10\nX=a=b\n",
        encoding="utf-8",
    )
    assert terraform_env(env) == {"TERRAFORM_VERSION": "1.11.4", "TERRAFORM_MIN_VERSION": "1.10", "X": "a=b"}
    assert required_version(env) == ">= 1.10"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "TERRAFORM_MIN_VERSION=1.10\n",
            "terraform.env: TERRAFORM_VERSION must be a version like 1.10 or 1.10.5, not None",
        ),
        (
            "TERRAFORM_VERSION=1.11.4\nTERRAFORM_MIN_VERSION=v1.10\n",
            "terraform.env: TERRAFORM_MIN_VERSION must be a version like 1.10 or 1.10.5, not 'v1.10'",
        ),
        (
            "TERRAFORM_VERSION=1.11.4.1\nTERRAFORM_MIN_VERSION=1.10\n",
            "terraform.env: TERRAFORM_VERSION must be a version like 1.10 or 1.10.5, not '1.11.4.1'",
        ),
        (
            "TERRAFORM_VERSION=1\nTERRAFORM_MIN_VERSION=1.10\n",
            "terraform.env: TERRAFORM_VERSION must be a version like 1.10 or 1.10.5, not '1'",
        ),
        (
            "TERRAFORM_VERSION=1.11.4\nTERRAFORM_MIN_VERSION=1.10-rc1\n",
            "terraform.env: TERRAFORM_MIN_VERSION must be a version like 1.10 or 1.10.5, not '1.10-rc1'",
        ),
    ],
)
def test_a_terraform_env_without_two_plain_versions_is_refused_with_the_key(
    tmp_path: Any, text: str, message: str
) -> None:
    from core.toolchain import terraform_env

    env = tmp_path / "terraform.env"
    env.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="must be a version like") as refused:
        terraform_env(env)
    assert str(refused.value) == message


def test_the_shipped_terraform_env_is_the_default_file() -> None:
    from core.toolchain import TERRAFORM_ENV, required_version, terraform_env

    assert TERRAFORM_ENV.name == "terraform.env" and TERRAFORM_ENV.parent.joinpath("main.py").is_file()
    assert required_version() == f">= {terraform_env()['TERRAFORM_MIN_VERSION']}"


def test_parameter_reads_recognise_every_way_of_writing_the_environment() -> None:
    from core.discovery import parameter_reads

    text = "\n".join(
        [
            "aws ssm get-parameter --name /viberglass/${{ inputs.env }}/ecs/cluster",
            'name="/viberglass/${ENV}/ecs/service"',
            "/viberglass/$ENV/alb/dns",
            'f"/viberglass/{env}/amplify/appId"',
            'f"/viberglass/{self.env}/backend/{name}"',
            "/viberglass/prod-2/deployment/region.",
            "/viberglass/dev/frontend/apiUrl/",
            "/Viberglass/dev/not/this and /viberglass//nor/this",
        ]
    )
    assert parameter_reads(text) == {
        "ecs/cluster",
        "ecs/service",
        "alb/dns",
        "amplify/appId",
        "backend",
        "deployment/region",
        "frontend/apiUrl",
    }


def test_reads_in_collects_text_files_per_suffix_and_skips_other_kinds(tmp_path: Any) -> None:
    from core.discovery import reads_in

    (tmp_path / "a.yml").write_text("/viberglass/dev/ecs/cluster", encoding="utf-8")
    (tmp_path / "h.yaml").write_text("/viberglass/dev/ecs/taskFamily", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.sh").write_text("/viberglass/$ENV/ecs/cluster /viberglass/$ENV/alb/dns", encoding="utf-8")
    for name in ("c.txt", "d.json"):
        (tmp_path / name).write_text("/viberglass/dev/skipped/one", encoding="utf-8")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "e.py").write_text("/viberglass/dev/skipped/two", encoding="utf-8")
    (tmp_path / "f.md").write_bytes(b"\xff /viberglass/dev/ecs/service")
    single = tmp_path / "g.py"
    single.write_text("'/viberglass/{env}/amplify/appId'", encoding="utf-8")
    assert reads_in([tmp_path]) == {
        "ecs/cluster": {str(tmp_path / "a.yml"), str(tmp_path / "sub" / "b.sh")},
        "alb/dns": {str(tmp_path / "sub" / "b.sh")},
        "ecs/service": {str(tmp_path / "f.md")},
        "amplify/appId": {str(single)},
        "ecs/taskFamily": {str(tmp_path / "h.yaml")},
    }
    assert reads_in([single]) == {"amplify/appId": {str(single)}}


def test_missing_reads_are_those_no_created_parameter_satisfies() -> None:
    from core.discovery import missing

    reads = {"ecs/cluster": {"a"}, "backend": {"b"}, "ecs": {"c"}, "alb/dns": {"d"}, "ecs/clusterName": {"e"}}
    created = {"ecs/cluster", "backend/database/url"}
    assert missing(reads, created) == {"alb/dns": {"d"}, "ecs/clusterName": {"e"}}
    assert missing({"ecs/clus": {"f"}}, created) == {"ecs/clus": {"f"}}


def test_fargate_cpu_and_memory_values_are_the_ecs_table() -> None:
    assert aws_limits.fargate_cpu_values() == [256, 512, 1024, 2048, 4096, 8192, 16384]
    assert aws_limits.fargate_memory_values(256) == [512, 1024, 2048]
    assert aws_limits.fargate_memory_values(512) == [1024, 2048, 3072, 4096]
    assert aws_limits.fargate_memory_values(300) == []
    assert aws_limits.describe_memory_choices(300) == ""
    assert aws_limits.is_fargate_size(256, 512) and not aws_limits.is_fargate_size(512, 512)


def test_usable_addresses_are_the_block_minus_the_five_aws_keeps() -> None:
    assert [aws_limits.usable_addresses(p) for p in (16, 24, 27, 28)] == [65531, 251, 27, 11]


def test_a_region_is_in_the_partition_botocore_puts_it_in() -> None:
    assert [aws_limits.partition_of(r) for r in ("eu-west-1", "cn-north-1", "us-gov-west-1")] == [
        "aws",
        "aws-cn",
        "aws-us-gov",
    ]
    with pytest.raises(ValueError, match="in no partition") as refused:
        aws_limits.partition_of("mars-north-1")
    assert str(refused.value) == "mars-north-1 is in no partition the installed AWS SDK knows"


def test_the_known_regions_span_every_partition_without_the_global_aliases() -> None:
    known = aws_limits.regions()
    assert {"eu-west-1", "us-east-1", "cn-north-1", "us-gov-west-1"} <= known
    assert not any(name.endswith("-global") for name in known)
    assert "mars-north-1" not in known


def test_without_botocore_the_region_table_says_to_run_make_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    aws_limits._partitions.cache_clear()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "botocore" else True)
    try:
        with pytest.raises(RuntimeError) as refused:
            aws_limits._partitions()
        assert str(refused.value) == "botocore is not installed; run `make setup`"
    finally:
        monkeypatch.undo()
        aws_limits._partitions.cache_clear()


# -- HCP Terraform workspaces, teams and trust; the deploy roles' subjects (configuration in, data out) ------


def _cloud_config(env: str = "dev", cloud: dict[str, Any] | None = None) -> Any:
    from config import parse
    from config.defaults import merge
    from tests.conftest import raw_config

    state = {"backend": "cloud", "cloud": {"organization": "ilities", "project": f"viberglass-{env}", **(cloud or {})}}
    return parse(merge(raw_config(env), {"state": state}), env)


def test_hcp_workspaces_and_teams_are_prefix_env_and_stack() -> None:
    from config import parse
    from core import hcp
    from tests.conftest import raw_config

    cfg = _cloud_config("dev", {"workspace_prefix": "vg"})
    assert [hcp.workspace(cfg, s) for s in hcp.STACKS] == ["vg-dev-base", "vg-dev-workers", "vg-dev-platform"]
    assert (hcp.team(cfg, "plan"), hcp.team(cfg, "apply")) == ("vg-dev-plan", "vg-dev-apply")
    s3 = parse(raw_config("prod"), "prod")
    assert (hcp.uses_hcp(cfg), hcp.uses_hcp(s3)) == (True, False)
    assert hcp.workspace(s3, "base") == "viberglass-prod-base"


def test_hcp_consumers_are_the_stacks_that_read_a_stack() -> None:
    from core import hcp

    assert [hcp.consumers(s) for s in ("base", "workers", "platform")] == [("workers", "platform"), ("platform",), ()]


def test_hcp_run_subjects_name_organization_project_workspace_and_phase() -> None:
    from core import hcp

    cfg = _cloud_config()
    assert hcp.run_subject("o", "p", "w", "apply") == "organization:o:project:p:workspace:w:run_phase:apply"
    assert hcp.subjects(cfg, "plan") == [
        f"organization:ilities:project:viberglass-dev:workspace:viberglass-dev-{stack}:run_phase:plan"
        for stack in ("base", "workers", "platform")
    ]
    with pytest.raises(ValueError, match="run phase") as refused:
        hcp.run_subject("o", "p", "w", "destroy")
    assert str(refused.value) == "run phase 'destroy' is not one of ('plan', 'apply')"


def test_hcp_subjects_of_an_environment_on_s3_are_refused() -> None:
    from config import parse
    from core import hcp
    from tests.conftest import raw_config

    with pytest.raises(ValueError, match="does not keep its state") as refused:
        hcp.subjects(parse(raw_config("dev"), "dev"), "plan")
    assert str(refused.value) == "dev does not keep its state in HCP Terraform (state.backend: cloud)"


def test_hcp_trust_is_hcps_audience_and_the_exact_subjects() -> None:
    from core import hcp

    document = json.loads(hcp.trust("arn:aws:iam::1:oidc-provider/app.terraform.io", ["s1", "s2"]))
    assert document == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "HcpTerraformRuns",
                "Effect": "Allow",
                "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/app.terraform.io"},
                "Action": ["sts:AssumeRoleWithWebIdentity"],
                "Condition": {
                    "StringEquals": {
                        "app.terraform.io:aud": "aws.workload.identity",
                        "app.terraform.io:sub": ["s1", "s2"],
                    }
                },
            }
        ],
    }


@pytest.mark.parametrize("subjects", [[], ["a", "b*"], ["a?"]])
def test_hcp_trust_without_exact_subjects_is_refused(subjects: list[str]) -> None:
    from core import hcp

    with pytest.raises(ValueError, match="exact subjects") as refused:
        hcp.trust("arn", subjects)
    assert str(refused.value) == "HCP Terraform trust needs exact subjects"


def test_hcp_variables_switch_on_dynamic_credentials_with_a_role_per_phase() -> None:
    from core import hcp

    assert hcp.variables("plan-arn", "apply-arn") == {
        "TFC_AWS_PROVIDER_AUTH": "true",
        "TFC_AWS_PLAN_ROLE_ARN": "plan-arn",
        "TFC_AWS_APPLY_ROLE_ARN": "apply-arn",
    }


def test_a_deploy_role_without_a_workflow_ref_trusts_the_application_environment() -> None:
    from config import parse
    from config.defaults import merge
    from core import deploy_roles
    from tests.conftest import raw_config

    cfg = parse(merge(raw_config("dev"), {"github": {"app_deploy_workflow_ref": None}}), "dev")
    assert [deploy_roles.subject(cfg, role) for role in deploy_roles.WORKFLOWS] == [
        "repo:Ilities/viberglass:environment:dev"
    ] * 3


def test_a_deploy_role_with_a_workflow_ref_trusts_only_its_reusable_workflow_at_that_ref() -> None:
    from config import parse
    from core import deploy_roles
    from tests.conftest import raw_config

    cfg = parse(raw_config("prod"), "prod")
    ref = cfg.github.app_deploy_workflow_ref
    assert deploy_roles.subject(cfg, "workers-deploy") == (
        "repo:Ilities/viberglass:environment:prod:job_workflow_ref:"
        f"Ilities/viberglass-infra/.github/workflows/deploy-viberators.yml@{ref}"
    )


def test_hcp_subjects_of_an_environment_on_s3_with_a_cloud_block_are_refused() -> None:
    """A `state.cloud` block is accepted beside `backend: s3` (ready for a later switch); the backend decides."""
    from config import parse
    from config.defaults import merge
    from core import hcp
    from tests.conftest import raw_config

    state = {"backend": "s3", "cloud": {"organization": "ilities", "project": "viberglass-dev"}}
    cfg = parse(merge(raw_config("dev"), {"state": state}), "dev")
    with pytest.raises(ValueError, match="does not keep its state") as refused:
        hcp.subjects(cfg, "apply")
    assert str(refused.value) == "dev does not keep its state in HCP Terraform (state.backend: cloud)"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "is empty"),
        ("a" * 41, "is 41 characters long; an environment name has at most 40"),
        ("Dev_1", "'Dev_1' is not an environment name (lower-case letters and digits, words joined by single dashes)"),
        ("a--b", "'a--b' is not an environment name (lower-case letters and digits, words joined by single dashes)"),
    ],
)
def test_each_unusable_environment_name_says_why(name: str, problem: str) -> None:
    from core.naming import env_name_problem

    assert env_name_problem(name) == problem


def test_an_environment_name_of_exactly_40_characters_is_accepted() -> None:
    from core.naming import env_name_problem

    assert env_name_problem("a" * 40) is None
    assert Naming("a" * 40).prefix == f"viberglass-{'a' * 40}"


def test_shorten_needs_room_for_a_dash_and_the_six_character_hash() -> None:
    assert shorten("abcdefgh", 8) == "abcdefgh"
    with pytest.raises(ValueError, match="no room") as refused:
        shorten("abcdefgh", 7)
    assert str(refused.value) == "max_length 7 leaves no room for a hash suffix"


def test_a_cut_that_ends_in_a_dash_drops_it_before_the_hash() -> None:
    import hashlib

    name = "-abcdef-ghijklmnop"
    digest = hashlib.sha256(name.encode()).hexdigest()[:6]
    assert shorten(name, 15) == f"-abcdef-{digest}"
    assert shorten("abcdX-fghijklmnop", 13) == f"abcdX-{hashlib.sha256(b'abcdX-fghijklmnop').hexdigest()[:6]}"


def test_a_name_is_cut_at_64_characters_by_default() -> None:
    n = Naming("dev")
    fits = "c" * (64 - len("viberglass-dev-"))
    assert n.name(fits) == f"viberglass-dev-{fits}"
    assert len(n.name(fits + "c")) == 64


def test_clear_output_removes_only_what_a_synthesis_writes(tmp_path: Any) -> None:
    from core.cli import clear_output

    out = tmp_path / "out"
    (out / "stacks" / "base").mkdir(parents=True)
    (out / "stacks" / "base" / "cdk.tf.json").write_text("{}")
    (out / "manifest.json").write_text("{}")
    (out / "keep.txt").write_text("mine")
    clear_output(out)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_clear_output_removes_the_folder_it_emptied_and_accepts_a_missing_one(tmp_path: Any) -> None:
    from core.cli import clear_output

    out = tmp_path / "out"
    (out / "stacks").mkdir(parents=True)
    (out / "manifest.json").write_text("{}")
    clear_output(out)
    assert not out.exists()
    clear_output(out)
    assert not out.exists() and tmp_path.is_dir()


def test_the_collector_is_paused_for_the_block_and_what_it_made_is_frozen() -> None:
    import gc

    from core.cli import collector_paused

    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    with collector_paused():
        assert not gc.isenabled()
        made = [[index] for index in range(1000)]  # container objects the collector tracks
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen + len(made)


def test_a_pause_inside_a_pause_keeps_the_collector_paused_and_a_failure_still_resumes_it() -> None:
    import gc

    from core.cli import collector_paused

    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()

    def failing_import() -> None:
        with collector_paused():
            raise RuntimeError("an import failed")

    with pytest.raises(RuntimeError):
        failing_import()
    assert gc.isenabled()
