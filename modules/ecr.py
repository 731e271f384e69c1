"""Container registries: the backend repository and this environment's worker repositories.

Each environment has its own worker repositories under a path prefix (``<prefix>/<repository>``), the
layout the backend's ``VIBERATOR_WORKER_IMAGE_PREFIX`` expects, so two environments in one account never
share a tag.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from core import app_contract
from core.app_contract import WorkerImage
from core.iam import Statement, policy_document
from imports.aws import (
    EcrLifecyclePolicy,
    EcrRepository,
    EcrRepositoryEncryptionConfiguration,
    EcrRepositoryImageScanningConfiguration,
    EcrRepositoryImageTagMutabilityExclusionFilter,
    EcrRepositoryPolicy,
)
from imports.cdktf import Construct
from modules import lifecycle
from modules.account import Account
from modules.encryption import EnvironmentKey

UNTAGGED_DAYS = 7
MOVING_TAGS = "*latest"


def lifecycle_rules(keep: int, run_tag: str) -> str:
    """Never expire the image tagged ``run_tag``; expire untagged images after a week; keep the newest
    ``keep`` images.

    The first rule selects only the image tagged ``run_tag`` and expires it only beyond one image (never):
    ECR does not let a lower-priority rule expire an image a higher-priority rule's tag selection matches,
    so the image the backend runs stays however old it is (after a rollback moved the tag back, say).
    Lambda clankers are created and updated with ``<repository>:latest`` and pin the digest the tag had
    then (apps/platform-backend/src/provisioning/strategies/LambdaFunctionProvisioner.ts): that image is
    the current ``latest``, or one of the newest ``keep`` while fewer than ``keep`` newer images were pushed.
    """
    rules: list[dict[str, object]] = [
        {
            "rulePriority": 1,
            "description": f"never expire the image tagged {run_tag} (the one the application runs)",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": [run_tag],
                "countType": "imageCountMoreThan",
                "countNumber": 1,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "description": f"expire untagged images after {UNTAGGED_DAYS} days",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": UNTAGGED_DAYS,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 3,
            "description": f"keep the newest {keep} images",
            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep},
            "action": {"type": "expire"},
        },
    ]
    return json.dumps({"rules": rules})


class Repository(Construct):
    """One ECR repository: scan on push, KMS, per-commit tags immutable, ``*latest`` movable.

    :param name: repository name.
    :param key: the KMS key that encrypts images.
    :param keep: images kept.
    :param run_tag: the moving tag the application runs; its image never expires.
    :param protect: ``prevent_destroy``. Default: ``False``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        key: EnvironmentKey,
        keep: int,
        run_tag: str,
        protect: bool = False,
    ) -> None:
        super().__init__(scope, id)
        self.repository = EcrRepository(
            self,
            "repository",
            name=name,
            # Tags are immutable except the moving `latest` pointers the deploy tools update.
            image_tag_mutability="IMMUTABLE_WITH_EXCLUSION",
            image_tag_mutability_exclusion_filter=[
                EcrRepositoryImageTagMutabilityExclusionFilter(filter=MOVING_TAGS, filter_type="WILDCARD")
            ],
            image_scanning_configuration=EcrRepositoryImageScanningConfiguration(scan_on_push=True),
            encryption_configuration=[EcrRepositoryEncryptionConfiguration(encryption_type="KMS", kms_key=key.arn)],
            force_delete=False,
            lifecycle=lifecycle.keep(protect),
        )
        EcrLifecyclePolicy(self, "lifecycle", repository=self.repository.name, policy=lifecycle_rules(keep, run_tag))

    @property
    def url(self) -> str:
        return self.repository.repository_url

    @property
    def arn(self) -> str:
        return self.repository.arn


class WorkerRegistry(Construct):
    """This environment's worker repositories: ``<prefix>/<repository>`` for each catalog image.

    :param images: the application's worker image catalog.
    :param prefix: the path prefix (``workers.image_prefix``, default the environment name).
    :param account: account and region (the registry host).
    :param key: the KMS key that encrypts images.
    :param keep: images kept per repository.
    :param protect: ``prevent_destroy`` on the repositories. Default: ``False``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        images: Sequence[WorkerImage],
        prefix: str,
        account: Account,
        key: EnvironmentKey,
        keep: int,
        protect: bool = False,
    ) -> None:
        super().__init__(scope, id)
        self.prefix = prefix
        self.host = f"{account.id}.dkr.ecr.{account.region}.amazonaws.com"
        self.repositories = {
            image.variant: Repository(
                self,
                image.variant,
                name=f"{prefix}/{image.repository}",
                key=key,
                keep=keep,
                run_tag=app_contract.RUN_TAG,
                protect=protect,
            )
            for image in images
        }

    def uri(self, variant: str) -> str:
        """``<registry host>/<prefix>/<repository>`` of a catalog image (no tag)."""
        return self.repositories[variant].url

    @property
    def arns(self) -> list[str]:
        return [self.repositories[variant].arn for variant in sorted(self.repositories)]

    def allow_lambda_pulls(self, variant: str, *, source_arn: str) -> EcrRepositoryPolicy:
        """Let the Lambda service pull ``variant``'s images for functions matching ``source_arn``: Lambda
        reads a function's image with its own principal, not the function's role."""
        repository = self.repositories[variant]
        return EcrRepositoryPolicy(
            self,
            f"{variant}-lambda-pull",
            repository=repository.repository.name,
            policy=lambda_pull_policy(source_arn),
        )


def lambda_pull_policy(source_arn: str) -> str:
    """The repository policy: the Lambda service may pull, only for the backend's functions."""
    return policy_document(
        [
            Statement(
                sid="LambdaPullsClankerImages",
                principals={"Service": "lambda.amazonaws.com"},
                actions=app_contract.LAMBDA_PULL_ACTIONS,
                conditions={"StringLike": {"aws:sourceArn": source_arn}},
            )
        ]
    )
