"""Platform part 2: Amplify frontend, custom domains, deploy discovery parameters and alarms."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from core import app_contract as app
from core import discovery
from tests.conftest import ROOT, Stacks, SynthFn
from tests.tf import container_env, one, ref, resources, role_policy, sid, statement

Env = tuple[str, Stacks]


def _parameters(stacks: Stacks, env: str) -> dict[str, dict[str, Any]]:
    prefix = f"/viberglass/{env}/"
    return {p["name"].removeprefix(prefix): p for p in resources(stacks["platform"], "aws_ssm_parameter")}


# -- Amplify ----------------------------------------------------------------------------------------------


def test_amplify_app_is_a_web_spa(each_env: Env) -> None:
    env, stacks = each_env
    app = one(stacks["platform"], "aws_amplify_app")
    assert (app["name"], app["platform"]) == (f"viberglass-{env}-frontend", "WEB")
    (rule,) = app["custom_rule"]
    assert (rule["target"], rule["status"]) == ("/index.html", "200")  # BrowserRouter: a rewrite, not a 404
    pattern = re.compile(rule["source"][2:-2])  # Amplify's </regex/> form
    assert pattern.search("/tickets/42") and pattern.search("/")
    assert not pattern.search("/assets/index-abc.js") and not pattern.search("/favicon.ico")


def test_amplify_keeps_the_repositorys_amplify_yml_and_sets_its_variables(each_env: Env) -> None:
    _, stacks = each_env
    app = one(stacks["platform"], "aws_amplify_app")
    assert "build_spec" not in app  # the repository's amplify.yml builds the monorepo
    variables = app["environment_variables"]
    assert variables["AMPLIFY_MONOREPO_APP_ROOT"] == "apps/platform-frontend"
    assert variables["VITE_AUTH_ENABLED"] == "true"
    assert variables["VITE_API_URL"].startswith("https://")
    assert "environment_variables" not in one(stacks["platform"], "aws_amplify_branch")


def test_amplify_app_holds_no_token_and_leaves_the_connection_to_ops(each_env: Env) -> None:
    """Connecting a repository takes a GitHub token (CreateApp/UpdateApp), which Terraform would keep in plan
    and state: the app is created unconnected, `ops connect frontend` connects it, Terraform ignores it."""
    _, stacks = each_env
    platform = stacks["platform"]
    app = one(platform, "aws_amplify_app")
    assert not {"repository", "access_token", "oauth_token", "basic_auth_credentials"} & set(app)
    assert app["lifecycle"] == {"ignore_changes": ["repository", "access_token", "oauth_token"]}
    assert "aws_ssm_parameter" not in platform.get("data", {})


def test_amplify_branch_main_builds_automatically(each_env: Env) -> None:
    env, stacks = each_env
    branch = one(stacks["platform"], "aws_amplify_branch")
    assert (branch["branch_name"], branch["enable_auto_build"]) == ("main", True)
    assert branch["stage"] == {"dev": "DEVELOPMENT", "prod": "PRODUCTION"}[env]


def test_dev_has_no_custom_domain_machinery(dev: Stacks) -> None:
    platform = dev["platform"]
    assert len(platform["provider"]["aws"]) == 1
    assert resources(platform, "aws_amplify_domain_association") == []
    assert resources(platform, "aws_acm_certificate") == []
    assert resources(platform, "aws_route53_record") == []


def test_prod_has_an_aliased_us_east_1_provider(prod: Stacks) -> None:
    providers = prod["platform"]["provider"]["aws"]
    aliased = [p for p in providers if p.get("alias") == "us_east_1"]
    assert [p["region"] for p in aliased] == ["us-east-1"]


def test_prod_frontend_certificate_is_issued_in_us_east_1(prod: Stacks) -> None:
    cert = one(prod["platform"], "aws_acm_certificate", domain_name="app.viberglass.io")
    assert cert["provider"] == "aws.us_east_1"
    validation = [v for v in resources(prod["platform"], "aws_acm_certificate_validation") if "provider" in v]
    assert [v["provider"] for v in validation] == ["aws.us_east_1"]


def test_prod_domain_association_uses_the_custom_certificate(prod: Stacks) -> None:
    association = one(prod["platform"], "aws_amplify_domain_association")
    assert association["domain_name"] == "app.viberglass.io"
    assert association["certificate_settings"]["type"] == "CUSTOM"
    assert association["sub_domain"] == [
        {"branch_name": "${aws_amplify_branch.frontend_branch_B102B34B.branch_name}", "prefix": ""}
    ]


def test_prod_frontend_records_in_the_zone(prod: Stacks) -> None:
    cname = one(prod["platform"], "aws_route53_record", name="app.viberglass.io")
    assert (cname["type"], cname["zone_id"]) == ("CNAME", "Z0123456789ABCDEFGHIJ")


def test_app_domain_without_zone_reports_records_as_outputs(synth: SynthFn) -> None:
    platform = synth("dev", {"domains": {"app_domain": "app.example.com"}})["platform"]
    assert one(platform, "aws_amplify_domain_association")["certificate_settings"]["type"] == "AMPLIFY_MANAGED"
    assert resources(platform, "aws_route53_record") == []
    names = set(platform["output"])
    assert any("app-domain-cname" in n for n in names) and any("app-domain-verification" in n for n in names)


# -- URLs -------------------------------------------------------------------------------------------------


def test_dev_frontend_url_is_the_real_branch_url(dev: Stacks) -> None:
    """The system this replaces used the app's default domain without the branch: CORS broke."""
    platform = dev["platform"]
    branch = ref(platform, "aws_amplify_branch", "branch_name")
    domain = ref(platform, "aws_amplify_app", "default_domain")
    expected = f"https://{branch}.{domain}"
    env = container_env(dev["platform"])
    assert (env["ALLOWED_ORIGINS"], env["PLATFORM_FRONTEND_URL"]) == (expected, expected)
    assert not expected.endswith("/")


def test_dev_api_url_is_https_through_cloudfront(dev: Stacks) -> None:
    expected = f"https://{ref(dev['platform'], 'aws_cloudfront_distribution', 'domain_name')}"
    assert container_env(dev["platform"])["PLATFORM_API_URL"] == expected
    assert one(dev["platform"], "aws_amplify_app")["environment_variables"]["VITE_API_URL"] == expected


def test_prod_urls_use_the_custom_domains(prod: Stacks) -> None:
    env = container_env(prod["platform"])
    platform = prod["platform"]
    branch, domain = (
        ref(platform, "aws_amplify_branch", "branch_name"),
        ref(platform, "aws_amplify_app", "default_domain"),
    )
    branch_url = f"https://{branch}.{domain}"
    assert (env["ALLOWED_ORIGINS"], env["PLATFORM_FRONTEND_URL"], env["PLATFORM_API_URL"]) == (
        f"https://app.viberglass.io,{branch_url}",  # the custom domain and the branch URL both serve it
        "https://app.viberglass.io",
        "https://api.viberglass.io",
    )
    assert one(platform, "aws_amplify_app")["environment_variables"]["VITE_API_URL"] == "https://api.viberglass.io"
    assert resources(platform, "aws_cloudfront_distribution") == []  # the ALB's own TLS listener serves it


def test_api_domain_without_app_domain(synth: SynthFn) -> None:
    stacks = synth("dev", {"domains": {"api_domain": "api.example.com", "route53_zone_id": "Z1"}})
    env = container_env(stacks["platform"])
    assert env["PLATFORM_API_URL"] == "https://api.example.com"
    assert env["PLATFORM_FRONTEND_URL"].startswith("https://${aws_amplify_branch.")


# -- deploy role -------------------------------------------------------------------------------------------


def _deploy_role(stacks: Stacks, env: str) -> dict[str, Any]:
    return one(stacks["platform"], "aws_iam_role", name=f"viberglass-{env}-frontend-deploy")


def test_frontend_deploy_role_trusts_github_oidc_exactly(each_env: Env) -> None:
    env, stacks = each_env
    trust = statement(_deploy_role(stacks, env)["assume_role_policy"], "GitHubActions")
    assert trust["Action"] == ["sts:AssumeRoleWithWebIdentity"]
    assert trust["Principal"]["Federated"].endswith(":oidc-provider/token.actions.githubusercontent.com")
    # One repository, one subject: the application repository's GitHub Environment of the same name (the
    # reusable deploy workflow's token names its caller).
    assert trust["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": f"repo:Ilities/viberglass:environment:{env}",
        }
    }


def test_frontend_deploy_role_rights_limited_to_this_app(dev: Stacks) -> None:
    platform = dev["platform"]
    doc = role_policy(platform, "viberglass-dev-frontend-deploy")
    app = ref(platform, "aws_amplify_app", "arn")
    amplify = [s for s in doc["Statement"] if any(a.startswith("amplify:") for a in s["Action"])]
    assert {r.split("}", 1)[1] for s in amplify for r in s["Resource"]} == {"", "/branches/*", "/branches/*/jobs/*"}
    assert all(r.startswith(app) for s in amplify for r in s["Resource"])
    actions = {a for s in amplify for a in s["Action"]}
    assert actions == {"amplify:GetApp", "amplify:GetJob", "amplify:ListDomainAssociations", "amplify:ListJobs",
                       "amplify:StartJob"}  # fmt: skip
    reads = sid(doc, "ReadDiscovery")
    assert reads["Action"] == ["ssm:GetParameters"]
    assert {r.split(":parameter")[1] for r in reads["Resource"]} == {
        f"/viberglass/dev/{name}" for name in [*discovery.PARAMETERS, discovery.ALARM_TOPIC]
    }


# -- discovery parameters --------------------------------------------------------------------------------------


def _discovery(stacks: Stacks, env: str) -> dict[str, dict[str, Any]]:
    params = _parameters(stacks, env)
    return {k: v for k, v in params.items() if not k.startswith(("database/", "backend/"))}


def test_dev_discovery_set_is_exactly_the_contract(dev: Stacks) -> None:
    assert set(_discovery(dev, "dev")) == set(discovery.PARAMETERS)


def test_prod_discovery_set_adds_the_alarm_topic(prod: Stacks) -> None:
    assert set(_discovery(prod, "prod")) == set(discovery.PARAMETERS) | {discovery.ALARM_TOPIC}


def test_discovery_parameters_are_plain_strings(each_env: Env) -> None:
    env, stacks = each_env
    assert {p["type"] for p in _discovery(stacks, env).values()} == {"String"}


def test_discovery_values_point_at_the_targets(dev: Stacks) -> None:
    params = _discovery(dev, "dev")
    platform = dev["platform"]
    assert params["ecs/cluster"]["value"] == ref(platform, "aws_ecs_cluster", "name")
    assert params["ecs/service"]["value"] == ref(platform, "aws_ecs_service", "name")
    assert params["ecs/containerName"]["value"] == "backend"
    assert params["amplify/appId"]["value"] == ref(platform, "aws_amplify_app", "id")
    assert params["deployment/ecrRepository"]["value"] == ref(platform, "aws_ecr_repository", "repository_url")


def test_terraforms_backend_task_definition_is_published_with_its_revision(dev: Stacks) -> None:
    """`ops deploy backend` starts every revision from this one, so Terraform's cpu, memory, environment and
    secrets reach the service; the ARN carries the revision Terraform registered last."""
    params = _discovery(dev, "dev")
    assert params["ecs/taskDefinition"]["value"] == ref(dev["platform"], "aws_ecs_task_definition", "arn")


# -- alarms -----------------------------------------------------------------------------------------------------


ALARMS = {
    "backend-no-running-tasks",
    "backend-cpu-high",
    "backend-memory-high",
    "alb-target-5xx",
    "alb-unhealthy-targets",
    "alb-target-latency",
    "rds-cpu-high",
    "rds-free-storage-low",
    "rds-connections-high",
}


def test_alarms_only_where_enabled(dev: Stacks, prod: Stacks) -> None:
    assert resources(dev["platform"], "aws_cloudwatch_metric_alarm") == []
    names = {
        a["alarm_name"].removeprefix("viberglass-prod-")
        for a in resources(prod["platform"], "aws_cloudwatch_metric_alarm")
    }
    assert names == ALARMS


def test_alarms_notify_an_encrypted_topic(prod: Stacks) -> None:
    platform = prod["platform"]
    topic = one(platform, "aws_sns_topic")
    assert topic["kms_master_key_id"].startswith("${data.terraform_remote_state.")
    arn = ref(platform, "aws_sns_topic", "arn")
    for alarm in resources(platform, "aws_cloudwatch_metric_alarm"):
        assert (alarm["alarm_actions"], alarm["ok_actions"]) == ([arn], [arn])


def test_alarm_topic_is_published_for_discovery(prod: Stacks) -> None:
    assert _discovery(prod, "prod")[discovery.ALARM_TOPIC]["value"] == ref(prod["platform"], "aws_sns_topic", "arn")


def test_key_policy_lets_cloudwatch_publish_encrypted_alarms(prod: Stacks) -> None:
    use = statement(one(prod["base"], "aws_kms_key")["policy"], "CloudWatchAlarmsUse")
    assert use["Principal"] == {"Service": "cloudwatch.amazonaws.com"}


def test_free_storage_alarm_is_ten_percent_of_allocated(prod: Stacks) -> None:
    alarm = one(prod["platform"], "aws_cloudwatch_metric_alarm", alarm_name="viberglass-prod-rds-free-storage-low")
    assert alarm["threshold"] == 100 * 1024**3 // 10


# -- the SSM contract ------------------------------------------------------------------------------------------

READERS = [ROOT / ".github", ROOT / "ops"]


def _created(stacks: Stacks, env: str) -> set[str]:
    """Parameters the stacks create, and the backend's secrets `ops secrets init` creates."""
    return set(_parameters(stacks, env)) | {f"backend/{s.parameter}" for s in app.BACKEND_SECRETS if s.parameter}


@pytest.mark.parametrize("env_name", ["dev", "prod"])
def test_every_parameter_read_by_workflows_and_ops_is_created(env_name: str, synth: SynthFn) -> None:
    """A workflow or ops command must never read a parameter no stack creates."""
    created = _created(synth(env_name), env_name)
    reads = discovery.reads_in([p for p in READERS if p.exists()])
    optional = {discovery.ALARM_TOPIC} if env_name == "dev" else set()
    assert discovery.missing(reads, created | optional) == {}


def test_contract_fails_when_a_read_name_is_not_created(dev: Stacks, tmp_path: Path) -> None:
    """The check is real: a workflow reading a name the stack no longer creates is caught."""
    workflow = tmp_path / "deploy.yml"
    workflow.write_text(
        "run: aws ssm get-parameter --name /viberglass/${{ inputs.environment }}/ecs/cluster\n"
        'run: aws ssm get-parameter --name "/viberglass/$ENV/ecs/clusterName"\n'
    )
    created = _created(dev, "dev")
    assert discovery.missing(discovery.reads_in([workflow]), created) == {"ecs/clusterName": {str(workflow)}}
    assert discovery.missing(discovery.reads_in([workflow]), created - {"ecs/cluster"}).keys() == {
        "ecs/cluster",
        "ecs/clusterName",
    }


@pytest.mark.parametrize(
    ("text", "suffix"),
    [
        ('f"/viberglass/{env}/ecs/service"', "ecs/service"),
        ("/viberglass/${ENV}/amplify/appId", "amplify/appId"),
        ("/viberglass/prod/alb/dns", "alb/dns"),
    ],
)
def test_parameter_reads_recognise_every_way_of_naming_the_environment(text: str, suffix: str) -> None:
    assert discovery.parameter_reads(text) == {suffix}
