"""CloudWatch alarms for the always-on platform, to an encrypted SNS topic."""

from __future__ import annotations

from dataclasses import dataclass

from core.naming import Naming
from imports.aws import CloudwatchMetricAlarm, SnsTopic
from imports.cdktf import Construct
from modules.database import Database
from modules.ecs import Cluster
from modules.encryption import EnvironmentKey
from modules.load_balancer import LoadBalancer
from modules.service import WebService

GIB = 1024**3


@dataclass(frozen=True)
class Threshold:
    """One alarm: ``metric`` in ``namespace`` compared with ``threshold`` over ``periods`` x ``period``."""

    namespace: str
    metric: str
    comparison: str
    threshold: float
    statistic: str = "Average"
    period: int = 60
    periods: int = 5
    missing: str = "missing"
    description: str = ""


class Alarms(Construct):
    """Service, load-balancer and database alarms; every alarm and OK transition goes to ``topic``.

    :param naming: the environment's naming.
    :param key: encrypts the topic (the key policy lets CloudWatch use it).
    :param cluster: the backend cluster (Container Insights on, for the running-task count).
    :param service: the backend service.
    :param load_balancer: the ALB and its target group.
    :param database: the RDS instance.
    :param allocated_storage_gib: for the free-storage alarm (below 10 %).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        naming: Naming,
        key: EnvironmentKey,
        cluster: Cluster,
        service: WebService,
        load_balancer: LoadBalancer,
        database: Database,
        allocated_storage_gib: int,
    ) -> None:
        super().__init__(scope, id)
        self.topic = SnsTopic(self, "topic", name=naming.name("alarms"), kms_master_key_id=key.arn)
        ecs = {"ClusterName": cluster.name, "ServiceName": service.name}
        alb = {"LoadBalancer": load_balancer.arn_suffix}
        target = {**alb, "TargetGroup": load_balancer.target_group.arn_suffix}
        rds = {"DBInstanceIdentifier": database.identifier}
        alarms: dict[str, tuple[Threshold, dict[str, str]]] = {
            "backend-no-running-tasks": (
                Threshold(
                    "ECS/ContainerInsights",
                    "RunningTaskCount",
                    "LessThanThreshold",
                    1,
                    "Minimum",
                    periods=3,
                    missing="breaching",
                    description="no backend task is running",
                ),
                ecs,
            ),
            "backend-cpu-high": (
                Threshold("AWS/ECS", "CPUUtilization", "GreaterThanThreshold", 85, description="backend CPU"),
                ecs,
            ),
            "backend-memory-high": (
                Threshold("AWS/ECS", "MemoryUtilization", "GreaterThanThreshold", 85, description="backend memory"),
                ecs,
            ),
            "alb-target-5xx": (
                Threshold(
                    "AWS/ApplicationELB",
                    "HTTPCode_Target_5XX_Count",
                    "GreaterThanThreshold",
                    10,
                    "Sum",
                    period=300,
                    periods=1,
                    description="backend answered 5xx",
                ),
                alb,
            ),
            "alb-unhealthy-targets": (
                Threshold(
                    "AWS/ApplicationELB",
                    "UnHealthyHostCount",
                    "GreaterThanThreshold",
                    0,
                    "Maximum",
                    periods=3,
                    description="a backend target failed its health check",
                ),
                target,
            ),
            "alb-target-latency": (
                Threshold(
                    "AWS/ApplicationELB",
                    "TargetResponseTime",
                    "GreaterThanThreshold",
                    2,
                    description="average backend response time above 2 s",
                ),
                alb,
            ),
            "rds-cpu-high": (
                Threshold("AWS/RDS", "CPUUtilization", "GreaterThanThreshold", 80, description="database CPU"),
                rds,
            ),
            "rds-free-storage-low": (
                Threshold(
                    "AWS/RDS",
                    "FreeStorageSpace",
                    "LessThanThreshold",
                    allocated_storage_gib * GIB // 10,
                    "Minimum",
                    description="database storage below 10 % free",
                ),
                rds,
            ),
            "rds-connections-high": (
                Threshold(
                    "AWS/RDS",
                    "DatabaseConnections",
                    "GreaterThanThreshold",
                    200,
                    "Maximum",
                    description="database connections above 200",
                ),
                rds,
            ),
        }
        self.alarms = {
            name: CloudwatchMetricAlarm(
                self,
                name,
                alarm_name=naming.name(name, max_length=255),
                alarm_description=t.description,
                namespace=t.namespace,
                metric_name=t.metric,
                dimensions=dimensions,
                statistic=t.statistic,
                period=t.period,
                evaluation_periods=t.periods,
                threshold=t.threshold,
                comparison_operator=t.comparison,
                treat_missing_data=t.missing,
                alarm_actions=[self.topic.arn],
                ok_actions=[self.topic.arn],
            )
            for name, (t, dimensions) in alarms.items()
        }

    @property
    def topic_arn(self) -> str:
        return self.topic.arn
