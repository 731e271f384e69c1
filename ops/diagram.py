"""``ops diagram``: draw the architecture from the synthesized stacks (never by hand).

Reads ``<synth dir>/stacks/*/cdk.tf.json``, keeps the main resources (grouping the repetitive ones: subnets,
worker repositories, parameters), connects them by the references Terraform will resolve (security-group
rules, IAM grants, cross-stack values, plain references), and writes Graphviz DOT; ``dot`` renders it to
SVG and PNG. Standard library only. Fails when a main resource type present in the JSON is missing from
the picture.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.walk import strings

# Main resource types -> (label, shape). Everything else is detail the picture leaves out.
MAIN: dict[str, tuple[str, str]] = {
    "aws_vpc": ("VPC", "box3d"),
    "aws_subnet": ("subnets", "folder"),
    "aws_nat_gateway": ("NAT gateway", "octagon"),
    "aws_security_group": ("security group", "hexagon"),
    "aws_kms_key": ("KMS key", "diamond"),
    "aws_cloudwatch_log_group": ("log group", "note"),
    "aws_ecr_repository": ("ECR", "cylinder"),
    "aws_ecs_cluster": ("ECS cluster", "component"),
    "aws_ecs_task_definition": ("task definition", "tab"),
    "aws_ecs_service": ("ECS service", "component"),
    "aws_iam_role": ("IAM role", "house"),
    "aws_alb": ("ALB", "invtrapezium"),
    "aws_alb_target_group": ("target group", "trapezium"),
    "aws_db_instance": ("RDS PostgreSQL", "cylinder"),
    "aws_s3_bucket": ("S3", "cylinder"),
    "aws_ssm_parameter": ("SSM parameters", "folder"),
    "aws_amplify_app": ("Amplify app", "tab"),
    "aws_sns_topic": ("SNS topic", "cds"),
    "aws_acm_certificate": ("ACM certificate", "signature"),
    "aws_cloudfront_distribution": ("CloudFront", "invhouse"),
    "aws_cloudwatch_event_rule": ("EventBridge rule", "cds"),
    "aws_sfn_state_machine": ("Step Functions", "component"),
}
# Types that are architecture whenever they appear: drawn through MAIN, or the check fails (so a new kind
# of component added to a stack cannot silently stay out of the picture).
MUST_DRAW = frozenset(
    {
        *MAIN,
        "aws_lb", "aws_lambda_function", "aws_sqs_queue", "aws_dynamodb_table", "aws_instance",
        "aws_elasticache_cluster", "aws_elasticache_replication_group", "aws_rds_cluster",
        "aws_cloudfront_distribution", "aws_apigatewayv2_api", "aws_api_gateway_rest_api",
        "aws_efs_file_system", "aws_batch_compute_environment", "aws_sfn_state_machine",
        "aws_cloudwatch_event_rule", "aws_route53_zone", "aws_wafv2_web_acl", "aws_secretsmanager_secret",
    }
)  # fmt: skip
_REF = re.compile(r"\$\{(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.[a-z0-9_]+\}")
_REMOTE = re.compile(r"\$\{data\.terraform_remote_state\.cross-stack-reference-input-([a-z]+)\.outputs\.([^}]+)\}")


@dataclass
class Graph:
    nodes: dict[str, str] = field(default_factory=dict)  # id -> DOT attributes
    clusters: dict[str, list[str]] = field(default_factory=dict)  # stack -> node ids
    edges: set[tuple[str, str, str, str]] = field(default_factory=set)  # (from, to, label, style)
    members: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (stack, type, key) -> node id
    types: set[str] = field(default_factory=set)  # main types drawn


def _group(stack: str, rtype: str, body: dict[str, Any], key: str) -> tuple[str, str]:  # noqa: PLR0911 (one case per kind)
    """(node id, label) of a resource; repetitive resources share one node."""
    label, _ = MAIN[rtype]
    name = str(body.get("name") or body.get("identifier") or body.get("bucket") or body.get("family") or "")
    if rtype == "aws_subnet":
        tier = "public" if body.get("map_public_ip_on_launch") else "private"
        return f"{stack}_{tier}_subnets", f"{tier} subnets"
    if rtype == "aws_ecr_repository" and stack == "workers":
        return f"{stack}_worker_repositories", "ECR worker repositories"
    if rtype == "aws_ssm_parameter":
        parts = name.split("/")
        group = parts[3] if len(parts) > 3 and not name.startswith("${") else "parameters"
        kind = "discovery" if group in {"deployment", "ecs", "alb", "frontend", "amplify", "alarms"} else group
        return f"{stack}_ssm_{kind}", f"SSM {kind} parameters"
    if rtype == "aws_nat_gateway":
        return f"{stack}_nat", "NAT gateways"
    if rtype == "aws_acm_certificate":
        domain = body.get("domain_name", "")
        return f"{stack}_cert_{re.sub(r'[^a-z0-9]', '_', domain)}", f"ACM certificate\\n{domain}"
    if rtype == "aws_kms_key":
        return f"{stack}_kms_key", "KMS key\\n(environment key)"
    name = name or str(body.get("tags", {}).get("Name", ""))
    shown = name if name and "${" not in name else key.rsplit("_", 1)[0]
    return f"{stack}_{rtype}_{re.sub(r'[^A-Za-z0-9]', '_', key)}", f"{label}\\n{shown}"


def build(stacks: dict[str, dict[str, Any]]) -> Graph:  # noqa: PLR0912 (one pass per edge kind)
    """The graph of ``stacks`` (stack name -> synthesized JSON)."""
    graph = Graph()
    counts: dict[str, int] = {}
    for stack, doc in sorted(stacks.items()):
        for rtype, items in sorted(doc.get("resource", {}).items()):
            if rtype not in MAIN:
                continue
            for key, body in sorted(items.items()):
                node, label = _group(stack, rtype, body, key)
                counts[node] = counts.get(node, 0) + 1
                graph.members[(stack, rtype, key)] = node
                graph.types.add(rtype)
                graph.clusters.setdefault(stack, [])
                if node not in graph.clusters[stack]:
                    graph.clusters[stack].append(node)
                graph.nodes[node] = f'label="{label}", shape={MAIN[rtype][1]}'
    for node, count in counts.items():
        if count > 1:
            graph.nodes[node] = graph.nodes[node].replace('", shape', f' ({count})", shape', 1)
    outputs = {stack: doc.get("output", {}) for stack, doc in stacks.items()}

    def targets(stack: str, text: str) -> Iterator[tuple[str, bool]]:
        for rtype, key in _REF.findall(text):
            if (stack, rtype, key) in graph.members:
                yield graph.members[(stack, rtype, key)], False
        for source, output in _REMOTE.findall(text):
            exported = str(outputs.get(source, {}).get(output, {}).get("value", ""))
            for rtype, key in _REF.findall(exported):
                if (source, rtype, key) in graph.members:
                    yield graph.members[(source, rtype, key)], True

    for stack, doc in sorted(stacks.items()):
        resources = doc.get("resource", {})
        # Security-group rules: who may reach whom, on which port.
        for rule in resources.get("aws_vpc_security_group_ingress_rule", {}).values():
            source = rule.get("referenced_security_group_id")
            if not source:
                continue
            to = [n for n, _ in targets(stack, rule["security_group_id"])]
            frm = [n for n, _ in targets(stack, source)]
            for a in frm:
                for b in to:
                    graph.edges.add((a, b, f"tcp/{rule.get('from_port')}", "bold"))
        # IAM grants: a role's policy names resources -> role -> resource.
        for policy in resources.get("aws_iam_role_policy", {}).values():
            role_ref = _REF.findall(policy.get("role", ""))
            if not role_ref:
                continue
            role_node = graph.members.get((stack, "aws_iam_role", role_ref[0][1]))
            for target, _ in targets(stack, policy.get("policy", "")):
                if role_node and target != role_node:
                    graph.edges.add((role_node, target, "grants", "dashed"))
        # Every other reference between main resources (task definition -> roles, service -> cluster, ...).
        for rtype, items in resources.items():
            if rtype not in MAIN:
                continue
            for key, body in items.items():
                here = graph.members[(stack, rtype, key)]
                if rtype == "aws_ssm_parameter":
                    continue  # parameters point at everything they describe: noise, not architecture
                for text in strings({k: v for k, v in body.items() if k not in {"//", "policy"}}):
                    for target, remote in targets(stack, text):
                        if target != here:
                            style = ("", "dotted") if remote else ("", "solid")
                            graph.edges.add((here, target, *style))
    return graph


def to_dot(graph: Graph, title: str) -> str:
    lines = [
        "digraph viberglass {",
        f'  label="{title}"; labelloc=t; fontname="Helvetica"; fontsize=18;',
        "  rankdir=LR; compound=true; newrank=true; nodesep=0.3; ranksep=0.9;",
        '  node [fontname="Helvetica", fontsize=10, style=filled, fillcolor="#f5f7fa"];',
        '  edge [fontname="Helvetica", fontsize=8, color="#555555"];',
    ]
    for stack in sorted(graph.clusters):
        lines += [f"  subgraph cluster_{stack} {{", f'    label="{stack} stack"; style=rounded; color="#888888";']
        lines += [f"    {node} [{graph.nodes[node]}];" for node in sorted(graph.clusters[stack])]
        lines.append("  }")
    lines += [
        "  subgraph cluster_legend {",
        '    label="legend"; style=dashed; color="#aaaaaa"; fontsize=10;',
        '    legend [shape=plaintext, fillcolor=white, label="solid: reference\\ldashed: IAM grant\\l'
        'dotted: cross-stack value\\lbold: security-group rule\\l"];',
        "  }",
    ]
    for a, b, label, style in sorted(graph.edges):
        lines.append(f'  {a} -> {b} [label="{label}", style={style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def missing_types(stacks: dict[str, dict[str, Any]], graph: Graph) -> list[str]:
    """Architecture types present in the JSON but absent from the picture."""
    present = {t for doc in stacks.values() for t in doc.get("resource", {}) if t in MUST_DRAW}
    return sorted(present - graph.types)


def load(synth_dir: Path) -> dict[str, dict[str, Any]]:
    files = sorted((synth_dir / "stacks").glob("*/cdk.tf.json"))
    if not files:
        raise FileNotFoundError(f"no stacks under {synth_dir}/stacks: synthesize first (make synth)")
    return {f.parent.name: json.loads(f.read_text()) for f in files}


def render(dot_source: str, out_stem: Path) -> list[Path]:
    """SVG and PNG next to the DOT file, with Graphviz's `dot`."""
    dot = shutil.which("dot")
    if dot is None:
        raise FileNotFoundError("Graphviz `dot` is not installed (Debian: apt-get install graphviz)")
    written = []
    for fmt in ("svg", "png"):
        target = out_stem.with_suffix(f".{fmt}")
        command = [dot, f"-T{fmt}", "-Gdpi=110" if fmt == "png" else "-Gdpi=72", "-o", str(target)]
        subprocess.run(command, input=dot_source.encode(), check=True)  # noqa: S603 (fixed argv)
        written.append(target)
    return written
