"""ops deploy / rollback / restart / push-image / secrets / smoke against a moto server on 127.0.0.1, with
small local HTTP stand-ins for the backend's /health and for Amplify (which moto does not implement), and a
STAND-IN for the Docker CLI (tests/standin/docker: no Docker daemon here) that pushes into the moto server."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import subprocess
import threading
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

from ops import secrets
from ops.__main__ import OPS, build_parser, main
from tests.conftest import Stacks, standin_path, use_account
from tests.test_runbook import COMMANDS as DOC_COMMANDS
from tests.tf import one

ACCOUNT, REGION = "123456789012", "eu-west-1"
DEV_ACCOUNT = "111122223333"  # config/dev.yaml aws.account_id
PROD_ACCOUNT = "444455556666"  # config/prod.yaml aws.account_id
REPO = "dev-viberglass-backend"
REPO_URL = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPO}"
FAST = ["--timeout", "5", "--interval", "0.01"]


class Site:
    """A local HTTP server answering every GET with ``status``; the test flips it."""

    def __init__(self) -> None:
        site = self
        self.status = 200

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(site.status)
                self.end_headers()
                self.wfile.write(b"ok" if site.status == 200 else b"broken")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="module")
def _site() -> Iterator[Site]:
    server = Site()
    yield server
    server.close()


@pytest.fixture
def site(_site: Site) -> Iterator[Site]:
    """The backend's /health stand-in (the module's one: the shared platform's apiUrl names it), answering 200
    when the test starts whatever an earlier test flipped it to."""
    _site.status = 200
    yield _site
    _site.status = 200


def aws_client(service: str) -> Any:
    """A boto3 client of the server and credentials the environment names now. Clients are cached by those
    (making one costs more than most calls the tests make with it)."""
    key = (service, *(os.environ.get(name) for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN")))
    if key not in _CLIENTS:
        make: Any = boto3.client  # service names are dynamic here; the stubs only type literal names
        _CLIENTS[key] = make(service, region_name=REGION)
    return _CLIENTS[key]


_CLIENTS: dict[tuple[str | None, ...], Any] = {}


def _manifest(config_digest: str) -> str:
    return json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                       "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7,
                                  "digest": f"sha256:{config_digest * 64}"}, "layers": []})  # fmt: skip


def put_image(tag: str, seed: str, repository: str = REPO) -> str:
    """An image in a backend repository, with the digest a registry gives it (SHA-256 of the manifest)."""
    manifest = _manifest(seed)
    digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
    aws_client("ecr").put_image(repositoryName=repository, imageManifest=manifest, imageTag=tag,
                                                      imageDigest=digest)  # fmt: skip
    return digest


SHA_V1, SHA_V2 = "1" * 7 + "a" * 33, "2" * 7 + "b" * 33  # commit tags, as the backend workflow pushes them
TEMPLATE_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/viberglass-dev-backend:1"


def repository_url(env: str) -> str:
    return f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{env}-viberglass-backend"


def terraform_revision(stacks: Stacks, *, memory: int | None = None, publish: bool = True) -> str:
    """Stand-in for a platform apply: registers the backend task definition exactly as the synthesized stack
    defines it (both containers, volumes, cpu, memory, environment, secrets; Terraform references replaced by
    plain values) and publishes its ARN as /viberglass/<env>/ecs/taskDefinition, as the stack does (``publish``
    False: a history of applies whose last one publishes)."""
    body = one(stacks["platform"], "aws_ecs_task_definition")
    env = body["family"].split("-")[1]
    containers = json.loads(body["container_definitions"])
    for container in containers:  # <repository url>:<backend.image_tag>, as Terraform resolves it
        container["image"] = re.sub(r"^\$\{aws_ecr_repository\.[^}]+\.repository_url\}", repository_url(env),
                                    container["image"])  # fmt: skip
    text = re.sub(r"\$\{[^}]+\}", "resolved-by-terraform", json.dumps(containers))
    ecs = aws_client("ecs")
    arn = ecs.register_task_definition(
        family=body["family"], networkMode=body["network_mode"],
        requiresCompatibilities=body["requires_compatibilities"], cpu=body["cpu"],
        memory=str(memory) if memory else body["memory"],
        executionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/viberglass-{env}-backend-execution",
        taskRoleArn=f"arn:aws:iam::{ACCOUNT}:role/viberglass-{env}-backend-task",
        volumes=[{"name": v["name"]} for v in body["volume"]], containerDefinitions=json.loads(text),
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    if publish:
        ssm = aws_client("ssm")
        ssm.put_parameter(Name=f"/viberglass/{env}/ecs/taskDefinition", Value=arn, Type="String", Overwrite=True)
    return str(arn)


def build_platform(env: str, stacks: Stacks, api_url: str, moving_tag: str) -> dict[str, str]:
    """What the platform stack of ``env`` would have created, in moto: the backend repository (commit tags
    immutable, the moving tag mutable) holding two commit images, Terraform's task definition, the service
    running it and the discovery parameters. Returns tag -> digest."""
    ecr = aws_client("ecr")
    ecs = aws_client("ecs")
    ssm = aws_client("ssm")
    repository = f"{env}-viberglass-backend"
    moving: Any = [{"filterType": "WILDCARD", "filter": moving_tag}]
    ecr.create_repository(repositoryName=repository, imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
                          imageTagMutabilityExclusionFilters=moving)  # fmt: skip
    digests = {tag: put_image(tag, seed, repository) for tag, seed in ((SHA_V1, "1"), (SHA_V2, "2"))}
    ecs.create_cluster(clusterName=f"viberglass-{env}-backend")
    template = terraform_revision(stacks)
    ecs.create_service(cluster=f"viberglass-{env}-backend", serviceName=f"viberglass-{env}-backend",
                       taskDefinition=template, desiredCount=1, launchType="FARGATE")  # fmt: skip
    values = {
        "deployment/region": REGION, "deployment/ecrRepository": repository_url(env),
        "deployment/frontendDeployRoleArn": f"arn:aws:iam::{ACCOUNT}:role/viberglass-{env}-frontend-deploy",
        "ecs/cluster": f"viberglass-{env}-backend", "ecs/service": f"viberglass-{env}-backend",
        "ecs/taskFamily": f"viberglass-{env}-backend", "ecs/containerName": "backend", "alb/dns": "alb.example",
        "frontend/apiUrl": api_url, "amplify/appId": "d1app", "amplify/branchName": "main", "amplify/region": REGION,
    }  # fmt: skip
    for suffix, value in values.items():
        ssm.put_parameter(Name=f"/viberglass/{env}/{suffix}", Value=value, Type="String")
    return digests


@pytest.fixture
def docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The Docker stand-in (tests/standin/docker) first on PATH; returns its call log."""
    monkeypatch.setenv("PATH", standin_path(tmp_path / "standin-bin", ("docker",)))
    monkeypatch.setenv("STANDIN_DOCKER_STATE", str(tmp_path / "docker-state.json"))
    monkeypatch.setenv("STANDIN_DOCKER_LOG", str(tmp_path / "docker-calls.jsonl"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "docker-calls.jsonl"


def build_prod_history(prod: Stacks, api_url: str) -> dict[str, str]:
    """prod with a history: Terraform's revisions 1-39, then deploys of the docs' commit (40), of SHA_V1 (41)
    and of SHA_V2 (42, running)."""
    digests = build_platform("prod", prod, api_url, "prod-latest")
    put_image(DOC_SHA, "5", "prod-viberglass-backend")
    for applied in range(2, 40):
        terraform_revision(prod, publish=applied == 39)
    for image in (DOC_SHA, SHA_V1, SHA_V2):
        output = io.StringIO()
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            status = main(["deploy", "backend", "--env", "prod", "--image", image, *FAST])
        assert status == 0, output.getvalue()
    return digests


Snapshot = dict[str, Any]


class SharedPlatforms:
    """The dev platform (build_platform) and prod with its history (build_prod_history), built once per module
    on a moto server of the module's own (``moto_url``: the function-scoped ``aws`` fixture resets the session's
    server, not this one), each test then restoring what it changed. dev is in moto's default account, as on
    the ``aws`` server; prod in an account of its own (config/prod.yaml's), so that neither sees the other's
    revisions, images or parameters.

    After each test, :meth:`restore` puts the environment back as it was built: task-definition revisions
    registered since are deregistered and deleted (moto then numbers the next one as after the build), the
    service points at its revision again, images and tags added since are deleted, discovery parameters are
    put back. Whatever that cannot undo (e.g. a revision of the build deregistered) fails the test that did
    it and the platforms are built again, so no test ever starts from another test's leftovers."""

    def __init__(self, url: str, build: dict[str, Callable[[], dict[str, str]]]) -> None:
        self.url = url
        self.build = build
        self.accounts = {"dev": ACCOUNT, "prod": PROD_ACCOUNT}
        self.credentials: dict[str, dict[str, str]] = {}
        self.sessions: dict[str, boto3.session.Session] = {}
        self.clients: dict[tuple[str, str], Any] = {}
        self.digests: dict[str, dict[str, str]] = {}
        self.snapshots: dict[str, Snapshot] = {}
        self.manifests: dict[str, dict[str, str]] = {}
        self.make()

    def use(self, patch: pytest.MonkeyPatch, env: str) -> None:
        """Point boto3 (and the processes a test starts) at this server, in ``env``'s account, as the ``aws``
        fixture (and ``use_account``) do at the session's. boto3's default session is one of this module's
        per account: a new one would read the service models again (~0.1 s a test)."""
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            patch.delenv(name, raising=False)
        for name, value in self.credentials[env].items():
            patch.setenv(name, value)
        patch.setenv("AWS_ENDPOINT_URL", self.url)
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        patch.setattr(boto3, "DEFAULT_SESSION", self.sessions[env])

    def client(self, service: str, env: str) -> Any:
        if (service, env) not in self.clients:
            make: Any = self.sessions[env].client
            self.clients[service, env] = make(service, endpoint_url=self.url)
        return self.clients[service, env]

    @staticmethod
    def session(key: str, secret: str, token: str | None = None) -> boto3.session.Session:
        """A boto3 session with these credentials (its service models come from the session-wide loader,
        ``_one_botocore_loader`` in tests/conftest.py)."""
        return boto3.session.Session(key, secret, token, region_name=REGION)

    def make(self) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"))
        self.clients.clear()
        self.credentials = {"dev": {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}}
        sts = self.session("testing", "testing").client("sts", region_name=REGION, endpoint_url=self.url)
        for env, account in self.accounts.items():
            if env not in self.credentials:  # credentials of a role assumed there: moto puts its calls in that account
                found = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/operator", RoleSessionName="operator")
                self.credentials[env] = {
                    "AWS_ACCESS_KEY_ID": found["Credentials"]["AccessKeyId"],
                    "AWS_SECRET_ACCESS_KEY": found["Credentials"]["SecretAccessKey"],
                    "AWS_SESSION_TOKEN": found["Credentials"]["SessionToken"],
                }
        self.sessions = {
            env: self.session(
                found["AWS_ACCESS_KEY_ID"], found["AWS_SECRET_ACCESS_KEY"], found.get("AWS_SESSION_TOKEN")
            )
            for env, found in self.credentials.items()
        }
        for env, build in self.build.items():
            with pytest.MonkeyPatch.context() as patch:
                self.use(patch, env)
                self.digests[env] = build()
        for env in self.build:
            self.snapshots[env] = built = self.state(env)
            wanted = [{"imageTag": tag} for tags in built["images"].values() for tag in tags]
            images = self.client("ecr", env).batch_get_image(repositoryName=f"{env}-viberglass-backend",
                                                             imageIds=wanted)["images"]  # fmt: skip
            self.manifests[env] = {i["imageId"]["imageTag"]: i["imageManifest"] for i in images}
            assert built["service"][1:] == (1, 1), "moto_url started without MOTO_ECS_SERVICE_RUNNING"

    def state(self, env: str) -> Snapshot:
        """What the tests of ``env`` read and change: the service, the backend's revisions, the discovery
        parameters, the backend repository's images."""
        ecs, ecr, ssm = (self.client(service, env) for service in ("ecs", "ecr", "ssm"))
        family = f"viberglass-{env}-backend"
        service = ecs.describe_services(cluster=family, services=[family])["services"][0]
        listed = ecs.get_paginator("list_task_definitions")
        revisions = {
            arn: status
            for status in ("ACTIVE", "INACTIVE")
            for page in listed.paginate(familyPrefix=family, status=status)
            for arn in page["taskDefinitionArns"]
        }
        pages = ssm.get_paginator("get_parameters_by_path").paginate(Path=f"/viberglass/{env}", Recursive=True)
        parameters = {p["Name"]: (p["Type"], p["Value"]) for page in pages for p in page["Parameters"]}
        pages = ecr.get_paginator("describe_images").paginate(repositoryName=f"{env}-viberglass-backend")
        images = {i["imageDigest"]: sorted(i.get("imageTags", [])) for page in pages for i in page["imageDetails"]}
        return {"service": (service["taskDefinition"], service["desiredCount"], service["runningCount"]),
                "revisions": revisions, "parameters": parameters, "images": images}  # fmt: skip

    def restore(self, env: str) -> None:
        now, built = self.state(env), self.snapshots[env]
        if now == built:
            return
        ecs, ecr, ssm = (self.client(service, env) for service in ("ecs", "ecr", "ssm"))
        added = [arn for arn in now["revisions"] if arn not in built["revisions"]]
        for arn in added:
            if now["revisions"][arn] == "ACTIVE":
                ecs.deregister_task_definition(taskDefinition=arn)
        for start in range(0, len(added), 10):
            ecs.delete_task_definitions(taskDefinitions=added[start : start + 10])
        if now["service"][0] != built["service"][0]:
            family = f"viberglass-{env}-backend"
            ecs.update_service(cluster=family, service=family, taskDefinition=built["service"][0])
        for name in now["parameters"].keys() - built["parameters"].keys():
            ssm.delete_parameter(Name=name)
        for name, (kind, value) in built["parameters"].items():
            if now["parameters"].get(name) != (kind, value):
                ssm.put_parameter(Name=name, Value=value, Type=kind, Overwrite=True)
        repository = f"{env}-viberglass-backend"
        built_tags = {tag: digest for digest, tags in built["images"].items() for tag in tags}
        now_tags = {tag: digest for digest, tags in now["images"].items() for tag in tags}
        stale = [{"imageTag": tag} for tag, digest in now_tags.items() if built_tags.get(tag) != digest]
        stale += [{"imageDigest": digest} for digest in now["images"].keys() - built["images"].keys()]
        if stale:
            ecr.batch_delete_image(repositoryName=repository, imageIds=stale)
        for tag, digest in built_tags.items():
            if now_tags.get(tag) != digest:
                manifest = self.manifests[env][tag]
                ecr.put_image(repositoryName=repository, imageManifest=manifest, imageTag=tag, imageDigest=digest)
        after = self.state(env)
        if after != built:
            self.make()
            changed = {key: value for key, value in after.items() if value != built[key]}
            pytest.fail(f"the test left {env}'s shared platform changed beyond what restore undoes: {changed}")


@pytest.fixture(scope="module")
def shared(request: pytest.FixtureRequest, _site: Site, dev: Stacks, prod: Stacks) -> SharedPlatforms:
    with pytest.MonkeyPatch.context() as patch:
        # moto reads it (in the server's process) when a service is created: one task running, as ECS reports
        # a healthy service. The module's server inherits it when it starts.
        patch.setenv("MOTO_ECS_SERVICE_RUNNING", "1")
        url: str = request.getfixturevalue("moto_url")
    return SharedPlatforms(url, {"dev": lambda: build_platform("dev", dev, _site.url, "latest"),
                                 "prod": lambda: build_prod_history(prod, _site.url)})  # fmt: skip


@pytest.fixture
def platform(shared: SharedPlatforms, site: Site, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The dev platform in moto (build_platform), shared by the module's tests: restored after each."""
    shared.use(monkeypatch, "dev")
    yield shared.digests["dev"]
    site.status = 200  # what the platforms were built with (a restore that cannot undo builds them again)
    shared.restore("dev")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def service_revision() -> str:
    ecs = aws_client("ecs")
    service = ecs.describe_services(cluster="viberglass-dev-backend", services=["viberglass-dev-backend"])
    return str(service["services"][0]["taskDefinition"].rsplit("/", 1)[-1])


def definition(revision: str) -> dict[str, Any]:
    found = aws_client("ecs").describe_task_definition(taskDefinition=revision)
    return dict(found["taskDefinition"])


def container(revision: str, name: str = "backend") -> dict[str, Any]:
    return dict(next(c for c in definition(revision)["containerDefinitions"] if c["name"] == name))


def deploy(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    return run(capsys, "deploy", "backend", "--env", "dev", *args, *FAST)


# -- deploy backend ----------------------------------------------------------------------------------------


def test_deploy_registers_terraforms_definition_pinned_to_the_digest(
    platform: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, output = deploy(capsys, "--image", SHA_V2)
    assert status == 0, output
    assert service_revision() == "viberglass-dev-backend:2"
    assert container("viberglass-dev-backend:2")["image"] == f"{REPO_URL}@{platform[SHA_V2]}"


def test_every_container_of_the_backend_repository_gets_the_new_image(
    platform: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """The init container `prepare-volumes` runs the backend image too (it copies what the image keeps in
    the writable paths): left on the old image it would prepare volumes for another release."""
    deploy(capsys, "--image", SHA_V2)
    names = [c["name"] for c in definition("viberglass-dev-backend:2")["containerDefinitions"]]
    assert sorted(names) == ["backend", "prepare-volumes"]
    assert {container("viberglass-dev-backend:2", n)["image"] for n in names} == {f"{REPO_URL}@{platform[SHA_V2]}"}


def test_a_terraform_side_memory_change_reaches_the_next_deploy(
    platform: dict[str, str], capsys: pytest.CaptureFixture[str], dev: Stacks
) -> None:
    """The new revision is Terraform's latest definition plus the image, never a copy of the running one."""
    deploy(capsys, "--image", SHA_V1)
    assert definition(service_revision())["memory"] == one(dev["platform"], "aws_ecs_task_definition")["memory"]
    terraform_revision(dev, memory=4096)  # an apply that raised backend.memory: revision 3
    status, output = deploy(capsys, "--image", SHA_V2)
    assert status == 0, output
    assert (service_revision(), definition(service_revision())["memory"]) == ("viberglass-dev-backend:4", "4096")
    assert container("viberglass-dev-backend:4")["image"] == f"{REPO_URL}@{platform[SHA_V2]}"


def test_a_terraform_only_change_is_redeployed_with_the_running_image(
    platform: dict[str, str], capsys: pytest.CaptureFixture[str], dev: Stacks
) -> None:
    """What the infrastructure workflows run after an apply: the running image on Terraform's new definition."""
    deploy(capsys, "--image", SHA_V1)
    terraform_revision(dev, memory=4096)
    status, output = deploy(capsys, "--running-image")
    assert status == 0, output
    assert "redeploying the running image" in output
    assert definition(service_revision())["memory"] == "4096"
    assert container(service_revision())["image"] == f"{REPO_URL}@{platform[SHA_V1]}"
    assert container(service_revision(), "prepare-volumes")["image"] == f"{REPO_URL}@{platform[SHA_V1]}"


def test_running_image_before_any_image_was_pushed_does_nothing(
    platform: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A fresh environment: the service runs Terraform's placeholder `latest`, which is not in ECR yet."""
    status, output = deploy(capsys, "--running-image")
    assert status == 0, output
    assert "Nothing to redeploy" in output and service_revision() == "viberglass-dev-backend:1"


def test_a_rerun_of_the_same_deploy_registers_nothing(platform: dict[str, str],
                                                      capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    assert deploy(capsys, "--image", SHA_V2)[0] == 0
    status, output = deploy(capsys, "--image", SHA_V2)
    assert status == 0, output
    assert "nothing to register" in output
    arns = aws_client("ecs").list_task_definitions()["taskDefinitionArns"]
    assert len(arns) == 2 and service_revision() == "viberglass-dev-backend:2"


def test_a_short_sha_names_its_one_commit_tag(platform: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    status, output = deploy(capsys, "--image", SHA_V2[:7])
    assert status == 0, output
    assert container(service_revision())["image"] == f"{REPO_URL}@{platform[SHA_V2]}"


def test_a_short_sha_matching_two_tags_says_to_give_more(platform: dict[str, str],
                                                         capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    put_image(SHA_V2[:7] + "c" * 33, "3")
    status, output = deploy(capsys, "--image", SHA_V2[:7])
    assert status == 2 and "matches 2 commit tags" in output and "give more characters" in output


def test_deploy_shows_progress(platform: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    _, output = deploy(capsys, "--image", SHA_V2)
    assert "waiting for a steady state: COMPLETED, 1/1 tasks running" in output
    assert "/health: 200" in output


def test_missing_discovery_parameter_names_the_stack(
    platform: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    aws_client("ssm").delete_parameter(Name="/viberglass/dev/ecs/taskDefinition")
    status, output = deploy(capsys, "--image", SHA_V2)
    assert status == 1
    assert "/viberglass/dev/ecs/taskDefinition not found" in output and "cdktf deploy base platform workers" in output
    assert service_revision() == "viberglass-dev-backend:1"


def test_unknown_image_tag_is_an_error_and_changes_nothing(platform: dict[str, str],
                                                            capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    status, output = deploy(capsys, "--image", "nope")
    assert status == 1 and "ImageNotFoundException" in output
    assert service_revision() == "viberglass-dev-backend:1"


def test_failed_health_check_rolls_back_to_the_previous_revision(
    platform: dict[str, str], site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    site.status = 500
    status, output = deploy(capsys, "--image", SHA_V2)
    assert status == 1
    assert "rolling back to viberglass-dev-backend:1" in output
    assert "rolled back to viberglass-dev-backend:1" in output
    assert service_revision() == "viberglass-dev-backend:1"


def test_the_dev_workflow_brings_a_terraform_memory_change_to_the_service(
    platform: dict[str, str], capsys: pytest.CaptureFixture[str], dev: Stacks, tmp_path: Path
) -> None:
    """terraform-deploy-dev.yml run by the runner stand-in (tests/actions_runner.py) with the Terraform
    stand-in, whose platform plan replaces the backend task definition (memory): after the apply, the
    workflow's redeploy step runs `ops deploy backend --running-image` against the moto server. The stand-in
    Terraform touches no AWS, so the revision the apply registers is put into moto beforehand."""
    from tests.test_deploy_workflows import Dispatch

    deploy(capsys, "--image", SHA_V1)  # the service runs revision 2, SHA_V1
    terraform_revision(dev, memory=4096)  # what the apply registers: revision 3
    workflow = Dispatch(tmp_path / "run", env="dev")
    workflow.given("base", "show -json", "file:plans/noop.json").given("workers", "show -json", "file:plans/noop.json")
    workflow.given("platform", "show -json", "file:plans/dev_platform_task_memory.json")
    jobs = workflow.run(event="push")
    assert jobs["deploy"].result == "success", jobs["deploy"].log[-3000:]
    assert "run: Redeploy the running backend image on Terraform's new task definition" in jobs["deploy"].steps
    assert (service_revision(), definition(service_revision())["memory"]) == ("viberglass-dev-backend:4", "4096")
    assert container(service_revision())["image"] == f"{REPO_URL}@{platform[SHA_V1]}"


# -- pushing the backend image ------------------------------------------------------------------------------


NEW_SHA = "3f2c1ab9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3"


def docker_build(tag: str, salt: str = "") -> None:
    env = {**os.environ, "STANDIN_DOCKER_BUILD": salt}
    subprocess.run(["docker", "build", "--file", "Dockerfile.prod", "--tag", f"{REPO_URL}:{tag}", "."], env=env,
                   check=True, capture_output=True)  # fmt: skip


def ecr_tags() -> dict[str, str]:
    images = aws_client("ecr").describe_images(repositoryName=REPO)["imageDetails"]
    return {tag: i["imageDigest"] for i in images for tag in i.get("imageTags", [])}


def pushes(docker: Path) -> int:
    return sum(json.loads(line)[0] == "push" for line in docker.read_text().splitlines()) if docker.exists() else 0


def test_push_image_pushes_the_commit_tag_and_moves_latest(platform: dict[str, str], docker: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """With the Docker stand-in (tests/standin/docker), which pushes into the moto server."""
    assert run(capsys, "push-image", "--env", "dev", "--tag", NEW_SHA, "--check")[1] == "exists=false\n"
    docker_build(NEW_SHA)
    status, output = run(capsys, "push-image", "--env", "dev", "--tag", NEW_SHA)
    assert status == 0, output
    tags = ecr_tags()
    assert tags["latest"] == tags[NEW_SHA]
    assert run(capsys, "push-image", "--env", "dev", "--tag", NEW_SHA, "--check")[1] == "exists=true\n"


def test_pushing_an_existing_tag_with_the_same_image_is_a_no_op(
    platform: dict[str, str], docker: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docker_build(NEW_SHA)
    assert run(capsys, "push-image", "--env", "dev", "--tag", NEW_SHA)[0] == 0
    before = ecr_tags()
    status, output = run(capsys, "push-image", "--env", "dev", "--tag", NEW_SHA)
    assert status == 0, output
    assert "already in ECR" in output and "already points at" in output
    assert ecr_tags() == before and pushes(docker) == 1


def test_a_rerun_without_a_local_build_reuses_the_pushed_image(platform: dict[str, str], docker: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """A re-run of the workflow finds the tag in ECR, skips the build, and publishing has nothing to push."""
    status, output = run(capsys, "push-image", "--env", "dev", "--tag", SHA_V1)
    assert status == 0, output
    assert ecr_tags()["latest"] == platform[SHA_V1] and pushes(docker) == 0


def test_pushing_an_existing_tag_with_another_image_names_both(platform: dict[str, str], docker: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    docker_build(SHA_V1, salt="a rebuild that differs")
    local = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", f"{REPO_URL}:{SHA_V1}"],
                           capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    status, output = run(capsys, "push-image", "--env", "dev", "--tag", SHA_V1)
    assert status == 1
    assert platform[SHA_V1] in output and local in output and "immutable" in output
    assert "latest" not in ecr_tags()


def test_a_push_that_loses_a_race_compares_the_images(platform: dict[str, str], docker: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """Another run pushed the same commit's tag between our check and our push: ECR refuses ours (Docker
    prints "cannot be overwritten"), and the two images are compared like any existing tag."""
    docker_build(NEW_SHA)
    from ops import images

    real_find = images.Registry.find
    calls = {"n": 0}

    def find_then_race(self: Any, repository: str, *, tag: str = "", digest: str = "") -> Any:
        calls["n"] += 1
        if calls["n"] == 1:  # our check: not there yet; then the other run pushes
            put_image(tag, "9")
            return None
        return real_find(self, repository, tag=tag, digest=digest)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(images.Registry, "find", find_then_race)
        status, output = run(capsys, "push-image", "--env", "dev", "--tag", NEW_SHA)
    assert status == 1 and "already exists in ECR" in output and pushes(docker) == 1


# -- rollback / restart -------------------------------------------------------------------------------------


def test_rollback_defaults_to_the_previous_deployed_revision(
    platform: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    deploy(capsys, "--image", SHA_V1)
    deploy(capsys, "--image", SHA_V2)
    status, _ = run(capsys, "rollback", "backend", "--env", "dev", *FAST)
    assert (status, service_revision()) == (0, "viberglass-dev-backend:2")


def test_rollback_skips_terraforms_own_revisions(platform: dict[str, str], capsys: pytest.CaptureFixture[str],
                                                 dev: Stacks) -> None:  # fmt: skip
    """Terraform's revisions run the placeholder tag, not a release: never a rollback target by default."""
    deploy(capsys, "--image", SHA_V1)  # 2
    terraform_revision(dev, memory=4096)  # 3
    deploy(capsys, "--image", SHA_V2)  # 4
    run(capsys, "rollback", "backend", "--env", "dev", *FAST)
    assert service_revision() == "viberglass-dev-backend:2"


@pytest.mark.parametrize("typed", ["2", "viberglass-dev-backend:2", f"{TEMPLATE_ARN[:-2]}:2"])
def test_rollback_to_a_revision_as_people_type_it(platform: dict[str, str], capsys: pytest.CaptureFixture[str],
                                                  typed: str) -> None:  # fmt: skip
    deploy(capsys, "--image", SHA_V2)
    deploy(capsys, "--image", SHA_V1)
    assert service_revision() == "viberglass-dev-backend:3"
    status, output = run(capsys, "rollback", "backend", "--env", "dev", "--to-revision", typed, *FAST)
    assert (status, service_revision()) == (0, "viberglass-dev-backend:2"), output
    assert "from viberglass-dev-backend:3 to viberglass-dev-backend:2" in output


def test_rollback_to_an_image_by_short_sha(platform: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    deploy(capsys, "--image", SHA_V2)
    status, output = run(capsys, "rollback", "backend", "--env", "dev", "--to-image", SHA_V1[:7], *FAST)
    assert status == 0, output
    assert container(service_revision())["image"] == f"{REPO_URL}@{platform[SHA_V1]}"


@pytest.mark.parametrize(
    ("typed", "said"),
    [("prod-backend:2", "the backend's task family is viberglass-dev-backend"),
     ("9", "viberglass-dev-backend:9")],
)  # fmt: skip
def test_rollback_to_a_revision_that_cannot_be_says_what_is_needed(
    platform: dict[str, str], capsys: pytest.CaptureFixture[str], typed: str, said: str
) -> None:
    status, output = run(capsys, "rollback", "backend", "--env", "dev", "--to-revision", typed, *FAST)
    assert status in {1, 2} and said in output
    assert service_revision() == "viberglass-dev-backend:1"


def test_a_bad_revision_is_refused_while_parsing(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["rollback", "backend", "--env", "dev", "--to-revision", "latest"])
    assert exit_info.value.code == 2
    assert "give its number (41), <family>:41 or its ARN" in capsys.readouterr().err


def test_rollback_with_no_earlier_revision_is_an_error(platform: dict[str, str],
                                                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    status, output = run(capsys, "rollback", "backend", "--env", "dev", *FAST)
    assert status == 1 and "no earlier active revision" in output and "--to-image" in output


def test_restart_keeps_the_revision(platform: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    status, _ = run(capsys, "restart", "backend", "--env", "dev", *FAST)
    assert (status, service_revision()) == (0, "viberglass-dev-backend:1")


# -- workers --------------------------------------------------------------------------------------------------


CATALOG_FILE = "packages/types/src/workerImageCatalog.json"


def _catalog() -> list[dict[str, Any]]:
    """The application's catalog as the contract records it (the JSON shape of workerImageCatalog.json)."""
    from core import app_contract

    return [{"variant": i.variant, "repositoryName": i.repository, "dockerfilePath": i.dockerfile,
             "isAgentImage": i.agent} for i in app_contract.WORKER_IMAGES]  # fmt: skip


def _checkout(root: Any, catalog: list[dict[str, Any]], *, without: tuple[str, ...] = ()) -> Any:
    """A stand-in application checkout: the catalog file and every Dockerfile it names but ``without``."""
    (root / CATALOG_FILE).parent.mkdir(parents=True)
    (root / CATALOG_FILE).write_text(json.dumps(catalog))
    for entry in catalog:
        if entry["dockerfilePath"] not in without:
            (root / entry["dockerfilePath"]).parent.mkdir(parents=True, exist_ok=True)
            (root / entry["dockerfilePath"]).write_text("FROM scratch\n")
    return root


def test_worker_plan_pushes_the_tags_the_app_runs_into_the_environment_repositories(
    aws: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, output = run(capsys, "deploy", "workers", "--env", "dev", "--tag", NEW_SHA, "--plan",
                         "--context", "/src/viberglass")  # fmt: skip
    prefix = f"{DEV_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/dev"  # the configured account's registry
    builds = [line for line in output.splitlines() if line.startswith("docker build")]
    pushes = [line.split()[-1] for line in output.splitlines() if line.startswith("docker push")]
    moves = [line.split()[2] for line in output.splitlines() if line.startswith("# move ")]
    assert status == 0
    assert len(builds) == 12 and len(pushes) == 12 and len(moves) == 12
    # The backend runs <registry>/<VIBERATOR_WORKER_IMAGE_PREFIX>/<repository>:latest (workerImage.ts).
    assert f"{prefix}/viberator-worker-multi-agent:latest" in moves
    assert f"{prefix}/viberator-lambda-worker:latest" in moves
    assert {p.rsplit(":", 1)[1] for p in pushes} == {NEW_SHA}
    assert builds[0].startswith("docker build --file /src/viberglass/infra/workers/docker/base/base-worker.Dockerfile "
                                f"--tag {prefix}/viberator-base-worker:{NEW_SHA}")  # fmt: skip
    codex = next(b for b in builds if f"viberator-worker-codex:{NEW_SHA}" in b)
    assert "--file /src/viberglass/infra/workers/docker/generated/codex.Dockerfile" in codex
    assert f"--build-arg BASE_IMAGE={prefix}/viberator-base-worker:{NEW_SHA}" in codex
    assert "docker login --username AWS --password-stdin" in output


def test_worker_plan_needs_no_aws_credentials(capsys: pytest.CaptureFixture[str]) -> None:
    """--plan prints the commands for the configured account's registry: nothing to ask AWS (the session has
    no credentials and no endpoint)."""
    status, output = run(capsys, "deploy", "workers", "--env", "dev", "--tag", NEW_SHA, "--plan")
    assert status == 0, output
    assert f"docker login --username AWS --password-stdin {DEV_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com" in output


def test_a_worker_deploy_refuses_credentials_of_another_account(
    aws: str, docker: Path, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    context = _checkout(tmp_path / "app", _catalog(), without=("infra/workers/docker/generated/claude.Dockerfile",))
    status, output = run(capsys, "deploy", "workers", "--env", "dev", "--tag", NEW_SHA, "--context", str(context))
    assert status == 2  # as the bootstrap commands: credentials of another account are bad input
    assert f"the AWS credentials are for account {ACCOUNT}, but config/dev.yaml names {DEV_ACCOUNT}" in output
    assert not docker.exists() or docker.read_text() == ""  # no login, no build, no push


@pytest.mark.parametrize("tag", ["3f2c1ab", f"dev-{NEW_SHA}", f"prod-{NEW_SHA}", "latest"])
def test_worker_tag_is_the_full_commit_sha(capsys: pytest.CaptureFixture[str], tag: str) -> None:
    status, output = run(capsys, "deploy", "workers", "--env", "dev", "--tag", tag, "--plan")
    assert status == 2 and "give the commit's full 40-character SHA" in output


def test_worker_plan_skips_an_image_the_app_neither_has_nor_runs(
    aws: str, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    """The catalog names generated/claude.Dockerfile, which the application repository does not contain
    and its generate script does not write; the backend never selects that image."""
    claude = "infra/workers/docker/generated/claude.Dockerfile"
    context = _checkout(tmp_path, _catalog(), without=(claude,))
    status, output = run(capsys, "deploy", "workers", "--env", "dev", "--tag", NEW_SHA, "--plan",
                         "--context", str(context))  # fmt: skip
    assert status == 0
    assert f"# skipped: {context / claude}" in output
    assert not any("/viberator-worker:" in line for line in output.splitlines() if line.startswith("docker"))


def test_worker_deploy_refuses_a_missing_dockerfile_of_an_image_the_backend_runs(
    aws: str, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    missing = "infra/workers/docker/viberator-lambda.Dockerfile"
    context = _checkout(tmp_path, _catalog(), without=(missing,))
    status, output = run(capsys, "deploy", "workers", "--env", "dev", "--tag", NEW_SHA, "--context", str(context))
    assert status == 2 and missing in output and "the backend runs these images" in output


def test_worker_plan_refuses_a_catalog_that_drifted_from_the_contract(
    aws: str, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    catalog = [*_catalog(), {"variant": "new", "repositoryName": "viberator-worker-new",
                             "dockerfilePath": "x.Dockerfile", "isAgentImage": True}]  # fmt: skip
    context = _checkout(tmp_path, catalog)
    status, output = run(capsys, "deploy", "workers", "--env", "dev", "--tag", NEW_SHA, "--plan",
                         "--context", str(context))  # fmt: skip
    assert status == 2 and "viberator-worker-new" in output and "core/app_contract.py" in output


@pytest.fixture
def few_images(monkeypatch: pytest.MonkeyPatch) -> None:
    """A catalog of four images (base, an agent built FROM it, one the backend runs without an agent, the one
    it never runs): what a re-run, a rollback or a clash does is the same for each image, and every push
    through the Docker stand-in takes a process."""
    from core import app_contract

    keep = {"base", "lambda", "claude", "codex"}
    monkeypatch.setattr(
        app_contract, "WORKER_IMAGES", tuple(i for i in app_contract.WORKER_IMAGES if i.variant in keep)
    )


@pytest.fixture
def worker_repositories(aws: str, docker: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The workers stack's repositories in moto (commit tags immutable, `latest` moving), in dev's own account
    (config/dev.yaml aws.account_id: a worker deploy refuses credentials of another)."""
    from core import app_contract

    use_account(monkeypatch, DEV_ACCOUNT)
    ecr = aws_client("ecr")
    names = [f"dev/{i.repository}" for i in app_contract.WORKER_IMAGES]
    for name in names:
        ecr.create_repository(
            repositoryName=name,
            imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
            imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "latest"}],
        )
    return names


def _worker_tags() -> dict[str, dict[str, str]]:
    ecr = aws_client("ecr")
    found = {}
    for repository in ecr.describe_repositories()["repositories"]:
        details = ecr.describe_images(repositoryName=repository["repositoryName"])["imageDetails"]
        found[repository["repositoryName"]] = {t: i["imageDigest"] for i in details for t in i.get("imageTags", [])}
    return found


def test_worker_deploy_pushes_every_image_and_then_moves_latest(
    worker_repositories: list[str], docker: Path, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    """With the Docker stand-in (tests/standin/docker), which pushes into the moto server."""
    context = _checkout(tmp_path / "app", _catalog(), without=("infra/workers/docker/generated/claude.Dockerfile",))
    status, output = run(capsys, "deploy", "workers", "--env", "dev", "--tag", NEW_SHA, "--context", str(context))
    assert status == 0, output
    tags = _worker_tags()
    assert tags["dev/viberator-worker"] == {}  # the image the backend never runs is skipped
    built = {name: t for name, t in tags.items() if t}
    assert len(built) == 11 and all(t[NEW_SHA] == t["latest"] for t in built.values())
    first_move = output.index("Moving latest")
    assert all(output.index(f"{name}:{NEW_SHA}") < first_move for name in built)


def test_a_rerun_of_a_worker_deploy_builds_and_pushes_nothing(
    few_images: None, worker_repositories: list[str], docker: Path, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    context = _checkout(tmp_path / "app", _catalog(), without=("infra/workers/docker/generated/claude.Dockerfile",))
    assert run(capsys, "deploy", "workers", "--env", "dev", "--tag", NEW_SHA, "--context", str(context))[0] == 0
    before = _worker_tags()
    (tmp_path / "docker-state.json").unlink()  # a fresh runner: no local images
    docker.unlink()
    status, output = run(capsys, "deploy", "workers", "--env", "dev", "--tag", NEW_SHA, "--context", str(context))
    assert status == 0, output
    assert _worker_tags() == before
    assert {json.loads(line)[0] for line in docker.read_text().splitlines()} == {"login", "image"}  # no build, push
    assert output.count("already in ECR (an earlier run pushed it)") == 3


def test_redeploying_an_earlier_commit_moves_latest_back_without_building(
    few_images: None, worker_repositories: list[str], docker: Path, capsys: pytest.CaptureFixture[str], tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The documented worker rollback: re-run the deploy of the last good commit."""
    context = _checkout(tmp_path / "app", _catalog(), without=("infra/workers/docker/generated/claude.Dockerfile",))
    good, bad = NEW_SHA, "badbad" + "0" * 34
    assert run(capsys, "deploy", "workers", "--env", "dev", "--tag", good, "--context", str(context))[0] == 0
    monkeypatch.setenv("STANDIN_DOCKER_BUILD", "the next commit")
    assert run(capsys, "deploy", "workers", "--env", "dev", "--tag", bad, "--context", str(context))[0] == 0
    assert all(t["latest"] == t[bad] for t in _worker_tags().values() if t)
    (tmp_path / "docker-state.json").unlink()  # the re-run's fresh runner
    docker.unlink()
    status, output = run(capsys, "deploy", "workers", "--env", "dev", "--tag", good, "--context", str(context))
    assert status == 0, output
    assert all(t["latest"] == t[good] != t[bad] for t in _worker_tags().values() if t)
    assert {json.loads(line)[0] for line in docker.read_text().splitlines()} == {"login", "image"}


def test_a_worker_tag_holding_another_image_is_an_error_naming_both(
    few_images: None, worker_repositories: list[str], docker: Path, capsys: pytest.CaptureFixture[str], tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    context = _checkout(tmp_path / "app", _catalog(), without=("infra/workers/docker/generated/claude.Dockerfile",))
    assert run(capsys, "deploy", "workers", "--env", "dev", "--tag", NEW_SHA, "--context", str(context))[0] == 0
    existing = _worker_tags()["dev/viberator-base-worker"][NEW_SHA]
    monkeypatch.setenv("STANDIN_DOCKER_BUILD", "a build of the same commit that came out different")
    # The local images of the first run are still there, so the base image is rebuilt and compared.
    status, output = run(capsys, "deploy", "workers", "--env", "dev", "--tag", NEW_SHA, "--context", str(context))
    assert status == 1
    assert existing in output and "the image built here is sha256:" in output


# -- secrets --------------------------------------------------------------------------------------------------


@pytest.fixture
def key(aws: str) -> str:
    kms = aws_client("kms")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/viberglass-dev-ssm", TargetKeyId=key_id)
    return str(key_id)


def test_secrets_set_reads_stdin_and_writes_a_secure_string(key: str, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    fake = "slack" + "-test-value-" + "0" * 8
    assert run(capsys, "secrets", "init", "--env", "dev")[0] == 0  # not-configured until now
    monkeypatch.setattr("sys.stdin", io.StringIO(fake + "\n"))
    status, output = run(capsys, "secrets", "set", "slackBotToken", "--env", "dev")
    parameter = aws_client("ssm").get_parameter(Name="/viberglass/dev/backend/slackBotToken", WithDecryption=True)[
        "Parameter"
    ]
    assert status == 0
    assert (parameter["Type"], parameter["Value"]) == ("SecureString", fake)
    assert fake not in output
    assert "restart backend --env dev" in output


def test_secrets_set_refuses_unknown_names(key: str, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO("value\n"))
    status, output = run(capsys, "secrets", "set", "DATABASE_URL", "--env", "dev")
    assert status == 2 and "not a secret the stacks define" in output


def test_secrets_set_refuses_empty_stdin(key: str, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    status, output = run(capsys, "secrets", "set", "slackBotToken", "--env", "dev")
    assert status == 2 and "no value on stdin" in output


def test_secret_names_are_the_contracts_operator_parameters() -> None:
    assert {"slackSigningSecret", "slackBotToken"} == secrets.BACKEND


def test_secrets_init_creates_every_backend_secret_once(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Generated keys get 64 random letters and digits, operator-held ones the application's placeholder; a
    second run reads and changes nothing; no value is printed."""
    status, output = run(capsys, "secrets", "init", "--env", "dev")
    ssm = aws_client("ssm")
    stored = {
        name: ssm.get_parameter(Name=f"/viberglass/dev/backend/{name}", WithDecryption=True)["Parameter"]
        for name in ("webhookSecretEncryptionKey", "secretsEncryptionKey", "slackSigningSecret", "slackBotToken")
    }
    assert status == 0 and "Done: 4 change(s) made." in output
    assert {p["Type"] for p in stored.values()} == {"SecureString"}
    keys = [stored["webhookSecretEncryptionKey"]["Value"], stored["secretsEncryptionKey"]["Value"]]
    assert all(len(k) == 64 and k.isalnum() and k.isascii() for k in keys) and keys[0] != keys[1]
    assert not any(k in output for k in keys)
    assert stored["slackBotToken"]["Value"] == stored["slackSigningSecret"]["Value"] == "not-configured"
    status, output = run(capsys, "secrets", "init", "--env", "dev")
    assert status == 0 and "No changes" in output
    again = ssm.get_parameter(Name="/viberglass/dev/backend/secretsEncryptionKey", WithDecryption=True)["Parameter"]
    assert again["Value"] == keys[1]


def test_secrets_init_keeps_a_value_an_operator_set(key: str, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO("xoxb-set-before-init\n"))
    assert run(capsys, "secrets", "set", "slackBotToken", "--env", "dev")[0] == 0
    status, output = run(capsys, "secrets", "init", "--env", "dev")
    value = aws_client("ssm").get_parameter(Name="/viberglass/dev/backend/slackBotToken", WithDecryption=True)[
        "Parameter"
    ]["Value"]
    assert (status, value) == (0, "xoxb-set-before-init") and "Done: 3 change(s) made." in output


def test_secrets_init_before_base_changes_nothing(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, output = run(capsys, "secrets", "init", "--env", "dev")
    assert status == 2 and "deploy base first" in output
    assert aws_client("ssm").describe_parameters()["Parameters"] == []


def test_the_github_token_is_no_secret_to_store(key: str, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO("token\n"))
    status, output = run(capsys, "secrets", "set", "github-token", "--env", "dev")
    assert status == 2 and "connect frontend --env dev" in output
    assert aws_client("ssm").describe_parameters()["Parameters"] == []


def test_generated_keys_cannot_be_overwritten_by_hand(key: str, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO("value\n"))
    for name in ("webhookSecretEncryptionKey", "WEBHOOK_SECRET_ENCRYPTION_KEY"):
        status, output = run(capsys, "secrets", "set", name, "--env", "dev")
        assert status == 2 and "is generated by `secrets init` and never set by hand" in output


def test_secrets_set_before_base_says_to_deploy_base_first(aws: str, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO("value\n"))
    status, output = run(capsys, "secrets", "set", "slackBotToken", "--env", "dev")
    assert status == 2 and "alias/viberglass-dev-ssm does not exist yet" in output and "cdktf deploy base" in output
    names = aws_client("ssm").describe_parameters()["Parameters"]
    assert names == []


# -- frontend (Amplify stand-in) ---------------------------------------------------------------------------------


GOOD, BAD = "9e" * 20, "ab" * 20  # two commits of the branch; BAD is its head


class AmplifyStandIn:
    """moto has no Amplify: this local HTTP server speaks the REST calls ops uses (StartJob, GetJob, ListJobs
    with pagination, GetApp, UpdateApp, ListBranches, ListDomainAssociations) and boto3 reaches it through
    AWS_ENDPOINT_URL_AMPLIFY.

    It models what Amplify does with a job, as its API reference and the Amplify team describe it: a RELEASE
    builds the branch's newest commit whatever ``commitId`` says (aws-amplify/amplify-hosting#2100), a RETRY
    builds again the commit of the job it names (the team's redeploy workaround, aws-amplify/amplify-backend
    #1464). A new job is RUNNING for two polls, then ``final``. The branch has 60 jobs (two pages): GOOD was
    built by job 3, BAD (the head) by the rest."""

    def __init__(self, final: str = "SUCCEED", good: str = GOOD) -> None:
        stand_in = self
        self.final = final
        self.started: list[dict[str, Any]] = []
        self.polls: dict[str, int] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.pushed: tuple[str, int] | None = None  # (commit, ListJobs calls before its auto-build job shows)
        self.lists = 0
        self.updates: list[dict[str, Any]] = []
        self.repository = "https://github.com/Ilities/viberglass"
        self.branches: list[str] = []  # ListBranches (only `connect frontend` asks)
        for number in range(1, 61):
            self._add(str(number), good if number == 3 else BAD, "SUCCEED", "WEB_HOOK")

        class Handler(BaseHTTPRequestHandler):
            def _json(self, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/apps/d1app":  # UpdateApp
                    update = json.loads(body)
                    stand_in.updates.append(update)
                    stand_in.repository = update.get("repository", stand_in.repository)
                    self._json({"app": self._app()})
                    return
                request = json.loads(body or b"{}")
                stand_in.started.append({"path": self.path, **request})
                # A RELEASE builds the branch's newest commit (BAD) whatever commitId says.
                retry = request.get("jobType") == "RETRY"
                commit = stand_in.jobs[request["jobId"]]["commitId"] if retry else BAD
                job_id = str(len(stand_in.jobs) + 1)
                self._json({"jobSummary": stand_in._add(job_id, commit, "PENDING", request.get("jobType", ""))})

            def _app(self) -> dict[str, Any]:
                return {"appId": "d1app", "appArn": "arn", "name": "n", "defaultDomain": "d1app.amplifyapp.com",
                        "platform": "WEB", "createTime": 0, "updateTime": 0, "repository": stand_in.repository,
                        "environmentVariables": {}, "enableBranchAutoBuild": True, "enableBasicAuth": False,
                        "description": ""}  # fmt: skip

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                if "/jobs/" in path:
                    job_id = path.rsplit("/", 1)[1]
                    stand_in.polls[job_id] = stand_in.polls.get(job_id, 0) + 1
                    job = stand_in.jobs[job_id]
                    if job["status"] == "PENDING":
                        job = {**job, "status": "RUNNING" if stand_in.polls[job_id] < 3 else stand_in.final}
                        if job["status"] != "RUNNING":
                            stand_in.jobs[job_id] = job
                    self._json({"job": {"summary": job, "steps": []}})
                elif path.endswith("/jobs"):
                    stand_in.lists += "nextToken" not in query
                    if stand_in.pushed and stand_in.lists > stand_in.pushed[1]:
                        stand_in._add(str(len(stand_in.jobs) + 1), stand_in.pushed[0], "PENDING", "WEB_HOOK")
                        stand_in.pushed = None
                    newest_first = sorted(stand_in.jobs.values(), key=lambda j: -int(j["jobId"]))
                    start = int(dict(p.split("=") for p in query.split("&") if p).get("nextToken", 0))
                    page = newest_first[start : start + 50]
                    more = {"nextToken": str(start + 50)} if start + 50 < len(newest_first) else {}
                    self._json({"jobSummaries": page, **more})
                elif path.endswith("/domains"):
                    self._json({"domainAssociations": []})
                elif path.endswith("/branches"):
                    self._json({"branches": [{"branchName": b} for b in stand_in.branches]})
                else:
                    self._json({"app": self._app()})

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _add(self, job_id: str, commit: str, status: str, job_type: str) -> dict[str, Any]:
        self.jobs[job_id] = {
            "jobArn": f"arn:aws:amplify:{REGION}:{ACCOUNT}:apps/d1app/branches/main/jobs/{job_id}", "jobId": job_id,
            "commitId": commit, "commitMessage": "m", "commitTime": 0, "startTime": 0, "status": status,
            "jobType": job_type,
        }  # fmt: skip
        return self.jobs[job_id]


@pytest.fixture
def amplify(platform: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[AmplifyStandIn]:
    stand_in = AmplifyStandIn()
    monkeypatch.setenv("AWS_ENDPOINT_URL_AMPLIFY", stand_in.url)
    yield stand_in
    stand_in.server.shutdown()


def test_frontend_release_job_is_started_awaited_and_smoked(amplify: AmplifyStandIn, site: Site,
                                                            capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    status, output = run(capsys, "deploy", "frontend", "--env", "dev", "--url", site.url, *FAST)
    assert status == 0, output
    assert [(s["path"], s["jobType"]) for s in amplify.started] == [("/apps/d1app/branches/main/jobs", "RELEASE")]
    assert "Amplify job 61: RUNNING" in output and "Amplify job 61: SUCCEED" in output


def test_frontend_follows_the_job_of_a_commit(amplify: AmplifyStandIn, site: Site,
                                              capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    status, output = run(capsys, "deploy", "frontend", "--env", "dev", "--commit", GOOD, "--url", site.url, *FAST)
    assert (status, amplify.started) == (0, [])
    assert f"following job 3 of commit {GOOD}" in output  # on the second page of ListJobs


def test_frontend_waits_for_the_auto_build_job_of_a_fresh_push(
    amplify: AmplifyStandIn, site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    """Right after the push Amplify has not started the commit's job yet: the deploy waits for it."""
    fresh = "c0ffee" + "1" * 34
    amplify.pushed = (fresh, 3)
    status, output = run(capsys, "deploy", "frontend", "--env", "dev", "--commit", fresh, "--url", site.url, *FAST)
    assert status == 0, output
    assert f"no job for {fresh} yet" in output and f"following job 61 of commit {fresh}" in output


def test_frontend_commit_that_never_builds_says_what_to_check(amplify: AmplifyStandIn,
                                                              capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    status, output = run(capsys, "deploy", "frontend", "--env", "dev", "--commit", "1234567", "--timeout", "0.3",
                         "--interval", "0.05")  # fmt: skip
    assert status == 2 and "is auto-build on, was the commit pushed to that branch?" in output


def test_frontend_failed_job_is_an_error(amplify: AmplifyStandIn, capsys: pytest.CaptureFixture[str]) -> None:
    amplify.final = "FAILED"
    status, output = run(capsys, "deploy", "frontend", "--env", "dev", *FAST)
    assert status == 1 and "ended FAILED" in output


@pytest.mark.parametrize("typed", [GOOD, GOOD[:7]])
def test_frontend_rollback_rebuilds_the_chosen_commit(
    amplify: AmplifyStandIn, site: Site, capsys: pytest.CaptureFixture[str], typed: str
) -> None:
    status, output = run(capsys, "rollback", "frontend", "--env", "dev", "--to-commit", typed, "--url", site.url,
                         *FAST)  # fmt: skip
    assert status == 0, output
    (started,) = amplify.started
    assert (started["jobType"], started["jobId"]) == ("RETRY", "3")
    assert amplify.jobs["61"]["commitId"] == GOOD and f"Frontend rolled back to {GOOD}" in output


def test_a_release_cannot_roll_back(amplify: AmplifyStandIn, site: Site, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """What "roll back with a RELEASE job and a commitId" did: Amplify builds the head, and the check says so."""
    from ops import frontend
    from ops.common import aws_call as real

    def as_release(what: str, call: Any, **kwargs: Any) -> Any:
        if what == "amplify StartJob":
            return real(what, lambda: boto3.client("amplify", region_name=REGION).start_job(
                appId="d1app", branchName="main", jobType="RELEASE", commitId=GOOD), **kwargs)  # fmt: skip
        return real(what, call, **kwargs)

    monkeypatch.setattr(frontend, "aws_call", as_release)
    status, output = run(capsys, "rollback", "frontend", "--env", "dev", "--to-commit", GOOD, "--url", site.url, *FAST)
    assert status == 1 and f"built '{BAD}', not {GOOD}: the site was not rolled back" in output


def test_frontend_rollback_to_a_commit_never_built_says_what_it_needs(
    amplify: AmplifyStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    status, output = run(capsys, "rollback", "frontend", "--env", "dev", "--to-commit", "1234567", *FAST)
    assert status == 2 and amplify.started == []
    assert "no Amplify job of main built a commit starting 1234567" in output and "7 to 40 characters" in output


def test_frontend_rollback_refuses_what_is_not_a_sha_while_parsing(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["rollback", "frontend", "--env", "dev", "--to-commit", "HEAD~1"])
    assert exit_info.value.code == 2 and "is not a git commit id" in capsys.readouterr().err


# -- the documented rollback commands, as written -------------------------------------------------------------

ROLLBACKS = [c for c in DOC_COMMANDS if c.words[:2] == [OPS, "rollback"]]
DOC_SHA = "3f2c1ab9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3"  # the commit the docs' examples use


def test_the_docs_show_rollbacks_of_backend_and_frontend() -> None:
    flags = {w for c in ROLLBACKS for w in c.words if w.startswith("--")}
    assert {c.words[2] for c in ROLLBACKS} == {"backend", "frontend"}
    assert {"--to-revision", "--to-image", "--to-commit"} <= flags


@pytest.fixture
def prod_history(shared: SharedPlatforms, site: Site, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """prod in moto with a history (build_prod_history, shared by the module's tests: restored after each): an
    Amplify branch whose job 3 built the docs' commit."""
    shared.use(monkeypatch, "prod")
    stand_in = AmplifyStandIn(good=DOC_SHA)
    monkeypatch.setenv("AWS_ENDPOINT_URL_AMPLIFY", stand_in.url)
    yield stand_in.url
    stand_in.server.shutdown()
    site.status = 200  # what the platforms were built with (a restore that cannot undo builds them again)
    shared.restore("prod")


@pytest.mark.parametrize("command", ROLLBACKS, ids=str)
def test_every_documented_rollback_command_works_as_written(
    command: Any, prod_history: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each rollback command of docs/ exactly as written (only faster polling appended), on the moto server
    and the Amplify stand-in. The frontend's smoke request would go to the real Amplify site: it is recorded."""
    from ops import frontend

    smoked: list[str] = []

    def smoke(_report: Any, url: str, _timing: Any) -> bool:
        smoked.append(url)
        return True

    monkeypatch.setattr(frontend, "smoke", smoke)
    capsys.readouterr()
    status, output = run(capsys, *command.words[1:], *FAST)
    assert status == 0, output
    if command.words[2] == "frontend":
        assert f"Frontend rolled back to {DOC_SHA}" in output and smoked == ["https://main.d1app.amplifyapp.com"]
        return
    revision = service_revision_of("prod")
    if "--to-image" in command.words:
        assert container_of("prod", revision)["image"].endswith(put_image_digest(DOC_SHA))
    else:
        wanted = command.words[command.words.index("--to-revision") + 1] if "--to-revision" in command.words else "41"
        assert revision == f"viberglass-prod-backend:{wanted}"


def service_revision_of(env: str) -> str:
    ecs = aws_client("ecs")
    service = ecs.describe_services(cluster=f"viberglass-{env}-backend", services=[f"viberglass-{env}-backend"])
    return str(service["services"][0]["taskDefinition"].rsplit("/", 1)[-1])


def container_of(env: str, revision: str) -> dict[str, Any]:
    found = aws_client("ecs").describe_task_definition(taskDefinition=revision)
    return dict(next(c for c in found["taskDefinition"]["containerDefinitions"] if c["name"] == "backend"))


def put_image_digest(tag: str) -> str:
    images = aws_client("ecr").describe_images(repositoryName="prod-viberglass-backend",
                                                                     imageIds=[{"imageTag": tag}])  # fmt: skip
    return str(images["imageDetails"][0]["imageDigest"])


# -- connect frontend (Amplify stand-in) ------------------------------------------------------------------------


MARKER = "/viberglass/dev/amplify/connection/repository"


def _marker() -> dict[str, Any] | None:
    found = aws_client("ssm").get_parameters(Names=[MARKER])["Parameters"]
    return dict(found[0]) if found else None


def test_connect_frontend_hands_amplify_the_token_from_stdin_and_keeps_it_nowhere(
    amplify: AmplifyStandIn, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Terraform creates the app unconnected (no token in plan or state); this is the one place a token
    passes, from stdin to UpdateApp."""
    amplify.repository = ""
    token = "ghp_" + "stand1n" * 5
    monkeypatch.setattr("sys.stdin", io.StringIO(token + "\n"))
    status, output = run(capsys, "connect", "frontend", "--env", "dev")
    assert status == 0, output
    assert amplify.updates == [{"repository": "https://github.com/Ilities/viberglass", "accessToken": token}]
    assert token not in output and "deploy frontend --env dev" in output
    assert (
        aws_client("ssm").describe_parameters(ParameterFilters=[{"Key": "Type", "Values": ["SecureString"]}])[
            "Parameters"
        ]
        == []
    )


def test_connect_frontend_writes_the_marker_the_platform_stack_counts_its_branch_by(
    amplify: AmplifyStandIn, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Amplify connects no app with a manual-deploy branch, so the platform stack creates the branch only
    once this plain String exists (tests/test_frontend_discovery_alarms.py): connect, then apply again."""
    amplify.repository = ""
    monkeypatch.setattr("sys.stdin", io.StringIO("ghp_token\n"))
    status, output = run(capsys, "connect", "frontend", "--env", "dev")
    assert status == 0, output
    marker = _marker()
    assert marker is not None
    assert (marker["Type"], marker["Value"]) == ("String", "https://github.com/Ilities/viberglass")
    assert "cdktf deploy platform" in output and output.index("cdktf deploy platform") < output.index("deploy frontend")


def test_connect_frontend_on_a_connected_app_reads_no_token(amplify: AmplifyStandIn, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    status, output = run(capsys, "connect", "frontend", "--env", "dev")
    assert (status, amplify.updates) == (0, []) and "nothing to do" in output


def test_connect_frontend_records_an_earlier_connection_without_a_token(
    amplify: AmplifyStandIn, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An app connected before the marker existed (an earlier version, or by hand) keeps its branch: the
    command writes the marker without a token, before the next apply would count the branch out."""
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    status, output = run(capsys, "connect", "frontend", "--env", "dev")
    assert status == 0, output
    assert (_marker() or {}).get("Value") == "https://github.com/Ilities/viberglass"
    status, output = run(capsys, "connect", "frontend", "--env", "dev")
    assert status == 0 and "changed" not in output  # a second run changes nothing


def test_connect_frontend_refuses_an_app_with_a_manual_deploy_branch(
    amplify: AmplifyStandIn, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An environment applied by an earlier version has the branch on the unconnected app: Amplify would
    answer "Cannot connect your app to repository while manually deployed branch still exists". The command
    says what to do instead, reads no token and writes no marker."""
    amplify.repository = ""
    amplify.branches = ["main"]
    monkeypatch.setattr("sys.stdin", io.StringIO("ghp_token\n"))
    status, output = run(capsys, "connect", "frontend", "--env", "dev")
    assert (status, amplify.updates, _marker()) == (1, [], None)
    assert "manual-deploy branch(es) main" in output and "cdktf deploy platform" in output


def test_connect_frontend_without_a_token_changes_nothing(amplify: AmplifyStandIn, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    status, output = run(capsys, "connect", "frontend", "--env", "dev", "--reconnect")
    assert (status, amplify.updates) == (2, []) and "no value on stdin" in output


# -- smoke ----------------------------------------------------------------------------------------------------


def test_smoke_passes_when_everything_answers(amplify: AmplifyStandIn, site: Site,
                                              capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    status, output = run(capsys, "smoke", "--env", "dev", "--frontend-url", site.url, *FAST)
    assert status == 0, output
    assert "backend tasks: 1 running / 1 desired" in output


def test_smoke_fails_on_a_broken_api(amplify: AmplifyStandIn, site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    site.status = 503
    status, output = run(capsys, "smoke", "--env", "dev", "--frontend-url", site.url, *FAST)
    assert status == 1 and "smoke test of dev failed: API" in output


# -- help -----------------------------------------------------------------------------------------------------


COMMANDS = [["bootstrap-state"], ["bootstrap-github-oidc"], ["deploy", "backend"], ["deploy", "frontend"],
            ["deploy", "workers"], ["rollback", "backend"], ["rollback", "frontend"], ["restart", "backend"],
            ["secrets", "set"], ["secrets", "init"], ["connect", "frontend"], ["smoke"], ["plan-comment"],
            ["discover"], ["region"], ["registry-login"], ["push-image"], ["plan-review", "record"],
            ["plan-review", "check"], ["apply-report"]]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*command, "--help"])
    text = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert "example:\n  " in text
    assert f"{OPS} {' '.join(command)}" in text


def test_discover_prints_github_output_lines(platform: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    status, output = run(capsys, "discover", "--env", "dev", "deployment/ecrRepository", "ecs/service")
    assert status == 0
    assert output.splitlines() == [f"deployment_ecrRepository={REPO_URL}", "ecs_service=viberglass-dev-backend"]
