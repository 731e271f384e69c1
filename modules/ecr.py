"""Container registries: the worker image catalog and the backend repository.

When two environments share one account, exactly one owns the worker repositories
(``workers.owns_repositories``); the other only computes their names and URIs, so nothing collides and
image URIs resolve either way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from core.iam import Statement
from imports.aws import (
    EcrLifecyclePolicy,
    EcrRepository,
    EcrRepositoryEncryptionConfiguration,
    EcrRepositoryImageScanningConfiguration,
    EcrRepositoryImageTagMutabilityExclusionFilter,
)
from imports.cdktf import Construct
from modules import lifecycle
from modules.account import Account
from modules.encryption import EnvironmentKey

UNTAGGED_DAYS = 7
MOVING_TAGS = "*latest"


def lifecycle_rules(tag_prefixes: Sequence[str], keep: int) -> str:
    """Expire untagged images after a week; keep the newest ``keep`` images of each ``<prefix>-`` tag
    (or, with no prefixes, the newest ``keep`` images overall)."""
    rules: list[dict[str, object]] = [
        {
            "rulePriority": 1,
            "description": f"expire untagged images after {UNTAGGED_DAYS} days",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": UNTAGGED_DAYS,
            },
            "action": {"type": "expire"},
        }
    ]
    if not tag_prefixes:
        rules.append(
            {
                "rulePriority": 2,
                "description": f"keep the newest {keep} images",
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep},
                "action": {"type": "expire"},
            }
        )
    for priority, prefix in enumerate(sorted(tag_prefixes), start=2):
        rules.append(
            {
                "rulePriority": priority,
                "description": f"keep the newest {keep} {prefix}- images",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPrefixList": [f"{prefix}-"],
                    "countType": "imageCountMoreThan",
                    "countNumber": keep,
                },
                "action": {"type": "expire"},
            }
        )
    return json.dumps({"rules": rules})


class Repository(Construct):
    """One ECR repository: scan on push, KMS, ``<env>-<sha>`` tags immutable, ``*-latest`` movable.

    :param name: repository name.
    :param key: the KMS key that encrypts images.
    :param tag_prefixes: environments whose images live here; one keep-newest rule each.
    :param keep: images kept per environment prefix.
    :param protect: ``prevent_destroy``. Default: ``False``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        key: EnvironmentKey,
        tag_prefixes: Sequence[str],
        keep: int,
        protect: bool = False,
    ) -> None:
        super().__init__(scope, id)
        self.repository = EcrRepository(
            self,
            "repository",
            name=name,
            # Tags are immutable except the moving `latest` / `<env>-latest` pointers the deploy tools update.
            image_tag_mutability="IMMUTABLE_WITH_EXCLUSION",
            image_tag_mutability_exclusion_filter=[
                EcrRepositoryImageTagMutabilityExclusionFilter(filter=MOVING_TAGS, filter_type="WILDCARD")
            ],
            image_scanning_configuration=EcrRepositoryImageScanningConfiguration(scan_on_push=True),
            encryption_configuration=[EcrRepositoryEncryptionConfiguration(encryption_type="KMS", kms_key=key.arn)],
            force_delete=False,
            lifecycle=lifecycle.keep(protect),
        )
        EcrLifecyclePolicy(
            self, "lifecycle", repository=self.repository.name, policy=lifecycle_rules(tag_prefixes, keep)
        )

    @property
    def url(self) -> str:
        return self.repository.repository_url

    @property
    def arn(self) -> str:
        return self.repository.arn


class WorkerRegistry(Construct):
    """The worker image catalog: repositories when this environment owns them, names and URIs always.

    :param images: catalog key -> repository name.
    :param owns: create the repositories (else they belong to another environment in the account).
    :param account: account and region for URIs and ARNs.
    :param key: the KMS key (used only when ``owns``).
    :param tag_prefixes: environments whose images the owner keeps (lifecycle rules).
    :param keep: images kept per environment prefix.
    :param protect: ``prevent_destroy`` on the repositories. Default: ``False``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        images: Mapping[str, str],
        owns: bool,
        account: Account,
        key: EnvironmentKey,
        tag_prefixes: Sequence[str],
        keep: int,
        protect: bool = False,
    ) -> None:
        super().__init__(scope, id)
        self._account = account
        self.host = f"{account.id}.dkr.ecr.{account.region}.amazonaws.com"
        self.repositories: dict[str, Repository] = {}
        self.names = dict(images)
        if owns:
            for image, name in sorted(images.items()):
                self.repositories[image] = Repository(
                    self, image, name=name, key=key, tag_prefixes=tag_prefixes, keep=keep, protect=protect
                )

    def uri(self, image: str) -> str:
        """``<registry host>/<repository>`` of a catalog image (no tag)."""
        repo = self.repositories.get(image)
        return repo.url if repo else f"{self.host}/{self.names[image]}"

    def arn(self, image: str) -> str:
        repo = self.repositories.get(image)
        return repo.arn if repo else self._account.arn("ecr", f"repository/{self.names[image]}")

    def pull_statements(self, sid: str = "PullWorkerImages") -> list[Statement]:
        return pull_statements(sid, [self.arn(image) for image in sorted(self.names)])


def pull_statements(sid: str, repository_arns: Sequence[str]) -> list[Statement]:
    """Log in to ECR (account-wide by AWS's design) and pull from exactly these repositories."""
    return [
        Statement(
            sid=f"{sid}Token",
            actions=["ecr:GetAuthorizationToken"],
            resources=["*"],
            wildcard_reason="ecr:GetAuthorizationToken supports no resource-level permissions",
        ),
        Statement(
            sid=sid,
            actions=["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            resources=list(repository_arns),
        ),
    ]
