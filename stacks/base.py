"""base: network, security groups, the environment key and the log groups every other stack writes to."""

from __future__ import annotations

from config.schema import EnvironmentConfig
from imports.cdktf import Construct, TerraformOutput
from modules.encryption import EnvironmentKey
from modules.logs import LogGroup
from modules.network import Network
from modules.security_groups import Firewall
from stacks.common import ViberglassStack

POSTGRES_PORT = 5432
HTTPS_PORT = 443


class BaseStack(ViberglassStack):
    def __init__(self, scope: Construct, stack_name: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, stack_name, config=config)
        naming, cfg = self.naming, config
        protect = cfg.production

        self.key = EnvironmentKey(self, "key", naming=naming, account=self.account, protect=protect)

        def log_group(id: str, kind: str, component: str) -> LogGroup:
            return LogGroup(
                self,
                id,
                name=naming.log_group(kind, component),
                retention_days=cfg.logs.retention_days,
                key=self.key,
                skip_destroy=protect,
            )

        # Lambda clankers log to /aws/lambda/viberator-<name>, groups Lambda creates per function the backend
        # creates at run time (their role may create them); no group here would ever receive their logs.
        self.ecs_worker_logs = log_group("ecs-worker-logs", "ecs", "worker")
        self.backend_logs = log_group("backend-logs", "ecs", "backend")
        flow_logs = log_group("flow-logs", "aws/vpc", "flow-logs") if cfg.network.flow_logs else None

        self.network = Network(
            self,
            "network",
            naming=naming,
            cidr=cfg.network.vpc_cidr,
            zones=cfg.availability_zones,
            public_cidrs=cfg.network.public_subnets,
            private_cidrs=cfg.network.private_subnets,
            mode=cfg.network.mode,
            single_nat_gateway=cfg.network.single_nat_gateway,
            flow_log_group=flow_logs,
            account=self.account,
            boundary=self.boundary_arn,
        )

        vpc, port = self.network.vpc, cfg.backend.container_port
        self.backend_sg = Firewall(
            self, "backend-sg", name=naming.name("backend-sg"), description="Viberglass backend tasks", vpc=vpc
        )
        self.rds_sg = Firewall(self, "rds-sg", name=naming.name("rds-sg"), description="Viberglass PostgreSQL", vpc=vpc)
        self.worker_sg = Firewall(
            self, "worker-sg", name=naming.name("worker-sg"), description="Viberator clanker workers", vpc=vpc
        )

        # The ALB lives in the VPC's public subnets; the platform stack adds the ALB-group rule as well.
        self.backend_sg.allow_from_cidr(cfg.network.vpc_cidr, port, "backend port from inside the VPC", rule_id="vpc")
        self.backend_sg.allow_to(self.rds_sg, POSTGRES_PORT, "PostgreSQL")
        self.backend_sg.allow_to(self.worker_sg, port, "callbacks to clanker workers")
        self.backend_sg.allow_to_cidr("0.0.0.0/0", HTTPS_PORT, "AWS APIs, Slack, GitHub", rule_id="https")
        self.rds_sg.allow_from(self.backend_sg, POSTGRES_PORT, "PostgreSQL from the backend only")
        self.worker_sg.allow_from(self.backend_sg, port, "callbacks from the backend")
        self.worker_sg.allow_all_egress("workers reach model, Git and package APIs")

        self._outputs()

    def _outputs(self) -> None:
        net = self.network
        values: dict[str, object] = {
            "vpc_id": net.vpc.id,
            "vpc_cidr": net.vpc.cidr_block,
            "public_subnet_ids": [s.id for s in net.public_subnets.values()],
            "private_subnet_ids": [s.id for s in net.private_subnets.values()],
            "nat_gateway_ids": [n.id for n in net.nat_gateways.values()],
            "backend_security_group_id": self.backend_sg.id,
            "rds_security_group_id": self.rds_sg.id,
            "worker_security_group_id": self.worker_sg.id,
            "kms_key_arn": self.key.arn,
            "kms_key_id": self.key.key.key_id,
            "kms_alias_name": self.key.alias.name,
            "ecs_worker_log_group_name": self.ecs_worker_logs.name,
            "backend_log_group_name": self.backend_logs.name,
            "ecs_worker_log_group_arn": self.ecs_worker_logs.arn,
            "backend_log_group_arn": self.backend_logs.arn,
        }
        for name, value in values.items():
            TerraformOutput(self, name, value=value)
