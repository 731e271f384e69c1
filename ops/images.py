"""Container images in ECR, pushed so that running the same deploy twice is harmless.

Every repository keeps its per-commit tags immutable (``IMMUTABLE_WITH_EXCLUSION``; only ``*latest`` moves).
So a push is decided against what ECR already holds:

* the tag is not in ECR: ``docker push`` it;
* the tag is in ECR and holds the image built here (or nothing was built here: a re-run that skipped the
  build): nothing to push;
* the tag is in ECR and holds another image: an error naming both, because the tag cannot be overwritten.

"The same image" is decided with Docker's image ID, which is the digest of the image's config (classic image
store) or of its manifest (containerd image store): it is the same ID when ECR's manifest for the tag has
that digest or names that config. Moving tags (``latest``) are set through ECR's ``PutImage`` with the
manifest of the commit's tag, never by a second ``docker push``: no upload, and no window in which ``latest``
holds an image that has no commit tag.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from typing import Any

from ops.common import InputError, OpsError, Report, aws_call, client

FULL_SHA = re.compile(r"[0-9a-f]{40}")
SHORT_SHA = re.compile(r"[0-9a-f]{7,39}")
MANIFEST_TYPES = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
]
IMMUTABLE_PUSH = "cannot be overwritten because the"  # docker's message for ECR's ImageTagAlreadyExistsException


@dataclass(frozen=True)
class Remote:
    """One image in ECR: its manifest digest and the digest of the config that manifest names."""

    digest: str
    config: str
    manifest: str
    media_type: str

    def holds(self, local_id: str) -> bool:
        return local_id in {self.digest, self.config}


def remote_of(image: dict[str, Any]) -> Remote:
    """The :class:`Remote` of one image of a ``BatchGetImage`` answer. The config digest is empty for a
    manifest that names none (an image index) or cannot be read; the media type is the manifest's own when
    ECR does not say it."""
    manifest = str(image.get("imageManifest", ""))
    document = _json_object(manifest)
    config = document.get("config")
    media_type = image.get("imageManifestMediaType") or document.get("mediaType")
    return Remote(
        str(image["imageId"]["imageDigest"]),
        str(config.get("digest") or "") if isinstance(config, dict) else "",
        manifest,
        str(media_type or ""),
    )


def _json_object(text: str) -> dict[str, Any]:
    """``text`` read as a JSON object; empty when it is not one."""
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def split(url: str) -> tuple[str, str]:
    """(registry host, repository name) of ``<account>.dkr.ecr.<region>.amazonaws.com/<name>``."""
    host, _, name = url.partition("/")
    if not name:
        raise InputError(f"{url!r} is not a repository URL (<registry>/<name>)")
    return host, name


class Registry:
    """The ECR side: which image a tag holds, tag moves and short-SHA lookups."""

    def __init__(self, region: str) -> None:
        self.ecr = client("ecr", region)

    def find(self, repository: str, *, tag: str = "", digest: str = "") -> Remote | None:
        """The image ``tag`` (or ``digest``) names in ``repository``; None when there is none."""
        image_id = {"imageTag": tag} if tag else {"imageDigest": digest}
        answer = aws_call(
            f"ecr BatchGetImage {repository} {tag or digest}",
            lambda: self.ecr.batch_get_image(
                repositoryName=repository, imageIds=[image_id], acceptedMediaTypes=MANIFEST_TYPES
            ),
        )
        images = answer.get("images") or []
        return remote_of(images[0]) if images else None

    def move(self, repository: str, image: Remote, tag: str) -> bool:
        """Point ``tag`` at ``image``; False when it already did."""
        answer = aws_call(
            f"ecr PutImage {repository}:{tag}",
            lambda: self.ecr.put_image(
                repositoryName=repository,
                imageManifest=image.manifest,
                imageManifestMediaType=image.media_type,
                imageTag=tag,
                imageDigest=image.digest,
            ),
            missing={"ImageAlreadyExistsException"},
        )
        return answer is not None

    def tags(self, repository: str) -> list[str]:
        """Every tag of ``repository``."""
        paginator = self.ecr.get_paginator("list_images")
        # Untagged images come too (no filter: tag_names drops them, and one code path less to trust).
        pages = aws_call(f"ecr ListImages {repository}", lambda: list(paginator.paginate(repositoryName=repository)))
        return tag_names(pages)

    def commit_tag(self, repository: str, text: str) -> str:
        """The tag ``text`` means: a full SHA or any other tag as given, a short SHA as the one commit tag
        that starts with it (an error when none or several do)."""
        if not SHORT_SHA.fullmatch(text):
            return text
        matches = [t for t in self.tags(repository) if FULL_SHA.fullmatch(t) and t.startswith(text)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise InputError(
                f"no image of {repository} is tagged with a commit starting {text}: give a commit that was "
                "deployed (its full 40-character SHA, or at least 7 characters of it)"
            )
        raise InputError(
            f"{text} matches {len(matches)} commit tags of {repository} ({', '.join(matches[:5])}): "
            "give more characters of the SHA"
        )


def tag_names(pages: list[dict[str, Any]]) -> list[str]:
    """The distinct tags of ``ListImages`` answer pages, sorted (untagged images have no ``imageTag``)."""
    return sorted({str(i["imageTag"]) for page in pages for i in page.get("imageIds", []) if i.get("imageTag")})


# -- the Docker side (the docker CLI on PATH; tests put a stand-in there) ------------------------------------


def local_id(reference: str) -> str | None:
    """Docker's image ID of a local image, None when there is no such local image."""
    result = subprocess.run(  # noqa: S603 (fixed argv, no shell)
        ["docker", "image", "inspect", "--format", "{{.Id}}", reference],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or None if result.returncode == 0 else None


def docker_push(reference: str) -> tuple[bool, str]:
    """``docker push``; (succeeded, its error output)."""
    result = subprocess.run(["docker", "push", reference], capture_output=True, text=True, check=False)  # noqa: S603, S607
    if result.stdout:
        print(result.stdout, end="", flush=True)
    return result.returncode == 0, result.stderr.strip()


def publish(registry: Registry, repository_url: str, tag: str, report: Report) -> Remote:
    """Make ``<repository_url>:<tag>`` hold the local image of that name, or find it already does.

    A re-run whose build was skipped (the tag was already in ECR) has no local image: the remote one stands.
    """
    _, repository = split(repository_url)
    reference = f"{repository_url}:{tag}"
    local = local_id(reference)
    remote = registry.find(repository, tag=tag)
    if remote is None:
        if local is None:
            raise InputError(f"{reference} is neither a local image nor in ECR: build it first")
        pushed, stderr = docker_push(reference)
        remote = registry.find(repository, tag=tag)
        if remote is None:
            last = stderr.splitlines()[-1] if stderr else "no output"
            raise OpsError(f"docker push {reference} failed: {last}")
        if pushed:
            report.info(f"pushed {reference} ({remote.digest})")
            return remote
        # The push lost a race against another run that pushed the same tag first: compare below.
    if local is not None and not remote.holds(local):
        raise OpsError(
            f"{reference} already exists in ECR as {remote.digest} (config {remote.config or 'unknown'}), "
            f"but the image built here is {local}; commit tags are immutable, so the image of this commit "
            "cannot change: deploy the one in ECR, or find why two builds of one commit differ"
        )
    report.info(f"{reference} is already in ECR as {remote.digest}: nothing to push")
    return remote


def move_tag(registry: Registry, repository_url: str, image: Remote, tag: str, report: Report) -> None:
    _, repository = split(repository_url)
    if registry.move(repository, image, tag):
        report.info(f"{repository_url}:{tag} now points at {image.digest}")
    else:
        report.info(f"{repository_url}:{tag} already points at {image.digest}")


def exists(registry: Registry, repository_url: str, tag: str) -> bool:
    _, repository = split(repository_url)
    return registry.find(repository, tag=tag) is not None
