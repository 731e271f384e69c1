"""ops deploy / rollback / restart / secrets / smoke against a moto server on 127.0.0.1, with small local
HTTP stand-ins for the backend's /health and for Amplify (which moto does not implement)."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from ops import secrets
from ops.__main__ import OPS, build_parser, main

ACCOUNT, REGION = "123456789012", "eu-west-1"
REPO = "dev-viberglass-backend"
REPO_URL = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPO}"
FAST = ["--timeout", "5", "--interval", "0.05"]


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
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def site() -> Iterator[Site]:
    server = Site()
    yield server
    server.close()


def _manifest(config_digest: str) -> str:
    return json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                       "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7,
                                  "digest": f"sha256:{config_digest * 64}"}, "layers": []})  # fmt: skip


@pytest.fixture
def platform(aws: str, site: Site, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """What the platform stack would have created for dev, in moto."""
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "1")
    ecr = boto3.client("ecr", region_name=REGION)
    ecs = boto3.client("ecs", region_name=REGION)
    ssm = boto3.client("ssm", region_name=REGION)
    ecr.create_repository(repositoryName=REPO)
    digests = {}
    for tag, seed in (("v1", "1"), ("v2", "2")):
        pushed = ecr.put_image(repositoryName=REPO, imageManifest=_manifest(seed), imageTag=tag)
        digests[tag] = pushed["image"]["imageId"]["imageDigest"]
    ecs.create_cluster(clusterName="viberglass-dev-backend")
    ecs.register_task_definition(
        family="viberglass-dev-backend", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
        memory="512", executionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/viberglass-dev-backend-execution",
        containerDefinitions=[{"name": "backend", "image": f"{REPO_URL}:latest", "essential": True,
                               "environment": [{"name": "NODE_ENV", "value": "production"}]}],
    )  # fmt: skip
    ecs.create_service(cluster="viberglass-dev-backend", serviceName="viberglass-dev-backend",
                       taskDefinition="viberglass-dev-backend:1", desiredCount=1, launchType="FARGATE")  # fmt: skip
    values = {
        "deployment/region": REGION, "deployment/ecrRepository": REPO_URL,
        "deployment/frontendDeployRoleArn": f"arn:aws:iam::{ACCOUNT}:role/viberglass-dev-frontend-deploy",
        "ecs/cluster": "viberglass-dev-backend", "ecs/service": "viberglass-dev-backend",
        "ecs/taskFamily": "viberglass-dev-backend", "ecs/containerName": "backend", "alb/dns": "alb.example",
        "frontend/apiUrl": site.url, "amplify/appId": "d1app", "amplify/branchName": "main", "amplify/region": REGION,
    }  # fmt: skip
    for suffix, value in values.items():
        ssm.put_parameter(Name=f"/viberglass/dev/{suffix}", Value=value, Type="String")
    return digests


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def service_revision() -> str:
    ecs = boto3.client("ecs", region_name=REGION)
    service = ecs.describe_services(cluster="viberglass-dev-backend", services=["viberglass-dev-backend"])
    return str(service["services"][0]["taskDefinition"].rsplit("/", 1)[-1])


def container(revision: str) -> dict[str, Any]:
    definition = boto3.client("ecs", region_name=REGION).describe_task_definition(taskDefinition=revision)
    return dict(definition["taskDefinition"]["containerDefinitions"][0])


# -- deploy backend ----------------------------------------------------------------------------------------


def test_deploy_registers_a_digest_pinned_revision_and_updates_the_service(
    platform: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, output = run(capsys, "deploy", "backend", "--env", "dev", "--image", "v2", *FAST)
    assert status == 0, output
    assert service_revision() == "viberglass-dev-backend:2"
    assert container("viberglass-dev-backend:2")["image"] == f"{REPO_URL}@{platform['v2']}"


def test_deploy_copies_everything_but_the_image(platform: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "deploy", "backend", "--env", "dev", "--image", f"{REPO_URL}:v2", *FAST)
    old, new = container("viberglass-dev-backend:1"), container("viberglass-dev-backend:2")
    assert {k: v for k, v in new.items() if k != "image"} == {k: v for k, v in old.items() if k != "image"}
    definition = boto3.client("ecs", region_name=REGION).describe_task_definition(
        taskDefinition="viberglass-dev-backend:2"
    )
    assert (definition["taskDefinition"]["cpu"], definition["taskDefinition"]["memory"]) == ("256", "512")


def test_deploy_shows_progress(platform: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    _, output = run(capsys, "deploy", "backend", "--env", "dev", "--image", "v2", *FAST)
    assert "waiting for a steady state: COMPLETED, 1/1 tasks running" in output
    assert "/health: 200" in output


def test_missing_discovery_parameter_names_the_stack(
    platform: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    boto3.client("ssm", region_name=REGION).delete_parameter(Name="/viberglass/dev/ecs/cluster")
    status, output = run(capsys, "deploy", "backend", "--env", "dev", "--image", "v2", *FAST)
    assert status == 1
    assert "/viberglass/dev/ecs/cluster not found" in output and "cdktf deploy base platform workers" in output
    assert service_revision() == "viberglass-dev-backend:1"


def test_unknown_image_tag_is_an_error_and_changes_nothing(platform: dict[str, str],
                                                            capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    status, output = run(capsys, "deploy", "backend", "--env", "dev", "--image", "nope", *FAST)
    assert status == 1 and "ImageNotFoundException" in output
    assert service_revision() == "viberglass-dev-backend:1"


def test_failed_health_check_rolls_back_to_the_previous_revision(
    platform: dict[str, str], site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    site.status = 500
    status, output = run(capsys, "deploy", "backend", "--env", "dev", "--image", "v2", *FAST)
    assert status == 1
    assert "rolling back to viberglass-dev-backend:1" in output
    assert "rolled back to viberglass-dev-backend:1" in output
    assert service_revision() == "viberglass-dev-backend:1"


# -- rollback / restart -------------------------------------------------------------------------------------


def test_rollback_defaults_to_the_previous_revision(
    platform: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "deploy", "backend", "--env", "dev", "--image", "v2", *FAST)
    status, _ = run(capsys, "rollback", "backend", "--env", "dev", *FAST)
    assert (status, service_revision()) == (0, "viberglass-dev-backend:1")


def test_rollback_to_a_given_revision(platform: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "deploy", "backend", "--env", "dev", "--image", "v2", *FAST)
    run(capsys, "deploy", "backend", "--env", "dev", "--image", "v1", *FAST)
    assert service_revision() == "viberglass-dev-backend:3"
    status, output = run(capsys, "rollback", "backend", "--env", "dev", "--to-revision", "2", *FAST)
    assert (status, service_revision()) == (0, "viberglass-dev-backend:2")
    assert "from viberglass-dev-backend:3 to viberglass-dev-backend:2" in output


def test_rollback_with_no_earlier_revision_is_an_error(platform: dict[str, str],
                                                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    status, output = run(capsys, "rollback", "backend", "--env", "dev", *FAST)
    assert status == 1 and "no earlier active revision" in output


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
    status, output = run(capsys, "deploy", "workers", "--env", "dev", "--tag", "3f2c1ab", "--plan",
                         "--context", "/src/viberglass")  # fmt: skip
    prefix = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/dev"
    builds = [line for line in output.splitlines() if line.startswith("docker build")]
    pushes = [line.split()[-1] for line in output.splitlines() if line.startswith("docker push")]
    assert status == 0
    assert len(builds) == 12 and len(pushes) == 24
    # The backend runs <registry>/<VIBERATOR_WORKER_IMAGE_PREFIX>/<repository>:latest (workerImage.ts).
    assert f"{prefix}/viberator-worker-multi-agent:latest" in pushes
    assert f"{prefix}/viberator-lambda-worker:latest" in pushes
    assert {p.rsplit(":", 1)[1] for p in pushes} == {"3f2c1ab", "latest"}
    assert builds[0].startswith("docker build --file /src/viberglass/infra/workers/docker/base/base-worker.Dockerfile "
                                f"--tag {prefix}/viberator-base-worker:3f2c1ab")  # fmt: skip
    codex = next(b for b in builds if "viberator-worker-codex:3f2c1ab" in b)
    assert "--file /src/viberglass/infra/workers/docker/generated/codex.Dockerfile" in codex
    assert f"--build-arg BASE_IMAGE={prefix}/viberator-base-worker:3f2c1ab" in codex
    assert f"--tag {prefix}/viberator-worker-codex:latest" in codex
    assert "docker login --username AWS --password-stdin" in output


def test_worker_tag_is_a_commit_sha(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, output = run(capsys, "deploy", "workers", "--env", "dev", "--tag", "prod-3f2c1ab", "--plan")
    assert status == 2 and "expected a git sha" in output
    status, _ = run(capsys, "deploy", "workers", "--env", "dev", "--tag", "dev-3f2c1ab", "--plan")
    assert status == 0  # the form the reusable workflow passes


def test_worker_plan_skips_an_image_the_app_neither_has_nor_runs(
    aws: str, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    """The catalog names generated/claude.Dockerfile, which the application repository does not contain
    and its generate script does not write; the backend never selects that image."""
    claude = "infra/workers/docker/generated/claude.Dockerfile"
    context = _checkout(tmp_path, _catalog(), without=(claude,))
    status, output = run(capsys, "deploy", "workers", "--env", "dev", "--tag", "3f2c1ab", "--plan",
                         "--context", str(context))  # fmt: skip
    assert status == 0
    assert f"# skipped: {context / claude}" in output
    assert not any("/viberator-worker:" in line for line in output.splitlines() if line.startswith("docker"))


def test_worker_deploy_refuses_a_missing_dockerfile_of_an_image_the_backend_runs(
    aws: str, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    missing = "infra/workers/docker/viberator-lambda.Dockerfile"
    context = _checkout(tmp_path, _catalog(), without=(missing,))
    status, output = run(capsys, "deploy", "workers", "--env", "dev", "--tag", "3f2c1ab", "--context", str(context))
    assert status == 2 and missing in output and "the backend runs these images" in output


def test_worker_plan_refuses_a_catalog_that_drifted_from_the_contract(
    aws: str, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    catalog = [*_catalog(), {"variant": "new", "repositoryName": "viberator-worker-new",
                             "dockerfilePath": "x.Dockerfile", "isAgentImage": True}]  # fmt: skip
    context = _checkout(tmp_path, catalog)
    status, output = run(capsys, "deploy", "workers", "--env", "dev", "--tag", "3f2c1ab", "--plan",
                         "--context", str(context))  # fmt: skip
    assert status == 2 and "viberator-worker-new" in output and "core/app_contract.py" in output


# -- secrets --------------------------------------------------------------------------------------------------


@pytest.fixture
def key(aws: str) -> str:
    kms = boto3.client("kms", region_name=REGION)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/viberglass-dev-ssm", TargetKeyId=key_id)
    return str(key_id)


def test_secrets_set_reads_stdin_and_writes_a_secure_string(key: str, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    fake = "slack" + "-test-value-" + "0" * 8
    assert run(capsys, "secrets", "init", "--env", "dev")[0] == 0  # not-configured until now
    monkeypatch.setattr("sys.stdin", io.StringIO(fake + "\n"))
    status, output = run(capsys, "secrets", "set", "slackBotToken", "--env", "dev")
    parameter = boto3.client("ssm", region_name=REGION).get_parameter(
        Name="/viberglass/dev/backend/slackBotToken", WithDecryption=True
    )["Parameter"]
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
    ssm = boto3.client("ssm", region_name=REGION)
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
    value = boto3.client("ssm", region_name=REGION).get_parameter(
        Name="/viberglass/dev/backend/slackBotToken", WithDecryption=True
    )["Parameter"]["Value"]
    assert (status, value) == (0, "xoxb-set-before-init") and "Done: 3 change(s) made." in output


def test_secrets_init_before_base_changes_nothing(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, output = run(capsys, "secrets", "init", "--env", "dev")
    assert status == 2 and "deploy base first" in output
    assert boto3.client("ssm", region_name=REGION).describe_parameters()["Parameters"] == []


def test_the_github_token_is_no_secret_to_store(key: str, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO("token\n"))
    status, output = run(capsys, "secrets", "set", "github-token", "--env", "dev")
    assert status == 2 and "connect frontend --env dev" in output
    assert boto3.client("ssm", region_name=REGION).describe_parameters()["Parameters"] == []


def test_generated_keys_cannot_be_overwritten_by_hand(key: str, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO("value\n"))
    status, output = run(capsys, "secrets", "set", "webhookSecretEncryptionKey", "--env", "dev")
    assert status == 2 and "not a secret the stacks define" in output


def test_secrets_set_before_base_says_to_deploy_base_first(aws: str, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO("value\n"))
    status, output = run(capsys, "secrets", "set", "slackBotToken", "--env", "dev")
    assert status == 2 and "alias/viberglass-dev-ssm does not exist yet" in output and "cdktf deploy base" in output
    names = boto3.client("ssm", region_name=REGION).describe_parameters()["Parameters"]
    assert names == []


# -- frontend (Amplify stand-in) ---------------------------------------------------------------------------------


class AmplifyStandIn:
    """moto has no Amplify: this local HTTP server speaks the few REST calls ops uses (StartJob, GetJob,
    ListJobs, GetApp, ListDomainAssociations, UpdateApp) and boto3 reaches it through
    AWS_ENDPOINT_URL_AMPLIFY."""

    def __init__(self, final: str = "SUCCEED") -> None:
        stand_in = self
        self.final = final
        self.started: list[str] = []
        self.updates: list[dict[str, Any]] = []
        self.repository = "https://github.com/Ilities/viberglass"
        self.polls = 0

        class Handler(BaseHTTPRequestHandler):
            def _json(self, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _summary(self, status: str, job_id: str = "7", commit: str = "abc") -> dict[str, Any]:
                return {"jobArn": f"arn:aws:amplify:{REGION}:{ACCOUNT}:apps/d1app/branches/main/jobs/{job_id}",
                        "jobId": job_id, "commitId": commit, "commitMessage": "m", "commitTime": 0,
                        "startTime": 0, "status": status, "jobType": "RELEASE"}  # fmt: skip

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/apps/d1app":  # UpdateApp
                    update = json.loads(body)
                    stand_in.updates.append(update)
                    stand_in.repository = update.get("repository", stand_in.repository)
                    self._json({"app": self._app()})
                    return
                stand_in.started.append(self.path)
                self._json({"jobSummary": self._summary("PENDING")})

            def _app(self) -> dict[str, Any]:
                return {"appId": "d1app", "appArn": "arn", "name": "n", "defaultDomain": "d1app.amplifyapp.com",
                        "platform": "WEB", "createTime": 0, "updateTime": 0, "repository": stand_in.repository,
                        "environmentVariables": {}, "enableBranchAutoBuild": True, "enableBasicAuth": False,
                        "description": ""}  # fmt: skip

            def do_GET(self) -> None:
                if self.path.endswith("/jobs/7"):
                    stand_in.polls += 1
                    status = "RUNNING" if stand_in.polls < 3 else stand_in.final
                    self._json({"job": {"summary": self._summary(status), "steps": []}})
                elif "/jobs" in self.path:
                    self._json({"jobSummaries": [self._summary("RUNNING", "7", "3f2c1ab")]})
                elif self.path.endswith("/domains"):
                    self._json({"domainAssociations": []})
                else:
                    self._json({"app": self._app()})

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


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
    assert amplify.started == ["/apps/d1app/branches/main/jobs"]
    assert "Amplify job 7: RUNNING" in output and "Amplify job 7: SUCCEED" in output


def test_frontend_follows_the_job_of_a_commit(amplify: AmplifyStandIn, site: Site,
                                              capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    status, output = run(capsys, "deploy", "frontend", "--env", "dev", "--commit", "3f2c1ab", "--url", site.url, *FAST)
    assert (status, amplify.started) == (0, [])
    assert "following auto-build job 7 of commit 3f2c1ab" in output


def test_frontend_failed_job_is_an_error(amplify: AmplifyStandIn, capsys: pytest.CaptureFixture[str]) -> None:
    amplify.final = "FAILED"
    status, output = run(capsys, "deploy", "frontend", "--env", "dev", *FAST)
    assert status == 1 and "ended FAILED" in output


# -- connect frontend (Amplify stand-in) ------------------------------------------------------------------------


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
        boto3.client("ssm", region_name=REGION).describe_parameters(
            ParameterFilters=[{"Key": "Type", "Values": ["SecureString"]}]
        )["Parameters"]
        == []
    )


def test_connect_frontend_on_a_connected_app_reads_no_token(amplify: AmplifyStandIn, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    status, output = run(capsys, "connect", "frontend", "--env", "dev")
    assert (status, amplify.updates) == (0, []) and "nothing to do" in output


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
            ["deploy", "workers"], ["rollback", "backend"], ["restart", "backend"], ["secrets", "set"],
            ["secrets", "init"], ["connect", "frontend"], ["smoke"],
            ["plan-comment"], ["discover"], ["registry-login"]]  # fmt: skip


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
