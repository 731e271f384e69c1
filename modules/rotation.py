"""Restart the backend when RDS rotates its master password.

The application reads ``DB_PASSWORD`` once, at start, into a fixed pool
(apps/platform-backend/src/persistence/config/database.ts in Ilities/viberglass): after a rotation its
new connections fail until the task restarts. Secrets Manager records every successful rotation of the
RDS-managed secret as a CloudTrail service event (``RotationSucceeded``, detail type "AWS Service Event via
CloudTrail", the secret's ARN in ``additionalEventData.SecretId``); an EventBridge rule on exactly that
event starts a one-step Step Functions state machine that calls ``ecs:UpdateService`` with
``forceNewDeployment`` (an AWS SDK service integration: no function code to own). The new tasks read the
new password; the old ones drain as in any deployment.
"""

from __future__ import annotations

import json

from core.iam import Statement, service_trust
from core.naming import Naming
from imports.aws import CloudwatchEventRule, CloudwatchEventTarget, SfnStateMachine
from imports.cdktf import Construct
from modules.account import Account
from modules.iam import Role

ROTATION_EVENT = "RotationSucceeded"
ROTATION_DETAIL_TYPE = "AWS Service Event via CloudTrail"
RESTART_STATE = "ForceNewDeployment"


def rotation_pattern(secret_arn: str) -> str:
    """The EventBridge pattern for a successful rotation of ``secret_arn``."""
    return json.dumps(
        {
            "source": ["aws.secretsmanager"],
            "detail-type": [ROTATION_DETAIL_TYPE],
            "detail": {
                "eventSource": ["secretsmanager.amazonaws.com"],
                "eventName": [ROTATION_EVENT],
                "additionalEventData": {"SecretId": [secret_arn]},
            },
        }
    )


def restart_definition(partition: str, *, cluster_arn: str, service_name: str) -> str:
    """Amazon States Language: one task, ``ecs:UpdateService(forceNewDeployment)``, retried on failure."""
    return json.dumps(
        {
            "Comment": "Restart the backend so it reads the rotated database password",
            "StartAt": RESTART_STATE,
            "States": {
                RESTART_STATE: {
                    "Type": "Task",
                    "Resource": f"arn:{partition}:states:::aws-sdk:ecs:updateService",
                    "Parameters": {"Cluster": cluster_arn, "Service": service_name, "ForceNewDeployment": True},
                    "Retry": [
                        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 30, "MaxAttempts": 5, "BackoffRate": 2}
                    ],
                    "End": True,
                }
            },
        }
    )


class RestartOnRotation(Construct):
    """EventBridge rule -> Step Functions -> ``ecs:UpdateService`` for one secret and one service.

    :param naming: the environment's naming.
    :param account: account, partition and region.
    :param secret_arn: the rotated secret.
    :param cluster_arn: the service's cluster.
    :param cluster_name: the same cluster's name (for the service ARN).
    :param service_name: the service to restart.
    :param boundary: the environment's permissions boundary, on both roles.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        naming: Naming,
        account: Account,
        secret_arn: str,
        cluster_arn: str,
        cluster_name: str,
        service_name: str,
        boundary: str,
    ) -> None:
        super().__init__(scope, id)
        service_arn = account.arn("ecs", f"service/{cluster_name}/{service_name}")
        self.machine_role = Role(
            self,
            "machine-role",
            name=naming.name("restart-backend-sfn"),
            description="Step Functions: force a new deployment of the backend service",
            trust=service_trust("states.amazonaws.com", account.id),
            statements=[Statement(sid="RestartBackend", actions=["ecs:UpdateService"], resources=[service_arn])],
            boundary=boundary,
        )
        self.machine = SfnStateMachine(
            self,
            "machine",
            name=naming.name("restart-backend"),
            role_arn=self.machine_role.arn,
            type="STANDARD",
            definition=restart_definition(account.partition, cluster_arn=cluster_arn, service_name=service_name),
        )
        self.events_role = Role(
            self,
            "events-role",
            name=naming.name("restart-backend-events"),
            description="EventBridge: start the restart state machine",
            trust=service_trust("events.amazonaws.com", account.id),
            statements=[Statement(sid="StartRestart", actions=["states:StartExecution"], resources=[self.machine.arn])],
            boundary=boundary,
        )
        self.rule = CloudwatchEventRule(
            self,
            "rule",
            name=naming.name("db-password-rotated"),
            description="The RDS-managed database password was rotated",
            event_pattern=rotation_pattern(secret_arn),
        )
        CloudwatchEventTarget(
            self,
            "target",
            rule=self.rule.name,
            arn=self.machine.arn,
            role_arn=self.events_role.arn,
        )
