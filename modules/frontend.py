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
    DataAwsSsmParametersByPath,
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

    Amplify refuses to connect an app that has a manual-deploy branch (``UpdateApp``: "Cannot connect your
    app to repository while manually deployed branch still exists"), and a branch created on an unconnected
    app is one. So the branch, and the domain association that serves it, exist only once the app is
    connected: ``ops connect frontend`` writes the parameter ``connected_marker`` (under
    ``connection_path``, which holds nothing else) and the next apply of this construct creates both. The
    marker is read with ``aws_ssm_parameters_by_path``, which finds nothing rather than failing while the
    parameter does not exist, and without decryption (it is a plain String).

    :param name: app name.
    :param branch: the branch deployed. Default: ``main``.
    :param variables: build-time environment (``VITE_API_URL``, ...).
    :param spa_rewrite: the source pattern of paths served ``/index.html`` with status 200.
    :param connection_path: the SSM path ``connected_marker`` is under.
    :param connected_marker: the SSM parameter ``ops connect frontend`` writes once the app is connected.
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
        connection_path: str,
        connected_marker: str,
        production: bool = False,
    ) -> None:
        super().__init__(scope, id)
        self.branch_name = branch
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
        connection = DataAwsSsmParametersByPath(
            self, "connection", path=connection_path, recursive=False, with_decryption=False
        )
        # 1 once `ops connect frontend` has written the marker, else 0: the count of the branch and the domain.
        self.connected_count = Token.as_number(Fn.conditional(Fn.contains(connection.names, connected_marker), 1, 0))
        self.branch = AmplifyBranch(
            self,
            "branch",
            count=self.connected_count,
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
        return f"https://{self.branch_name}.{self.app.default_domain}"

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
            count=self.connected_count,
            app_id=self.app.id,
            domain_name=domain,
            sub_domain=[AmplifyDomainAssociationSubDomain(branch_name=self.branch_name, prefix="")],
            certificate_settings=(
                AmplifyDomainAssociationCertificateSettings(type="CUSTOM", custom_certificate_arn=certificate.arn)
                if certificate
                else AmplifyDomainAssociationCertificateSettings(type="AMPLIFY_MANAGED")
            ),
            wait_for_verification=False,
            depends_on=[self.branch],  # it names the branch by name: created after it, destroyed before it
        )

        # Counted: a list of zero or one instance, read with a splat (`.*.`) and its first element.
        def first_instance(attribute: str) -> object:
            return Fn.element(Token.as_list(association.interpolation_for_attribute(f"*.{attribute}")), 0)

        # sub_domain is a set of one; dns_record reads " CNAME dxxxx.cloudfront.net" (no prefix).
        first = Fn.element(Fn.tolist(first_instance("sub_domain")), 0)
        target = Fn.regex("[^ ]+$", Fn.trimspace(Token.as_string(Fn.lookup(first, "dns_record", ""))))
        if zone_id:
            Route53Record(
                self,
                "cname",
                count=self.connected_count,
                zone_id=zone_id,
                name=domain,
                type="CNAME",
                ttl=300,
                records=[target],
            )
        else:
            # Empty value / null until the app is connected and the association exists.
            TerraformOutput(
                self,
                "app-domain-cname",
                value={"name": domain, "type": "CNAME", "value": Fn.try_([target, ""])},
            )
            TerraformOutput(
                self,
                "app-domain-verification",
                value=Fn.one(
                    Token.as_list(association.interpolation_for_attribute("*.certificate_verification_dns_record"))
                ),
                description="create this record to let Amplify issue the certificate",
            )
