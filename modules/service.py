"""A Fargate service behind a target group, with circuit-breaker rollback and CPU target tracking."""

from __future__ import annotations

from collections.abc import Sequence

from imports.aws import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
    AppautoscalingTarget,
    EcsService,
    EcsServiceDeploymentCircuitBreaker,
    EcsServiceLoadBalancer,
    EcsServiceNetworkConfiguration,
    Subnet,
)
from imports.cdktf import Construct, TerraformResourceLifecycle
from modules.ecs import Cluster, FargateTask
from modules.load_balancer import LoadBalancer
from modules.security_groups import Firewall


class WebService(Construct):
    """An always-on Fargate service registered in ``load_balancer``'s target group.

    Deploys outside Terraform (``ops deploy backend``) register new task-definition revisions and the
    autoscaler changes the desired count, so both are ignored after creation: Terraform would otherwise
    roll every deploy back on the next apply.

    :param name: service name.
    :param cluster: where it runs.
    :param task: its task definition (the first revision).
    :param subnets: task subnets.
    :param firewall: task security group.
    :param assign_public_ip: needed in public subnets without NAT (``standard`` mode).
    :param load_balancer: the ALB whose target group receives the tasks.
    :param desired_count: initial task count.
    :param min_count: autoscaling floor.
    :param max_count: autoscaling ceiling; autoscaling exists only when it is above 1. At 1 the service is a
        single task and a deploy replaces it in place: the old task stops before the new one starts
        (minimum healthy 0 %, maximum 100 %), so two copies never run at once.
    :param cpu_target: average CPU % the autoscaler aims for. Default: 60.
    :param grace_period_seconds: health-check grace after a task starts (migrations run at start).
        Default: 180.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        cluster: Cluster,
        task: FargateTask,
        subnets: Sequence[Subnet],
        firewall: Firewall,
        assign_public_ip: bool,
        load_balancer: LoadBalancer,
        desired_count: int,
        min_count: int,
        max_count: int,
        cpu_target: int = 60,
        grace_period_seconds: int = 180,
    ) -> None:
        super().__init__(scope, id)
        assert task.container.port is not None
        self.service = EcsService(
            self,
            "service",
            name=name,
            cluster=cluster.arn,
            task_definition=task.arn,
            desired_count=desired_count,
            launch_type="FARGATE",
            platform_version="LATEST",
            network_configuration=EcsServiceNetworkConfiguration(
                subnets=[s.id for s in subnets], security_groups=[firewall.id], assign_public_ip=assign_public_ip
            ),
            load_balancer=[
                EcsServiceLoadBalancer(
                    target_group_arn=load_balancer.target_group.arn,
                    container_name=task.container.name,
                    container_port=task.container.port,
                )
            ],
            health_check_grace_period_seconds=grace_period_seconds,
            deployment_circuit_breaker=EcsServiceDeploymentCircuitBreaker(enable=True, rollback=True),
            # One task: stop it, then start its successor (a short outage) rather than run two at once; the
            # application's scheduler and sweepers run unlocked in every task (core/app_contract.py
            # BACKEND_MAX_SAFE_TASKS). Several tasks: a rolling deploy that never drops below the count.
            deployment_minimum_healthy_percent=0 if max_count <= 1 else 100,
            deployment_maximum_percent=100 if max_count <= 1 else 200,
            # No ECS Exec: its channels need ssmmessages rights the application itself never uses.
            enable_execute_command=False,
            propagate_tags="SERVICE",
            wait_for_steady_state=False,
            # Deploys register revisions; with autoscaling, the autoscaler owns the count.
            lifecycle=TerraformResourceLifecycle(
                ignore_changes=["task_definition", "desired_count"] if max_count > 1 else ["task_definition"]
            ),
            # The target group must be attached to a listener before a service can register in it.
            depends_on=[load_balancer.listener],
        )
        if max_count <= 1:
            return  # a fixed single task: no autoscaling resources
        resource_id = f"service/{cluster.name}/{self.service.name}"
        target = AppautoscalingTarget(
            self,
            "scaling-target",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=resource_id,
            min_capacity=min_count,
            max_capacity=max_count,
        )
        AppautoscalingPolicy(
            self,
            "cpu-tracking",
            name=f"{name}-cpu",
            policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            target_tracking_scaling_policy_configuration=AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                target_value=cpu_target,
                predefined_metric_specification=(
                    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                        predefined_metric_type="ECSServiceAverageCPUUtilization"
                    )
                ),
                scale_in_cooldown=300,
                scale_out_cooldown=60,
            ),
        )

    @property
    def name(self) -> str:
        return self.service.name
