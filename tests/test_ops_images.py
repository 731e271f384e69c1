"""ops/images.py decision by decision: which image a tag holds, short SHAs, tag moves and whether a push is
needed, called directly (no CLI, no platform) against the moto server of the ``aws`` fixture, with the
Docker STAND-IN (tests/standin/docker: no Docker daemon here) for the local side. The whole push-image and
deploy commands are tested in tests/test_ops_deploy.py; these tests pin each message and branch cheaply."""

from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path

import pytest

from ops import images
from ops.common import InputError, OpsError, Report
from ops.images import Registry, Remote, remote_of, split, tag_names
from tests.aws_clients import moto_client
from tests.conftest import ROOT, standin_path

REGION = "eu-west-1"
HOST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
REPO = "images-test"
URL = f"{HOST}/{REPO}"
V2 = "application/vnd.docker.distribution.manifest.v2+json"
INDEX = "application/vnd.oci.image.index.v1+json"
ID = "sha256:" + "1" * 64  # Docker's ID of the local image (its config digest, classic image store)
SHA_A, SHA_B, SHA_C = "ab12cd3" + "0" * 33, "ab12cd4" + "1" * 33, "ef56789" + "2" * 33


def manifest(config: str) -> str:
    return json.dumps({"schemaVersion": 2, "mediaType": V2, "config": {"mediaType": "x", "size": 1, "digest": config},
                       "layers": []})  # fmt: skip


def put(tag: str, config: str, repository: str = REPO, text: str | None = None) -> str:
    """An image in ECR (moto) naming ``config``; its digest."""
    body = manifest(config) if text is None else text
    digest = "sha256:" + hashlib.sha256(body.encode()).hexdigest()
    moto_client("ecr").put_image(repositoryName=repository, imageManifest=body, imageTag=tag,
                                                      imageDigest=digest)  # fmt: skip
    return digest


def ecr_tag(tag: str, repository: str = REPO) -> str | None:
    answer = moto_client("ecr").batch_get_image(repositoryName=repository,
                                                                      imageIds=[{"imageTag": tag}])  # fmt: skip
    return str(answer["images"][0]["imageId"]["imageDigest"]) if answer["images"] else None


@pytest.fixture
def repo(aws: str) -> Registry:
    """An empty repository whose commit tags are immutable (``latest`` moves), as the platform stack makes."""
    moto_client("ecr").create_repository(
        repositoryName=REPO, imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "latest"}],
    )  # fmt: skip
    return Registry(REGION)


@pytest.fixture
def docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The Docker stand-in first on PATH; returns its state file (the local images)."""
    monkeypatch.setenv("PATH", standin_path(tmp_path / "bin", ("docker",)))
    monkeypatch.setenv("STANDIN_DOCKER_STATE", str(tmp_path / "docker-state.json"))
    monkeypatch.setenv("STANDIN_DOCKER_LOG", str(tmp_path / "docker-calls.jsonl"))
    return tmp_path / "docker-state.json"


def local(state: Path, reference: str, image_id: str) -> None:
    """A local image ``reference`` with Docker's ID ``image_id`` (what `docker build` leaves)."""
    data = json.loads(state.read_text()) if state.exists() else {"images": {}}
    data["images"][reference] = image_id
    state.write_text(json.dumps(data))


def docker_calls(state: Path) -> list[list[str]]:
    log = state.parent / "docker-calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, push: str) -> None:
    """A STAND-IN docker whose `image inspect` finds an image and whose `push` runs the shell ``push``
    (recorded failures: Docker's error output and exit status)."""
    folder = tmp_path / "fake-bin"
    folder.mkdir()
    script = folder / "docker"
    script.write_text(f'#!/bin/sh\nif [ "$1" = image ]; then echo sha256:{"9" * 64}; exit 0; fi\n{push}\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}:/usr/bin:/bin")


def lines(report_out: io.StringIO) -> list[str]:
    return report_out.getvalue().splitlines()


# -- pure parts ---------------------------------------------------------------------------------------------


def test_a_repository_url_splits_at_the_first_slash() -> None:
    assert split(f"{HOST}/team/backend") == (HOST, "team/backend")


@pytest.mark.parametrize("url", [HOST, f"{HOST}/"])
def test_a_url_without_a_repository_name_is_refused(url: str) -> None:
    with pytest.raises(InputError) as error:
        split(url)
    assert str(error.value) == f"{url!r} is not a repository URL (<registry>/<name>)"


def test_an_image_is_held_when_its_id_is_the_manifest_or_the_config_digest() -> None:
    remote = Remote("sha256:manifest", "sha256:config", "{}", V2)
    assert (remote.holds("sha256:manifest"), remote.holds("sha256:config"), remote.holds("sha256:other")) == (
        True, True, False)  # fmt: skip


def test_a_remote_is_read_from_the_manifest_ecr_returns() -> None:
    text = manifest("sha256:cfg")
    image = {"imageId": {"imageDigest": "sha256:d"}, "imageManifest": text, "imageManifestMediaType": "given"}
    assert remote_of(image) == Remote("sha256:d", "sha256:cfg", text, "given")


def test_without_ecrs_media_type_the_manifests_own_is_used() -> None:
    text = manifest("sha256:cfg")
    assert remote_of({"imageId": {"imageDigest": "sha256:d"}, "imageManifest": text}).media_type == V2


@pytest.mark.parametrize(
    "text",
    [json.dumps({"mediaType": INDEX, "manifests": []}), "not json", "[1, 2]", json.dumps({"config": "sha256:x"}),
     json.dumps({"config": {"size": 1}}), ""],
)  # fmt: skip
def test_a_manifest_that_names_no_config_has_an_empty_config(text: str) -> None:
    remote = remote_of({"imageId": {"imageDigest": "sha256:d"}, "imageManifest": text})
    assert (remote.digest, remote.config, remote.manifest) == ("sha256:d", "", text)


def test_an_unreadable_manifest_without_a_media_type_has_none() -> None:
    assert remote_of({"imageId": {"imageDigest": "sha256:d"}, "imageManifest": "not json"}).media_type == ""


def test_an_image_without_a_manifest_has_an_empty_one() -> None:
    assert remote_of({"imageId": {"imageDigest": "sha256:d"}}) == Remote("sha256:d", "", "", "")


def test_tag_names_are_distinct_sorted_and_skip_untagged_images() -> None:
    pages = [{"imageIds": [{"imageTag": "b", "imageDigest": "1"}, {"imageDigest": "2"}]},
             {"imageIds": [{"imageTag": "a"}, {"imageTag": "b"}, {"imageTag": ""}]}, {}]  # fmt: skip
    assert tag_names(pages) == ["a", "b"]


# -- ECR (moto) ---------------------------------------------------------------------------------------------


def test_find_by_tag_returns_digest_config_manifest_and_media_type(repo: Registry) -> None:
    digest = put(SHA_A, "sha256:" + "c" * 64)
    assert repo.find(REPO, tag=SHA_A) == Remote(digest, "sha256:" + "c" * 64, manifest("sha256:" + "c" * 64), V2)


def test_find_by_digest_returns_that_image(repo: Registry) -> None:
    digest = put(SHA_A, "sha256:" + "c" * 64)
    found = repo.find(REPO, digest=digest)
    assert found is not None and (found.digest, found.config) == (digest, "sha256:" + "c" * 64)


def test_find_of_a_tag_ecr_does_not_hold_is_none(repo: Registry) -> None:
    put(SHA_A, "sha256:" + "c" * 64)
    assert repo.find(REPO, tag=SHA_B) is None


@pytest.mark.parametrize(("how", "shown"), [({"tag": "v1"}, "v1"), ({"digest": "sha256:" + "d" * 64}, "sha256:dd")])
def test_find_in_a_missing_repository_names_the_call(aws: str, how: dict[str, str], shown: str) -> None:
    with pytest.raises(OpsError) as error:
        Registry(REGION).find("no-such-repo", **how)
    assert str(error.value).startswith(f"ecr BatchGetImage no-such-repo {shown}")
    assert "RepositoryNotFoundException" in str(error.value)


def test_move_points_the_tag_at_the_image_once(repo: Registry) -> None:
    put(SHA_A, "sha256:" + "c" * 64)
    remote = repo.find(REPO, tag=SHA_A)
    assert remote is not None
    assert repo.move(REPO, remote, "latest") is True
    assert ecr_tag("latest") == remote.digest
    assert repo.move(REPO, remote, "latest") is False


def test_move_keeps_the_media_type(repo: Registry) -> None:
    put(SHA_A, "sha256:" + "c" * 64)
    remote = repo.find(REPO, tag=SHA_A)
    assert remote is not None
    repo.move(REPO, remote, "latest")
    moved = repo.find(REPO, tag="latest")
    assert moved is not None and (moved.manifest, moved.media_type) == (remote.manifest, V2)


def test_move_hands_ecr_the_media_type_the_manifest_does_not_state(repo: Registry) -> None:
    """An OCI manifest need not name its own media type: ECR then needs it as a parameter."""
    oci = "application/vnd.oci.image.manifest.v1+json"
    text = json.dumps({"schemaVersion": 2, "config": {"digest": ID}, "layers": []})
    digest = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    moto_client("ecr").put_image(repositoryName=REPO, imageManifest=text, imageTag=SHA_A,
                                                      imageDigest=digest, imageManifestMediaType=oci)  # fmt: skip
    remote = repo.find(REPO, tag=SHA_A)
    assert remote is not None and repo.move(REPO, remote, "latest") is True
    moved = repo.find(REPO, tag="latest")
    assert moved is not None and (moved.digest, moved.media_type) == (digest, oci)


def test_the_registry_works_in_the_region_it_was_given(repo: Registry) -> None:
    """The repository is in eu-west-1 (the session's default region): another region does not have it."""
    with pytest.raises(OpsError, match="RepositoryNotFoundException"):
        Registry("us-east-1").find(REPO, tag=SHA_A)


def test_a_refused_tag_move_names_the_call(repo: Registry) -> None:
    """An empty tag: botocore refuses the request before sending it; the error still says which call."""
    with pytest.raises(OpsError) as error:
        repo.move(REPO, Remote("sha256:" + "d" * 64, "", manifest("sha256:c"), V2), "")
    assert str(error.value).startswith(f"ecr PutImage {REPO}:: Parameter validation failed"), str(error.value)


def test_tags_are_every_tag_of_the_repository_sorted(repo: Registry) -> None:
    digest = put(SHA_B, "sha256:" + "c" * 64)
    put(SHA_A, "sha256:" + "e" * 64)
    repo.move(REPO, Remote(digest, "", manifest("sha256:" + "c" * 64), V2), "latest")
    assert repo.tags(REPO) == sorted([SHA_A, SHA_B, "latest"])


def test_tags_of_a_missing_repository_names_the_call(aws: str) -> None:
    with pytest.raises(OpsError) as error:
        Registry(REGION).tags("no-such-repo")
    assert str(error.value).startswith("ecr ListImages no-such-repo: RepositoryNotFoundException")


@pytest.mark.parametrize("text", ["latest", "v1.2", SHA_A, "ab12cd"])
def test_what_is_not_a_short_sha_is_the_tag_as_given_without_asking_ecr(aws: str, text: str) -> None:
    """A full SHA, a six-character prefix or a name: no lookup (the repository does not even exist)."""
    assert Registry(REGION).commit_tag("no-such-repo", text) == text


def test_a_short_sha_is_its_one_full_commit_tag(repo: Registry) -> None:
    put(SHA_A, "sha256:" + "c" * 64)
    put(SHA_C, "sha256:" + "e" * 64)
    put("ab12cd3-debug", "sha256:" + "f" * 64)  # starts with it, but is no commit tag
    assert repo.commit_tag(REPO, "ab12cd3") == SHA_A


def test_a_short_sha_of_no_commit_tag_says_what_to_give(repo: Registry) -> None:
    put(SHA_A, "sha256:" + "c" * 64)
    with pytest.raises(InputError) as error:
        repo.commit_tag(REPO, "ef56789")
    assert str(error.value) == (
        f"no image of {REPO} is tagged with a commit starting ef56789: give a commit that was deployed (its full "
        "40-character SHA, or at least 7 characters of it)"
    )


def test_a_short_sha_of_several_commit_tags_lists_the_first_five(repo: Registry) -> None:
    tags = [f"ab12cd3{i}" + "0" * 32 for i in range(6)]
    for i, tag in enumerate(reversed(tags)):
        put(tag, "sha256:" + str(i) * 64)
    with pytest.raises(InputError) as error:
        repo.commit_tag(REPO, "ab12cd3")
    assert str(error.value) == (
        f"ab12cd3 matches 6 commit tags of {REPO} ({', '.join(tags[:5])}): give more characters of the SHA"
    )


# -- the Docker side and the push decision (Docker STAND-IN) ------------------------------------------------


def test_local_id_is_dockers_image_id(docker: Path) -> None:
    local(docker, f"{URL}:{SHA_A}", ID)
    assert images.local_id(f"{URL}:{SHA_A}") == ID


def test_local_id_of_an_image_docker_does_not_have_is_none(docker: Path) -> None:
    assert images.local_id(f"{URL}:{SHA_A}") is None


def test_docker_push_shows_dockers_output_and_succeeds(repo: Registry, docker: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    local(docker, f"{URL}:{SHA_A}", ID)
    assert images.docker_push(f"{URL}:{SHA_A}") == (True, "")
    digest = ecr_tag(SHA_A)
    size = len(
        json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": V2,
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1469, "digest": ID},
                "layers": [],
            }
        )
    )
    assert capsys.readouterr().out == (
        f"The push refers to repository [{URL}]\n{SHA_A}: digest: {digest} size: {size}\n")  # fmt: skip


def test_a_failed_docker_push_returns_dockers_error(repo: Registry, docker: Path) -> None:
    assert images.docker_push(f"{URL}:{SHA_A}") == (
        False, f"An image does not exist locally with the tag: {URL}")  # fmt: skip


def publish(registry: Registry, tag: str = SHA_A) -> tuple[Remote, list[str]]:
    out = io.StringIO()
    remote = images.publish(registry, URL, tag, Report(out=out))
    return remote, lines(out)


def test_publish_pushes_a_tag_ecr_does_not_hold(repo: Registry, docker: Path) -> None:
    local(docker, f"{URL}:{SHA_A}", ID)
    remote, said = publish(repo)
    assert ecr_tag(SHA_A) == remote.digest and remote.config == ID
    assert said == [f"  pushed {URL}:{SHA_A} ({remote.digest})"]


def test_publish_of_a_tag_neither_built_nor_in_ecr_says_build_it(repo: Registry, docker: Path) -> None:
    with pytest.raises(InputError) as error:
        publish(repo)
    assert str(error.value) == f"{URL}:{SHA_A} is neither a local image nor in ECR: build it first"
    assert docker_calls(docker) == [["image", "inspect", "--format", "{{.Id}}", f"{URL}:{SHA_A}"]]


def test_publish_of_the_same_image_again_pushes_nothing(repo: Registry, docker: Path) -> None:
    digest = put(SHA_A, ID)
    local(docker, f"{URL}:{SHA_A}", ID)
    remote, said = publish(repo)
    assert remote.digest == digest and said == [f"  {URL}:{SHA_A} is already in ECR as {digest}: nothing to push"]
    assert [c[0] for c in docker_calls(docker)] == ["image"]


def test_publish_without_a_local_build_uses_the_image_in_ecr(repo: Registry, docker: Path) -> None:
    digest = put(SHA_A, ID)
    remote, said = publish(repo)
    assert remote.digest == digest and said == [f"  {URL}:{SHA_A} is already in ECR as {digest}: nothing to push"]


def test_publish_of_another_image_under_a_held_tag_names_both(repo: Registry, docker: Path) -> None:
    digest = put(SHA_A, "sha256:" + "2" * 64)
    local(docker, f"{URL}:{SHA_A}", ID)
    with pytest.raises(OpsError) as error:
        publish(repo)
    assert str(error.value) == (
        f"{URL}:{SHA_A} already exists in ECR as {digest} (config sha256:{'2' * 64}), but the image built here is "
        f"{ID}; commit tags are immutable, so the image of this commit cannot change: deploy the one in ECR, or "
        "find why two builds of one commit differ"
    )
    assert [c[0] for c in docker_calls(docker)] == ["image"]


def test_a_held_image_whose_config_is_unknown_says_so(repo: Registry, docker: Path) -> None:
    put(SHA_A, "", text=json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": []}))
    local(docker, f"{URL}:{SHA_A}", ID)
    with pytest.raises(OpsError, match=r"\(config unknown\), but the image built here is"):
        publish(repo)


def test_a_push_that_fails_and_leaves_no_image_shows_dockers_last_line(
    repo: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A STAND-IN docker replaying a refused push (three lines of error output, exit 1)."""
    fake_docker(
        tmp_path,
        monkeypatch,
        "echo 'Retrying in 5 seconds' >&2; echo 'Retrying in 10 seconds' >&2; "
        "echo 'denied: not authorized' >&2; exit 1",
    )
    with pytest.raises(OpsError) as error:
        publish(repo)
    assert str(error.value) == f"docker push {URL}:{SHA_A} failed: denied: not authorized"


def test_a_push_that_fails_silently_says_no_output(repo: Registry, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    fake_docker(tmp_path, monkeypatch, "exit 1")
    with pytest.raises(OpsError) as error:
        publish(repo)
    assert str(error.value) == f"docker push {URL}:{SHA_A} failed: no output"


def test_a_push_that_lost_a_race_to_the_same_image_is_fine(
    repo: Registry, docker: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """STAND-IN docker: another run pushes this commit's image first (the Docker stand-in's push into moto),
    so ours is refused as Docker refuses it (exit 1); ECR then holds an image whose config is ours."""
    local_id = "sha256:" + "9" * 64
    local(docker, f"{URL}:{SHA_A}", local_id)
    other_run = f'"{sys.executable}" -I -S "{ROOT / "tests" / "standin" / "docker"}" push "$2" >/dev/null'
    refused = f"echo 'tag invalid: the tag {SHA_A} {images.IMMUTABLE_PUSH} repository is immutable.' >&2"
    fake_docker(tmp_path, monkeypatch, f"{other_run}; {refused}; exit 1")
    remote, said = publish(repo)
    assert remote.config == local_id and ecr_tag(SHA_A) == remote.digest
    assert said == [f"  {URL}:{SHA_A} is already in ECR as {remote.digest}: nothing to push"]


def test_move_tag_says_whether_the_tag_moved(repo: Registry) -> None:
    digest = put(SHA_A, ID)
    remote = repo.find(REPO, tag=SHA_A)
    assert remote is not None
    out = io.StringIO()
    images.move_tag(repo, URL, remote, "latest", Report(out=out))
    images.move_tag(repo, URL, remote, "latest", Report(out=out))
    assert lines(out) == [f"  {URL}:latest now points at {digest}", f"  {URL}:latest already points at {digest}"]


def test_exists_says_whether_ecr_holds_the_tag(repo: Registry) -> None:
    put(SHA_A, ID)
    assert (images.exists(repo, URL, SHA_A), images.exists(repo, URL, SHA_B)) == (True, False)
