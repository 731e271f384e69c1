"""The public entry point: an ALB in the public subnets, TLS 1.3 with a DNS-validated certificate when
the environment has an API domain, plain HTTP otherwise (development only; prod config requires a domain)."""

from __future__ import annotations

from collections.abc import Sequence

from core.iam import Statement
from core.naming import Naming
from imports.aws import (
    AcmCertificate,
    AcmCertificateValidation,
    Alb,
    AlbAccessLogs,
    AlbListener,
    AlbListenerDefaultAction,
    AlbListenerDefaultActionRedirect,
    AlbTargetGroup,
    AlbTargetGroupHealthCheck,
    Route53Record,
    Route53RecordAlias,
    Subnet,
    Vpc,
)
from imports.cdktf import Construct, TerraformIterator, TerraformProvider, TerraformResourceLifecycle, Token
from modules.account import Account
from modules.security_groups import Firewall
from modules.storage import PrivateBucket

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
ACCESS_LOG_PREFIX = "alb"
HTTP_PORT, HTTPS_PORT = 80, 443


class DnsValidatedCertificate(Construct):
    """An ACM certificate for ``domain``, validated through records in ``zone_id``.

    :param domain: the name on the certificate.
    :param zone_id: the Route53 hosted zone that answers for ``domain``.
    :param provider: the AWS provider to issue in (Amplify and CloudFront need us-east-1). Default: the
        stack's.
    """

    def __init__(
        self, scope: Construct, id: str, *, domain: str, zone_id: str, provider: TerraformProvider | None = None
    ) -> None:
        super().__init__(scope, id)
        self.certificate = AcmCertificate(
            self,
            "certificate",
            domain_name=domain,
            validation_method="DNS",
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            provider=provider,
        )
        options = TerraformIterator.from_complex_list(self.certificate.domain_validation_options, "domain_name")
        records = Route53Record(
            self,
            "validation",
            for_each=options,
            zone_id=zone_id,
            name=options.get_string("resource_record_name"),
            type=options.get_string("resource_record_type"),
            records=[options.get_string("resource_record_value")],
            ttl=60,
            allow_overwrite=True,
        )
        self.validation = AcmCertificateValidation(
            self,
            "validated",
            certificate_arn=self.certificate.arn,
            validation_record_fqdns=Token.as_list(TerraformIterator.from_resources(records).pluck_property("fqdn")),
            provider=provider,
        )

    @property
    def arn(self) -> str:
        """The ARN, available only once validation succeeded (so listeners wait for it)."""
        return self.validation.certificate_arn


class LoadBalancer(Construct):
    """An internet-facing ALB forwarding to one IP target group.

    :param naming: the environment's naming.
    :param vpc: the VPC.
    :param subnets: public subnets.
    :param firewall: the ALB's own security group (the stack states its rules).
    :param target_port: the container port.
    :param health_check_path: HTTP path the targets answer 200 on.
    :param domain: API domain; with ``zone_id`` the ALB serves HTTPS on it. Default: HTTP only.
    :param zone_id: Route53 hosted zone of ``domain``. Default: none.
    :param deletion_protection: Default: ``False``.
    :param log_bucket: write access logs under ``alb/`` here (an SSE-S3 bucket whose policy lets ELB
        deliver). Default: no access logs.
    :param idle_timeout: seconds a connection may stay silent (SSE streams). Default: 120.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        naming: Naming,
        vpc: Vpc,
        subnets: Sequence[Subnet],
        firewall: Firewall,
        target_port: int,
        health_check_path: str,
        domain: str | None = None,
        zone_id: str | None = None,
        deletion_protection: bool = False,
        log_bucket: PrivateBucket | None = None,
        idle_timeout: int = 120,
    ) -> None:
        super().__init__(scope, id)
        self.domain = domain
        self.alb = Alb(
            self,
            "alb",
            name=naming.name("alb", max_length=32),
            internal=False,
            load_balancer_type="application",
            subnets=[s.id for s in subnets],
            security_groups=[firewall.id],
            drop_invalid_header_fields=True,
            enable_http2=True,
            # Server-sent events send a heartbeat every 30 s (apps/platform-backend/src/api/routes/
            # agentSessions.ts); the idle timeout stays well above it and above CloudFront's keep-alive.
            idle_timeout=idle_timeout,
            enable_deletion_protection=deletion_protection,
            access_logs=(
                AlbAccessLogs(bucket=log_bucket.name, prefix=ACCESS_LOG_PREFIX, enabled=True) if log_bucket else None
            ),
            # ELB checks it may write to the bucket when logging is switched on.
            depends_on=[log_bucket.policy] if log_bucket else None,
        )
        self.target_group = AlbTargetGroup(
            self,
            "backend",
            name=naming.name("backend", max_length=32),
            port=target_port,
            protocol="HTTP",
            target_type="ip",
            vpc_id=vpc.id,
            deregistration_delay="30",
            health_check=AlbTargetGroupHealthCheck(
                enabled=True,
                path=health_check_path,
                port="traffic-port",
                protocol="HTTP",
                matcher="200",
                interval=15,
                timeout=5,
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
        )
        forward = AlbListenerDefaultAction(type="forward", target_group_arn=self.target_group.arn)
        self.certificate: DnsValidatedCertificate | None = None
        if domain and zone_id:
            self.certificate = DnsValidatedCertificate(self, "api-certificate", domain=domain, zone_id=zone_id)
            self.listener = AlbListener(
                self,
                "https",
                load_balancer_arn=self.alb.arn,
                port=HTTPS_PORT,
                protocol="HTTPS",
                ssl_policy=TLS_POLICY,
                certificate_arn=self.certificate.arn,
                default_action=[forward],
            )
            AlbListener(
                self,
                "http-redirect",
                load_balancer_arn=self.alb.arn,
                port=HTTP_PORT,
                protocol="HTTP",
                default_action=[
                    AlbListenerDefaultAction(
                        type="redirect",
                        redirect=AlbListenerDefaultActionRedirect(
                            port=str(HTTPS_PORT), protocol="HTTPS", status_code="HTTP_301"
                        ),
                    )
                ],
            )
            Route53Record(
                self,
                "api-alias",
                zone_id=zone_id,
                name=domain,
                type="A",
                alias=Route53RecordAlias(name=self.alb.dns_name, zone_id=self.alb.zone_id, evaluate_target_health=True),
            )
        else:
            self.listener = AlbListener(
                self, "http", load_balancer_arn=self.alb.arn, port=HTTP_PORT, protocol="HTTP", default_action=[forward]
            )

    @property
    def https(self) -> bool:
        return self.certificate is not None

    @property
    def ports(self) -> list[int]:
        return [HTTP_PORT, HTTPS_PORT] if self.https else [HTTP_PORT]

    @property
    def url(self) -> str:
        """``https://<api domain>`` or ``http://<alb dns name>``."""
        return f"https://{self.domain}" if self.https else f"http://{self.alb.dns_name}"

    @property
    def dns_name(self) -> str:
        return self.alb.dns_name

    @property
    def arn_suffix(self) -> str:
        return self.alb.arn_suffix


def log_delivery_statements(account: Account, bucket_arn: str, elb_account_arn: str) -> list[Statement]:
    """Let Elastic Load Balancing write this account's access logs under ``alb/``: the regional ELB
    account (regions older than August 2022) and the log-delivery service principal (newer ones)."""
    objects = [f"{bucket_arn}/{ACCESS_LOG_PREFIX}/AWSLogs/{account.id}/*"]
    return [
        Statement(sid="ElbAccountDelivers", principals={"AWS": elb_account_arn}, actions=["s3:PutObject"],
                  resources=objects),
        Statement(sid="ElbServiceDelivers", principals={"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
                  actions=["s3:PutObject"], resources=objects),
    ]  # fmt: skip
