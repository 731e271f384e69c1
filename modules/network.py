"""The VPC: public and private subnets per availability zone, internet and NAT gateways, flow logs.

Construct ids come from the zone letter (``public-a``), never from list positions, so adding a zone adds
resources without renaming the existing ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from core.iam import Statement, policy_document, service_trust
from core.naming import Naming
from core.network import az_key
from imports.aws import (
    DefaultSecurityGroup,
    Eip,
    FlowLog,
    IamRole,
    IamRolePolicy,
    InternetGateway,
    NatGateway,
    Route,
    RouteTable,
    RouteTableAssociation,
    Subnet,
    Vpc,
)
from imports.cdktf import Construct
from modules.account import Account
from modules.logs import LogGroup

NetworkMode = Literal["enterprise", "standard"]


class Network(Construct):
    """A two-tier VPC.

    ``enterprise`` mode: private subnets reach the internet through NAT gateways (one, or one per zone).
    ``standard`` mode: no NAT and no Elastic IP; tasks run in public subnets with public IPs, and the
    private subnets hold only what must never be reachable (the database).

    :param naming: the environment's naming.
    :param cidr: the VPC block.
    :param zones: availability zones, in order; one public and one private subnet each.
    :param public_cidrs: one block per zone, same order.
    :param private_cidrs: one block per zone, same order.
    :param mode: ``enterprise`` or ``standard``.
    :param single_nat_gateway: one NAT gateway for all zones (enterprise only). Default: ``False``.
    :param flow_log_group: send VPC flow logs (all traffic) here. Default: no flow logs.
    :param account: needed with ``flow_log_group`` (the delivery role's trust). Default: none.
    :param boundary: the environment's permissions boundary, on the flow-log delivery role. Needed with
        ``flow_log_group``. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        naming: Naming,
        cidr: str,
        zones: Sequence[str],
        public_cidrs: Sequence[str],
        private_cidrs: Sequence[str],
        mode: NetworkMode,
        single_nat_gateway: bool = False,
        flow_log_group: LogGroup | None = None,
        account: Account | None = None,
        boundary: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        if not (len(zones) == len(public_cidrs) == len(private_cidrs)):
            raise ValueError("one public and one private subnet per zone")
        self.cidr = cidr
        self.mode = mode
        self.vpc = Vpc(
            self,
            "vpc",
            cidr_block=cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": naming.name("vpc")},
        )
        # Adopting the default group with no rules removes AWS's allow-all-within-group defaults.
        DefaultSecurityGroup(self, "default-sg", vpc_id=self.vpc.id, tags={"Name": naming.name("default-locked")})
        igw = InternetGateway(self, "igw", vpc_id=self.vpc.id, tags={"Name": naming.name("igw")})

        public_rt = RouteTable(self, "public-rt", vpc_id=self.vpc.id, tags={"Name": naming.name("public")})
        Route(
            self, "public-default", route_table_id=public_rt.id, destination_cidr_block="0.0.0.0/0", gateway_id=igw.id
        )

        self.public_subnets: dict[str, Subnet] = {}
        self.private_subnets: dict[str, Subnet] = {}
        self.nat_gateways: dict[str, NatGateway] = {}
        for zone, public_cidr, private_cidr in zip(zones, public_cidrs, private_cidrs, strict=True):
            k = az_key(zone)
            public = Subnet(
                self,
                f"public-{k}",
                vpc_id=self.vpc.id,
                cidr_block=public_cidr,
                availability_zone=zone,
                # Public subnets host the ALB, NAT gateways and (standard mode) tasks that need public IPs.
                map_public_ip_on_launch=True,
                tags={"Name": naming.name(f"public-{k}"), "Tier": "public"},
            )
            RouteTableAssociation(self, f"public-{k}-rta", subnet_id=public.id, route_table_id=public_rt.id)
            self.public_subnets[k] = public
            self.private_subnets[k] = Subnet(
                self,
                f"private-{k}",
                vpc_id=self.vpc.id,
                cidr_block=private_cidr,
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={"Name": naming.name(f"private-{k}"), "Tier": "private"},
            )

        if mode == "enterprise":
            nat_zones = [az_key(zones[0])] if single_nat_gateway else [az_key(z) for z in zones]
            for k in nat_zones:
                eip = Eip(self, f"nat-{k}-eip", domain="vpc", tags={"Name": naming.name(f"nat-{k}")})
                self.nat_gateways[k] = NatGateway(
                    self,
                    f"nat-{k}",
                    allocation_id=eip.allocation_id,
                    subnet_id=self.public_subnets[k].id,
                    tags={"Name": naming.name(f"nat-{k}")},
                    depends_on=[igw],
                )

        # One private route table per zone in every mode: switching single_nat_gateway then changes only
        # routes, never the tables or their associations.
        for k, subnet in self.private_subnets.items():
            rt = RouteTable(self, f"private-{k}-rt", vpc_id=self.vpc.id, tags={"Name": naming.name(f"private-{k}")})
            RouteTableAssociation(self, f"private-{k}-rta", subnet_id=subnet.id, route_table_id=rt.id)
            nat = self.nat_gateways.get(k) or next(iter(self.nat_gateways.values()), None)
            if nat is not None:
                Route(
                    self,
                    f"private-{k}-default",
                    route_table_id=rt.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nat.id,
                )

        if flow_log_group is not None:
            if account is None or boundary is None:
                raise ValueError("flow logs need the account (the delivery role's trust) and the boundary")
            self._flow_logs(naming, account, flow_log_group, boundary)

    def _flow_logs(self, naming: Naming, account: Account, group: LogGroup, boundary: str) -> None:
        role = IamRole(
            self,
            "flow-logs-role",
            name=naming.name("vpc-flow-logs"),
            assume_role_policy=service_trust("vpc-flow-logs.amazonaws.com", account.id),
            permissions_boundary=boundary,
        )
        IamRolePolicy(
            self,
            "flow-logs-policy",
            role=role.id,
            name="deliver-to-log-group",
            policy=policy_document(
                [
                    Statement(
                        sid="DeliverFlowLogs",
                        actions=["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                        resources=[group.arn, f"{group.arn}:*"],
                    )
                ]
            ),
        )
        FlowLog(
            self,
            "flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
        )

    @property
    def workload_subnets(self) -> list[Subnet]:
        """Where tasks run: private subnets behind NAT (enterprise) or public subnets (standard)."""
        subnets = self.private_subnets if self.mode == "enterprise" else self.public_subnets
        return list(subnets.values())

    @property
    def tasks_need_public_ip(self) -> bool:
        return self.mode == "standard"
