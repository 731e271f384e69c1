"""The workers stack on the synthesized JSON ."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Stacks, SynthFn
from tests.tf import containers, init_container, one, outputs, policy, resources, role_policy, sid, statement, target

# packages/types/src/workerImageCatalog.json in Ilities/viberglass: the code wins over older lists
# (viberator-ecs-worker and viberator-worker exist there; viberator-worker-claude-code-ecs does not).
CATALOG = [
    "viberator-base-worker",
    "viberator-ecs-worker",
    "viberator-lambda-worker",
    "viberator-worker-multi-agent",
    "viberator-worker",
    *(f"viberator-worker-{a}" for a in ("codex", "gemini", "kimi", "mistral", "opencode", "pi", "qwen")),
]
Env = tuple[str, Stacks]


def _role(stacks: Stacks, env: str, suffix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    name = f"viberglass-{env}-{suffix}"
    return one(stacks["workers"], "aws_iam_role", name=name), role_policy(stacks["workers"], name)


def test_workers_stack_reads_base_state_with_the_same_backend(each_env: Env) -> None:
    env, stacks = each_env
    remote = stacks["workers"]["data"]["terraform_remote_state"]
    (state,) = remote.values()
    assert state["backend"] == "s3"
    assert state["config"]["key"] == f"viberglass/{env}/base.tfstate"
    assert state["config"]["bucket"] == stacks["base"]["terraform"]["backend"]["s3"]["bucket"]


def test_each_environment_has_every_catalog_repository_under_its_prefix(each_env: Env) -> None:
    env, stacks = each_env
    names = sorted(r["name"] for r in resources(stacks["workers"], "aws_ecr_repository"))
    assert names == sorted(f"{env}/{name}" for name in CATALOG)


def test_image_prefix_is_a_setting(synth: SynthFn) -> None:
    stacks = synth("dev", {"workers": {"image_prefix": "team-a/dev"}})
    names = {r["name"] for r in resources(stacks["workers"], "aws_ecr_repository")}
    assert "team-a/dev/viberator-worker-multi-agent" in names
    assert outputs(stacks["workers"])["image_prefix"]["value"] == "team-a/dev"


def test_repositories_scan_on_push_with_the_environment_key(dev: Stacks) -> None:
    for repo in resources(dev["workers"], "aws_ecr_repository"):
        assert repo["image_scanning_configuration"] == {"scan_on_push": True}
        (enc,) = repo["encryption_configuration"]
        assert enc["encryption_type"] == "KMS"
        assert enc["kms_key"].startswith("${data.terraform_remote_state.")


def test_commit_tags_are_immutable_and_only_latest_moves(dev: Stacks) -> None:
    for repo in resources(dev["workers"], "aws_ecr_repository"):
        assert repo["image_tag_mutability"] == "IMMUTABLE_WITH_EXCLUSION"
        assert repo["image_tag_mutability_exclusion_filter"] == [{"filter": "*latest", "filter_type": "WILDCARD"}]


def test_lifecycle_expires_untagged_and_keeps_the_newest(dev: Stacks) -> None:
    policies = resources(dev["workers"], "aws_ecr_lifecycle_policy")
    assert len(policies) == len(CATALOG)
    rules = json.loads(policies[0]["policy"])["rules"]
    assert [r["selection"]["tagStatus"] for r in rules] == ["untagged", "any"]
    assert rules[1]["selection"]["countNumber"] == 30


def test_only_the_lambda_repository_lets_lambda_pull_for_clanker_functions(each_env: Env) -> None:
    env, stacks = each_env
    workers = stacks["workers"]
    (repository_policy,) = resources(workers, "aws_ecr_repository_policy")
    _, repo = target(workers, repository_policy["repository"])
    assert repo["name"] == f"{env}/viberator-lambda-worker"
    pull = statement(repository_policy["policy"], "LambdaPullsClankerImages")
    assert pull["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert pull["Action"] == ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    assert pull["Condition"]["StringLike"]["aws:sourceArn"].endswith(":function:viberator-*")


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


@pytest.mark.parametrize("suffix", ["worker-task", "worker-lambda"])
def test_clankers_read_only_the_worker_secrets(each_env: Env, suffix: str) -> None:
    env, stacks = each_env
    _, doc = _role(stacks, env, suffix)
    read = sid(doc, "ReadWorkerSecrets")
    assert read["Action"] == ["ssm:GetParameter"]
    assert [r.split(":parameter")[1] for r in read["Resource"]] == ["/viberator/secrets/*"]


def test_execution_role_only_pulls_and_logs(each_env: Env) -> None:
    env, stacks = each_env
    _, doc = _role(stacks, env, "worker-execution")
    assert [s["Sid"] for s in doc["Statement"]] == ["RegistryLogin", "PullWorkerImages", "WriteWorkerLogs"]
    assert len(sid(doc, "PullWorkerImages")["Resource"]) == len(CATALOG)


@pytest.mark.parametrize("suffix", ["worker-task", "worker-lambda"])
def test_clankers_decrypt_only_with_the_environment_key_through_s3(each_env: Env, suffix: str) -> None:
    env, stacks = each_env
    _, doc = _role(stacks, env, suffix)
    key = sid(doc, "UploadsKey")
    assert all(r.startswith("${data.terraform_remote_state.") for r in key["Resource"])
    assert key["Condition"] == {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}


def test_ecs_clankers_read_instructions_and_keep_conversation_state(each_env: Env) -> None:
    env, stacks = each_env
    _, doc = _role(stacks, env, "worker-task")
    state = sid(doc, "ConversationState")
    assert [r.split(":s3:::")[1] for r in state["Resource"]] == [f"{env}-viberglass-uploads/conversation-state/*"]
    reads = [r.split(":s3:::")[1] for r in sid(doc, "ReadInstructions")["Resource"]]
    assert reads == [
        f"{env}-viberglass-uploads/clankers/*/instructions/*",
        f"{env}-viberglass-uploads/jobs/*/clankers/*/instructions/*",
    ]


def test_execution_role_writes_only_the_ecs_worker_log_group(dev: Stacks) -> None:
    _, doc = _role(dev, "dev", "worker-execution")
    logs = sid(doc, "WriteWorkerLogs")
    assert logs["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert len(logs["Resource"]) == 2
    assert all(r.startswith("${data.terraform_remote_state.") for r in logs["Resource"])


def test_lambda_clankers_write_their_own_log_groups(each_env: Env) -> None:
    env, stacks = each_env
    _, doc = _role(stacks, env, "worker-lambda")
    create = sid(doc, "CreateFunctionLogGroups")
    assert create["Action"] == ["logs:CreateLogGroup"]
    assert create["Resource"][0].endswith(":log-group:/aws/lambda/viberator-*")
    write = sid(doc, "WriteFunctionLogs")
    assert write["Resource"][1].endswith(":log-group:/aws/lambda/viberator-*:log-stream:*")


def test_lambda_role_has_no_vpc_rights(each_env: Env) -> None:
    env, stacks = each_env
    _, doc = _role(stacks, env, "worker-lambda")
    assert not any(a.startswith("ec2:") for s in doc["Statement"] for a in s["Action"])


def test_only_aws_required_wildcards(each_env: Env) -> None:
    _, stacks = each_env
    wildcard_sids = set()
    for body in resources(stacks["workers"], "aws_iam_role_policy"):
        for s in policy(body["policy"])["Statement"]:
            assert "*" not in s["Action"] and not any(a.endswith(":*") for a in s["Action"])
            if "*" in s["Resource"]:
                wildcard_sids.add(s["Sid"])
    assert wildcard_sids == {"RegistryLogin"}


@pytest.mark.parametrize("image", ["multi-agent", "ecs"])
def test_baseline_task_definitions(each_env: Env, image: str) -> None:
    env, stacks = each_env
    task = one(stacks["workers"], "aws_ecs_task_definition", family=f"viberglass-{env}-worker-{image}")
    assert (task["network_mode"], task["requires_compatibilities"], task["cpu"], task["memory"]) == (
        "awsvpc",
        ["FARGATE"],
        "2048",
        "4096",
    )
    (container,) = [c for c in containers(task) if c["essential"]]
    repository, tag = container["image"].rsplit(":", 1)
    repository = target(stacks["workers"], repository)[1]["name"]
    repositories = {"multi-agent": "viberator-worker-multi-agent", "ecs": "viberator-ecs-worker"}
    assert (repository, tag) == (f"{env}/{repositories[image]}", "latest")
    assert container["name"] == "worker"  # the container name the backend overrides in RunTask
    options = container["logConfiguration"]["options"]
    assert options["awslogs-group"].startswith("${data.terraform_remote_state.")
    assert options["awslogs-stream-prefix"] == "ecs"
    assert (container["readonlyRootFilesystem"], container["user"]) == (True, "viberator")
    assert container["secrets"] == []
    assert {e["name"] for e in container["environment"]} == {"AWS_REGION", "AWS_S3_BUCKET", "SECRETS_SSM_PREFIX"}


@pytest.mark.parametrize("image", ["multi-agent", "ecs"])
def test_worker_writable_paths_are_prepared_for_the_viberator_user(each_env: Env, image: str) -> None:
    env, stacks = each_env
    task = one(stacks["workers"], "aws_ecs_task_definition", family=f"viberglass-{env}-worker-{image}")
    (container,) = [c for c in containers(task) if c["essential"]]
    assert [m["containerPath"] for m in container["mountPoints"]] == ["/tmp", "/home/viberator"]
    init = init_container(task)
    assert (init["image"], init["user"], init["essential"]) == (container["image"], "0", False)
    script = init["command"][0]
    # The home holds agent CLIs installed into the image (generated/<agent>.Dockerfile, kimi): copied, not hidden.
    assert "cp -a /home/viberator/. /mnt/volumes/home/viberator/" in script
    assert "chown -R viberator /mnt/volumes/home/viberator" in script
    assert "chmod 1777 /mnt/volumes/tmp" in script
    assert container["dependsOn"] == [{"containerName": init["name"], "condition": "SUCCESS"}]


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
        "image_prefix",
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
