"""The workers stack on the synthesized JSON (SPEC §4 workers)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Stacks, SynthFn
from tests.tf import one, outputs, policy, resources, role_policy, sid, statement, target

CATALOG = [
    "viberator-base-worker",
    "viberator-lambda-worker",
    "viberator-worker-multi-agent",
    "viberator-worker-claude-code-ecs",
    *(f"viberator-worker-{a}" for a in ("codex", "gemini", "kimi", "mistral", "opencode", "pi", "qwen")),
]
Env = tuple[str, Stacks]


def _role(stacks: Stacks, env: str, suffix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    name = f"viberglass-{env}-{suffix}"
    return one(stacks["workers"], "aws_iam_role", name=name), role_policy(stacks["workers"], name)


@pytest.fixture(scope="session")
def shared_account(synth: SynthFn) -> Stacks:
    """dev configured as the non-owner of the worker repositories."""
    return synth("dev", {"workers": {"owns_repositories": False}})


def test_workers_stack_reads_base_state_with_the_same_backend(each_env: Env) -> None:
    env, stacks = each_env
    remote = stacks["workers"]["data"]["terraform_remote_state"]
    (state,) = remote.values()
    assert state["backend"] == "s3"
    assert state["config"]["key"] == f"viberglass/{env}/base.tfstate"
    assert state["config"]["bucket"] == stacks["base"]["terraform"]["backend"]["s3"]["bucket"]


def test_dev_owns_every_catalog_repository(dev: Stacks) -> None:
    names = sorted(r["name"] for r in resources(dev["workers"], "aws_ecr_repository"))
    assert names == sorted(CATALOG)


def test_repositories_scan_on_push_with_the_environment_key(dev: Stacks) -> None:
    for repo in resources(dev["workers"], "aws_ecr_repository"):
        assert repo["image_scanning_configuration"] == {"scan_on_push": True}
        (enc,) = repo["encryption_configuration"]
        assert enc["encryption_type"] == "KMS"
        assert enc["kms_key"].startswith("${data.terraform_remote_state.")


def test_sha_tags_are_immutable_and_only_latest_moves(dev: Stacks) -> None:
    for repo in resources(dev["workers"], "aws_ecr_repository"):
        assert repo["image_tag_mutability"] == "IMMUTABLE_WITH_EXCLUSION"
        assert repo["image_tag_mutability_exclusion_filter"] == [{"filter": "*latest", "filter_type": "WILDCARD"}]


def test_lifecycle_expires_untagged_and_keeps_newest_per_environment(dev: Stacks) -> None:
    policies = resources(dev["workers"], "aws_ecr_lifecycle_policy")
    assert len(policies) == len(CATALOG)
    rules = json.loads(policies[0]["policy"])["rules"]
    assert rules[0]["selection"]["tagStatus"] == "untagged"
    kept = {tuple(r["selection"]["tagPrefixList"]): r["selection"]["countNumber"] for r in rules[1:]}
    assert kept == {("dev-",): 30, ("prod-",): 30}


def test_without_ownership_no_repository_exists(shared_account: Stacks) -> None:
    assert resources(shared_account["workers"], "aws_ecr_repository") == []
    assert resources(shared_account["workers"], "aws_ecr_lifecycle_policy") == []


def test_without_ownership_image_uris_still_resolve(shared_account: Stacks) -> None:
    out = outputs(shared_account["workers"])
    uri = out["image_uri_multi_agent"]["value"]
    assert uri.endswith(".dkr.ecr.eu-west-1.amazonaws.com/viberator-worker-multi-agent")
    assert "${data.aws_caller_identity." in uri


def test_without_ownership_pull_rights_name_the_repository_arns(shared_account: Stacks) -> None:
    _, doc = _role(shared_account, "dev", "worker-execution")
    arns = sid(doc, "PullWorkerImages")["Resource"]
    assert len(arns) == len(CATALOG)
    assert all(":ecr:eu-west-1:" in a and ":repository/viberator-" in a for a in arns)


def test_prod_reads_the_repositories_dev_owns(prod: Stacks) -> None:
    assert resources(prod["workers"], "aws_ecr_repository") == []


def test_worker_cluster_is_separate_with_container_insights(each_env: Env) -> None:
    env, stacks = each_env
    cluster = one(stacks["workers"], "aws_ecs_cluster")
    assert cluster["name"] == f"viberglass-{env}-workers"
    assert cluster["setting"] == [{"name": "containerInsights", "value": "enabled"}]


def test_container_insights_follows_config(synth: SynthFn) -> None:
    cluster = one(synth("dev", {"workers": {"container_insights": False}})["workers"], "aws_ecs_cluster")
    assert cluster["setting"] == [{"name": "containerInsights", "value": "disabled"}]


@pytest.mark.parametrize(
    ("suffix", "service"),
    [
        ("worker-execution", "ecs-tasks.amazonaws.com"),
        ("worker-task", "ecs-tasks.amazonaws.com"),
        ("worker-lambda", "lambda.amazonaws.com"),
    ],
)
def test_roles_trust_one_service_for_this_account(each_env: Env, suffix: str, service: str) -> None:
    env, stacks = each_env
    role, _ = _role(stacks, env, suffix)
    trust = statement(role["assume_role_policy"], "TrustService")
    assert trust["Principal"] == {"Service": service}
    assert trust["Action"] == ["sts:AssumeRole"]
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"].startswith("${data.aws_caller_identity.")


@pytest.mark.parametrize("suffix", ["worker-execution", "worker-task", "worker-lambda"])
def test_roles_read_worker_and_tenant_secrets(each_env: Env, suffix: str) -> None:
    env, stacks = each_env
    _, doc = _role(stacks, env, suffix)
    reads = [s for s in doc["Statement"] if "ssm:GetParameters" in s["Action"]]
    resources_ = {r.split(":parameter")[1] for s in reads for r in s["Resource"]}
    assert resources_ == {"/viberator/secrets/*", "/viberator/tenants/*"}


@pytest.mark.parametrize("suffix", ["worker-execution", "worker-task", "worker-lambda"])
def test_roles_decrypt_only_with_the_environment_key(each_env: Env, suffix: str) -> None:
    env, stacks = each_env
    _, doc = _role(stacks, env, suffix)
    kms = [s for s in doc["Statement"] if any(a.startswith("kms:") for a in s["Action"])]
    assert kms
    assert all(r.startswith("${data.terraform_remote_state.") for s in kms for r in s["Resource"])


@pytest.mark.parametrize("suffix", ["worker-task", "worker-lambda"])
def test_uploads_read_and_write_only_under_conversation_state(each_env: Env, suffix: str) -> None:
    env, stacks = each_env
    _, doc = _role(stacks, env, suffix)
    write = sid(doc, "WriteConversationState")
    assert [r.split(":s3:::")[1] for r in write["Resource"]] == [f"{env}-viberglass-uploads/conversation-state/*"]
    assert "s3:PutObject" in write["Action"]
    reads = sid(doc, "ReadUploadsRead")["Resource"]
    assert [r.split(":s3:::")[1] for r in reads] == [f"{env}-viberglass-uploads/*"]


def test_execution_role_writes_only_the_ecs_worker_log_group(dev: Stacks) -> None:
    _, doc = _role(dev, "dev", "worker-execution")
    logs = sid(doc, "WriteWorkerLogs")
    assert logs["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert len(logs["Resource"]) == 2
    assert all(r.startswith("${data.terraform_remote_state.") for r in logs["Resource"])


def test_lambda_role_logs_to_the_environment_lambda_groups(dev: Stacks) -> None:
    _, doc = _role(dev, "dev", "worker-lambda")
    resources_ = sid(doc, "WriteLambdaLogs")["Resource"]
    assert resources_[0].endswith(":log-group:/aws/lambda/viberglass-dev-*")


def test_lambda_role_manages_enis_in_the_worker_subnets_and_group(dev: Stacks) -> None:
    _, doc = _role(dev, "dev", "worker-lambda")
    enis = sid(doc, "ManageFunctionEnis")
    assert "ec2:CreateNetworkInterface" in enis["Action"]
    assert enis["Resource"][0].endswith(":network-interface/*")
    assert len(enis["Resource"]) == 4  # interfaces, two subnets, the worker group


def test_only_aws_required_wildcards(each_env: Env) -> None:
    _, stacks = each_env
    wildcard_sids = set()
    for body in resources(stacks["workers"], "aws_iam_role_policy"):
        for s in policy(body["policy"])["Statement"]:
            assert "*" not in s["Action"] and not any(a.endswith(":*") for a in s["Action"])
            if "*" in s["Resource"]:
                wildcard_sids.add(s["Sid"])
    assert wildcard_sids == {"PullWorkerImagesToken", "DescribeEnis"}


@pytest.mark.parametrize("image", ["multi-agent", "claude-code-ecs"])
def test_baseline_task_definitions(each_env: Env, image: str) -> None:
    env, stacks = each_env
    task = one(stacks["workers"], "aws_ecs_task_definition", family=f"viberglass-{env}-worker-{image}")
    assert (task["network_mode"], task["requires_compatibilities"], task["cpu"], task["memory"]) == (
        "awsvpc",
        ["FARGATE"],
        "2048",
        "4096",
    )
    (container,) = json.loads(task["container_definitions"])
    repository, tag = container["image"].rsplit(":", 1)
    if repository.startswith("${aws_ecr_repository."):  # the owner references its own repository
        repository = target(stacks["workers"], repository)[1]["name"]
    assert (repository.rsplit("/", 1)[-1], tag) == (f"viberator-worker-{image}", f"{env}-latest")
    assert container["logConfiguration"]["options"]["awslogs-group"].startswith("${data.terraform_remote_state.")
    assert (container["readonlyRootFilesystem"], container["user"]) == (True, "1000:1000")
    assert container["secrets"] == []
    assert {e["name"] for e in container["environment"]} == {"VIBERGLASS_ENV", "AWS_REGION"}


def test_task_definitions_use_the_worker_roles(dev: Stacks) -> None:
    workers = dev["workers"]
    for task in resources(workers, "aws_ecs_task_definition"):
        _, execution = target(workers, task["execution_role_arn"])
        _, task_role = target(workers, task["task_role_arn"])
        assert (execution["name"], task_role["name"]) == (
            "viberglass-dev-worker-execution",
            "viberglass-dev-worker-task",
        )


def test_outputs(each_env: Env) -> None:
    _, stacks = each_env
    expected = {
        "execution_role_arn",
        "task_role_arn",
        "lambda_role_arn",
        "registry_host",
        "cluster_arn",
        "subnet_ids",
        "security_group_id",
        "assign_public_ip",
        "ecs_image_uri",
        "lambda_image_uri",
    }
    assert expected <= set(outputs(stacks["workers"]))


def test_enterprise_workers_use_private_subnets_without_public_ip(dev: Stacks) -> None:
    out = outputs(dev["workers"])
    assert out["assign_public_ip"]["value"] is False
    subnet_refs = out["subnet_ids"]["value"]
    assert all("private" in ref for ref in subnet_refs), subnet_refs


def test_standard_workers_use_public_subnets_with_public_ip(synth: SynthFn) -> None:
    out = outputs(synth("dev", {"network": {"mode": "standard"}})["workers"])
    assert out["assign_public_ip"]["value"] is True
    assert all("public" in ref for ref in out["subnet_ids"]["value"])


def test_uploads_bucket_name_matches_the_platform_naming() -> None:
    from config import load
    from stacks.workers import uploads_bucket_name

    assert uploads_bucket_name(load("prod")) == "prod-viberglass-uploads"
