"""The application is the judge: the synthesized stacks of every shipped environment against
core/app_contract.py (what Ilities/viberglass reads, writes and calls), with IAM evaluated by parliament
and iamprover (tests/iam_eval.py)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import z3
from iamprover.engine.context import Context
from iamprover.engine.encoder import allowed
from iamprover.model import Principal
from iamprover.parsers.iam import parse_policy_document

from core import app_contract as app
from core.naming import Naming
from stacks.workers import prebuilt_family
from tests import iam_eval
from tests.conftest import Stacks, per_test_under_mutation
from tests.iam_eval import ACCOUNT, REGION, Resolver
from tests.tf import Json, container, containers, init_container, items, one, resources

Env = tuple[str, Stacks]
ROLES = [
    ("platform", "backend-task", app.BACKEND_TASK_PERMISSIONS),
    ("platform", "backend-execution", app.BACKEND_EXECUTION_PERMISSIONS),
    ("workers", "worker-execution", app.WORKER_EXECUTION_PERMISSIONS),
    ("workers", "worker-task", app.WORKER_TASK_PERMISSIONS),
    ("workers", "worker-lambda", app.WORKER_LAMBDA_PERMISSIONS),
]
APP_MIRROR = Path("/work/.mirror/Ilities+viberglass/repo")


def _stacks(stacks: Stacks) -> dict[str, Json]:
    return {name: doc for name, doc in stacks.items() if name != "manifest"}


@pytest.fixture(scope=per_test_under_mutation("session"))
def resolved(each_env: Env) -> tuple[str, Resolver, dict[str, Any]]:
    env, stacks = each_env
    resolver = Resolver(_stacks(stacks))
    return env, resolver, iam_eval.contract_values(resolver, env)


def _backend(resolver: Resolver) -> tuple[Json, dict[str, str]]:
    """(resolved backend container, its environment)."""
    definition = resolver.text(
        "platform", one(resolver.stacks["platform"], "aws_ecs_task_definition")["container_definitions"]
    )
    (backend,) = [c for c in json.loads(definition) if c["essential"]]
    return backend, {e["name"]: e["value"] for e in backend["environment"]}


# -- the contract module itself ------------------------------------------------------------------------------


def _entries() -> list[tuple[str, str]]:
    variables = [(v.name, v.source) for v in (*app.BACKEND_VARIABLES, *app.FRONTEND_VARIABLES)]
    secrets = [(s.name, s.source) for s in app.BACKEND_SECRETS]
    permissions = [(p.sid, p.source) for group in app.ROLE_PERMISSIONS.values() for p in group]
    return variables + secrets + permissions


def test_every_contract_entry_cites_where_it_comes_from() -> None:
    for name, source in _entries():
        assert source.strip(), name
    app_files = [s.split()[0] for _, s in _entries() if s.startswith(("apps/", "packages/", "infra/", "amplify.yml"))]
    assert len(app_files) >= len(app.BACKEND_VARIABLES)


@pytest.mark.skipif(not APP_MIRROR.exists() or shutil.which("git") is None, reason="needs the application's git copy")
def test_cited_application_files_exist_at_the_contract_commit() -> None:
    listed = subprocess.run(["git", "-C", str(APP_MIRROR), "ls-tree", "-r", "--name-only", app.APP_COMMIT],
                            capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    files = set(listed)
    cited = {s.split()[0] for _, s in _entries() if s.startswith(("apps/", "packages/", "infra/", "amplify.yml"))}
    cited |= {app.WORKER_CATALOG_FILE, app.BACKEND_DOCKERFILE, *app.SINGLE_TASK_SOURCES}
    assert sorted(cited - files) == []


@pytest.mark.skipif(not APP_MIRROR.exists() or shutil.which("git") is None, reason="needs the application's git copy")
def test_worker_images_are_the_applications_catalog() -> None:
    raw = subprocess.run(["git", "-C", str(APP_MIRROR), "show", f"{app.APP_COMMIT}:{app.WORKER_CATALOG_FILE}"],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    catalog = {(e["variant"], e["repositoryName"], e["dockerfilePath"], e["isAgentImage"]) for e in json.loads(raw)}
    assert catalog == {(i.variant, i.repository, i.dockerfile, i.agent) for i in app.WORKER_IMAGES}


def test_the_backend_runs_the_default_the_lambda_and_the_agent_images() -> None:
    """resolveWorkerImageVariantForAgent (packages/types/src/workerImages.ts): claude-code maps to
    multi-agent, each other agent to its own image, the Lambda strategy to lambda; base, ecs and the
    claude image are never selected."""
    run = sorted(i.repository for i in app.WORKER_IMAGES if i.run_by_backend)
    agents = ("codex", "gemini", "kimi", "mistral", "opencode", "pi", "qwen")
    assert run == sorted(["viberator-lambda-worker", "viberator-worker-multi-agent",
                          *(f"viberator-worker-{a}" for a in agents)])  # fmt: skip


# -- backend container -------------------------------------------------------------------------------------------


def test_backend_runs_as_the_images_uid_with_a_read_only_root(each_env: Env) -> None:
    _, stacks = each_env
    backend = container(stacks["platform"])
    assert (backend["user"], backend["readonlyRootFilesystem"]) == ("1001", True)


def test_backend_can_write_its_logs_and_tmp(each_env: Env) -> None:
    _, stacks = each_env
    task = one(stacks["platform"], "aws_ecs_task_definition")
    backend = container(stacks["platform"])
    mounts = {m["containerPath"]: m for m in backend["mountPoints"]}
    assert set(mounts) == {"/app/logs", "/tmp"} and not any(m["readOnly"] for m in mounts.values())
    volumes = {v["name"] for v in task["volume"]}
    assert {m["sourceVolume"] for m in mounts.values()} == volumes


def test_backend_volumes_are_handed_to_uid_1001_before_it_starts(each_env: Env) -> None:
    """Fargate creates task volumes root-owned 0755 (aws/containers-roadmap#938): a root init container
    from the same image chowns /app/logs to 1001 and makes /tmp 1777, and the backend waits for it."""
    _, stacks = each_env
    task = one(stacks["platform"], "aws_ecs_task_definition")
    backend, init = container(stacks["platform"]), init_container(task)
    assert (init["image"], init["user"], init["essential"], init["readonlyRootFilesystem"]) == (
        backend["image"],
        "0",
        False,
        True,
    )
    script = init["command"][0]
    assert "chown -R 1001 /mnt/volumes/app/logs" in script and "chmod 1777 /mnt/volumes/tmp" in script
    mounts = {m["sourceVolume"]: m["containerPath"] for m in init["mountPoints"]}
    backend_mounts = {m["sourceVolume"]: m["containerPath"] for m in backend["mountPoints"]}
    assert {v: f"/mnt/volumes{p}" for v, p in backend_mounts.items()} == mounts
    assert backend["dependsOn"] == [{"containerName": init["name"], "condition": "SUCCESS"}]
    assert "portMappings" not in init and "healthCheck" not in init
    assert len(containers(task)) == 2


def test_backend_port_and_health_path(each_env: Env) -> None:
    _, stacks = each_env
    backend = container(stacks["platform"])
    assert backend["portMappings"] == [{"containerPort": app.BACKEND_PORT, "protocol": "tcp"}]
    assert f"http://localhost:{app.BACKEND_PORT}{app.BACKEND_HEALTH_PATH}" in backend["healthCheck"]["command"][-1]
    assert one(stacks["platform"], "aws_alb_target_group")["health_check"]["path"] == app.BACKEND_HEALTH_PATH


# -- backend environment ------------------------------------------------------------------------------------------

_FORMATS = {
    "https-url": re.compile(r"^https://[a-z0-9.-]+(/[^\s]*[^/\s])?$"),
    "https-origins": re.compile(r"^https://[a-z0-9.-]+(,https://[a-z0-9.-]+)*$"),
    "csv": re.compile(r"^[^,\s]+(,[^,\s]+)*$"),
    "arn": re.compile(r"^arn:aws:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:\S+$"),
    "registry": re.compile(rf"^{ACCOUNT}\.dkr\.ecr\.{REGION}\.amazonaws\.com$"),
    "image": re.compile(rf"^{ACCOUNT}\.dkr\.ecr\.{REGION}\.amazonaws\.com/[a-z0-9./_-]+:[A-Za-z0-9_.-]+$"),
    "name": re.compile(r"^\S+$"),
    "port": re.compile(r"^[1-9]\d{0,4}$"),
}


def _well_formed(variable: app.Variable, value: str) -> bool:
    if variable.rule == "literal":
        return value == variable.value
    return bool(_FORMATS[variable.rule].fullmatch(value))


def test_every_contract_variable_is_set_and_well_formed(resolved: tuple[str, Resolver, dict[str, Any]]) -> None:
    _, resolver, _ = resolved
    _, environment = _backend(resolver)
    assert sorted(environment) == sorted(v.name for v in app.BACKEND_VARIABLES)
    bad = {v.name: environment[v.name] for v in app.BACKEND_VARIABLES if not _well_formed(v, environment[v.name])}
    assert bad == {}


def test_variables_the_app_must_not_get_are_absent(each_env: Env) -> None:
    _, stacks = each_env
    names = {e["name"] for e in container(stacks["platform"])["environment"]}
    names |= {s["name"] for s in container(stacks["platform"])["secrets"]}
    assert names & set(app.FORBIDDEN_VARIABLES) == set()


def test_urls_are_https_without_trailing_slash_and_origins_list_every_frontend_url(
    resolved: tuple[str, Resolver, dict[str, Any]],
) -> None:
    _, resolver, _ = resolved
    _, environment = _backend(resolver)
    for name in ("PLATFORM_API_URL", "PLATFORM_FRONTEND_URL"):
        assert environment[name].startswith("https://") and not environment[name].endswith("/")
    origins = environment["ALLOWED_ORIGINS"].split(",")
    assert " " not in environment["ALLOWED_ORIGINS"]
    assert environment["PLATFORM_FRONTEND_URL"] in origins
    assert any(o.endswith(".d1app.amplifyapp.com") for o in origins)  # the Amplify branch URL serves it too


def test_every_image_the_backend_builds_exists_in_this_environment(
    resolved: tuple[str, Resolver, dict[str, Any]],
) -> None:
    """[registry/][VIBERATOR_WORKER_IMAGE_PREFIX/]<repository>:latest (workerImage.ts) names a repository
    the workers stack creates, for every image the backend runs."""
    env, resolver, _ = resolved
    _, environment = _backend(resolver)
    registry, prefix = environment["VIBERATOR_WORKER_REGISTRY"], environment["VIBERATOR_WORKER_IMAGE_PREFIX"]
    assert prefix == env
    created = {
        f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{r['name']}"
        for r in resources(resolver.stacks["workers"], "aws_ecr_repository")
    }
    for image in app.WORKER_IMAGES:
        if image.run_by_backend:
            assert f"{registry}/{prefix}/{image.repository}" in created, image.repository
    repository, tag = environment["VIBERATOR_ECS_CONTAINER_IMAGE"].rsplit(":", 1)
    assert (repository in created, tag) == (True, app.RUN_TAG)


def test_ecs_settings_name_the_workers_stack(resolved: tuple[str, Resolver, dict[str, Any]]) -> None:
    env, resolver, values = resolved
    _, environment = _backend(resolver)
    assert environment["VIBERATOR_ECS_CLUSTER_ARN"] == values["workers_cluster_arn"]
    assert environment["VIBERATOR_ECS_EXECUTION_ROLE_ARN"] == values["worker_execution_role_arn"]
    assert environment["VIBERATOR_ECS_TASK_ROLE_ARN"] == values["worker_task_role_arn"]
    assert environment["VIBERATOR_LAMBDA_ROLE_ARN"] == values["worker_lambda_role_arn"]
    assert environment["VIBERATOR_ECS_LOG_GROUP"] == f"/ecs/viberglass-{env}-worker"
    assert len(environment["VIBERATOR_ECS_SUBNET_IDS"].split(",")) == 2


def test_secrets_are_the_contracts_and_the_password_is_the_rds_secret(
    resolved: tuple[str, Resolver, dict[str, Any]],
) -> None:
    env, resolver, values = resolved
    backend, _ = _backend(resolver)
    secrets = {s["name"]: s["valueFrom"] for s in backend["secrets"]}
    assert sorted(secrets) == sorted(s.name for s in app.BACKEND_SECRETS)
    assert secrets["DB_PASSWORD"] == f"{values['db_secret_arn']}:password::"
    ssm = {k: v for k, v in secrets.items() if k != "DB_PASSWORD"}
    assert all(
        v.startswith(f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/viberglass/{env}/backend/") for v in ssm.values()
    )


def test_postgresql_16(each_env: Env) -> None:
    _, stacks = each_env
    db = one(stacks["platform"], "aws_db_instance")
    assert (db["engine"], db["engine_version"].split(".")[0]) == ("postgres", "16")
    assert one(stacks["platform"], "aws_db_parameter_group")["family"] == "postgres16"


# -- frontend ----------------------------------------------------------------------------------------------------


def test_frontend_build_variables_are_the_contracts_and_well_formed(
    resolved: tuple[str, Resolver, dict[str, Any]],
) -> None:
    _, resolver, _ = resolved
    amplify = one(resolver.stacks["platform"], "aws_amplify_app")
    variables = {k: resolver.text("platform", v) for k, v in amplify["environment_variables"].items()}
    assert sorted(variables) == sorted(v.name for v in app.FRONTEND_VARIABLES)
    assert [v.name for v in app.FRONTEND_VARIABLES if not _well_formed(v, variables[v.name])] == []
    _, environment = _backend(resolver)
    assert variables["VITE_API_URL"] == environment["PLATFORM_API_URL"]


# -- IAM: every call allowed, nothing more -------------------------------------------------------------------------


@pytest.mark.parametrize(("stack", "suffix", "permissions"), ROLES, ids=[r[1] for r in ROLES])
def test_role_actions_are_real_and_match_their_resources(
    resolved: tuple[str, Resolver, dict[str, Any]], stack: str, suffix: str, permissions: Any
) -> None:
    env, resolver, _ = resolved
    document = iam_eval.role_document(resolver, stack, f"viberglass-{env}-{suffix}")
    assert iam_eval.parliament_findings(document) == []


@pytest.mark.parametrize(("stack", "suffix", "permissions"), ROLES, ids=[r[1] for r in ROLES])
def test_role_allows_every_call_the_app_makes(
    resolved: tuple[str, Resolver, dict[str, Any]], stack: str, suffix: str, permissions: Any
) -> None:
    env, resolver, values = resolved
    document = iam_eval.role_document(resolver, stack, f"viberglass-{env}-{suffix}")
    assert iam_eval.denied_calls(document, permissions, values) == []


@pytest.mark.parametrize(("stack", "suffix", "permissions"), ROLES, ids=[r[1] for r in ROLES])
def test_role_allows_nothing_the_contract_does_not_need(
    resolved: tuple[str, Resolver, dict[str, Any]], stack: str, suffix: str, permissions: Any
) -> None:
    env, resolver, values = resolved
    document = iam_eval.role_document(resolver, stack, f"viberglass-{env}-{suffix}")
    assert iam_eval.wider_than(document, iam_eval.contract_document(permissions, values)) is None


def _documents(resolver: Resolver) -> list[tuple[str, Json]]:
    """Every policy document in every stack: role policies, trust policies, bucket, repository and key
    policies."""
    found: list[tuple[str, Json]] = []
    for stack, doc in resolver.stacks.items():
        for rtype, attr in (("aws_iam_role_policy", "policy"), ("aws_iam_role", "assume_role_policy"),
                            ("aws_s3_bucket_policy", "policy"), ("aws_ecr_repository_policy", "policy"),
                            ("aws_kms_key", "policy")):  # fmt: skip
            for key, body in items(doc, rtype):
                found.append((f"{stack}/{rtype}.{key}", resolver.document(stack, body[attr])))
    return found


def test_every_action_in_every_policy_is_a_real_aws_action(resolved: tuple[str, Resolver, dict[str, Any]]) -> None:
    _, resolver, _ = resolved
    documents = _documents(resolver)
    assert len(documents) > 20
    unknown = {
        where: findings
        for where, document in documents
        if (findings := iam_eval.parliament_findings(document, issues={"UNKNOWN_ACTION", "UNKNOWN_PREFIX"}))
    }
    assert unknown == {}


def _is_allowed(document: Json, principal: str, action: str, resource: str, context: dict[str, str]) -> bool:
    """iamprover: the request is allowed whatever the unpinned context (``not allowed`` is unsatisfiable)."""
    policy = parse_policy_document("p", document)
    who = Principal(arn=principal, policies=[] if principal.startswith("service:") else [policy])
    ctx, solver = Context(), z3.Solver()
    for key, value in context.items():
        solver.add(ctx.constrain(key, value))
    resource_policies = [policy] if principal.startswith("service:") else []
    solver.add(z3.Not(allowed(who, z3.StringVal(action.lower()), z3.StringVal(resource), ctx, resource_policies)))
    return bool(solver.check() == z3.unsat)


def test_backend_runs_viberator_worker_task_definitions_on_the_workers_cluster_only(
    resolved: tuple[str, Resolver, dict[str, Any]],
) -> None:
    env, resolver, values = resolved
    document = iam_eval.role_document(resolver, "platform", f"viberglass-{env}-backend-task")
    cluster = {"ecs:cluster": str(values["workers_cluster_arn"])}
    task_definition = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/viberator-worker-my-clanker:3"
    assert _is_allowed(document, "role", "ecs:RunTask", task_definition, cluster)
    legacy = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/viberglass-{env}-worker-multi-agent:1"
    assert not _is_allowed(document, "role", "ecs:RunTask", legacy, cluster)
    # The copy provisioning makes of the prebuilt template (stacks/workers.py), in the template's family.
    prebuilt = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{prebuilt_family(Naming(env))}:2"
    assert _is_allowed(document, "role", "ecs:RunTask", prebuilt, cluster)
    elsewhere = {"ecs:cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/someone-else"}
    assert not _is_allowed(document, "role", "ecs:RunTask", task_definition, elsewhere)


def test_backend_manages_viberator_functions_only(resolved: tuple[str, Resolver, dict[str, Any]]) -> None:
    env, resolver, _ = resolved
    document = iam_eval.role_document(resolver, "platform", f"viberglass-{env}-backend-task")
    for action in (
        "lambda:CreateFunction",
        "lambda:UpdateFunctionCode",
        "lambda:InvokeFunction",
        "lambda:DeleteFunction",
    ):
        assert _is_allowed(document, "role", action, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:viberator-my-bot", {})
        assert not _is_allowed(document, "role", action, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:payroll", {})


def test_lambda_clankers_write_their_logs(resolved: tuple[str, Resolver, dict[str, Any]]) -> None:
    env, resolver, _ = resolved
    document = iam_eval.role_document(resolver, "workers", f"viberglass-{env}-worker-lambda")
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/viberator-my-bot"
    assert _is_allowed(document, "role", "logs:CreateLogGroup", group, {})
    assert _is_allowed(document, "role", "logs:CreateLogStream", f"{group}:log-stream:2026/01/01/[$LATEST]abc", {})
    assert _is_allowed(document, "role", "logs:PutLogEvents", f"{group}:log-stream:2026/01/01/[$LATEST]abc", {})
    assert not _is_allowed(
        document,
        "role",
        "logs:PutLogEvents",
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/other:log-stream:x",
        {},
    )


def test_lambda_service_pulls_the_lambda_worker_image_for_clanker_functions_only(
    resolved: tuple[str, Resolver, dict[str, Any]],
) -> None:
    env, resolver, _ = resolved
    (policy,) = resources(resolver.stacks["workers"], "aws_ecr_repository_policy")
    document = resolver.document("workers", policy["policy"])
    repository = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{env}/viberator-lambda-worker"
    clanker = {"aws:sourceArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:viberator-my-bot"}
    for action in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"):
        assert _is_allowed(document, "service:lambda.amazonaws.com", action, repository, clanker)
        other = {"aws:sourceArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:payroll"}
        assert not _is_allowed(document, "service:lambda.amazonaws.com", action, repository, other)


# -- HTTPS, SSE, bodies ------------------------------------------------------------------------------------------


def test_api_is_https_in_every_environment(resolved: tuple[str, Resolver, dict[str, Any]]) -> None:
    _, resolver, _ = resolved
    _, environment = _backend(resolver)
    platform = resolver.stacks["platform"]
    api = environment["PLATFORM_API_URL"]
    if api.endswith(".cloudfront.net"):
        (edge,) = resources(platform, "aws_cloudfront_distribution")
        assert edge["default_cache_behavior"]["viewer_protocol_policy"] == "https-only"
        assert edge["viewer_certificate"]["cloudfront_default_certificate"] is True
    else:
        assert one(platform, "aws_alb_listener", protocol="HTTPS")["port"] == 443


def test_cloudfront_passes_the_api_through_unchanged(dev: Stacks) -> None:
    platform = dev["platform"]
    edge = one(platform, "aws_cloudfront_distribution")
    behaviour = edge["default_cache_behavior"]
    assert sorted(behaviour["allowed_methods"]) == ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
    assert behaviour["compress"] is False  # SSE must not be buffered for compression
    data = platform["data"]
    policies = {k: b["name"] for k, b in data["aws_cloudfront_cache_policy"].items()}
    forwarding = {k: b["name"] for k, b in data["aws_cloudfront_origin_request_policy"].items()}
    assert list(policies.values()) == ["Managed-CachingDisabled"]  # no API response is ever cached
    assert list(forwarding.values()) == ["Managed-AllViewerExceptHostHeader"]  # Authorization, cookies, query
    assert behaviour["cache_policy_id"] == f"${{data.aws_cloudfront_cache_policy.{next(iter(policies))}.id}}"
    assert (
        behaviour["origin_request_policy_id"]
        == f"${{data.aws_cloudfront_origin_request_policy.{next(iter(forwarding))}.id}}"
    )
    (origin,) = edge["origin"]
    assert origin["domain_name"].startswith("${aws_alb.")
    assert "custom_header" not in origin  # no shared secret to keep in state


def test_sse_streams_outlive_their_heartbeat_at_every_hop(each_env: Env) -> None:
    _, stacks = each_env
    platform = stacks["platform"]
    assert one(platform, "aws_alb")["idle_timeout"] > 2 * app.SSE_HEARTBEAT_SECONDS
    for edge in resources(platform, "aws_cloudfront_distribution"):
        config = edge["origin"][0]["custom_origin_config"]
        assert config["origin_read_timeout"] > app.SSE_HEARTBEAT_SECONDS
        assert config["origin_keepalive_timeout"] < one(platform, "aws_alb")["idle_timeout"]


# -- database password rotation -----------------------------------------------------------------------------------


def _rotation(resolver: Resolver) -> tuple[Json, Json, Json]:
    platform = resolver.stacks["platform"]
    rule = one(platform, "aws_cloudwatch_event_rule")
    target_ = one(platform, "aws_cloudwatch_event_target")
    machine = one(platform, "aws_sfn_state_machine")
    return rule, target_, machine


def test_rotation_event_starts_the_restart_machine(resolved: tuple[str, Resolver, dict[str, Any]]) -> None:
    env, resolver, values = resolved
    platform = resolver.stacks["platform"]
    rule, target_, machine = _rotation(resolver)
    assert target_["rule"].startswith("${aws_cloudwatch_event_rule.") and target_["arn"].startswith(
        "${aws_sfn_state_machine."
    )
    events_role = resolver.text("platform", target_["role_arn"]).rsplit("/", 1)[1]
    document = iam_eval.role_document(resolver, "platform", events_role)
    machine_arn = resolver.text("platform", target_["arn"])
    assert _is_allowed(document, "role", "states:StartExecution", machine_arn, {})
    assert iam_eval.wider_than(document, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["states:StartExecution"], "Resource": [machine_arn]}]}) is None  # fmt: skip
    trust = json.loads(one(platform, "aws_iam_role", name=events_role)["assume_role_policy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}
    assert machine["type"] == "STANDARD" and env in machine["name"]
    assert json.loads(resolver.text("platform", rule["event_pattern"]))["resources"] == [values["db_secret_arn"]]


def test_restart_machine_forces_a_new_deployment_of_the_backend(resolved: tuple[str, Resolver, dict[str, Any]]) -> None:
    env, resolver, _ = resolved
    platform = resolver.stacks["platform"]
    _, _, machine = _rotation(resolver)
    definition = json.loads(resolver.text("platform", machine["definition"]))
    (state,) = definition["States"].values()
    assert (state["Type"], state["Resource"], state.get("End")) == (
        "Task",
        "arn:aws:states:::aws-sdk:ecs:updateService",
        True,
    )
    assert state["Parameters"] == {
        "Cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/viberglass-{env}-backend",
        "Service": one(platform, "aws_ecs_service")["name"],
        "ForceNewDeployment": True,
    }
    role = resolver.text("platform", machine["role_arn"]).rsplit("/", 1)[1]
    document = iam_eval.role_document(resolver, "platform", role)
    service = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/viberglass-{env}-backend/viberglass-{env}-backend"
    assert _is_allowed(document, "role", "ecs:UpdateService", service, {})
    assert iam_eval.parliament_findings(document) == []
    assert iam_eval.wider_than(document, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ecs:UpdateService"], "Resource": [service]}]}) is None  # fmt: skip


def _label_event(secret_arn: str, label: str = "AWSCURRENT") -> Any:
    """The example "Secret Label Updated" event of the Secrets Manager User Guide (event-detail-secret-label-
    updated-secretsmanager), verbatim but for the secret and the label."""
    return {
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "Secret Label Updated",
        "source": "aws.secretsmanager", "account": "012345678901", "time": "2024-02-06T16:43:48Z",
        "region": "us-west-2", "resources": [secret_arn],
        "detail": {"name": "mySecret", "labelUpdated": label, "versionId": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"},
    }  # fmt: skip


def test_rotation_rule_matches_exactly_a_new_current_version_of_this_secret(
    resolved: tuple[str, Resolver, dict[str, Any]],
) -> None:
    """moto's EventBridge pattern matcher (its server answers TestEventPattern with an empty body) stands in
    for EventBridge, on the event AWS documents: every rotation ends by moving AWSCURRENT to the new version."""
    from moto.events.models import EventPattern

    _, resolver, values = resolved
    rule, _, _ = _rotation(resolver)
    pattern = EventPattern.load(resolver.text("platform", rule["event_pattern"]))
    secret = str(values["db_secret_arn"])
    assert pattern.matches_event(_label_event(secret))
    assert not pattern.matches_event(_label_event(secret, "MYLABEL"))  # a custom label moved: same password
    assert not pattern.matches_event(_label_event(secret + "-other"))
    other_kind = _label_event(secret) | {"detail-type": "AWS API Call via CloudTrail"}
    assert not pattern.matches_event(other_kind)
    # The CloudTrail form names the secret in detail.additionalEventData, never in resources: not this rule's.
    cloudtrail = _label_event(secret) | {"detail-type": "AWS Service Event via CloudTrail", "resources": []}
    assert not pattern.matches_event(cloudtrail)
