"""What the application repository's deploy jobs may do in an environment: exactly the AWS calls of the
``ops`` commands this repository's reusable deploy workflows run, as data (placeholders as in
:mod:`core.app_contract`, filled by the stacks with references and by the tests with concrete values).

Three roles per environment, created by the stacks (exact ARNs, the environment's permissions boundary)
and trusted only for the application repository's GitHub Environment of the same name
(:func:`subject`):

* ``viberglass-<env>-backend-deploy`` (platform): push its image, copy its task definition with the new
  image, roll its service (``ops deploy backend``, ``ops registry-login``, ``ops discover``);
* ``viberglass-<env>-frontend-deploy`` (platform): release and follow Amplify jobs of its app
  (``ops deploy frontend``);
* ``viberglass-<env>-workers-deploy`` (workers): push the environment's worker images
  (``ops deploy workers``, ``ops registry-login``).

Extra placeholders: ``{discovery_arns}`` (every discovery parameter of the environment),
``{backend_service_arn}``, ``{backend_execution_role_arn}``, ``{backend_task_role_arn}``,
``{amplify_app_arn}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.app_contract import Permission

if TYPE_CHECKING:
    from config.schema import EnvironmentConfig

# role component -> the reusable workflow of this repository that assumes it
WORKFLOWS = {
    "backend-deploy": "deploy-backend.yml",
    "frontend-deploy": "deploy-frontend.yml",
    "workers-deploy": "deploy-viberators.yml",
}

_REGISTRY_LOGIN = Permission(
    "RegistryLogin",
    ("ecr:GetAuthorizationToken",),
    ("*",),
    "ops/workers.py registry_login (ops registry-login, docker login --password-stdin)",
    wildcard_reason="ecr:GetAuthorizationToken supports no resource-level permissions",
)
# docker push (and the pull of a base layer it may do) against one repository, as ECR documents it.
_PUSH = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)
_DISCOVERY = Permission(
    "ReadDiscovery", ("ssm:GetParameters",), ("{discovery_arns}",), "ops/discovery.py read (GetParameters)"
)

BACKEND_DEPLOY_PERMISSIONS: tuple[Permission, ...] = (
    _DISCOVERY,
    _REGISTRY_LOGIN,
    Permission(
        "PushBackendImage",
        (*_PUSH, "ecr:ListImages"),
        ("{backend_repository_arn}",),
        "docker push of the backend image; ops/images.py (ops push-image, ops/backend.py pinned: a tag's digest "
        "through BatchGetImage, short SHAs through ListImages, `latest` moved with PutImage)",
    ),
    Permission(
        "CopyTaskDefinition",
        ("ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"),
        ("*",),
        "ops/backend.py register (the running revision, copied with the image pinned to its digest)",
        wildcard_reason="ECS task-definition registration and description support no resource-level permissions",
    ),
    Permission(
        "RollService",
        ("ecs:DescribeServices", "ecs:UpdateService"),
        ("{backend_service_arn}",),
        "ops/backend.py current, point_at, steady (and the rollback to the previous revision on failure)",
    ),
    Permission(
        "PassBackendRoles",
        ("iam:PassRole",),
        ("{backend_execution_role_arn}", "{backend_task_role_arn}"),
        "RegisterTaskDefinition names the backend's execution and task roles",
        conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        context={"iam:PassedToService": "ecs-tasks.amazonaws.com"},
    ),
)

FRONTEND_DEPLOY_PERMISSIONS: tuple[Permission, ...] = (
    _DISCOVERY,
    Permission(
        "FindFrontend",
        ("amplify:GetApp", "amplify:ListDomainAssociations"),
        ("{amplify_app_arn}",),
        "ops/frontend.py frontend_url",
    ),
    Permission("ListFrontendJobs", ("amplify:ListJobs",), ("{amplify_app_arn}/branches/*",), "ops/frontend.py deploy"),
    Permission(
        "ReleaseFrontend",
        ("amplify:GetJob", "amplify:StartJob"),
        ("{amplify_app_arn}/branches/*/jobs/*",),
        "ops/frontend.py deploy (StartJob RELEASE, GetJob until it ends)",
    ),
)

WORKERS_DEPLOY_PERMISSIONS: tuple[Permission, ...] = (
    _REGISTRY_LOGIN,
    Permission(
        "PushWorkerImages",
        (*_PUSH, "ecr:ListImages"),
        ("{worker_repository_arns}",),
        "ops/workers.py deploy (docker build FROM the base image, docker push of every catalog image)",
    ),
)

ROLE_PERMISSIONS = {
    "backend-deploy": BACKEND_DEPLOY_PERMISSIONS,
    "frontend-deploy": FRONTEND_DEPLOY_PERMISSIONS,
    "workers-deploy": WORKERS_DEPLOY_PERMISSIONS,
}


def subject(cfg: EnvironmentConfig, role: str) -> str:
    """The one OIDC subject the deploy role ``role`` trusts: the application repository's GitHub Environment
    ``<env>`` (a reusable workflow's token names its caller), and, with ``github.app_deploy_workflow_ref``,
    the reusable workflow of this repository that the job must run (``job_workflow_ref``; AWS compares only
    ``sub``, so the application repository puts the claim there with GitHub's subject customization)."""
    github = cfg.github
    base = f"repo:{github.app_repository}:environment:{cfg.name}"
    if github.app_deploy_workflow_ref is None:
        return base
    workflow = f"{github.infra_repository}/.github/workflows/{WORKFLOWS[role]}@{github.app_deploy_workflow_ref}"
    return f"{base}:job_workflow_ref:{workflow}"
