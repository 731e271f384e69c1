"""Every branch of every project policy rule (policy/rules.py), each with a fixture that must fail it and,
beside it, the same fixture with only that one thing right, which must pass. Small hand-made stacks: the
rule's decision, not the shipped stacks (tests/test_policy.py runs those)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from policy import rules
from tests.conftest import ROOT

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


APP = "repo:Ilities/viberglass:environment:prod"  # config/prod.yaml's github.app_repository


def github(aud: str | None = "sts.amazonaws.com", sub: Any = APP, **extra: Json) -> Json:
    equals = {k: v for k, v in {f"{GITHUB}:aud": aud, f"{GITHUB}:sub": sub}.items() if v is not None}
    return {"StringEquals": equals, **extra}


LOG_GROUP = "aws_cloudwatch_log_group.g needs retention_in_days and kms_key_id"
POLICY = "aws_iam_role_policy.p S: "
ROLE = "aws_iam_role.r: "
NO_AUDIENCE = "GitHub OIDC trust without aud = sts.amazonaws.com"
NO_SUBJECT = "GitHub OIDC trust without exactly one exact sub"
NEITHER = "trust is neither an AWS service, GitHub OIDC nor HCP Terraform OIDC"
BOUNDARY = "arn:aws:iam::123456789012:policy/viberglass-prod-boundary"
SECRET_ARGUMENT = "{} is a secret argument; Terraform stores it in plan and state"
NOT_DISCOVERY = ("aws_ssm_parameter.p ({}) is not a discovery value: a secret parameter must not be a Terraform "
                 "resource (ops secrets init creates them)")  # fmt: skip


def roles(**bodies: Json) -> dict[str, Json]:
    """Roles (name, boundary) and attachments ``{"attach": {key: (role, policy ARN)}}``."""
    attach = bodies.pop("attach", {})
    resource: Json = {"aws_iam_role": bodies}
    if attach:
        resource["aws_iam_role_policy_attachment"] = {
            k: {"role": role, "policy_arn": arn} for k, (role, arn) in attach.items()
        }
    return {"base": {"resource": resource}}


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
     trust({"Federated": OIDC}, github(sub="repo:Ilities/*")), trust({"Federated": OIDC}, github()),
     ROLE + NO_SUBJECT),
    ("trust-github-two-subjects", rules.trust_is_pinned,
     trust({"Federated": OIDC}, github(sub=[APP, "repo:Ilities/viberglass:pull_request"])),
     trust({"Federated": OIDC}, github()), ROLE + NO_SUBJECT),
    ("trust-github-question-mark-subject", rules.trust_is_pinned,
     trust({"Federated": OIDC}, github(sub="repo:Ilities/viberglass:environment:pro?")),
     trust({"Federated": OIDC}, github()), ROLE + NO_SUBJECT),
    ("trust-github-another-repository", rules.trust_is_pinned,
     trust({"Federated": OIDC}, github(sub="repo:o/r:environment:prod")), trust({"Federated": OIDC}, github()),
     ROLE + "GitHub OIDC trust for o/r, not Ilities/viberglass"),
    ("trust-github-subject-without-a-repository", rules.trust_is_pinned,
     trust({"Federated": OIDC}, github(sub="anything")), trust({"Federated": OIDC}, github()),
     ROLE + "GitHub OIDC trust for anything, not Ilities/viberglass"),
    ("trust-github-string-like", rules.trust_is_pinned,
     trust({"Federated": OIDC}, github(StringLike={f"{GITHUB}:sub": "repo:o/r:*"})),
     trust({"Federated": OIDC}, github()), ROLE + NO_SUBJECT),
    ("trust-another-account", rules.trust_is_pinned,
     trust({"AWS": "arn:aws:iam::222222222222:root"}), trust({"Federated": OIDC}, github()),
     ROLE + NEITHER),
    ("trust-another-identity-provider", rules.trust_is_pinned,
     trust({"Federated": "arn:aws:iam::123456789012:oidc-provider/gitlab.com"}, github()),
     trust({"Federated": OIDC}, github()), ROLE + NEITHER),
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
    ("secret-keeping-resource", rules.no_secret_in_state,
     stack("random_password", p={"length": 32}), stack("random_id", p={"byte_length": 8}),
     "random_password.p keeps its secret in state"),
    ("sensitive-value", rules.no_secret_in_state,
     stack("tfe_variable", v={"key": "k", "value": "x", "sensitive": True}),
     stack("tfe_variable", v={"key": "k", "value": "x", "sensitive": False}),
     "tfe_variable.v: a sensitive value; Terraform stores it in plan and state"),
    ("secret-argument", rules.no_secret_in_state,
     stack("aws_db_instance", d={"password": "hunter2"}), stack("aws_db_instance", d={"password_wo": "hunter2"}),
     "aws_db_instance.d: " + SECRET_ARGUMENT.format("password")),
    ("secret-argument-in-a-block", rules.no_secret_in_state,
     stack("aws_amplify_app", a={"auto_branch_creation_config": [{"basic_auth_credentials": "u:p"}]}),
     stack("aws_amplify_app", a={"auto_branch_creation_config": [{"basic_auth_credentials": ""}]}),
     "aws_amplify_app.a: " + SECRET_ARGUMENT.format("auto_branch_creation_config[0].basic_auth_credentials")),
    ("generated-value-outside-a-write-only-argument", rules.no_secret_in_state,
     stack("aws_ssm_parameter", p={"name": "/viberglass/prod/ecs/cluster", "type": "String",
                                   "value": "${random_password.x.result}"}),
     stack("aws_ssm_parameter", p={"name": "/viberglass/prod/ecs/cluster", "type": "String",
                                   "value_wo": "${random_password.x.result}"}),
     "aws_ssm_parameter.p: value holds a generated value outside a write-only argument"),
    ("ephemeral-value-outside-a-write-only-argument", rules.no_secret_in_state,
     stack("aws_db_instance", d={"tags": {"t": "${ephemeral.random_password.x.result}"}}),
     stack("aws_db_instance", d={"password_wo": "${ephemeral.random_password.x.result}"}),
     "aws_db_instance.d: tags.t holds a generated value outside a write-only argument"),
    ("secret-data-source", rules.no_secret_in_state,
     {"base": {"data": {"aws_ssm_parameter": {"t": {"name": "/x"}}}}},
     {"base": {"data": {"aws_ssm_parameters": {"t": {"name": "/x"}}}}},
     "data.aws_ssm_parameter.t reads a secret into plan and state"),
    ("sensitive-output", rules.no_secret_in_state,
     {"base": {"output": {"key": {"value": "x", "sensitive": True}}}},
     {"base": {"output": {"cross-stack-output-key": {"value": "x", "sensitive": True}}}},
     "output.key is sensitive: its value is in state"),
    ("secure-string-parameter", rules.no_secret_in_state,
     stack("aws_ssm_parameter", p={"name": "/viberglass/prod/ecs/cluster", "type": "SecureString"}),
     stack("aws_ssm_parameter", p={"name": "/viberglass/prod/ecs/cluster", "type": "String"}),
     NOT_DISCOVERY.format("/viberglass/prod/ecs/cluster")),
    ("parameter-outside-the-discovery-values", rules.no_secret_in_state,
     stack("aws_ssm_parameter", p={"name": "/viberglass/prod/backend/x", "type": "String"}),
     stack("aws_ssm_parameter", p={"name": "/viberglass/prod/alarms/topicArn", "type": "String"}),
     NOT_DISCOVERY.format("/viberglass/prod/backend/x")),
    ("discovery-name-of-another-environment", rules.no_secret_in_state,
     stack("aws_ssm_parameter", p={"name": "/viberglass/dev/ecs/cluster", "type": "String"}),
     stack("aws_ssm_parameter", p={"name": "/viberglass/prod/ecs/cluster", "type": "String"}),
     NOT_DISCOVERY.format("/viberglass/dev/ecs/cluster")),
    ("role-without-a-boundary", rules.roles_carry_the_boundary,
     roles(r={"name": "n"}), roles(r={"name": "n", "permissions_boundary": BOUNDARY}),
     "aws_iam_role.r (n) has no permissions boundary"),
    ("role-with-another-environments-boundary", rules.roles_carry_the_boundary,
     roles(r={"name": "n", "permissions_boundary": BOUNDARY.replace("prod", "dev")}),
     roles(r={"name": "n", "permissions_boundary": BOUNDARY}), "aws_iam_role.r (n) has no permissions boundary"),
    ("role-with-a-boundary-of-a-longer-name", rules.roles_carry_the_boundary,
     roles(r={"name": "n", "permissions_boundary": BOUNDARY + "-2"}),
     roles(r={"name": "n", "permissions_boundary": BOUNDARY}), "aws_iam_role.r (n) has no permissions boundary"),
    ("attachment-of-an-unlisted-policy", rules.roles_carry_the_boundary,
     roles(attach={"a": ("n", "arn:aws:iam::aws:policy/AdministratorAccess")}),
     roles(attach={"a": ("n", "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole")}),
     "aws_iam_role_policy_attachment.a attaches arn:aws:iam::aws:policy/AdministratorAccess, not a listed "
     "service-role policy"),
    ("hcp-plan-role-with-the-apply-roles-policy", rules.roles_carry_the_boundary,
     roles(r={"name": "viberglass-prod-hcp-plan", "permissions_boundary": BOUNDARY},
           attach={"a": ("${aws_iam_role.r.name}", "arn:aws:iam::aws:policy/PowerUserAccess")}),
     roles(r={"name": "viberglass-prod-hcp-plan", "permissions_boundary": BOUNDARY},
           attach={"a": ("${aws_iam_role.r.name}", "arn:aws:iam::aws:policy/ReadOnlyAccess")}),
     "aws_iam_role_policy_attachment.a attaches arn:aws:iam::aws:policy/PowerUserAccess, not a listed "
     "service-role policy"),
    ("hcp-apply-role-by-literal-name", rules.roles_carry_the_boundary,
     roles(attach={"a": ("viberglass-prod-hcp-apply", "arn:aws:iam::aws:policy/AdministratorAccess")}),
     roles(attach={"a": ("viberglass-prod-hcp-apply", "arn:aws:iam::aws:policy/PowerUserAccess")}),
     "aws_iam_role_policy_attachment.a attaches arn:aws:iam::aws:policy/AdministratorAccess, not a listed "
     "service-role policy"),
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


def test_a_trust_statement_without_principal_is_neither_a_service_nor_an_identity_provider() -> None:
    roles = stack("aws_iam_role", r={"assume_role_policy": json.dumps({"Statement": [{"Effect": "Allow"}]})})
    assert rules.trust_is_pinned(roles, "dev") == [f"base: aws_iam_role.r: {NEITHER}"]


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
    found = rules.no_secret_in_state(stack("aws_ssm_parameter", a=plain, p={"type": "String"}), "prod")
    assert found == ["base: " + NOT_DISCOVERY.format("")]


def test_empty_and_switch_arguments_are_not_secrets() -> None:
    """An empty or false secret argument holds nothing; RDS's managed-password switch names no secret."""
    body = {"password": None, "auth_token": "", "secret_enabled": True, "manage_master_user_password": True,
            "kms_key_id": "k", "access_token_arn": "a", "lifecycle": {"ignore_changes": ["password"]}}  # fmt: skip
    assert rules.no_secret_in_state(stack("aws_db_instance", d=body), "prod") == []


def test_a_stack_without_resources_breaks_no_rule() -> None:
    assert rules.check({"base": {}, "platform": {"output": {}}}, "prod") == []


def test_check_holds_a_production_environment_to_the_production_rules() -> None:
    assert rules.check(stack("aws_s3_bucket", x={}), "prod") == [
        "[production-state-is-protected] base: aws_s3_bucket.x needs prevent_destroy in production"
    ]
    assert rules.check(stack("aws_s3_bucket", x={}), "dev") == []


# -- trust-is-pinned for HCP Terraform: dev on HCP Terraform (organization ilities, project viberglass-dev) ---

HCP_OIDC = "arn:aws:iam::123456789012:oidc-provider/app.terraform.io"
HCP_PREFIX = "organization:ilities:project:viberglass-dev:workspace:viberglass-dev-"
NOT_EXACT = "HCP Terraform trust without exact run_phase subjects"
TWO_PHASES = "HCP Terraform trust for more than one run phase (a plan may never take the apply role)"


@pytest.fixture
def dev_on_hcp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """config/ with dev on HCP Terraform: the rule reads the environment's organization, project and workspaces."""
    for env in ("dev", "prod"):
        (tmp_path / f"{env}.yaml").write_text((ROOT / "config" / f"{env}.yaml").read_text())
    raw = yaml.safe_load((tmp_path / "dev.yaml").read_text())
    raw["state"] = {"backend": "cloud", "cloud": {"organization": "ilities", "project": "viberglass-dev"}}
    (tmp_path / "dev.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("VIBERGLASS_CONFIG_DIR", str(tmp_path))


def hcp_trust(sub: Any = None, aud: Any = "aws.workload.identity", **extra: Json) -> dict[str, Json]:
    """A role trusting HCP Terraform; by default the plan phase of dev's three workspaces."""
    if sub is None:
        sub = [f"{HCP_PREFIX}{stack}:run_phase:plan" for stack in ("base", "workers", "platform")]
    equals = {k: v for k, v in {"app.terraform.io:aud": aud, "app.terraform.io:sub": sub}.items() if v is not None}
    return trust({"Federated": HCP_OIDC}, {"StringEquals": equals, **extra})


HCP_CASES: list[tuple[str, dict[str, Json], str]] = [
    # (id, failing stacks, the one line after "base: aws_iam_role.r: ")
    ("another-condition-operator", hcp_trust(StringLike={"app.terraform.io:sub": f"{HCP_PREFIX}*"}),
     "HCP Terraform trust with a condition other than StringEquals (patterns match other workspaces)"),
    ("no-audience", hcp_trust(aud=None), "HCP Terraform trust without aud = aws.workload.identity"),
    ("another-audience", hcp_trust(aud="sts.amazonaws.com"), "HCP Terraform trust without aud = aws.workload.identity"),
    ("no-subject", hcp_trust(sub=[]), NOT_EXACT),
    ("subject-not-a-string", hcp_trust(sub=[f"{HCP_PREFIX}base:run_phase:plan", 7]), NOT_EXACT),
    ("subject-a-mapping", hcp_trust(sub={"s": f"{HCP_PREFIX}base:run_phase:plan"}), NOT_EXACT),
    ("wildcard-subject", hcp_trust(sub=f"{HCP_PREFIX}*:run_phase:plan"), NOT_EXACT),
    ("question-mark-subject", hcp_trust(sub=f"{HCP_PREFIX}bas?:run_phase:plan"), NOT_EXACT),
    ("one-subject-twice", hcp_trust(sub=[f"{HCP_PREFIX}base:run_phase:plan"] * 2), NOT_EXACT),
    ("plan-and-apply", hcp_trust(sub=[f"{HCP_PREFIX}base:run_phase:plan", f"{HCP_PREFIX}base:run_phase:apply"]),
     TWO_PHASES),
    ("a-phase-hcp-does-not-have", hcp_trust(sub=f"{HCP_PREFIX}base:run_phase:destroy"), TWO_PHASES),
    ("no-phase-at-all", hcp_trust(sub=f"{HCP_PREFIX}base"), TWO_PHASES),
    ("only-a-pattern-condition",
     trust({"Federated": HCP_OIDC}, {"StringLike": {"app.terraform.io:sub": f"{HCP_PREFIX}*"}}),
     "HCP Terraform trust with a condition other than StringEquals (patterns match other workspaces)"),
    ("a-phase-named-twice", hcp_trust(sub=f"{HCP_PREFIX}base:run_phase:plan:run_phase:apply"),
     f"HCP Terraform trust for {HCP_PREFIX}base:run_phase:plan:run_phase:apply, not a workspace of this environment"),
    ("another-workspace", hcp_trust(sub=[f"{HCP_PREFIX}base:run_phase:apply", f"{HCP_PREFIX}x:run_phase:apply"]),
     f"HCP Terraform trust for {HCP_PREFIX}x:run_phase:apply, not a workspace of this environment"),
    ("another-project", hcp_trust(sub="organization:ilities:project:p:workspace:viberglass-dev-base:run_phase:plan"),
     "HCP Terraform trust for organization:ilities:project:p:workspace:viberglass-dev-base:run_phase:plan, not a "
     "workspace of this environment"),
]  # fmt: skip


@pytest.mark.usefixtures("dev_on_hcp")
@pytest.mark.parametrize(("bad", "line"), [c[1:] for c in HCP_CASES], ids=[c[0] for c in HCP_CASES])
def test_an_hcp_terraform_trust_that_is_not_pinned_fails(bad: dict[str, Json], line: str) -> None:
    assert rules.trust_is_pinned(bad, "dev") == [f"base: aws_iam_role.r: {line}"]


@pytest.mark.usefixtures("dev_on_hcp")
@pytest.mark.parametrize(
    "sub",
    [
        None,  # the plan phase of all three workspaces
        [f"{HCP_PREFIX}{stack}:run_phase:apply" for stack in ("base", "workers", "platform")],
        f"{HCP_PREFIX}workers:run_phase:apply",  # one exact subject given as a string
    ],
    ids=["plan", "apply", "one-subject"],
)
def test_an_hcp_terraform_trust_pinned_to_one_phase_of_the_environments_workspaces_passes(sub: Any) -> None:
    assert rules.trust_is_pinned(hcp_trust(sub=sub), "dev") == []


def test_an_hcp_terraform_trust_in_an_environment_not_on_hcp_terraform_fails() -> None:
    """prod keeps its state in S3: no HCP Terraform run may assume its roles, whatever the subject."""
    assert rules.trust_is_pinned(hcp_trust(), "prod") == [
        "base: aws_iam_role.r: HCP Terraform trust in an environment that does not use HCP Terraform (state.backend)"
    ]


def test_an_environment_whose_configuration_cannot_be_read_trusts_no_hcp_run_and_no_repository() -> None:
    """No configuration: no HCP workspace is this environment's, and a GitHub subject of any repository is
    only checked for being exact (the repository cannot be known)."""
    assert rules.trust_is_pinned(hcp_trust(), "no-such-environment") == [
        "base: aws_iam_role.r: HCP Terraform trust in an environment that does not use HCP Terraform (state.backend)"
    ]
    assert rules.trust_is_pinned(trust({"Federated": OIDC}, github(sub="repo:o/r:environment:x")), "nope") == []


def _config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **changes: dict[str, Any]) -> None:
    """config/ with dev and prod, each changed at the top level as given (``prod={"state": ...}``)."""
    for env in ("dev", "prod"):
        raw = yaml.safe_load((ROOT / "config" / f"{env}.yaml").read_text())
        raw.update(changes.get(env, {}))
        (tmp_path / f"{env}.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("VIBERGLASS_CONFIG_DIR", str(tmp_path))
    monkeypatch.delenv("VIBERGLASS_ENV", raising=False)


def test_the_application_repository_is_read_from_the_checked_environments_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dev deploys a fork: a role trusting the main repository is right for prod and wrong for dev."""
    raw = yaml.safe_load((ROOT / "config" / "dev.yaml").read_text())
    _config_dir(tmp_path, monkeypatch, dev={"github": {**raw["github"], "app_repository": "Ilities/fork"}})
    role = trust({"Federated": OIDC}, github())
    assert rules.trust_is_pinned(role, "prod") == []
    assert rules.trust_is_pinned(role, "dev") == [
        f"base: {ROLE}GitHub OIDC trust for Ilities/viberglass, not Ilities/fork"
    ]


def test_the_hcp_workspaces_are_read_from_the_checked_environments_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """prod on HCP Terraform, dev on S3: prod's run roles pass, the same trust in dev fails."""
    cloud = {"backend": "cloud", "cloud": {"organization": "ilities", "project": "viberglass-prod"}}
    _config_dir(tmp_path, monkeypatch, prod={"state": cloud})
    prefix = "organization:ilities:project:viberglass-prod:workspace:viberglass-prod-"
    role = hcp_trust(sub=[f"{prefix}{stack}:run_phase:apply" for stack in ("base", "workers", "platform")])
    assert rules.trust_is_pinned(role, "prod") == []
    assert rules.trust_is_pinned(role, "dev") == [
        "base: aws_iam_role.r: HCP Terraform trust in an environment that does not use HCP Terraform (state.backend)"
    ]


def test_a_github_trust_with_only_a_pattern_condition_has_no_audience() -> None:
    role = trust({"Federated": OIDC}, {"StringLike": {f"{GITHUB}:sub": "repo:Ilities/viberglass:*"}})
    assert rules.trust_is_pinned(role, "prod") == [f"base: {ROLE}{NO_AUDIENCE}"]


def test_a_trust_of_everyone_is_neither_a_service_nor_an_identity_provider() -> None:
    """`"Principal": "*"` (a string, not a mapping) trusts any AWS account."""
    assert rules.trust_is_pinned(trust("*"), "prod") == [f"base: {ROLE}{NEITHER}"]  # type: ignore[arg-type]


def test_cdktf_comments_are_skipped_and_the_arguments_after_them_are_checked() -> None:
    """cdktf writes a `//` block first in every resource: it is not an argument, and what follows it is."""
    body = {"//": {"metadata": {"path": "viberglass-prod-platform/db"}, "secret_note": "x"}, "password": "hunter2"}
    assert rules.no_secret_in_state(stack("aws_db_instance", d=body), "prod") == [
        "base: aws_db_instance.d: " + SECRET_ARGUMENT.format("password")
    ]


def test_a_managed_password_switch_does_not_hide_the_arguments_after_it() -> None:
    body = {"manage_master_user_password": True, "password": "hunter2"}
    assert rules.no_secret_in_state(stack("aws_db_instance", d=body), "prod") == [
        "base: aws_db_instance.d: " + SECRET_ARGUMENT.format("password")
    ]


def test_a_block_named_like_a_secret_is_not_a_secret_argument() -> None:
    """Cognito's `password_policy { minimum_length }` holds a length; only the argument's own name counts."""
    body = {
        "password_policy": [{"minimum_length": 12, "require_numbers": True}],
        "outer": [{"token_validity": [{"units": "hours"}]}],
    }
    assert rules.no_secret_in_state(stack("aws_cognito_user_pool", p=body), "prod") == []


def test_a_secret_given_as_a_list_is_reported_with_its_index() -> None:
    assert rules.no_secret_in_state(stack("aws_x", x={"password": ["hunter2"], "secret_id": ["s-1"]}), "prod") == [
        "base: aws_x.x: " + SECRET_ARGUMENT.format("password[0]")
    ]


def test_a_switch_that_generates_a_secret_is_reported_only_when_on() -> None:
    """Cognito's `generate_secret = true` keeps the client secret in state; `false` holds nothing."""
    assert rules.no_secret_in_state(stack("aws_cognito_user_pool_client", c={"generate_secret": False}), "prod") == []
    assert rules.no_secret_in_state(stack("aws_cognito_user_pool_client", c={"generate_secret": True}), "prod") == [
        "base: aws_cognito_user_pool_client.c: " + SECRET_ARGUMENT.format("generate_secret")
    ]


def test_every_resource_with_a_secret_is_reported() -> None:
    stacks = stack("aws_db_instance", a={"password": "1"}, b={"password": "2"})
    assert rules.no_secret_in_state(stacks, "prod") == [
        f"base: aws_db_instance.{k}: " + SECRET_ARGUMENT.format("password") for k in ("a", "b")
    ]


def test_only_an_ssm_read_without_decryption_keeps_a_secret_out_of_state() -> None:
    """`with_decryption = false` leaves an SSM SecureString ciphertext; Secrets Manager has no such switch."""
    ssm = {"base": {"data": {"aws_ssm_parameter": {"t": {"name": "/x", "with_decryption": False}}}}}
    assert rules.no_secret_in_state(ssm, "prod") == []
    ssm["base"]["data"]["aws_ssm_parameter"]["t"]["with_decryption"] = True
    assert rules.no_secret_in_state(ssm, "prod") == [
        "base: data.aws_ssm_parameter.t reads a secret into plan and state"
    ]
    version = {
        "base": {"data": {"aws_secretsmanager_secret_version": {"v": {"secret_id": "s", "with_decryption": False}}}}
    }
    assert rules.no_secret_in_state(version, "prod") == [
        "base: data.aws_secretsmanager_secret_version.v reads a secret into plan and state"
    ]


def test_a_rotation_trigger_in_lifecycle_is_not_a_value_in_state() -> None:
    """`lifecycle.replace_triggered_by` names a generated value to follow, it does not store it."""
    body = {"password_wo": "${ephemeral.random_password.p.result}",
            "lifecycle": {"replace_triggered_by": ["${random_password.p.id}"]}}  # fmt: skip
    assert rules.no_secret_in_state(stack("aws_db_instance", d=body), "prod") == []
