"""HTTPS for the API without a custom domain: CloudFront, with its default certificate, in front of the ALB.

The frontend is served over HTTPS, so browsers block an ``http://`` API (mixed content), and Lambda
clankers call ``${PLATFORM_API_URL}/api/jobs/...`` from outside the VPC. An ALB cannot get a certificate
for its own AWS DNS name; CloudFront's ``*.cloudfront.net`` certificate gives every environment HTTPS.
The distribution is a pass-through: caching disabled (managed ``CachingDisabled``), every viewer header
but ``Host``, every cookie and query string forwarded (managed ``AllViewerExceptHostHeader``; with
caching disabled it forwards ``Authorization`` too), all methods, no compression (server-sent events must
not be buffered), and an origin read timeout above the application's 30 s SSE heartbeat. The ALB admits
only CloudFront's origin-facing addresses (the managed prefix list).
"""

from __future__ import annotations

from imports.aws import (
    CloudfrontDistribution,
    CloudfrontDistributionDefaultCacheBehavior,
    CloudfrontDistributionOrigin,
    CloudfrontDistributionOriginCustomOriginConfig,
    CloudfrontDistributionRestrictions,
    CloudfrontDistributionRestrictionsGeoRestriction,
    CloudfrontDistributionViewerCertificate,
    DataAwsCloudfrontCachePolicy,
    DataAwsCloudfrontOriginRequestPolicy,
    DataAwsEc2ManagedPrefixList,
)
from imports.cdktf import Construct

CACHING_DISABLED = "Managed-CachingDisabled"
ALL_VIEWER_EXCEPT_HOST = "Managed-AllViewerExceptHostHeader"
ORIGIN_FACING_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"
ORIGIN_ID = "alb"
ALL_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
# CloudFront's origin timeouts may go up to 60 s without a quota increase.
ORIGIN_READ_TIMEOUT = 60
ORIGIN_KEEPALIVE_TIMEOUT = 60


class ApiEdge(Construct):
    """A CloudFront distribution forwarding everything to the ALB over HTTP on port 80.

    :param name: a comment naming the distribution.
    :param alb_dns_name: the load balancer's DNS name.
    :param read_timeout: seconds CloudFront waits for the next bytes of a response; must exceed the
        application's SSE heartbeat. Default: 60.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        alb_dns_name: str,
        read_timeout: int = ORIGIN_READ_TIMEOUT,
    ) -> None:
        super().__init__(scope, id)
        cache = DataAwsCloudfrontCachePolicy(self, "caching-disabled", name=CACHING_DISABLED)
        forward = DataAwsCloudfrontOriginRequestPolicy(self, "all-viewer", name=ALL_VIEWER_EXCEPT_HOST)
        self.prefix_list = DataAwsEc2ManagedPrefixList(self, "origin-facing", name=ORIGIN_FACING_PREFIX_LIST)
        self.distribution = CloudfrontDistribution(
            self,
            "distribution",
            comment=name,
            enabled=True,
            is_ipv6_enabled=True,
            http_version="http2",
            price_class="PriceClass_100",
            origin=[
                CloudfrontDistributionOrigin(
                    origin_id=ORIGIN_ID,
                    domain_name=alb_dns_name,
                    custom_origin_config=CloudfrontDistributionOriginCustomOriginConfig(
                        http_port=80,
                        https_port=443,
                        origin_protocol_policy="http-only",
                        origin_ssl_protocols=["TLSv1.2"],
                        origin_read_timeout=read_timeout,
                        origin_keepalive_timeout=ORIGIN_KEEPALIVE_TIMEOUT,
                    ),
                )
            ],
            default_cache_behavior=CloudfrontDistributionDefaultCacheBehavior(
                target_origin_id=ORIGIN_ID,
                viewer_protocol_policy="https-only",
                allowed_methods=ALL_METHODS,
                cached_methods=["GET", "HEAD"],
                cache_policy_id=cache.id,
                origin_request_policy_id=forward.id,
                compress=False,
            ),
            restrictions=CloudfrontDistributionRestrictions(
                geo_restriction=CloudfrontDistributionRestrictionsGeoRestriction(restriction_type="none")
            ),
            viewer_certificate=CloudfrontDistributionViewerCertificate(cloudfront_default_certificate=True),
        )

    @property
    def url(self) -> str:
        """``https://<id>.cloudfront.net`` (no trailing slash)."""
        return f"https://{self.distribution.domain_name}"

    @property
    def prefix_list_id(self) -> str:
        return self.prefix_list.id
