"""Every branch of every project policy rule (policy/rules.py), each with a fixture that must fail it and,
beside it, the same fixture with only that one thing right, which must pass. Small hand-made stacks: the
rule's decision, not the shipped stacks (tests/test_policy.py runs those)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policy import rules

Json = dict[str, Any]
GITHUB = "token.actions.githubusercontent.com"
OIDC = f"arn:aws:iam::123456789012:oidc-provider/{GITHUB}"


def stack(rtype: str, **bodies: Json) -> dict[str, Json]:
    return {"base": {"resource": {rtype: bodies}}}


def role_policy(*statements: Json, rtype: str = "aws_iam_role_policy") -> dict[str, Json]:
    return stack(rtype, p={"policy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})})


def allow(actions: list[str], resources: list[str] | str) -> Json:
    return {"Sid": "S", "Effect": "Allow", "Action": actions, "Resource": resources}


def trust(principal: Json, condition: Json | None = None) -> dict[str, Json]:
    statement: Json = {"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity", "Principal": principal}
    if condition is not None:
        statement["Condition"] = condition
    return stack("aws_iam_role", r={"assume_role_policy": json.dumps({"Statement": [statement]})})


def github(aud: str | None = "sts.amazonaws.com", sub: Any = "repo:o/r:environment:prod", **extra: Json) -> Json:
    equals = {k: v for k, v in {f"{GITHUB}:aud": aud, f"{GITHUB}:sub": sub}.items() if v is not None}
    return {"StringEquals": equals, **extra}


LOG_GROUP = "aws_cloudwatch_log_group.g needs retention_in_days and kms_key_id"
POLICY = "aws_iam_role_policy.p S: "
ROLE = "aws_iam_role.r: "
NO_AUDIENCE = "GitHub OIDC trust without aud = sts.amazonaws.com"
NO_SUBJECT = "GitHub OIDC trust without an exact sub"


def param(name: str) -> str:
    return f"aws_ssm_parameter.p ({name}) must be a SecureString with the environment key"


CASES: list[tuple[str, rules.Rule, dict[str, Json], dict[str, Json], str]] = [
    # (id, rule, failing stacks, passing twin, the one line of the failure after "base: ")
    ("log-group-without-retention", rules.log_groups_have_retention_and_key,
     stack("aws_cloudwatch_log_group", g={"kms_key_id": "k"}),
     stack("aws_cloudwatch_log_group", g={"kms_key_id": "k", "retention_in_days": 7}), LOG_GROUP),
    ("log-group-without-key", rules.log_groups_have_retention_and_key,
     stack("aws_cloudwatch_log_group", g={"retention_in_days": 7}),
     stack("aws_cloudwatch_log_group", g={"kms_key_id": "k", "retention_in_days": 7}), LOG_GROUP),
    ("iam-star-action", rules.iam_has_no_wildcards,
     role_policy(allow(["*"], ["arn:aws:s3:::b"])), role_policy(allow(["s3:GetObject"], ["arn:aws:s3:::b"])),
     POLICY + "wildcard action *"),
    ("iam-service-star-action", rules.iam_has_no_wildcards,
     role_policy(allow(["s3:*"], ["arn:aws:s3:::b"])), role_policy(allow(["s3:GetObject"], ["arn:aws:s3:::b"])),
     POLICY + "wildcard action s3:*"),
    ("iam-star-action-in-a-managed-policy", rules.iam_has_no_wildcards,
     role_policy(allow(["s3:*"], ["arn:aws:s3:::b"]), rtype="aws_iam_policy"),
     role_policy(allow(["s3:GetObject"], ["arn:aws:s3:::b"]), rtype="aws_iam_policy"),
     "aws_iam_policy.p S: wildcard action s3:*"),
    ("iam-star-resource-for-a-narrowable-action", rules.iam_has_no_wildcards,
     role_policy(allow(["ecr:GetAuthorizationToken", "s3:GetObject"], "*")),
     role_policy(allow(["ecr:GetAuthorizationToken"], "*")),
     POLICY + "resource * for s3:GetObject, which supports narrower ARNs"),
    ("iam-star-action-as-a-string", rules.iam_has_no_wildcards,
     role_policy({"Sid": "S", "Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"}),
     role_policy({"Sid": "S", "Effect": "Deny", "Action": "*", "Resource": "*"}),
     POLICY + "wildcard action s3:*"),
    ("trust-service-without-source-account", rules.trust_is_pinned,
     trust({"Service": "ecs-tasks.amazonaws.com"}, {"StringEquals": {}}),
     trust({"Service": "ecs-tasks.amazonaws.com"}, {"StringEquals": {"aws:SourceAccount": "123456789012"}}),
     ROLE + "service trust without aws:SourceAccount"),
    ("trust-service-without-any-condition", rules.trust_is_pinned,
     trust({"Service": "ecs-tasks.amazonaws.com"}),
     trust({"Service": "ecs-tasks.amazonaws.com"}, {"StringEquals": {"aws:SourceAccount": "123456789012"}}),
     ROLE + "service trust without aws:SourceAccount"),
    ("trust-github-without-audience", rules.trust_is_pinned,
     trust({"Federated": OIDC}, github(aud=None)), trust({"Federated": OIDC}, github()), ROLE + NO_AUDIENCE),
    ("trust-github-other-audience", rules.trust_is_pinned,
     trust({"Federated": OIDC}, github(aud="sigstore")), trust({"Federated": OIDC}, github()), ROLE + NO_AUDIENCE),
    ("trust-github-without-subject", rules.trust_is_pinned,
     trust({"Federated": OIDC}, github(sub=None)), trust({"Federated": OIDC}, github()), ROLE + NO_SUBJECT),
    ("trust-github-wildcard-subject", rules.trust_is_pinned,
     trust({"Federated": OIDC}, github(sub=["repo:o/r:environment:prod", "repo:o/*"])),
     trust({"Federated": OIDC}, github(sub=["repo:o/r:environment:prod", "repo:o/r:pull_request"])),
     ROLE + NO_SUBJECT),
    ("trust-github-string-like", rules.trust_is_pinned,
     trust({"Federated": OIDC}, github(StringLike={f"{GITHUB}:sub": "repo:o/r:*"})),
     trust({"Federated": OIDC}, github()), ROLE + NO_SUBJECT),
    ("trust-another-account", rules.trust_is_pinned,
     trust({"AWS": "arn:aws:iam::222222222222:root"}), trust({"Federated": OIDC}, github()),
     ROLE + "trust is neither an AWS service nor GitHub OIDC"),
    ("trust-another-identity-provider", rules.trust_is_pinned,
     trust({"Federated": "arn:aws:iam::123456789012:oidc-provider/gitlab.com"}, github()),
     trust({"Federated": OIDC}, github()), ROLE + "trust is neither an AWS service nor GitHub OIDC"),
    ("open-port-22-on-the-alb", rules.only_the_alb_is_open_to_the_internet,
     {"base": {"resource": {"aws_security_group": {"alb": {"name": "viberglass-prod-alb-sg"}},
      "aws_vpc_security_group_ingress_rule": {"r": {"security_group_id": "${aws_security_group.alb.id}",
                                                    "cidr_ipv4": "0.0.0.0/0", "from_port": 22, "to_port": 22}}}}},
     {"base": {"resource": {"aws_security_group": {"alb": {"name": "viberglass-prod-alb-sg"}},
      "aws_vpc_security_group_ingress_rule": {"r": {"security_group_id": "${aws_security_group.alb.id}",
                                                    "cidr_ipv4": "0.0.0.0/0", "from_port": 443, "to_port": 443}}}}},
     "aws_vpc_security_group_ingress_rule.r opens ['22'] to the internet"),
    ("open-https-on-another-group", rules.only_the_alb_is_open_to_the_internet,
     {"base": {"resource": {"aws_security_group": {"be": {"name": "viberglass-prod-backend-sg"}},
      "aws_vpc_security_group_ingress_rule": {"r": {"security_group_id": "${aws_security_group.be.id}",
                                                    "cidr_ipv4": "0.0.0.0/0", "from_port": 443, "to_port": 443}}}}},
     {"base": {"resource": {"aws_security_group": {"be": {"name": "viberglass-prod-backend-sg"}},
      "aws_vpc_security_group_ingress_rule": {"r": {"security_group_id": "${aws_security_group.be.id}",
                                                    "cidr_ipv4": "10.0.0.0/16", "from_port": 443, "to_port": 443}}}}},
     "aws_vpc_security_group_ingress_rule.r opens ['443'] to the internet"),
    ("open-ipv6-range", rules.only_the_alb_is_open_to_the_internet,
     {"base": {"resource": {"aws_security_group": {"be": {"name": "viberglass-prod-backend-sg"}},
      "aws_vpc_security_group_ingress_rule": {"r": {"security_group_id": "${aws_security_group.be.id}",
                                                    "cidr_ipv6": "::/0", "from_port": 3000, "to_port": 3000}}}}},
     {"base": {"resource": {"aws_security_group": {"be": {"name": "viberglass-prod-backend-sg"}},
      "aws_vpc_security_group_ingress_rule": {"r": {"security_group_id": "${aws_security_group.be.id}",
                                                    "cidr_ipv6": "fd00::/8", "from_port": 3000, "to_port": 3000}}}}},
     "aws_vpc_security_group_ingress_rule.r opens ['3000'] to the internet"),
    ("open-port-range-reaching-past-https", rules.only_the_alb_is_open_to_the_internet,
     {"base": {"resource": {"aws_security_group": {"alb": {"name": "viberglass-prod-alb-sg"}},
      "aws_vpc_security_group_ingress_rule": {"r": {"security_group_id": "${aws_security_group.alb.id}",
                                                    "cidr_ipv4": "0.0.0.0/0", "from_port": 80, "to_port": 8080}}}}},
     {"base": {"resource": {"aws_security_group": {"alb": {"name": "viberglass-prod-alb-sg"}},
      "aws_vpc_security_group_ingress_rule": {"r": {"security_group_id": "${aws_security_group.alb.id}",
                                                    "cidr_ipv4": "0.0.0.0/0", "from_port": 80, "to_port": 80}}}}},
     "aws_vpc_security_group_ingress_rule.r opens ['80', '8080'] to the internet"),
    ("inline-internet-ingress", rules.only_the_alb_is_open_to_the_internet,
     stack("aws_security_group", g={"name": "x", "ingress": [{"cidr_blocks": ["0.0.0.0/0"], "from_port": 443}]}),
     stack("aws_security_group", g={"name": "x", "ingress": [{"cidr_blocks": ["10.0.0.0/8"], "from_port": 443}]}),
     "aws_security_group.g has an inline internet ingress rule"),
    ("plain-parameter-outside-the-contract", rules.secrets_are_encrypted_parameters,
     stack("aws_ssm_parameter", p={"name": "/viberglass/prod/backend/DB_PASSWORD", "type": "String"}),
     stack("aws_ssm_parameter", p={"name": "/viberglass/prod/backend/DB_PASSWORD", "type": "SecureString",
                                   "key_id": "${aws_kms_key.k.arn}"}),
     param("/viberglass/prod/backend/DB_PASSWORD")),
    ("discovery-name-of-another-environment", rules.secrets_are_encrypted_parameters,
     stack("aws_ssm_parameter", p={"name": "/viberglass/dev/ecs/cluster", "type": "String"}),
     stack("aws_ssm_parameter", p={"name": "/viberglass/prod/ecs/cluster", "type": "String"}),
     param("/viberglass/dev/ecs/cluster")),
    ("secure-string-without-the-environment-key", rules.secrets_are_encrypted_parameters,
     stack("aws_ssm_parameter", p={"name": "/viberglass/prod/backend/X", "type": "SecureString"}),
     stack("aws_ssm_parameter", p={"name": "/viberglass/prod/backend/X", "type": "SecureString", "key_id": "k"}),
     param("/viberglass/prod/backend/X")),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "bad", "good", "line"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_rule_fails_its_fixture_and_passes_the_twin(
    rule: rules.Rule, bad: dict[str, Json], good: dict[str, Json], line: str
) -> None:
    assert rule(bad, "prod") == [f"base: {line}"]
    assert rule(good, "prod") == []


def test_every_rule_has_a_branch_case() -> None:
    assert {c[1] for c in CASES} | {rules.production_state_is_protected} == set(rules.RULES.values())


# -- production-state-is-protected: one case per protection, and the tier (not the name) decides ---------

PROTECTED_DB = {"deletion_protection": True, "skip_final_snapshot": False, "lifecycle": {"prevent_destroy": True}}
KEEP = {"lifecycle": {"prevent_destroy": True}}


@pytest.mark.parametrize(
    ("rtype", "body", "words"),
    [
        ("aws_db_instance", {**PROTECTED_DB, "deletion_protection": False}, "needs deletion_protection"),
        ("aws_db_instance", {**PROTECTED_DB, "skip_final_snapshot": True}, "a final snapshot"),
        ("aws_db_instance", {k: v for k, v in PROTECTED_DB.items() if k != "skip_final_snapshot"}, "a final snapshot"),
        ("aws_db_instance", {**PROTECTED_DB, "lifecycle": {}}, "and prevent_destroy"),
        ("aws_s3_bucket", {}, "aws_s3_bucket.x needs prevent_destroy in production"),
        ("aws_kms_key", {"lifecycle": {"prevent_destroy": False}}, "aws_kms_key.x needs prevent_destroy"),
        ("aws_cloudwatch_log_group", {"skip_destroy": False}, "needs skip_destroy in production"),
    ],
    ids=["db-deletable", "db-skips-snapshot", "db-snapshot-unset", "db-destroyable", "bucket", "key", "logs"],
)
def test_production_state_is_protected_fails_each_missing_protection(rtype: str, body: Json, words: str) -> None:
    found = rules.production_state_is_protected(stack(rtype, x=body), "prod")
    assert len(found) == 1 and words in found[0], found
    assert rules.production_state_is_protected(stack(rtype, x=body), "dev") == []


def test_production_state_is_protected_passes_protected_state() -> None:
    resource = {"aws_db_instance": {"x": PROTECTED_DB}, "aws_s3_bucket": {"x": KEEP}, "aws_kms_key": {"x": KEEP},
                "aws_cloudwatch_log_group": {"x": {"skip_destroy": True}}}  # fmt: skip
    stacks = {"base": {"resource": resource}}
    assert rules.production_state_is_protected(stacks, "prod") == []


def test_an_environment_whose_configuration_cannot_be_read_is_held_to_production() -> None:
    assert rules.is_production("no-such-environment") is True
    assert (rules.is_production("prod"), rules.is_production("dev")) == (True, False)


def test_check_prefixes_each_violation_with_its_rule() -> None:
    found = rules.check(stack("aws_cloudwatch_log_group", g={}), "dev")
    assert found == [
        "[log-groups-have-retention-and-key] base: aws_cloudwatch_log_group.g needs retention_in_days and kms_key_id"
    ]


# -- inputs the rules meet less often: several statements, missing keys, other stacks -------------------


def test_a_deny_statement_does_not_stop_the_check_of_the_allows_after_it() -> None:
    deny = {"Sid": "D", "Effect": "Deny", "Action": "*", "Resource": "*"}
    found = rules.iam_has_no_wildcards(role_policy(deny, allow(["s3:*"], ["arn:aws:s3:::b"])), "dev")
    assert found == ["base: aws_iam_role_policy.p S: wildcard action s3:*"]


def test_a_statement_without_sid_action_or_resource_is_read_not_crashed_on() -> None:
    not_action = {"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"}
    no_sid = {"Effect": "Allow", "Action": "ec2:*"}
    assert rules.iam_has_no_wildcards(role_policy(not_action, no_sid), "dev") == [
        "base: aws_iam_role_policy.p ?: wildcard action ec2:*"
    ]


def test_a_trust_statement_without_principal_is_neither_a_service_nor_github() -> None:
    roles = stack("aws_iam_role", r={"assume_role_policy": json.dumps({"Statement": [{"Effect": "Allow"}]})})
    assert rules.trust_is_pinned(roles, "dev") == [
        "base: aws_iam_role.r: trust is neither an AWS service nor GitHub OIDC"
    ]


def _ingress(group: Json | None, rules_: dict[str, Json]) -> dict[str, Json]:
    resource: dict[str, Json] = {"aws_vpc_security_group_ingress_rule": rules_}
    if group is not None:
        resource["aws_security_group"] = group
    return {"base": {"resource": resource}}


def test_every_internet_ingress_rule_is_checked_not_only_the_first() -> None:
    inside = {"security_group_id": "${aws_security_group.be.id}", "cidr_ipv4": "10.0.0.0/16", "from_port": 5432,
              "to_port": 5432}  # fmt: skip
    outside = {"security_group_id": "${aws_security_group.be.id}", "cidr_ipv4": "0.0.0.0/0", "from_port": 5432,
               "to_port": 5432}  # fmt: skip
    found = rules.only_the_alb_is_open_to_the_internet(
        _ingress({"be": {"name": "x-be-sg"}}, {"a": inside, "b": outside}), "dev"
    )
    assert found == ["base: aws_vpc_security_group_ingress_rule.b opens ['5432'] to the internet"]


def test_an_internet_rule_on_a_group_without_a_known_name_is_reported() -> None:
    rule = {"security_group_id": "${aws_security_group.other.id}", "cidr_ipv4": "0.0.0.0/0", "from_port": 443,
            "to_port": 443}  # fmt: skip
    groups: Json | None
    for groups in (None, {"other": {}}):
        found = rules.only_the_alb_is_open_to_the_internet(_ingress(groups, {"r": rule}), "dev")
        assert found == ["base: aws_vpc_security_group_ingress_rule.r opens ['443'] to the internet"]


def test_a_port_range_from_80_to_443_is_not_two_public_ports() -> None:
    """80-443 opens 364 ports, though both ends are public ones."""
    rule = {"security_group_id": "${aws_security_group.alb.id}", "cidr_ipv4": "0.0.0.0/0", "from_port": 80,
            "to_port": 443}  # fmt: skip
    found = rules.only_the_alb_is_open_to_the_internet(_ingress({"alb": {"name": "x-alb-sg"}}, {"r": rule}), "dev")
    assert found == ["base: aws_vpc_security_group_ingress_rule.r opens ['443', '80'] to the internet"]


def test_an_inline_rule_between_security_groups_is_not_internet_ingress() -> None:
    groups = stack("aws_security_group", g={"name": "x", "ingress": [{"security_groups": ["sg-1"], "from_port": 1}]})
    assert rules.only_the_alb_is_open_to_the_internet(groups, "dev") == []


def test_every_parameter_is_checked_and_a_nameless_one_is_refused() -> None:
    plain = {"name": "/viberglass/prod/ecs/cluster", "type": "String"}
    found = rules.secrets_are_encrypted_parameters(stack("aws_ssm_parameter", a=plain, b={"type": "String"}), "prod")
    assert found == ["base: aws_ssm_parameter.b () must be a SecureString with the environment key"]


def test_a_stack_without_resources_breaks_no_rule() -> None:
    assert rules.check({"base": {}, "platform": {"output": {}}}, "prod") == []


def test_check_holds_a_production_environment_to_the_production_rules() -> None:
    assert rules.check(stack("aws_s3_bucket", x={}), "prod") == [
        "[production-state-is-protected] base: aws_s3_bucket.x needs prevent_destroy in production"
    ]
    assert rules.check(stack("aws_s3_bucket", x={}), "dev") == []
