"""AWS provider resource classes, one submodule each (see :mod:`imports._fastpath`).

Add a class here when a module needs it; importing the submodule is what makes it cost anything.
"""

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup as CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity as DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition as DataAwsPartition
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup as DefaultSecurityGroup
from cdktf_cdktf_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy as EcrLifecyclePolicy
from cdktf_cdktf_provider_aws.ecr_repository import EcrRepository as EcrRepository
from cdktf_cdktf_provider_aws.ecr_repository import (
    EcrRepositoryEncryptionConfiguration as EcrRepositoryEncryptionConfiguration,
)
from cdktf_cdktf_provider_aws.ecr_repository import (
    EcrRepositoryImageScanningConfiguration as EcrRepositoryImageScanningConfiguration,
)
from cdktf_cdktf_provider_aws.ecr_repository import (
    EcrRepositoryImageTagMutabilityExclusionFilter as EcrRepositoryImageTagMutabilityExclusionFilter,
)
from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster as EcsCluster
from cdktf_cdktf_provider_aws.ecs_cluster import EcsClusterSetting as EcsClusterSetting
from cdktf_cdktf_provider_aws.ecs_task_definition import EcsTaskDefinition as EcsTaskDefinition
from cdktf_cdktf_provider_aws.ecs_task_definition import (
    EcsTaskDefinitionRuntimePlatform as EcsTaskDefinitionRuntimePlatform,
)
from cdktf_cdktf_provider_aws.ecs_task_definition import EcsTaskDefinitionVolume as EcsTaskDefinitionVolume
from cdktf_cdktf_provider_aws.eip import Eip as Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog as FlowLog
from cdktf_cdktf_provider_aws.iam_role import IamRole as IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy as IamRolePolicy
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway as InternetGateway
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias as KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey as KmsKey
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway as NatGateway
from cdktf_cdktf_provider_aws.provider import AwsProvider as AwsProvider
from cdktf_cdktf_provider_aws.provider import AwsProviderDefaultTags as AwsProviderDefaultTags
from cdktf_cdktf_provider_aws.route import Route as Route
from cdktf_cdktf_provider_aws.route_table import RouteTable as RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation as RouteTableAssociation
from cdktf_cdktf_provider_aws.security_group import SecurityGroup as SecurityGroup
from cdktf_cdktf_provider_aws.subnet import Subnet as Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc as Vpc
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import (
    VpcSecurityGroupEgressRule as VpcSecurityGroupEgressRule,
)
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import (
    VpcSecurityGroupIngressRule as VpcSecurityGroupIngressRule,
)
