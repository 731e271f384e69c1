"""The React SPA on Amplify Hosting: app, branch, optional custom domain with a us-east-1 certificate."""

from __future__ import annotations

from collections.abc import Mapping

from imports.aws import (
    AmplifyApp,
    AmplifyAppCustomRule,
    AmplifyBranch,
    AmplifyDomainAssociation,
    AmplifyDomainAssociationCertificateSettings,
    AmplifyDomainAssociationSubDomain,
    AwsProvider,
    Route53Record,
)
from imports.cdktf import Construct, Fn, TerraformOutput, TerraformResourceLifecycle, Token
from modules.load_balancer import DnsValidatedCertificate


class Frontend(Construct):
    """An Amplify app for one branch of a monorepo.

    The build itself is the repository's own ``amplify.yml`` (no build spec here to fight it); this
    construct sets what that file needs: the build variables (``AMPLIFY_MONOREPO_APP_ROOT`` among them)
    and the single-page-app rewrite the repository lacks.

    The app is created without its repository: connecting one takes a GitHub token (``CreateApp`` and
    ``UpdateApp`` require it), which would then sit in the plan and in state as the argument
    ``access_token``. ``ops connect frontend`` connects the repository once with ``UpdateApp`` and a token
    read from stdin (Amplify keeps no token: it installs its GitHub App), and Terraform ignores the
    repository and the tokens from then on.

    :param name: app name.
    :param branch: the branch deployed. Default: ``main``.
    :param variables: build-time environment (``VITE_API_URL``, ...).
    :param spa_rewrite: the source pattern of paths served ``/index.html`` with status 200.
    :param production: stage ``PRODUCTION`` (else ``DEVELOPMENT``). Default: ``False``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        branch: str,
        variables: Mapping[str, str],
        spa_rewrite: str,
        production: bool = False,
    ) -> None:
        super().__init__(scope, id)
        self.app = AmplifyApp(
            self,
            "app",
            name=name,
            platform="WEB",
            # BrowserRouter: every path that is not a file is the SPA shell, with status 200.
            custom_rule=[AmplifyAppCustomRule(source=spa_rewrite, target="/index.html", status="200")],
            environment_variables=dict(variables),
            enable_branch_auto_build=True,
            # Set out of band by `ops connect frontend`; never a value Terraform holds.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["repository", "access_token", "oauth_token"]),
        )
        self.branch = AmplifyBranch(
            self,
            "branch",
            app_id=self.app.id,
            branch_name=branch,
            framework="React",
            stage="PRODUCTION" if production else "DEVELOPMENT",
            enable_auto_build=True,
        )
        self.custom_domain: str | None = None

    @property
    def branch_url(self) -> str:
        """Amplify's own URL for the branch: ``https://<branch>.<app default domain>``."""
        return f"https://{self.branch.branch_name}.{self.app.default_domain}"

    @property
    def url(self) -> str:
        """The URL users open: the custom domain when there is one, else the branch URL."""
        return f"https://{self.custom_domain}" if self.custom_domain else self.branch_url

    @property
    def origins(self) -> list[str]:
        """Every origin the frontend is served from: the custom domain (if any) and the branch URL."""
        return [*([f"https://{self.custom_domain}"] if self.custom_domain else []), self.branch_url]

    def add_domain(self, *, domain: str, zone_id: str | None, us_east_1: AwsProvider) -> None:
        """Serve the branch on ``domain`` with a certificate issued in us-east-1 (Amplify's requirement).

        With ``zone_id`` the validation and CNAME records are created; without it they are outputs for
        whoever runs the DNS.
        """
        self.custom_domain = domain
        certificate = None
        if zone_id:
            certificate = DnsValidatedCertificate(
                self, "certificate", domain=domain, zone_id=zone_id, provider=us_east_1
            )
        association = AmplifyDomainAssociation(
            self,
            "domain",
            app_id=self.app.id,
            domain_name=domain,
            sub_domain=[AmplifyDomainAssociationSubDomain(branch_name=self.branch.branch_name, prefix="")],
            certificate_settings=(
                AmplifyDomainAssociationCertificateSettings(type="CUSTOM", custom_certificate_arn=certificate.arn)
                if certificate
                else AmplifyDomainAssociationCertificateSettings(type="AMPLIFY_MANAGED")
            ),
            wait_for_verification=False,
        )
        # sub_domain is a set of one; dns_record reads " CNAME dxxxx.cloudfront.net" (no prefix).
        first = Fn.element(Fn.tolist(Token.as_any(association.sub_domain)), 0)
        target = Fn.regex("[^ ]+$", Fn.trimspace(Token.as_string(Fn.lookup(first, "dns_record", ""))))
        if zone_id:
            Route53Record(self, "cname", zone_id=zone_id, name=domain, type="CNAME", ttl=300, records=[target])
        else:
            TerraformOutput(self, "app-domain-cname", value={"name": domain, "type": "CNAME", "value": target})
            TerraformOutput(
                self,
                "app-domain-verification",
                value=association.certificate_verification_dns_record,
                description="create this record to let Amplify issue the certificate",
            )
