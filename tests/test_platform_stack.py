"""The platform stack, part 1: backend service, database, uploads bucket, load balancer."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from core import app_contract as app
from tests.conftest import Stacks, SynthFn
from tests.tf import (
    container,
    container_env,
    one,
    outputs,
    policy,
    ref,
    resolve,
    resources,
    role_policy,
    sid,
    statement,
    target,
)

Env = tuple[str, Stacks]
# -- dependencies ------------------------------------------------------------------------------------------


def test_manifest_orders_base_workers_platform(each_env: Env) -> None:
    _, stacks = each_env
    deps = {name: set(s["dependencies"]) for name, s in stacks["manifest"]["stacks"].items()}
    assert deps == {"base": set(), "workers": {"base"}, "platform": {"base", "workers"}}


# -- backend repository ----------------------------------------------------------------------------------------


def test_backend_repository(each_env: Env) -> None:
    env, stacks = each_env
    repo = one(stacks["platform"], "aws_ecr_repository", name=f"{env}-viberglass-backend")
    assert repo["image_scanning_configuration"] == {"scan_on_push": True}
    assert repo["encryption_configuration"][0]["encryption_type"] == "KMS"
    rules = json.loads(one(stacks["platform"], "aws_ecr_lifecycle_policy")["policy"])["rules"]
    assert [r["selection"]["tagStatus"] for r in rules] == ["untagged", "any"]


# -- database ------------------------------------------------------------------------------------------------


def _db(stacks: Stacks) -> dict[str, Any]:
    return one(stacks["platform"], "aws_db_instance")


def test_database_is_private_encrypted_gp3(each_env: Env) -> None:
    env, stacks = each_env
    db = _db(stacks)
    assert (db["engine"], db["storage_type"], db["storage_encrypted"], db["publicly_accessible"]) == (
        "postgres",
        "gp3",
        True,
        False,
    )
    assert db["identifier"] == f"viberglass-{env}-postgres"
    assert db["kms_key_id"].startswith("${data.terraform_remote_state.cross-stack-reference-input-base")


def test_database_uses_the_rds_group_and_private_subnets(each_env: Env) -> None:
    _, stacks = each_env
    db = _db(stacks)
    (sg,) = db["vpc_security_group_ids"]
    _, group = resolve(stacks, "platform", sg)
    assert group["name"].endswith("-rds-sg")
    subnets = one(stacks["platform"], "aws_db_subnet_group")["subnet_ids"]
    bodies = [resolve(stacks, "platform", s)[1] for s in subnets]
    assert [b["map_public_ip_on_launch"] for b in bodies] == [False, False]


def test_database_forces_tls(each_env: Env) -> None:
    _, stacks = each_env
    params = one(stacks["platform"], "aws_db_parameter_group")["parameter"]
    assert {"name": "rds.force_ssl", "value": "1"} in params


def test_database_logs_and_insights(each_env: Env) -> None:
    _, stacks = each_env
    db = _db(stacks)
    assert db["enabled_cloudwatch_logs_exports"] == ["postgresql", "upgrade"]
    assert (db["performance_insights_enabled"], db["monitoring_interval"]) == (True, 60)


def test_prod_database_is_protected(prod: Stacks) -> None:
    db = _db(prod)
    assert (db["multi_az"], db["backup_retention_period"], db["deletion_protection"]) == (True, 30, True)
    assert (db["skip_final_snapshot"], db["final_snapshot_identifier"]) == (False, "viberglass-prod-postgres-final")
    assert db["lifecycle"] == {"prevent_destroy": True}


def test_dev_database_is_disposable(dev: Stacks) -> None:
    db = _db(dev)
    assert (db["multi_az"], db["backup_retention_period"], db["deletion_protection"]) == (False, 7, False)
    assert db["skip_final_snapshot"] is True
    assert "final_snapshot_identifier" not in db and "lifecycle" not in db


def test_storage_autoscaling_follows_config(dev: Stacks, prod: Stacks) -> None:
    assert (_db(dev)["allocated_storage"], _db(dev)["max_allocated_storage"]) == (20, 100)
    assert (_db(prod)["allocated_storage"], _db(prod)["max_allocated_storage"]) == (100, 500)


def test_database_password_is_managed_by_rds_with_the_environment_key(each_env: Env) -> None:
    _, stacks = each_env
    db = _db(stacks)
    assert db["manage_master_user_password"] is True
    assert db["master_user_secret_kms_key_id"].startswith(
        "${data.terraform_remote_state.cross-stack-reference-input-base"
    )
    assert "password" not in db


def test_no_generated_password_or_database_url_lands_in_state(each_env: Env) -> None:
    env, stacks = each_env
    platform = stacks["platform"]
    assert resources(platform, "random_password") == []
    names = {p["name"] for p in resources(platform, "aws_ssm_parameter")}
    assert not any(n.startswith(f"/viberglass/{env}/database/") for n in names)


def test_no_sslmode_query_string_anywhere(each_env: Env) -> None:
    _, stacks = each_env
    assert "sslmode" not in json.dumps(stacks)


# -- uploads bucket --------------------------------------------------------------------------------------------


def _uploads(stacks: Stacks) -> str:
    (key,) = [k for k, b in stacks["platform"]["resource"]["aws_s3_bucket"].items()
              if b["bucket"].endswith("-viberglass-uploads")]  # fmt: skip
    return f"${{aws_s3_bucket.{key}.id}}"


def test_uploads_bucket_name(each_env: Env) -> None:
    env, stacks = each_env
    assert f"{env}-viberglass-uploads" in {b["bucket"] for b in resources(stacks["platform"], "aws_s3_bucket")}


def test_uploads_block_all_public_access(each_env: Env) -> None:
    _, stacks = each_env
    block = one(stacks["platform"], "aws_s3_bucket_public_access_block", bucket=_uploads(stacks))
    assert all(
        block[k] is True
        for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )


def test_uploads_objects_owned_by_the_bucket_owner(each_env: Env) -> None:
    _, stacks = each_env
    rule = one(stacks["platform"], "aws_s3_bucket_ownership_controls", bucket=_uploads(stacks))["rule"]
    assert rule == {"object_ownership": "BucketOwnerEnforced"}


def test_uploads_encrypted_with_kms(each_env: Env) -> None:
    _, stacks = each_env
    (rule,) = one(stacks["platform"], "aws_s3_bucket_server_side_encryption_configuration", bucket=_uploads(stacks))[
        "rule"
    ]
    sse = rule["apply_server_side_encryption_by_default"]
    assert sse["sse_algorithm"] == "aws:kms"
    assert sse["kms_master_key_id"].startswith("${data.terraform_remote_state.")


def test_uploads_deny_plain_http(each_env: Env) -> None:
    _, stacks = each_env
    deny = statement(
        one(stacks["platform"], "aws_s3_bucket_policy", bucket=_uploads(stacks))["policy"], "DenyInsecureTransport"
    )
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})


def test_uploads_versioning_off_in_dev_on_in_prod(dev: Stacks, prod: Stacks) -> None:
    status = [
        one(s["platform"], "aws_s3_bucket_versioning", bucket=_uploads(s))["versioning_configuration"]["status"]
        for s in (dev, prod)
    ]
    assert status == ["Suspended", "Enabled"]


def test_uploads_lifecycle_aborts_multipart_and_expires_old_versions(each_env: Env) -> None:
    _, stacks = each_env
    rules = {
        r["id"]: r
        for r in one(stacks["platform"], "aws_s3_bucket_lifecycle_configuration", bucket=_uploads(stacks))["rule"]
    }
    assert rules["abort-incomplete-multipart-uploads"]["abort_incomplete_multipart_upload"] == [
        {"days_after_initiation": 7}
    ]
    assert rules["expire-noncurrent-versions"]["noncurrent_version_expiration"] == [{"noncurrent_days": 30}]


# -- load balancer ------------------------------------------------------------------------------------------


def test_alb_is_public_and_strict(each_env: Env) -> None:
    _, stacks = each_env
    alb = one(stacks["platform"], "aws_alb")
    assert (alb["internal"], alb["drop_invalid_header_fields"], alb["enable_http2"]) == (False, True, True)
    bodies = [resolve(stacks, "platform", s)[1] for s in alb["subnets"]]
    assert all(b["map_public_ip_on_launch"] for b in bodies)


def test_target_group_port_3000_health_check(each_env: Env) -> None:
    _, stacks = each_env
    tg = one(stacks["platform"], "aws_alb_target_group")
    assert (tg["port"], tg["target_type"], tg["health_check"]["path"]) == (3000, "ip", "/health")


def test_alb_group_is_open_only_on_listener_ports(prod: Stacks) -> None:
    platform = prod["platform"]
    alb_sg = ref(platform, "aws_security_group", name=one(platform, "aws_security_group")["name"])
    rules = resources(platform, "aws_vpc_security_group_ingress_rule", security_group_id=alb_sg)
    assert sorted(r["from_port"] for r in rules) == [80, 443]
    assert {r["cidr_ipv4"] for r in rules} == {"0.0.0.0/0"}


def test_without_api_domain_only_cloudfront_reaches_the_alb(dev: Stacks) -> None:
    platform = dev["platform"]
    alb_sg = ref(platform, "aws_security_group", name=one(platform, "aws_security_group")["name"])
    (rule,) = resources(platform, "aws_vpc_security_group_ingress_rule", security_group_id=alb_sg)
    assert (rule["from_port"], rule["to_port"], "cidr_ipv4" in rule) == (80, 80, False)
    _, prefix_list = rule["prefix_list_id"].split("${data.")[1].split(".")[:2]
    (body,) = [b for k, b in platform["data"]["aws_ec2_managed_prefix_list"].items() if k == prefix_list]
    assert body["name"] == "com.amazonaws.global.cloudfront.origin-facing"


def test_alb_egress_only_to_the_backend_group(dev: Stacks) -> None:
    platform = dev["platform"]
    (egress,) = resources(platform, "aws_vpc_security_group_egress_rule")
    _, group = resolve(dev, "platform", egress["referenced_security_group_id"])
    assert (group["name"], egress["from_port"]) == ("viberglass-dev-backend-sg", 3000)


def test_backend_group_admits_the_alb_group(dev: Stacks) -> None:
    platform = dev["platform"]
    alb_sg = ref(platform, "aws_security_group")
    (rule,) = resources(platform, "aws_vpc_security_group_ingress_rule", referenced_security_group_id=alb_sg)
    _, group = resolve(dev, "platform", rule["security_group_id"])
    assert (group["name"], rule["from_port"]) == ("viberglass-dev-backend-sg", 3000)


def test_dev_without_domain_forwards_plain_http(dev: Stacks) -> None:
    platform = dev["platform"]
    (listener,) = resources(platform, "aws_alb_listener")
    assert (listener["port"], listener["protocol"], listener["default_action"][0]["type"]) == (80, "HTTP", "forward")
    assert resources(platform, "aws_acm_certificate") == []


def test_prod_https_listener_uses_tls13_policy_and_validated_certificate(prod: Stacks) -> None:
    platform = prod["platform"]
    https = one(platform, "aws_alb_listener", protocol="HTTPS")
    assert (https["port"], https["ssl_policy"]) == (443, "ELBSecurityPolicy-TLS13-1-2-2021-06")
    _, validation = target(platform, https["certificate_arn"])
    _, certificate = target(platform, validation["certificate_arn"])
    assert (certificate["domain_name"], certificate["validation_method"]) == ("api.viberglass.io", "DNS")


def test_prod_http_redirects_to_https(prod: Stacks) -> None:
    http = one(prod["platform"], "aws_alb_listener", protocol="HTTP")
    (action,) = http["default_action"]
    assert action["redirect"] == {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}


def test_prod_api_alias_record(prod: Stacks) -> None:
    record = one(prod["platform"], "aws_route53_record", name="api.viberglass.io")
    assert (record["type"], record["zone_id"], record["alias"]["evaluate_target_health"]) == (
        "A",
        "Z0123456789ABCDEFGHIJ",
        True,
    )


def test_certificate_validation_records_live_in_the_zone(prod: Stacks) -> None:
    records = [r for r in resources(prod["platform"], "aws_route53_record") if "for_each" in r]
    assert records and all(r["zone_id"] == "Z0123456789ABCDEFGHIJ" for r in records)


# -- backend service ----------------------------------------------------------------------------------------


def test_backend_cluster_is_its_own(each_env: Env) -> None:
    env, stacks = each_env
    assert one(stacks["platform"], "aws_ecs_cluster")["name"] == f"viberglass-{env}-backend"


def test_task_definition_image_and_sizes(dev: Stacks, prod: Stacks) -> None:
    for stacks, tag, cpu, memory in ((dev, "latest", "256", "512"), (prod, "latest", "512", "1024")):
        task = one(stacks["platform"], "aws_ecs_task_definition")
        image = container(stacks["platform"])["image"]
        repo, image_tag = image.rsplit(":", 1)
        assert target(stacks["platform"], repo)[0] == "aws_ecr_repository"
        assert (image_tag, task["cpu"], task["memory"]) == (tag, cpu, memory)


def test_container_logs_to_the_backend_log_group(each_env: Env) -> None:
    env, stacks = each_env
    options = container(stacks["platform"])["logConfiguration"]["options"]
    _, exported = resolve(stacks, "platform", options["awslogs-group"])
    assert exported["name"] == f"/ecs/viberglass-{env}-backend"


def test_container_health_check_hits_health(each_env: Env) -> None:
    _, stacks = each_env
    check = container(stacks["platform"])["healthCheck"]["command"]
    assert "http://localhost:3000/health" in check[-1]


def test_plain_settings(dev: Stacks) -> None:
    env = container_env(dev["platform"])
    assert (env["NODE_ENV"], env["PORT"], env["DB_SSL"], env["RUN_MIGRATIONS_ON_STARTUP"]) == (
        "production",
        "3000",
        "true",
        "true",
    )
    assert (env["AUTH_ENABLED"], env["DEFAULT_TENANT_ID"]) == ("true", "api-server")
    assert "TICKET_MEDIA_S3_PREFIX" not in env  # the application's default, which the IAM grants follow


def test_database_settings_point_at_the_instance(each_env: Env) -> None:
    _, stacks = each_env
    env = container_env(stacks["platform"])
    assert env["DB_HOST"] == ref(stacks["platform"], "aws_db_instance", "address")
    assert (env["DB_PORT"], env["DB_NAME"], env["DB_USER"]) == ("5432", "viberglass", "viberglass")
    assert "DATABASE_URL" not in env


def test_viberator_settings_come_from_the_workers_stack(dev: Stacks) -> None:
    env = container_env(dev["platform"])
    _, execution = resolve(dev, "platform", env["VIBERATOR_ECS_EXECUTION_ROLE_ARN"])
    assert execution["name"] == "viberglass-dev-worker-execution"
    assert resolve(dev, "platform", env["VIBERATOR_LAMBDA_ROLE_ARN"])[1]["name"] == "viberglass-dev-worker-lambda"
    assert resolve(dev, "platform", env["VIBERATOR_ECS_CLUSTER_ARN"])[1]["name"] == "viberglass-dev-workers"


def test_subnet_ids_are_comma_joined_worker_subnets(dev: Stacks) -> None:
    subnets = container_env(dev["platform"])["VIBERATOR_ECS_SUBNET_IDS"].split(",")
    bodies = [resolve(dev, "platform", s)[1] for s in subnets]
    assert sorted(b["cidr_block"] for b in bodies) == ["10.0.10.0/24", "10.0.11.0/24"]


def test_secrets_list_is_exact(each_env: Env) -> None:
    env, stacks = each_env
    platform = stacks["platform"]
    secrets = {s["name"]: s["valueFrom"] for s in container(platform)["secrets"]}
    assert set(secrets) == {
        "DB_PASSWORD",
        "WEBHOOK_SECRET_ENCRYPTION_KEY",
        "SECRETS_ENCRYPTION_KEY",
        "SLACK_SIGNING_SECRET",
        "SLACK_BOT_TOKEN",
    }
    assert (
        secrets["DB_PASSWORD"] == ref(platform, "aws_db_instance", "master_user_secret[0].secret_arn") + ":password::"
    )
    # The SSM secrets are named by ARN: `ops secrets init` creates them, no Terraform resource holds them.
    ssm = {k: v.split(":parameter", 1)[1] for k, v in secrets.items() if k != "DB_PASSWORD"}
    assert all(":ssm:eu-west-1:${data.aws_caller_identity." in v for k, v in secrets.items() if k != "DB_PASSWORD")
    assert ssm == {
        "WEBHOOK_SECRET_ENCRYPTION_KEY": f"/viberglass/{env}/backend/webhookSecretEncryptionKey",
        "SECRETS_ENCRYPTION_KEY": f"/viberglass/{env}/backend/secretsEncryptionKey",
        "SLACK_SIGNING_SECRET": f"/viberglass/{env}/backend/slackSigningSecret",
        "SLACK_BOT_TOKEN": f"/viberglass/{env}/backend/slackBotToken",
    }


def test_no_secret_parameter_is_a_terraform_resource(each_env: Env) -> None:
    """The AWS provider reads an aws_ssm_parameter with decryption on every refresh (and a value that is
    not write-only into state): whoever plans would need to decrypt the backend's keys. None is managed."""
    env, stacks = each_env
    names = {p["name"] for p in resources(stacks["platform"], "aws_ssm_parameter")}
    assert not any(n.startswith(f"/viberglass/{env}/backend/") for n in names)
    assert {p["type"] for p in resources(stacks["platform"], "aws_ssm_parameter")} == {"String"}
    assert "ephemeral" not in stacks["platform"] and "random" not in stacks["platform"]["terraform"].get(
        "required_providers", {}
    )


def test_former_secret_parameters_are_forgotten_not_destroyed(each_env: Env) -> None:
    """An environment applied when this stack still managed the backend's secrets keeps them: Terraform
    removes them from state without deleting them (the generated keys encrypt the application's data)."""
    _, stacks = each_env
    removed = stacks["platform"]["removed"]
    assert all(r["lifecycle"] == {"destroy": False} for r in removed)
    managed = {s.parameter for s in app.BACKEND_SECRETS if s.origin != "database"}
    assert {re.fullmatch(r"aws_ssm_parameter\.secret-(\w+)_parameter_[0-9A-F]{8}", r["from"]).group(1)  # type: ignore[union-attr]
            for r in removed} == managed  # fmt: skip


def test_service_has_circuit_breaker_with_rollback(each_env: Env) -> None:
    _, stacks = each_env
    service = one(stacks["platform"], "aws_ecs_service")
    assert service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
    assert service["health_check_grace_period_seconds"] > 0
    assert service["enable_execute_command"] is False  # ECS Exec would need ssmmessages on the task role


def test_service_ignores_task_definition_drift(each_env: Env) -> None:
    _, stacks = each_env
    assert "task_definition" in one(stacks["platform"], "aws_ecs_service")["lifecycle"]["ignore_changes"]


def test_service_runs_one_task_in_every_shipped_environment(dev: Stacks, prod: Stacks) -> None:
    assert [one(s["platform"], "aws_ecs_service")["desired_count"] for s in (dev, prod)] == [1, 1]
    for stacks in (dev, prod):
        assert resources(stacks["platform"], "aws_appautoscaling_target") == []
        assert resources(stacks["platform"], "aws_appautoscaling_policy") == []
        assert one(stacks["platform"], "aws_ecs_service")["lifecycle"]["ignore_changes"] == ["task_definition"]


def test_service_placement_per_network_mode(dev: Stacks, synth: SynthFn) -> None:
    enterprise = one(dev["platform"], "aws_ecs_service")["network_configuration"]
    standard_stacks = synth("dev", {"network": {"mode": "standard"}})
    standard = one(standard_stacks["platform"], "aws_ecs_service")["network_configuration"]
    assert (enterprise["assign_public_ip"], standard["assign_public_ip"]) == (False, True)
    public = [resolve(standard_stacks, "platform", s)[1]["map_public_ip_on_launch"] for s in standard["subnets"]]
    assert public == [True, True]


@pytest.fixture(scope="session")
def autoscaled(synth: SynthFn) -> Stacks:
    """dev with the earlier 1-3 autoscaling range (a setting, for when the application supports it)."""
    return synth("dev", {"backend": {"max_count": 3}})


def test_autoscaling_range_is_a_setting(autoscaled: Stacks) -> None:
    target_ = one(autoscaled["platform"], "aws_appautoscaling_target")
    assert (target_["min_capacity"], target_["max_capacity"]) == (1, 3)
    assert "desired_count" in one(autoscaled["platform"], "aws_ecs_service")["lifecycle"]["ignore_changes"]


def test_autoscaling_tracks_cpu(autoscaled: Stacks) -> None:
    config = one(autoscaled["platform"], "aws_appautoscaling_policy")["target_tracking_scaling_policy_configuration"]
    assert config["predefined_metric_specification"]["predefined_metric_type"] == "ECSServiceAverageCPUUtilization"


# -- roles --------------------------------------------------------------------------------------------------


def test_execution_role_injects_only_the_backend_secrets(dev: Stacks) -> None:
    doc = role_policy(dev["platform"], "viberglass-dev-backend-execution")
    inject = sid(doc, "InjectBackendSecrets")
    assert sorted(r.split(":parameter", 1)[1] for r in inject["Resource"]) == [
        f"/viberglass/dev/backend/{name}"
        for name in ("secretsEncryptionKey", "slackBotToken", "slackSigningSecret", "webhookSecretEncryptionKey")
    ]
    assert sid(doc, "InjectDatabasePassword")["Resource"] == [
        ref(dev["platform"], "aws_db_instance", "master_user_secret[0].secret_arn")
    ]


def test_task_role_pass_role_names_the_worker_roles_and_services(dev: Stacks) -> None:
    doc = role_policy(dev["platform"], "viberglass-dev-backend-task")
    ecs, lam = sid(doc, "PassWorkerRolesToEcs"), sid(doc, "PassWorkerRoleToLambda")
    names = sorted(resolve(dev, "platform", r)[1]["name"] for r in ecs["Resource"])
    assert names == ["viberglass-dev-worker-execution", "viberglass-dev-worker-task"]
    assert ecs["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    assert [resolve(dev, "platform", r)[1]["name"] for r in lam["Resource"]] == ["viberglass-dev-worker-lambda"]
    assert lam["Condition"] == {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}


def test_task_role_lambda_rights_limited_to_the_clanker_prefix(dev: Stacks) -> None:
    (resource,) = sid(role_policy(dev["platform"], "viberglass-dev-backend-task"), "ClankerFunctions")["Resource"]
    assert resource.endswith(":function:viberator-*")


def test_task_role_runs_clankers_only_on_the_workers_cluster(dev: Stacks) -> None:
    run = sid(role_policy(dev["platform"], "viberglass-dev-backend-task"), "RunClankerTasks")
    assert run["Resource"] == [run["Resource"][0]]
    assert run["Resource"][0].endswith(":task-definition/viberator-worker-*:*")  # buildEcsFamilyName
    _, cluster = resolve(dev, "platform", run["Condition"]["ArnEquals"]["ecs:cluster"])
    assert cluster["name"] == "viberglass-dev-workers"


def test_task_role_secrets_rights(dev: Stacks) -> None:
    doc = role_policy(dev["platform"], "viberglass-dev-backend-task")
    secrets = sid(doc, "WorkerSecrets")
    assert [r.split(":parameter")[1] for r in secrets["Resource"]] == ["/viberator/secrets/*"]
    tenants = sid(doc, "TenantCredentials")["Resource"]
    assert [r.split(":parameter")[1] for r in tenants] == ["/viberator/tenants", "/viberator/tenants/*"]


def test_platform_wildcards_are_only_the_aws_required_ones(each_env: Env) -> None:
    _, stacks = each_env
    wildcard = set()
    for body in resources(stacks["platform"], "aws_iam_role_policy"):
        for s in policy(body["policy"])["Statement"]:
            assert "*" not in s["Action"] and not any(a.endswith(":*") for a in s["Action"])
            if "*" in s.get("Resource", []):
                wildcard.add(s["Sid"])
    assert wildcard == {"RegistryLogin", "ClankerTaskDefinitions", "CopyTaskDefinition"}


def test_outputs(each_env: Env) -> None:
    _, stacks = each_env
    assert {"api_url", "frontend_url", "alb_dns_name", "backend_repository_url", "uploads_bucket"} <= set(
        outputs(stacks["platform"])
    )


# -- ALB access logs -------------------------------------------------------------------------------------------


def _log_bucket_key(stacks: Stacks, env: str) -> str:
    (key,) = [k for k, b in stacks["platform"]["resource"]["aws_s3_bucket"].items()
              if b["bucket"] == f"{env}-viberglass-alb-logs"]  # fmt: skip
    return f"${{aws_s3_bucket.{key}.id}}"


def test_alb_writes_access_logs_to_its_log_bucket(each_env: Env) -> None:
    env, stacks = each_env
    alb = one(stacks["platform"], "aws_alb")
    logs = alb["access_logs"]
    assert (logs["prefix"], logs["enabled"]) == ("alb", True)
    assert target(stacks["platform"], logs["bucket"])[1]["bucket"] == f"{env}-viberglass-alb-logs"
    assert [d.split(".")[0] for d in alb["depends_on"]] == ["aws_s3_bucket_policy"]


def test_alb_log_bucket_uses_sse_s3_as_elb_requires(each_env: Env) -> None:
    env, stacks = each_env
    bucket = _log_bucket_key(stacks, env)
    (rule,) = one(stacks["platform"], "aws_s3_bucket_server_side_encryption_configuration", bucket=bucket)["rule"]
    assert rule["apply_server_side_encryption_by_default"] == {"sse_algorithm": "AES256"}


def test_alb_log_bucket_lets_only_elb_write_this_accounts_prefix(each_env: Env) -> None:
    env, stacks = each_env
    doc = one(stacks["platform"], "aws_s3_bucket_policy", bucket=_log_bucket_key(stacks, env))["policy"]
    account, service = statement(doc, "ElbAccountDelivers"), statement(doc, "ElbServiceDelivers")
    assert account["Principal"]["AWS"].startswith("${data.aws_elb_service_account.")
    assert service["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    for s in (account, service):
        assert s["Action"] == ["s3:PutObject"]
        (resource,) = s["Resource"]
        assert f":s3:::{env}-viberglass-alb-logs/alb/AWSLogs/" in resource
    assert statement(doc, "DenyInsecureTransport")["Effect"] == "Deny"


def test_alb_logs_expire_with_the_log_retention(dev: Stacks, prod: Stacks) -> None:
    for env, stacks, days in (("dev", dev, 7), ("prod", prod, 90)):
        lifecycle = one(
            stacks["platform"], "aws_s3_bucket_lifecycle_configuration", bucket=_log_bucket_key(stacks, env)
        )
        rules = {r["id"]: r for r in lifecycle["rule"]}
        assert rules["expire-objects"]["expiration"] == [{"days": days}]
