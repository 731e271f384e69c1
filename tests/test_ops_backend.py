"""ops/backend.py decision by decision: the pure decisions (is the rollout steady, is the revision unchanged,
which revisions may a rollback pick, which containers run the backend image) on plain dictionaries, and
deploy/rollback/restart called directly against the moto server of the ``aws`` fixture on a small
hand-made backend service (no synthesized stack: test_ops_deploy.py runs the commands on the one the platform
stack defines). Every message is pinned whole."""

from __future__ import annotations

import hashlib
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ops import backend
from ops.backend import (
    ROLLBACK_SEARCH,
    _normal,
    backend_images,
    image_repository,
    parse_revision,
    pinned_to_digest,
    revision_number,
    rollback_candidates,
    rollout,
    short,
    unchanged,
)
from ops.common import InputError, OpsError, Report
from ops.waiting import Timing
from tests.aws_clients import moto_client

REGION, ACCOUNT = "eu-west-1", "123456789012"
REPO = "dev-viberglass-backend"
URL = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPO}"
FAMILY = "viberglass-dev-backend"
ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{FAMILY}"
SHA_1, SHA_2 = "1" * 7 + "a" * 33, "2" * 7 + "b" * 33
SIDECAR = "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0"
FAST = Timing(timeout=5, interval=0.01)


# -- pure decisions (the revision parsing tests moved here from test_ops_deploy.py) ------------------------------------


@pytest.mark.parametrize(
    ("typed", "revision"),
    [("1", f"{FAMILY}:1"), ("041", f"{FAMILY}:41"), (f"{FAMILY}:7", f"{FAMILY}:7"), (f"{ARN}:12", f"{FAMILY}:12")],
)
def test_a_revision_is_read_from_a_number_a_family_revision_or_an_arn(typed: str, revision: str) -> None:
    assert parse_revision(typed, FAMILY) == revision


def test_a_family_in_capitals_is_compared_as_written() -> None:
    assert parse_revision("Viberglass-Dev:3", "Viberglass-Dev") == "Viberglass-Dev:3"


@pytest.mark.parametrize("typed", ["0", "-1", "latest", "x:1:2", f"{ARN}", ""])
def test_what_is_not_a_revision_is_refused_with_the_forms_to_use(typed: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_revision(typed, FAMILY)
    assert str(caught.value) == (
        f"--to-revision {typed!r}: give a revision number of {FAMILY} (e.g. 41), {FAMILY}:41 or its ARN"
    )


def test_a_revision_of_another_family_names_both() -> None:
    with pytest.raises(InputError) as caught:
        parse_revision("viberglass-prod-backend:4", FAMILY)
    assert str(caught.value) == (
        f"--to-revision 'viberglass-prod-backend:4': the backend's task family is {FAMILY}, not viberglass-prod-backend"
    )


def test_the_revision_number_is_the_last_part_of_a_name_or_arn() -> None:
    assert (revision_number(f"{ARN}:12"), revision_number(f"{FAMILY}:3"), short(f"{ARN}:12")) == (12, 3, f"{FAMILY}:12")
    assert revision_number("a:b:9") == 9


@pytest.mark.parametrize(
    ("image", "repository"),
    [(f"{URL}:latest", URL), (f"{URL}@sha256:{'a' * 64}", URL), (URL, URL),
     ("localhost:5000/app", "localhost:5000/app"), ("localhost:5000/app:v1", "localhost:5000/app"),
     ("host/a@sha256:1:2", "host/a"), ("host/a@b@c", "host/a")],
)  # fmt: skip
def test_the_repository_of_an_image_drops_its_tag_or_digest(image: str, repository: str) -> None:
    assert image_repository(image) == repository


def test_normal_drops_the_empty_values_ecs_adds_or_drops_but_keeps_zero_and_false() -> None:
    value = {"b": [{"x": None, "y": 0, "z": False, "w": ""}], "a": {}, "c": [], "d": {"e": {"f": "g", "h": []}}}
    assert _normal(value) == {"b": [{"y": 0, "z": False}], "d": {"e": {"f": "g"}}}


def test_normal_lists_keep_their_order_and_empty_entries() -> None:
    assert _normal([{"a": None}, 2, [3, None]]) == [{}, 2, [3, None]]


def service(*deployments: dict[str, Any], running: int = 1, desired: int = 1, revision: str = f"{FAMILY}:2") -> Any:
    return {"taskDefinition": f"{ARN.rsplit('/', 1)[0]}/{revision}", "runningCount": running, "desiredCount": desired,
            "deployments": list(deployments)}  # fmt: skip


PRIMARY = {"status": "PRIMARY", "rolloutState": "COMPLETED"}


def test_a_completed_rollout_is_steady() -> None:
    assert rollout(service(PRIMARY), f"{ARN}:2") == (True, "COMPLETED, 1/1 tasks running")


def test_a_rollout_in_progress_is_not_yet_steady() -> None:
    assert rollout(service({"status": "PRIMARY", "rolloutState": "IN_PROGRESS"}, running=0), f"{FAMILY}:2") == (
        None, "IN_PROGRESS, 0/1 tasks running")  # fmt: skip


def test_a_completed_rollout_with_an_old_deployment_still_draining_is_not_yet_steady() -> None:
    draining = {"status": "ACTIVE", "rolloutState": "COMPLETED"}
    assert rollout(service(PRIMARY, draining, running=2), f"{FAMILY}:2") == (None, "COMPLETED, 2/1 tasks running")


def test_without_a_rollout_state_all_desired_tasks_running_is_steady() -> None:
    assert rollout(service({"status": "PRIMARY"}, running=2, desired=2), f"{FAMILY}:2") == (
        True, "deploying, 2/2 tasks running")  # fmt: skip


def test_without_a_rollout_state_fewer_tasks_than_desired_is_not_yet_steady() -> None:
    assert rollout(service({"status": "PRIMARY"}, running=1, desired=2), f"{FAMILY}:2") == (
        None, "deploying, 1/2 tasks running")  # fmt: skip


def test_without_a_primary_deployment_or_counts_nothing_is_wanted_or_running() -> None:
    assert rollout({"taskDefinition": f"{FAMILY}:2"}, f"{FAMILY}:2") == (True, "deploying, 0/0 tasks running")
    assert rollout({"taskDefinition": f"{FAMILY}:2", "runningCount": 1, "deployments": [{"status": "ACTIVE"}]},
                   f"{FAMILY}:2") == (None, "deploying, 1/0 tasks running")  # fmt: skip


def test_a_failed_rollout_fails_with_its_reason() -> None:
    failed = {"status": "PRIMARY", "rolloutState": "FAILED", "rolloutStateReason": "tasks failed to start"}
    assert rollout(service(failed, running=0), f"{FAMILY}:2") == (False, "rollout failed: tasks failed to start")


def test_a_failed_rollout_without_a_reason_still_fails() -> None:
    assert rollout(service({"status": "PRIMARY", "rolloutState": "FAILED"}), f"{FAMILY}:2") == (
        False, "rollout failed: ")  # fmt: skip


def test_a_service_moved_to_another_revision_fails() -> None:
    assert rollout(service(PRIMARY, revision=f"{FAMILY}:1"), f"{ARN}:2") == (
        False, f"service moved to {FAMILY}:1 (circuit breaker?)")  # fmt: skip
    assert rollout({"deployments": [PRIMARY]}, f"{FAMILY}:2") == (False, "service moved to  (circuit breaker?)")


def container(name: str, image: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": image, **extra}


def described(*containers: dict[str, Any], revision: int = 3, **extra: Any) -> dict[str, Any]:
    """A DescribeTaskDefinition result: the registered arguments plus what ECS adds."""
    return {"taskDefinitionArn": f"{ARN}:{revision}", "revision": revision, "status": "ACTIVE", "family": FAMILY,
            "containerDefinitions": list(containers), "volumes": [], "placementConstraints": [],
            "compatibilities": ["EC2", "FARGATE"], "registeredAt": "2026-11-28", **extra}  # fmt: skip


def test_a_running_revision_equal_to_the_wanted_one_is_unchanged() -> None:
    running = described(container("backend", f"{URL}@sha256:1", environment=[]), cpu="256")
    wanted = {"family": FAMILY, "containerDefinitions": [container("backend", f"{URL}@sha256:1")], "cpu": "256"}
    assert unchanged(running, wanted) is True


@pytest.mark.parametrize(
    "change",
    [{"cpu": "512"}, {"containerDefinitions": [container("backend", f"{URL}@sha256:2")]}, {"memory": "1024"}],
)
def test_a_running_revision_that_differs_in_any_registered_key_is_changed(change: dict[str, Any]) -> None:
    running = described(container("backend", f"{URL}@sha256:1"), cpu="256")
    wanted = {"family": FAMILY, "containerDefinitions": [container("backend", f"{URL}@sha256:1")], "cpu": "256"}
    assert unchanged(running, wanted | change) is False


def test_only_containers_of_the_repository_run_the_backend_image() -> None:
    definition = described(container("backend", f"{URL}:latest"), container("otel", SIDECAR),
                           container("prepare-volumes", f"{URL}@sha256:1"))  # fmt: skip
    assert backend_images(definition, URL) == ["backend", "prepare-volumes"]


def test_a_revision_is_pinned_when_every_backend_container_runs_a_digest() -> None:
    pinned = described(container("backend", f"{URL}@sha256:1"), container("prepare-volumes", f"{URL}@sha256:1"),
                       container("otel", SIDECAR))  # fmt: skip
    assert pinned_to_digest(pinned, URL) is True


def test_a_revision_with_one_backend_container_on_a_tag_is_not_pinned() -> None:
    half = described(container("backend", f"{URL}@sha256:1"), container("prepare-volumes", f"{URL}:latest"))
    assert pinned_to_digest(half, URL) is False


def test_a_revision_without_a_backend_container_is_not_pinned() -> None:
    assert pinned_to_digest(described(container("otel", f"{SIDECAR.rsplit(':', 1)[0]}@sha256:1")), URL) is False


def test_rollback_candidates_are_older_revisions_of_the_family_newest_first() -> None:
    arns = [f"{ARN}:{n}" for n in (3, 1, 5, 4, 2)] + [f"{ARN}-worker:2", f"{ARN[:-8]}:1"]
    assert rollback_candidates(arns, f"{FAMILY}:4") == [f"{ARN}:3", f"{ARN}:2", f"{ARN}:1"]


def test_rollback_candidates_stop_after_the_search_limit() -> None:
    arns = [f"{ARN}:{n}" for n in range(1, 80)]
    found = rollback_candidates(arns, f"{FAMILY}:79")
    assert (len(found), found[0], found[-1]) == (ROLLBACK_SEARCH, f"{ARN}:78", f"{ARN}:{79 - ROLLBACK_SEARCH}")
    assert ROLLBACK_SEARCH == 50


# -- a small backend service in moto ----------------------------------------------------------------------------


class Health:
    """The backend's /health: answers ``status``; records the paths asked."""

    def __init__(self) -> None:
        health = self
        self.status, self.paths = 200, list[str]()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                health.paths.append(self.path)
                self.send_response(health.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"


def put_image(tag: str, seed: str) -> str:
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {"digest": f"sha256:{seed * 64}"}, "layers": []})  # fmt: skip
    digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
    moto_client("ecr").put_image(repositoryName=REPO, imageManifest=manifest, imageTag=tag,
                                                      imageDigest=digest)  # fmt: skip
    return digest


def terraform_revision(memory: str = "1024") -> str:
    """What a platform apply registers: the backend and its init container on the placeholder tag, a sidecar
    of another repository, and the ARN published for the deploys."""
    ecs: Any = moto_client("ecs")  # the stubs want TypedDicts for the containers
    arn = ecs.register_task_definition(
        family=FAMILY, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="512", memory=memory,
        containerDefinitions=[container("backend", f"{URL}:latest", essential=True),
                              container("prepare-volumes", f"{URL}:latest", essential=False),
                              container("otel", SIDECAR, essential=False)],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    moto_client("ssm").put_parameter(Name="/viberglass/dev/ecs/taskDefinition", Value=arn,
                                                          Type="String", Overwrite=True)  # fmt: skip
    return str(arn)


@pytest.fixture
def health() -> Iterator[Health]:
    server = Health()
    yield server
    server.server.shutdown()


@pytest.fixture
def platform(aws: str, health: Health, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The backend of dev in moto: repository with two commit images, Terraform's revision 1, the service
    running it, the discovery parameters. Returns tag -> digest."""
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "1")
    moto_client("ecr").create_repository(repositoryName=REPO)
    digests = {SHA_1: put_image(SHA_1, "1"), SHA_2: put_image(SHA_2, "2")}
    ecs = moto_client("ecs")
    ecs.create_cluster(clusterName=FAMILY)
    ecs.create_service(cluster=FAMILY, serviceName=FAMILY, taskDefinition=terraform_revision(), desiredCount=1,
                       launchType="FARGATE")  # fmt: skip
    values = {"ecs/cluster": FAMILY, "ecs/service": FAMILY, "ecs/containerName": "backend",
              "deployment/ecrRepository": URL, "frontend/apiUrl": health.url}  # fmt: skip
    ssm = moto_client("ssm")
    for suffix, value in values.items():
        ssm.put_parameter(Name=f"/viberglass/dev/{suffix}", Value=value, Type="String")
    return digests


def running() -> str:
    found = moto_client("ecs").describe_services(cluster=FAMILY, services=[FAMILY])
    return short(found["services"][0]["taskDefinition"])


def images_of(revision: str) -> dict[str, str]:
    found = moto_client("ecs").describe_task_definition(taskDefinition=revision)
    return {c["name"]: c["image"] for c in found["taskDefinition"]["containerDefinitions"]}


def revisions() -> list[str]:
    return [short(a) for a in moto_client("ecs").list_task_definitions()["taskDefinitionArns"]]


def said(out: io.StringIO) -> list[str]:
    return out.getvalue().splitlines()


def deploy(image: str | None = None, **kwargs: Any) -> tuple[str, list[str]]:
    out = io.StringIO()
    result = backend.deploy("dev", image, timing=FAST, report=Report(out=out), **kwargs)
    return result, said(out)


def test_deploy_pins_every_backend_container_to_the_digest_and_leaves_the_sidecar(platform: dict[str, str]) -> None:
    new, _ = deploy(SHA_2)
    assert (short(new), running()) == (f"{FAMILY}:2", f"{FAMILY}:2")
    pinned = f"{URL}@{platform[SHA_2]}"
    assert images_of(f"{FAMILY}:2") == {"backend": pinned, "prepare-volumes": pinned, "otel": SIDECAR}


def test_deploy_says_what_it_does(platform: dict[str, str], health: Health) -> None:
    _, lines = deploy(SHA_2)
    pinned = f"{URL}@{platform[SHA_2]}"
    assert lines[:6] == [
        "Deploying the backend of dev",
        f"  running now: {FAMILY}:1; Terraform's definition: {FAMILY}:1",
        f"  image {URL}:{SHA_2} is {platform[SHA_2]}",
        f"  registered {FAMILY}:2 (Terraform's {FAMILY}:1 with the new image)",
        f"  service {FAMILY} now runs {FAMILY}:2",
        "  [    0s] waiting for a steady state: COMPLETED, 1/1 tasks running",
    ]
    assert lines[-1] == f"Deployed {FAMILY}:2 ({pinned})"
    assert f"  smoke {health.url}health: 200 (attempt 1/5)" in lines and health.paths == ["/health"]


def test_deploy_keeps_terraforms_settings_and_drops_nothing_it_registered(platform: dict[str, str]) -> None:
    terraform_revision(memory="4096")  # revision 2: an apply raised the memory
    deploy(SHA_1)
    found = moto_client("ecs").describe_task_definition(taskDefinition=f"{FAMILY}:3")
    definition = found["taskDefinition"]
    assert (definition["memory"], definition["cpu"], definition["networkMode"]) == ("4096", "512", "awsvpc")
    assert [c.get("essential") for c in definition["containerDefinitions"]] == [True, False, False]


def test_a_deploy_by_digest_needs_that_digest_in_ecr(platform: dict[str, str]) -> None:
    new, _ = deploy(f"{URL}@{platform[SHA_1]}")
    assert images_of(new)["backend"] == f"{URL}@{platform[SHA_1]}"
    missing = "sha256:" + "f" * 64
    with pytest.raises(OpsError) as error:
        deploy(f"{URL}@{missing}")
    assert str(error.value) == f"{missing} is not in {URL} (ImageNotFoundException): push it first"


def test_a_deploy_by_repository_and_tag(platform: dict[str, str]) -> None:
    new, _ = deploy(f"{URL}:{SHA_2}")
    assert images_of(new)["backend"] == f"{URL}@{platform[SHA_2]}"


def test_an_unknown_tag_is_not_in_ecr(platform: dict[str, str]) -> None:
    with pytest.raises(OpsError) as error:
        deploy("v9")
    assert str(error.value) == f"{URL}:v9 is not in {URL} (ImageNotFoundException): push it first"
    assert running() == f"{FAMILY}:1"


def test_an_image_of_another_repository_is_refused(platform: dict[str, str]) -> None:
    with pytest.raises(InputError) as error:
        deploy(f"{SIDECAR}")
    assert str(error.value) == f"--image {SIDECAR!r}: the backend runs images of {URL} only"


@pytest.mark.parametrize("tag", ["-x", ".x", "a" * 129])
def test_what_is_not_a_tag_is_refused(platform: dict[str, str], tag: str) -> None:
    with pytest.raises(InputError) as error:
        deploy(tag)
    assert str(error.value) == f"--image {tag!r}: give a tag, <repository>:<tag> or <repository>@sha256:..."


def test_the_longest_tag_is_a_tag(platform: dict[str, str]) -> None:
    with pytest.raises(OpsError, match=r"is not in .* push it first"):
        deploy("_" + "a" * 127)


def test_a_rerun_registers_nothing_and_says_so(platform: dict[str, str]) -> None:
    deploy(SHA_2)
    new, lines = deploy(SHA_2)
    assert short(new) == f"{FAMILY}:2" and revisions() == [f"{FAMILY}:1", f"{FAMILY}:2"]
    assert f"  {FAMILY}:2 is already Terraform's definition with {URL}@{platform[SHA_2]}: nothing to register" in lines


def test_running_image_redeploys_it_on_terraforms_new_definition(platform: dict[str, str]) -> None:
    deploy(SHA_1)
    terraform_revision(memory="4096")  # 3
    new, lines = deploy(running_image=True)
    assert short(new) == f"{FAMILY}:4" and images_of(new)["prepare-volumes"] == f"{URL}@{platform[SHA_1]}"
    assert f"  redeploying the running image {URL}@{platform[SHA_1]}" in lines


def test_running_image_on_terraforms_tag_deploys_what_the_tag_holds(platform: dict[str, str]) -> None:
    """The service still runs Terraform's `latest`, which was pushed since: its digest is deployed."""
    latest = put_image("latest", "3")
    new, _ = deploy(running_image=True)
    assert images_of(new)["backend"] == f"{URL}@{latest}"


def test_running_image_before_any_push_changes_nothing(platform: dict[str, str]) -> None:
    previous, lines = deploy(running_image=True)
    assert short(previous) == f"{FAMILY}:1" and revisions() == [f"{FAMILY}:1"]
    assert lines[-1] == (
        f"Nothing to redeploy: {FAMILY}:1 runs Terraform's placeholder tag, which is not in {URL} yet (the first "
        "`deploy backend --image` brings an image)"
    )


def test_running_image_of_another_repository_is_an_error(platform: dict[str, str]) -> None:
    ecs: Any = moto_client("ecs")
    other = ecs.register_task_definition(
        family=FAMILY, containerDefinitions=[container("backend", SIDECAR, memory=512)]
    )
    ecs.update_service(cluster=FAMILY, service=FAMILY, taskDefinition=other["taskDefinition"]["taskDefinitionArn"])
    with pytest.raises(OpsError) as error:
        deploy(running_image=True)
    assert str(error.value) == f"{FAMILY}:2 runs {SIDECAR!r}, not an image of {URL}"


def test_a_failed_health_check_rolls_back(platform: dict[str, str], health: Health) -> None:
    health.status = 503
    out = io.StringIO()
    with pytest.raises(OpsError) as error:
        backend.deploy("dev", SHA_2, timing=FAST, report=Report(out=out))
    assert f"Deploy failed: {health.url}health did not answer 2xx; rolling back to {FAMILY}:1" in said(out)
    assert str(error.value) == (
        f"deploy of {FAMILY}:2 failed ({health.url}health did not answer 2xx); rolled back to {FAMILY}:1"
    )
    assert running() == f"{FAMILY}:1" and len(health.paths) == 5


def test_an_unhealthy_rerun_changes_nothing(platform: dict[str, str], health: Health) -> None:
    deploy(SHA_2)
    health.status = 500
    with pytest.raises(OpsError) as error:
        deploy(SHA_2)
    assert str(error.value) == (
        f"{FAMILY}:2 is not healthy ({health.url}health did not answer 2xx); nothing was changed"
    )


def test_a_deregistered_terraform_definition_says_to_apply(platform: dict[str, str]) -> None:
    moto_client("ecs").deregister_task_definition(taskDefinition=f"{FAMILY}:1")
    with pytest.raises(OpsError) as error:
        deploy(SHA_2)
    assert str(error.value) == (
        f"Terraform's task definition {FAMILY}:1 is deregistered: apply the platform stack of dev (it registers a "
        "new one and updates /viberglass/dev/ecs/taskDefinition)"
    )


def test_a_definition_without_the_backend_container_is_an_error(platform: dict[str, str]) -> None:
    moto_client("ssm").put_parameter(Name="/viberglass/dev/ecs/containerName", Value="api",
                                                          Type="String", Overwrite=True)  # fmt: skip
    with pytest.raises(OpsError) as error:
        deploy(SHA_2)
    assert str(error.value) == (
        f"task definition {FAMILY}:1 has no container 'api' running {URL} (its containers: "
        "['backend', 'prepare-volumes', 'otel'])"
    )


def test_a_missing_service_is_named(platform: dict[str, str]) -> None:
    ecs = moto_client("ecs")
    ecs.delete_service(cluster=FAMILY, service=FAMILY, force=True)
    with pytest.raises(OpsError) as error:
        deploy(SHA_2)
    assert str(error.value) == f"service {FAMILY} not found in cluster {FAMILY}"


def rollback(**kwargs: Any) -> tuple[str, list[str]]:
    out = io.StringIO()
    result = backend.rollback("dev", timing=FAST, report=Report(out=out), **kwargs)
    return result, said(out)


def test_rollback_picks_the_previous_deployed_revision_not_terraforms(platform: dict[str, str]) -> None:
    deploy(SHA_1)  # 2
    terraform_revision(memory="4096")  # 3, Terraform's own (a tag)
    deploy(SHA_2)  # 4
    target, lines = rollback()
    assert (target, running()) == (f"{FAMILY}:2", f"{FAMILY}:2")
    assert lines[0] == f"Rolling the backend of dev back from {FAMILY}:4 to {FAMILY}:2"
    assert lines[-1] == f"Rolled back to {FAMILY}:2"


def test_rollback_without_an_earlier_deployed_revision_says_what_to_give(platform: dict[str, str]) -> None:
    with pytest.raises(OpsError) as error:
        rollback()
    assert str(error.value) == (
        f"{FAMILY}:1 has no earlier active revision that `deploy backend` registered (pinned to an image digest); "
        "give --to-revision N or --to-image <commit sha>"
    )


def test_rollback_to_a_revision(platform: dict[str, str]) -> None:
    deploy(SHA_1)
    deploy(SHA_2)
    assert rollback(to_revision="1")[0] == f"{FAMILY}:1" and running() == f"{FAMILY}:1"


def test_rollback_to_the_running_revision_is_refused(platform: dict[str, str]) -> None:
    with pytest.raises(InputError) as error:
        rollback(to_revision=f"{FAMILY}:1")
    assert str(error.value) == f"the service already runs {FAMILY}:1"


def test_rollback_to_a_deregistered_revision_says_what_to_do(platform: dict[str, str]) -> None:
    deploy(SHA_1)
    deploy(SHA_2)
    moto_client("ecs").deregister_task_definition(taskDefinition=f"{FAMILY}:2")
    with pytest.raises(InputError) as error:
        rollback(to_revision="2")
    assert str(error.value) == (
        f"{FAMILY}:2 is deregistered (INACTIVE): pick an active revision (`aws ecs list-task-definitions "
        f"--family-prefix {FAMILY}`), or roll back by image with --to-image <commit sha>"
    )
    assert running() == f"{FAMILY}:3"


def test_rollback_to_an_image_deploys_it(platform: dict[str, str]) -> None:
    deploy(SHA_2)
    target, lines = rollback(to_image=SHA_1[:7])
    assert images_of(target)["backend"] == f"{URL}@{platform[SHA_1]}"
    assert lines[:2] == [f"Rolling the backend of dev back to image {SHA_1[:7]}", "Deploying the backend of dev"]


def test_restart_starts_a_new_deployment_of_the_running_revision(platform: dict[str, str]) -> None:
    before = moto_client("ecs").describe_services(cluster=FAMILY, services=[FAMILY])["services"][0]["deployments"]
    out = io.StringIO()
    backend.restart("dev", timing=FAST, report=Report(out=out))
    ecs = moto_client("ecs")
    deployments = ecs.describe_services(cluster=FAMILY, services=[FAMILY])["services"][0]["deployments"]
    assert running() == f"{FAMILY}:1" and revisions() == [f"{FAMILY}:1"]
    assert [d["id"] for d in deployments] != [d["id"] for d in before]  # a new deployment (forceNewDeployment)
    assert said(out)[0] == f"Restarting the backend of dev ({FAMILY}:1)" and said(out)[-1] == "Restarted"


def test_a_rollback_that_settles_says_so_and_one_that_does_not_says_how_far_it_got() -> None:
    arn = f"{ARN}:2"
    assert backend.rolled_back(arn, "rollout failed: x", f"{FAMILY}:1", steady=True, status="COMPLETED") == (
        f"deploy of {FAMILY}:2 failed (rollout failed: x); rolled back to {FAMILY}:1")  # fmt: skip
    assert backend.rolled_back(arn, "x", f"{ARN}:1", steady=False, status="IN_PROGRESS, 0/1 tasks running") == (
        f"deploy of {FAMILY}:2 failed (x); rolled back to {FAMILY}:1, but the rollback is not steady yet: "
        "IN_PROGRESS, 0/1 tasks running")  # fmt: skip


def test_the_backend_works_in_the_configured_region_whatever_the_shells_default(
    platform: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    new, _ = deploy(SHA_2)
    assert images_of(new)["backend"] == f"{URL}@{platform[SHA_2]}"


def test_an_uppercase_tag_is_a_tag(platform: dict[str, str]) -> None:
    digest = put_image("Release-1", "4")
    new, _ = deploy("Release-1")
    assert images_of(new)["backend"] == f"{URL}@{digest}"


def test_running_image_of_a_definition_without_the_backend_container_is_an_error(platform: dict[str, str]) -> None:
    ecs = moto_client("ecs")
    other = ecs.register_task_definition(family=FAMILY, containerDefinitions=[container("api", f"{URL}:x", memory=512)])
    ecs.update_service(cluster=FAMILY, service=FAMILY, taskDefinition=other["taskDefinition"]["taskDefinitionArn"])
    with pytest.raises(OpsError) as error:
        deploy(running_image=True)
    assert str(error.value) == f"{FAMILY}:2 runs '', not an image of {URL}"


def test_a_revision_ecs_does_not_have_names_the_call(platform: dict[str, str]) -> None:
    with pytest.raises(OpsError) as error:
        rollback(to_revision="9")
    assert str(error.value).startswith(f"ecs DescribeTaskDefinition {FAMILY}:9: ClientException"), str(error.value)


def test_a_cluster_ecs_does_not_have_names_the_call(platform: dict[str, str]) -> None:
    moto_client("ssm").put_parameter(Name="/viberglass/dev/ecs/cluster", Value="nope", Type="String", Overwrite=True)
    with pytest.raises(OpsError) as error:
        deploy(SHA_2)
    assert str(error.value).startswith("ecs DescribeServices: ClusterNotFoundException"), str(error.value)
