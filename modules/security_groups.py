"""Security groups with rules as separate resources, so other stacks can add to a group they receive."""

from __future__ import annotations

from imports.aws import SecurityGroup, Vpc, VpcSecurityGroupEgressRule, VpcSecurityGroupIngressRule
from imports.cdktf import Construct


class Firewall(Construct):
    """A security group with no rules until a stack states them.

    ``allow_from`` / ``allow_to`` take another :class:`Firewall` (group to group, never CIDR ranges between
    tiers); ``allow_from_cidr`` / ``allow_to_cidr`` are for the VPC and the internet.

    :param name: the group name (unique per VPC).
    :param description: what the group protects.
    :param vpc: the VPC it belongs to.
    """

    def __init__(self, scope: Construct, id: str, *, name: str, description: str, vpc: Vpc) -> None:
        super().__init__(scope, id)
        self.key = id
        self.group = SecurityGroup(
            self,
            "group",
            name=name,
            description=description,
            vpc_id=vpc.id,
            tags={"Name": name},
        )

    @property
    def id(self) -> str:
        return self.group.id

    @property
    def arn(self) -> str:
        return self.group.arn

    def allow_from(self, source: Firewall, port: int, description: str, *, scope: Construct | None = None) -> None:
        """Ingress on TCP ``port`` from members of ``source``.

        :param scope: where the rule resource lives. Default: this group's construct. A stack that
            received the group from another stack passes itself, so the rule is part of its own state.
        """
        VpcSecurityGroupIngressRule(
            scope or self,
            f"{self.key}-in-{source.key}-{port}" if scope else f"in-{source.key}-{port}",
            security_group_id=self.id,
            referenced_security_group_id=source.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=description,
        )

    def allow_from_cidr(self, cidr: str, port: int, description: str, *, rule_id: str) -> None:
        """Ingress on TCP ``port`` from an address range (the VPC, or the internet for the ALB)."""
        VpcSecurityGroupIngressRule(
            self,
            f"in-{rule_id}-{port}",
            security_group_id=self.id,
            cidr_ipv4=cidr,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=description,
        )

    def allow_from_prefix_list(self, prefix_list_id: str, port: int, description: str, *, rule_id: str) -> None:
        """Ingress on TCP ``port`` from a managed prefix list (CloudFront's origin-facing addresses)."""
        VpcSecurityGroupIngressRule(
            self,
            f"in-{rule_id}-{port}",
            security_group_id=self.id,
            prefix_list_id=prefix_list_id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=description,
        )

    def allow_to(self, target: Firewall, port: int, description: str) -> None:
        """Egress on TCP ``port`` to members of ``target``."""
        VpcSecurityGroupEgressRule(
            self,
            f"out-{target.key}-{port}",
            security_group_id=self.id,
            referenced_security_group_id=target.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=description,
        )

    def allow_to_cidr(self, cidr: str, port: int, description: str, *, rule_id: str) -> None:
        """Egress on TCP ``port`` to an address range."""
        VpcSecurityGroupEgressRule(
            self,
            f"out-{rule_id}-{port}",
            security_group_id=self.id,
            cidr_ipv4=cidr,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=description,
        )

    def allow_all_egress(self, description: str) -> None:
        """Every protocol to anywhere (workers call arbitrary model and Git APIs)."""
        VpcSecurityGroupEgressRule(
            self,
            "out-all",
            security_group_id=self.id,
            cidr_ipv4="0.0.0.0/0",
            ip_protocol="-1",
            description=description,
        )
