"""The architecture as data, read from the synthesized stacks (standard library only); ``ops diagram`` draws it.

Every resource type the stacks synthesize is classified in one of four tables:

- ``KINDS``: architecture (a VPC, a load balancer, a bucket, ...): drawn with an AWS icon in the picture of its
  stack, and, by its ``overview`` mode, as a node of the overview, folded into the node that uses it (a task
  definition into its service, a role into its task definition), or left out of the overview;
- ``ALIASES``: a resource that stands for another one (a certificate validation for its certificate, a listener
  for its load balancer): a reference to it counts as a reference to that one;
- ``GLUE``: a resource that connects two others (a listener forwards its load balancer to a target group, a
  role policy grants a role access to what it names, an event target lets a rule trigger a function);
- ``DETAIL``: known parts that no picture draws (routes, bucket settings, lifecycle policies, ...).

A type in none of them stops the command (``UnclassifiedTypes``), so a new kind of component cannot silently stay
out of the pictures. Edges come only from what Terraform will resolve: references between resources,
cross-stack values (cdktf's ``terraform_remote_state`` outputs), glue resources, security-group rules between
the groups' members, and IAM trust policies (who may assume a role: a service, GitHub Actions, HCP Terraform).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OVERVIEW_EDGE_BUDGET = 40


@dataclass(frozen=True)
class Kind:
    """How one resource type is drawn."""

    label: str
    icon: str  # a node class of the `diagrams` package, relative to ``diagrams.``
    tier: str  # a key of TIERS
    overview: str = "node"  # node: its own overview node; fold: inside the node that uses it; omit
    group: str = "each"  # pictures of a stack: each (one node per resource), type (one per stack), or a _GROUPS key
    overview_group: str = "each"  # overview: each, or type (one node per stack and type, with a count)
    fold_fallback: str = ""  # fold: with no user in its stack, join the one resource of this type there
    references: bool = True  # False: its references describe (parameters), they are not dependencies
    public: bool = False  # what users reach (DNS, CDN, load balancer, hosted frontend)
    forwards: bool = False  # public, and passes requests on: users reach what it points at through it


# Tier: the column it belongs to on the request path (left to right); the overview draws only edges between
# tiers listed in OVERVIEW_FLOWS, so a parameter or an alarm pointing at everything adds no lines.
TIERS = ("actor", "entry", "compute", "data", "images", "observe", "identity", "security", "network", "terraform")
OVERVIEW_FLOWS = frozenset(
    {
        ("actor", "entry"), ("actor", "identity"), ("actor", "terraform"),
        ("entry", "entry"), ("entry", "compute"), ("entry", "data"),
        ("compute", "compute"), ("compute", "data"), ("compute", "images"), ("compute", "observe"),
        ("data", "compute"),
        ("identity", "entry"), ("identity", "compute"), ("identity", "data"), ("identity", "images"),
        ("observe", "observe"), ("terraform", "identity"),
    }
)  # fmt: skip
# A resource folds into a user of one of these tiers only (an alarm names a cluster; it does not own it).
OWNER_TIERS = frozenset({"entry", "compute", "data", "identity", "terraform"})

_ROLE = "aws.security.IdentityAndAccessManagementIamRole"
KINDS: dict[str, Kind] = {
    # entry: how requests arrive
    "aws_route53_zone": Kind("Route 53 zone", "aws.network.Route53HostedZone", "entry", group="type",
                             overview_group="type", public=True, forwards=True),
    "aws_route53_record": Kind("Route 53 records", "aws.network.Route53", "entry", group="type",
                               overview_group="type", public=True, forwards=True),
    "aws_cloudfront_distribution": Kind("CloudFront", "aws.network.CloudFront", "entry", public=True, forwards=True),
    "aws_wafv2_web_acl": Kind("WAF web ACL", "aws.security.WAF", "entry"),
    "aws_alb": Kind("load balancer", "aws.network.ElbApplicationLoadBalancer", "entry", public=True, forwards=True),
    "aws_lb": Kind("load balancer", "aws.network.ElbApplicationLoadBalancer", "entry", public=True, forwards=True),
    "aws_alb_target_group": Kind("target group", "aws.network.ElasticLoadBalancing", "entry", overview="fold"),
    "aws_lb_target_group": Kind("target group", "aws.network.ElasticLoadBalancing", "entry", overview="fold"),
    "aws_apigatewayv2_api": Kind("API Gateway", "aws.network.APIGateway", "entry", public=True, forwards=True),
    "aws_api_gateway_rest_api": Kind("API Gateway", "aws.network.APIGateway", "entry", public=True, forwards=True),
    "aws_amplify_app": Kind("Amplify app", "aws.mobile.Amplify", "entry", public=True),
    # compute: what runs
    "aws_ecs_service": Kind("ECS service", "aws.compute.ElasticContainerServiceService", "compute"),
    "aws_ecs_cluster": Kind("ECS cluster", "aws.compute.ElasticContainerService", "compute", overview="fold"),
    "aws_ecs_task_definition": Kind("task definition", "aws.compute.ElasticContainerServiceTask", "compute",
                                    overview="fold", fold_fallback="aws_ecs_cluster"),
    "aws_lambda_function": Kind("Lambda function", "aws.compute.LambdaFunction", "compute"),
    "aws_sfn_state_machine": Kind("Step Functions", "aws.integration.StepFunctions", "compute"),
    "aws_batch_compute_environment": Kind("Batch", "aws.compute.Batch", "compute"),
    "aws_instance": Kind("EC2 instance", "aws.compute.EC2Instance", "compute"),
    "aws_cloudwatch_event_rule": Kind("EventBridge rule", "aws.integration.EventbridgeRule", "compute"),
    "aws_cloudwatch_event_bus": Kind("EventBridge bus", "aws.integration.Eventbridge", "compute"),
    "aws_scheduler_schedule": Kind("EventBridge schedule", "aws.integration.EventbridgeScheduler", "compute"),
    # data: what it keeps
    "aws_db_instance": Kind("RDS", "aws.database.RDS", "data"),
    "aws_rds_cluster": Kind("Aurora", "aws.database.Aurora", "data"),
    "aws_dynamodb_table": Kind("DynamoDB", "aws.database.DynamodbTable", "data"),
    "aws_elasticache_cluster": Kind("ElastiCache", "aws.database.Elasticache", "data"),
    "aws_elasticache_replication_group": Kind("ElastiCache", "aws.database.Elasticache", "data"),
    "aws_efs_file_system": Kind("EFS", "aws.storage.ElasticFileSystemEFS", "data"),
    "aws_s3_bucket": Kind("S3", "aws.storage.SimpleStorageServiceS3Bucket", "data"),
    "aws_ssm_parameter": Kind("SSM parameters", "aws.management.SystemsManagerParameterStore", "data",
                              group="ssm", overview_group="type", references=False),
    "aws_secretsmanager_secret": Kind("Secrets Manager", "aws.security.SecretsManager", "data"),
    "aws_sqs_queue": Kind("SQS", "aws.integration.SimpleQueueServiceSqsQueue", "data"),
    # images
    "aws_ecr_repository": Kind("ECR", "aws.compute.EC2ContainerRegistry", "images", group="ecr", overview_group="type"),
    # observe
    "aws_cloudwatch_log_group": Kind("CloudWatch Logs", "aws.management.CloudwatchLogs", "observe", group="type",
                                     overview_group="type"),
    "aws_cloudwatch_metric_alarm": Kind("CloudWatch alarms", "aws.management.CloudwatchAlarm", "observe",
                                        group="type", overview_group="type"),
    "aws_sns_topic": Kind("SNS topic", "aws.integration.SimpleNotificationServiceSnsTopic", "observe"),
    # identity and keys
    "aws_iam_role": Kind("IAM role", _ROLE, "identity", overview="fold"),
    "aws_iam_openid_connect_provider": Kind("OIDC provider", "aws.security.IdentityAndAccessManagementIamAWSSts",
                                            "identity", overview="omit"),
    "aws_kms_key": Kind("KMS key", "aws.security.KeyManagementService", "security"),
    "aws_acm_certificate": Kind("ACM certificate", "aws.security.CertificateManager", "security", overview="omit"),
    # network: drawn in the base picture; the overview shows the VPC only
    "aws_vpc": Kind("VPC", "aws.network.VPC", "network"),
    "aws_subnet": Kind("subnets", "aws.network.PrivateSubnet", "network", overview="omit", group="subnet"),
    "aws_internet_gateway": Kind("internet gateway", "aws.network.InternetGateway", "network", overview="omit"),
    "aws_nat_gateway": Kind("NAT gateways", "aws.network.NATGateway", "network", overview="omit", group="type"),
    "aws_security_group": Kind("security group", "aws.network.Nacl", "network", overview="omit"),
    "aws_flow_log": Kind("VPC flow logs", "aws.network.VPCFlowLogs", "network", overview="omit"),
    # HCP Terraform (a stack with the tfe provider)
    "tfe_project": Kind("HCP Terraform project", "onprem.iac.Terraform", "terraform", group="type",
                        overview_group="type"),
    "tfe_workspace": Kind("HCP Terraform workspaces", "onprem.iac.Terraform", "terraform", group="type",
                          overview_group="type"),
}  # fmt: skip

# A reference to one of these is a reference to the resource its attribute names.
ALIASES: dict[str, str] = {
    "aws_acm_certificate_validation": "certificate_arn",
    "aws_amplify_branch": "app_id",
    "aws_amplify_domain_association": "app_id",
    "aws_kms_alias": "target_key_id",
    "aws_ecs_cluster_capacity_providers": "cluster_name",
    "aws_secretsmanager_secret_version": "secret_id",
    "aws_alb_listener": "load_balancer_arn",
    "aws_lb_listener": "load_balancer_arn",
}


@dataclass(frozen=True)
class Glue:
    source: str  # the attribute naming where the connection starts; every other reference is where it goes
    label: str
    style: str = "solid"


GLUE: dict[str, Glue] = {
    "aws_alb_listener": Glue("load_balancer_arn", "forwards"),
    "aws_lb_listener": Glue("load_balancer_arn", "forwards"),
    "aws_alb_listener_rule": Glue("listener_arn", "forwards"),
    "aws_lb_listener_rule": Glue("listener_arn", "forwards"),
    "aws_alb_target_group_attachment": Glue("target_group_arn", "targets"),
    "aws_lb_target_group_attachment": Glue("target_group_arn", "targets"),
    "aws_iam_role_policy": Glue("role", "", "dashed"),
    "aws_iam_role_policy_attachment": Glue("role", "", "dashed"),
    "aws_cloudwatch_event_target": Glue("rule", "triggers"),
    "aws_lambda_event_source_mapping": Glue("event_source_arn", "triggers"),
    "aws_sns_topic_subscription": Glue("topic_arn", "notifies"),
    "aws_s3_bucket_notification": Glue("bucket", "notifies"),
    "aws_wafv2_web_acl_association": Glue("web_acl_arn", "protects"),
    "aws_lambda_permission": Glue("function_name", "invoked by"),
}
# Security-group rules connect the members of two groups (handled apart from GLUE: members, not groups).
SG_RULES = frozenset({"aws_vpc_security_group_ingress_rule", "aws_security_group_rule"})
# A policy document: attaching it grants what it names.
POLICIES = frozenset({"aws_iam_policy"})

DETAIL = frozenset(
    {
        "aws_appautoscaling_policy", "aws_appautoscaling_target", "aws_cloudfront_cache_policy",
        "aws_cloudfront_function", "aws_cloudfront_origin_access_control", "aws_cloudfront_origin_request_policy",
        "aws_cloudfront_response_headers_policy", "aws_cloudwatch_dashboard", "aws_cloudwatch_log_resource_policy",
        "aws_db_parameter_group", "aws_db_subnet_group", "aws_default_security_group", "aws_ecr_lifecycle_policy",
        "aws_ecr_repository_policy", "aws_ecr_registry_scanning_configuration", "aws_eip",
        "aws_elasticache_subnet_group", "aws_iam_instance_profile", "aws_iam_service_linked_role",
        "aws_kms_key_policy", "aws_route", "aws_route_table", "aws_route_table_association",
        "aws_s3_bucket_acl", "aws_s3_bucket_cors_configuration", "aws_s3_bucket_lifecycle_configuration",
        "aws_s3_bucket_logging", "aws_s3_bucket_ownership_controls", "aws_s3_bucket_policy",
        "aws_s3_bucket_public_access_block", "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_versioning", "aws_secretsmanager_secret_policy", "aws_secretsmanager_secret_rotation",
        "aws_sns_topic_policy", "aws_sqs_queue_policy", "aws_vpc_endpoint", "aws_vpc_security_group_egress_rule",
        "random_id", "random_password", "random_string", "terraform_data", "null_resource", "time_sleep",
        "tfe_variable", "tfe_variable_set", "tfe_workspace_variable_set", "tfe_project_variable_set",
        "tfe_workspace_settings", "tfe_team", "tfe_team_access", "tfe_team_project_access",
    }
)  # fmt: skip

# Who may assume a role, from its trust policy: a principal naming one of these makes the role an overview node
# (with an actor drawn outside the stacks for a federated principal).
ACTORS = {
    "users": ("Users", "onprem.client.Users"),
    "github": ("GitHub Actions", "onprem.ci.GithubActions"),
    "hcp": ("HCP Terraform", "onprem.iac.Terraform"),
}
FEDERATED = {"token.actions.githubusercontent.com": "github", "app.terraform.io": "hcp"}
# A role a service assumes that is used by nothing in its stack stands for that service's resources, created
# at run time (Lambda functions the backend creates with this role, for example).
SERVICE_ROLES = {"lambda.amazonaws.com": Kind("Lambda functions", "aws.compute.Lambda", "compute")}

_REF = re.compile(r"(?<![\w.-])([a-z][a-z0-9]*_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_]")
_REMOTE = re.compile(r"data\.terraform_remote_state\.cross-stack-reference-input-([A-Za-z0-9_-]+)\.outputs\.([\w-]+)")
_SG_ATTRS = frozenset({"security_groups", "vpc_security_group_ids", "security_group_ids"})


class UnclassifiedTypes(ValueError):
    def __init__(self, types: list[str]) -> None:
        super().__init__(
            f"resource types the pictures do not know: {', '.join(types)}; classify each in ops/architecture.py "
            "(KINDS: drawn; ALIASES/GLUE: connects others; DETAIL: left out)"
        )
        self.types = types


Res = tuple[str, str, str]  # (stack, type, key)


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    icon: str
    tier: str
    cluster: str  # stack name, or "" outside every stack (actors)
    types: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str = ""
    style: str = "solid"  # solid: reference or flow; dashed: IAM grant or trust; dotted: cross-stack; bold: SG rule


@dataclass
class Picture:
    title: str
    home: str = ""  # the stack a stack picture is about ("" for the overview)
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    @property
    def types(self) -> set[str]:
        return {t for node in self.nodes.values() for t in node.types}


@dataclass(frozen=True)
class Link:
    """One connection between two resources, before it is drawn."""

    source: Res
    target: Res
    label: str = ""
    style: str = "solid"
    actor: str = ""  # the source is this actor (ACTORS key), not a resource


def load(synth_dir: Path) -> dict[str, dict[str, Any]]:
    files = sorted((synth_dir / "stacks").glob("*/cdk.tf.json"))
    if not files:
        raise FileNotFoundError(f"no stacks under {synth_dir}/stacks: synthesize first (make synth)")
    return {f.parent.name: json.loads(f.read_text()) for f in files}


def _strings(value: Any, skip: frozenset[str] = frozenset()) -> Iterator[tuple[str, str]]:
    """(attribute name, string) of every string in ``value``, with the name of the innermost key."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        key, item = stack.pop()
        if isinstance(item, dict):
            stack.extend((k, v) for k, v in item.items() if k not in skip)
        elif isinstance(item, list):
            stack.extend((key, v) for v in item)
        elif isinstance(item, str):
            yield key, item


class Architecture:
    """The resources of every stack, their kinds, and every connection between them."""

    def __init__(self, stacks: dict[str, dict[str, Any]]) -> None:
        self.stacks = {name: doc for name, doc in stacks.items() if "resource" in doc or "output" in doc}
        self.resources: dict[Res, dict[str, Any]] = {
            (stack, rtype, key): body
            for stack, doc in sorted(self.stacks.items())
            for rtype, items in sorted(doc.get("resource", {}).items())
            for key, body in sorted(items.items())
        }
        known = set(KINDS) | set(ALIASES) | set(GLUE) | SG_RULES | POLICIES | DETAIL
        unknown = sorted({rtype for _, rtype, _ in self.resources} - known)
        if unknown:
            raise UnclassifiedTypes(unknown)
        self.kinds: dict[Res, Kind] = {}
        self.trust: dict[Res, set[str]] = {}  # role -> services and federated hosts that may assume it
        for res, body in self.resources.items():
            if res[1] in KINDS:
                self.kinds[res] = KINDS[res[1]]
            if res[1] == "aws_iam_role":
                self.trust[res] = self._principals(res, body)
        self.links = self._links()
        # Names start with the project and environment (viberglass-prod-backend); the title says both.
        self.prefixes = {
            str(value).lower()
            for doc in self.stacks.values()
            for config in doc.get("provider", {}).get("aws", [])
            for tags in config.get("default_tags", [])
            for key, value in tags.get("tags", {}).items()
            if key in {"Project", "Environment"}
        }

    # --- references -------------------------------------------------------------------------------------------
    def refs(self, stack: str, text: str, seen: frozenset[Res] = frozenset()) -> Iterator[tuple[Res, bool]]:
        """(resource, crosses stacks) for every resource ``text`` references, aliases resolved."""
        for rtype, key in _REF.findall(text):
            res = (stack, rtype, key)
            if res in self.resources:
                yield from self._resolve(res, seen, remote=False)
        for source, output in _REMOTE.findall(text):
            value = self.stacks.get(source, {}).get("output", {}).get(output, {}).get("value", "")
            for res, _ in self.refs(source, json.dumps(value), seen):
                yield res, True

    def _resolve(self, res: Res, seen: frozenset[Res], remote: bool) -> Iterator[tuple[Res, bool]]:
        if res in seen:
            return
        attr = ALIASES.get(res[1])
        if attr is None:
            yield res, remote
            return
        for target, crossed in self.refs(res[0], json.dumps(self.resources[res].get(attr, "")), seen | {res}):
            yield target, remote or crossed

    def _refs_of(
        self, res: Res, attrs: frozenset[str] | None = None, skip: frozenset[str] = frozenset()
    ) -> Iterator[tuple[Res, bool]]:
        """What ``res`` references (from the attributes ``attrs`` only, when given), and whether across stacks."""
        body = self.resources[res]
        for name, text in _strings(body, skip | {"//", "depends_on", "lifecycle"}):
            if attrs is None or name in attrs:
                for target, remote in self.refs(res[0], text):
                    if target != res:
                        yield target, remote

    def _principals(self, res: Res, body: dict[str, Any]) -> set[str]:
        try:
            document = json.loads(body.get("assume_role_policy", "{}"))
        except (TypeError, ValueError):
            return set()
        found: set[str] = set()
        for statement in document.get("Statement", []):
            principal = statement.get("Principal", {})
            if not isinstance(principal, dict):
                continue
            for value in _strings({"Service": principal.get("Service", [])}):
                found.add(value[1])
            for _, federated in _strings(principal.get("Federated", [])):
                found.update(host for host in FEDERATED if host in federated)
                for target, _ in self.refs(res[0], federated):  # an OIDC provider created by the stacks
                    url = str(self.resources[target].get("url", ""))
                    found.update(host for host in FEDERATED if host in url)
        return found

    # --- links ------------------------------------------------------------------------------------------------
    def _links(self) -> list[Link]:
        links: list[Link] = []
        members = self._sg_members()
        for res, body in self.resources.items():
            rtype = res[1]
            if rtype in KINDS and KINDS[rtype].references:
                skip = frozenset({"assume_role_policy"})
                links += [
                    Link(res, t, style="dotted" if remote else "solid") for t, remote in self._refs_of(res, skip=skip)
                ]
            if rtype in GLUE:
                glue = GLUE[rtype]
                sources = [t for t, _ in self._refs_of(res, frozenset({glue.source}))]
                targets = [t for t, _ in self._refs_of(res, skip=frozenset({glue.source}))]
                targets = [x for t in targets for x in self._expand(t)]
                links += [Link(s, t, glue.label, glue.style) for s in sources for t in targets if s != t]
            if rtype in SG_RULES:
                links += self._sg_links(res, body, members)
        for role, principals in self.trust.items():
            for actor in sorted({FEDERATED[p] for p in principals if p in FEDERATED}):
                links.append(Link(role, role, "assumes", "dashed", actor=actor))
        return links

    def _expand(self, res: Res) -> list[Res]:
        """A policy document stands for what it names."""
        if res[1] not in POLICIES:
            return [res]
        return [t for t, _ in self._refs_of(res)]

    def _sg_members(self) -> dict[Res, list[Res]]:
        members: dict[Res, list[Res]] = {}
        for res in self.kinds:
            for group, _ in self._refs_of(res, _SG_ATTRS):
                if group[1] == "aws_security_group":
                    members.setdefault(group, []).append(res)
        return members

    def _sg_links(self, res: Res, body: dict[str, Any], members: dict[Res, list[Res]]) -> list[Link]:
        if body.get("type", "ingress") != "ingress":
            return []
        to = [g for g, _ in self._refs_of(res, frozenset({"security_group_id"}))]
        frm = [
            g for g, _ in self._refs_of(res, frozenset({"referenced_security_group_id", "source_security_group_id"}))
        ]
        port = body.get("from_port")
        label = f"tcp/{port}" if port is not None else ""
        links = [Link(a, b, label, "bold") for a in frm for b in to]
        # The same rule between the groups' members: what the overview draws.
        links += [
            Link(m, n, label, "member") for a in frm for b in to for m in members.get(a, []) for n in members.get(b, [])
        ]
        return links

    # --- what each resource is drawn as -----------------------------------------------------------------------
    def name(self, res: Res) -> str:
        """A resource's name, without the project and environment it starts with."""
        folder, slash, name = self._name(res).rpartition("/")
        parts = name.split("-")
        while len(parts) > 1 and parts[0].lower() in self.prefixes:
            parts = parts[1:]
        return folder + slash + "-".join(parts)

    def _name(self, res: Res) -> str:
        body = self.resources[res]
        for attr in ("name", "identifier", "bucket", "family", "function_name", "domain_name", "cluster_identifier"):
            value = body.get(attr)
            if isinstance(value, str) and value and "${" not in value:
                return value
        tag = body.get("tags", {}).get("Name") if isinstance(body.get("tags"), dict) else None
        if isinstance(tag, str) and "${" not in tag:
            return tag
        for other, other_body in self.resources.items():  # an alias naming it (a KMS key's alias)
            named = other[0] == res[0] and other[1] in ALIASES and isinstance(other_body.get("name"), str)
            if named and any(t == res for t, _ in self._refs_of(other, frozenset({ALIASES[other[1]]}))):
                return str(other_body["name"])
        return res[2].rsplit("_", 1)[0]

    def detail_node(self, res: Res) -> tuple[str, str, str]:
        """(node id, label, icon) of a resource in the picture of its stack; repetitive resources share a node."""
        stack, rtype, key = res
        kind = self.kinds[res]
        same = [r for r in self.kinds if r[0] == stack and r[1] == rtype]
        if kind.group == "subnet":
            tier = "public" if self.resources[res].get("map_public_ip_on_launch") else "private"
            icon = "aws.network.PublicSubnet" if tier == "public" else kind.icon
            count = sum(1 for r in same if bool(self.resources[r].get("map_public_ip_on_launch")) == (tier == "public"))
            return _id(stack, rtype, tier), f"{tier} subnets ({count})", icon
        if kind.group == "ssm":
            group = self._ssm_group(res)
            count = sum(1 for r in same if self._ssm_group(r) == group)
            return _id(stack, rtype, group), f"{kind.label}\n{group} ({count})", kind.icon
        if kind.group == "type" or (kind.group == "ecr" and len(same) > 3):
            return _id(stack, rtype), _counted(kind.label, len(same)), kind.icon
        return _id(stack, rtype, key), f"{kind.label}\n{self.name(res)}", kind.icon

    def _ssm_group(self, res: Res) -> str:
        """/viberglass/<env>/database/url -> database; the deploy-discovery paths share one group."""
        parts = self._name(res).split("/")
        group = parts[3] if len(parts) > 4 else "other"
        return "discovery" if group in {"deployment", "ecs", "alb", "frontend", "amplify", "alarms"} else group

    def users_of(self, res: Res) -> list[Res]:
        """Resources of the same stack that reference ``res`` directly (not through glue, not across stacks)."""
        return sorted(
            {
                link.source
                for link in self.links
                if link.target == res and link.source[0] == res[0] and link.style == "solid" and not link.label
                and not link.actor and link.source in self.kinds and self.kinds[link.source].tier in OWNER_TIERS
            }
        )  # fmt: skip

    def overview_kind(self, res: Res) -> Kind | None:
        """The kind a resource is drawn as in the overview when it is a node of its own (roles by their trust)."""
        kind = self.kinds[res]
        if res[1] == "aws_iam_role":
            principals = self.trust.get(res, set())
            if principals & set(FEDERATED):
                return Kind(kind.label, kind.icon, "identity")
            if self._overview_fold(res, set()) is None:
                for service, role_kind in SERVICE_ROLES.items():
                    if service in principals:
                        return role_kind
            return None
        return kind if kind.overview == "node" else None

    def overview_node(self, res: Res, seen: set[Res] | None = None) -> str | None:
        """The overview node a resource belongs to, or None when the overview leaves it out."""
        seen = seen if seen is not None else set()
        kind = self.overview_kind(res)
        if kind is not None:
            if kind.overview_group == "type":
                return _id("ov", res[0], res[1])
            return _id("ov", *res)
        if self.kinds[res].overview != "fold":
            return None
        return self._overview_fold(res, seen)

    def _overview_fold(self, res: Res, seen: set[Res]) -> str | None:
        if res in seen:
            return None
        seen.add(res)
        for user in self.users_of(res):
            node = self.overview_node(user, seen)
            if node is not None:
                return node
        fallback = self.kinds[res].fold_fallback
        if fallback:
            candidates = [r for r in self.kinds if r[0] == res[0] and r[1] == fallback and not self.users_of(r)]
            if len(candidates) == 1:
                return self.overview_node(candidates[0], seen)
        if self.kinds[res].tier != "identity":
            return _id("ov", *res)  # nothing uses it: it stands for itself
        return None


def _id(*parts: str) -> str:
    return "_".join(re.sub(r"[^A-Za-z0-9]", "_", p) for p in parts)


def _counted(label: str, count: int) -> str:
    return f"{label} ({count})" if count > 1 else label


def overview(arch: Architecture, title: str) -> Picture:
    """The request and deploy paths: one node per component, edges only along OVERVIEW_FLOWS."""
    picture = Picture(title)
    primary = _overview_nodes(arch, picture)
    labels = _overview_flows(arch, picture)
    # Users reach the public entry points that nothing in front of them forwards to.
    fronted = {t for (s, t) in labels if s in primary and primary[s][1].forwards}
    public = [
        n for n, (res, kind) in sorted(primary.items())
        if kind.public and n not in fronted and not arch.resources[res].get("internal")
    ]  # fmt: skip
    for node in public:
        labels[(_actor(picture, "users"), node)] = set()
    for (source, target), names in sorted(labels.items()):
        ports = {n for n in names if n.startswith("tcp/")}
        style = "dashed" if names == {"assumes"} else "solid"
        picture.edges.append(Edge(source, target, ", ".join(sorted(ports or names)), style))
    return picture


def _overview_nodes(arch: Architecture, picture: Picture) -> dict[str, tuple[Res, Kind]]:
    """Add one node per overview component; return each node's primary resource and kind."""
    members: dict[str, list[Res]] = {}
    for res in arch.kinds:
        node = arch.overview_node(res)
        if node is not None:
            members.setdefault(node, []).append(res)
    primary: dict[str, tuple[Res, Kind]] = {}
    for node, resources in members.items():
        own = [(r, k) for r in resources if (k := arch.overview_kind(r)) is not None]
        res, kind = own[0] if own else (resources[0], arch.kinds[resources[0]])
        count = sum(1 for r in resources if r[1] == res[1])
        name = arch.name(res)
        if kind.overview_group == "type" and count > 1:
            label = f"{kind.label} ({count})"
        elif kind in SERVICE_ROLES.values():
            label = f"{kind.label}\nrole {name}"
        else:
            label = kind.label if name.lower() in kind.label.lower() else f"{kind.label}\n{name}"
        primary[node] = (res, kind)
        picture.nodes[node] = Node(node, label, kind.icon, kind.tier, res[0], frozenset(r[1] for r in resources))
    return primary


def _overview_flows(arch: Architecture, picture: Picture) -> dict[tuple[str, str], set[str]]:
    """(source node, target node) -> labels, for every link between two components along OVERVIEW_FLOWS."""
    labels: dict[tuple[str, str], set[str]] = {}
    for link in arch.links:
        if link.style == "bold" or link.target not in arch.kinds:
            continue
        target = arch.overview_node(link.target)
        if link.actor:
            source, source_tier = _id("actor", link.actor), "actor"
        else:
            node = arch.overview_node(link.source) if link.source in arch.kinds else None
            if node is None:
                continue
            source, source_tier = node, picture.nodes[node].tier
        if target is None or source == target or (source_tier, picture.nodes[target].tier) not in OVERVIEW_FLOWS:
            continue
        if link.actor:
            _actor(picture, link.actor)
        labels.setdefault((source, target), set()).update({link.label} if link.label else set())
    return labels


def _actor(picture: Picture, actor: str) -> str:
    node = _id("actor", actor)
    label, icon = ACTORS[actor]
    picture.nodes.setdefault(node, Node(node, label, icon, "actor", ""))
    return node


def stack_picture(arch: Architecture, stack: str, title: str) -> Picture:
    """Every drawn resource of one stack, with grants, security-group rules and the values other stacks give it."""
    picture = Picture(title, home=stack)
    for res in arch.kinds:
        if res[0] == stack:
            _add_detail(picture, arch, res)
    labels: dict[tuple[str, str, str], set[str]] = {}
    for link in arch.links:
        if link.source[0] != stack or link.style == "member" or link.target not in arch.kinds:
            continue
        if link.source not in arch.kinds:
            continue
        target = _add_detail(picture, arch, link.target)
        source = _actor(picture, link.actor) if link.actor else arch.detail_node(link.source)[0]
        if source == target:
            continue
        style = "dotted" if link.target[0] != stack and link.style == "solid" else link.style
        labels.setdefault((source, target, style), set()).update({link.label} if link.label else set())
    for (source, target, style), names in sorted(labels.items()):
        picture.edges.append(Edge(source, target, ", ".join(sorted(names)), style))
    return picture


def _add_detail(picture: Picture, arch: Architecture, res: Res) -> str:
    node, label, icon = arch.detail_node(res)
    existing = picture.nodes.get(node)
    types = frozenset({res[1]}) | (existing.types if existing else frozenset())
    picture.nodes[node] = Node(node, label, icon, arch.kinds[res].tier, res[0], types)
    return node


def pictures(stacks: dict[str, dict[str, Any]], title: str) -> dict[str, Picture]:
    """``overview`` plus one picture per stack, keyed by the file-name suffix."""
    arch = Architecture(stacks)
    drawn = {"overview": overview(arch, f"{title}: overview")}
    for stack in sorted(arch.stacks):
        if any(res[0] == stack for res in arch.kinds):
            drawn[stack] = stack_picture(arch, stack, f"{title}: {stack} stack")
    return drawn


def missing_types(stacks: dict[str, dict[str, Any]], drawn: dict[str, Picture]) -> list[str]:
    """Drawn kinds of resource present in the JSON but in no picture."""
    present = {rtype for doc in stacks.values() for rtype in doc.get("resource", {}) if rtype in KINDS}
    return sorted(present - {t for picture in drawn.values() for t in picture.types})
