"""Errors with exit codes CI can read: 1 for a failure while working (an AWS call, a deploy that did not
settle), 2 for bad input (arguments, configuration, missing or refused AWS credentials).

Standard library only: botocore's exceptions are recognised by name, so ``plan-comment`` imports nothing.
"""

from __future__ import annotations

from core.cli import EXIT_FAILURE, EXIT_INPUT, EXIT_OK

EXIT_AWS = EXIT_FAILURE
__all__ = ["EXIT_AWS", "EXIT_INPUT", "EXIT_OK", "InputError", "OpsError", "from_aws"]

# botocore exceptions that mean "this shell has no usable credentials" (the operator's input, not AWS).
CREDENTIAL_ERRORS = frozenset(
    {
        "NoCredentialsError",
        "PartialCredentialsError",
        "ProfileNotFound",
        "CredentialRetrievalError",
        "TokenRetrievalError",
        "SSOTokenLoadError",
        "UnauthorizedSSOTokenError",
        "NoRegionError",
    }
)
# AWS error codes that mean "these credentials are not accepted" (expired, unknown key, bad secret).
REFUSED_CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "InvalidAccessKeyId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
        "AuthFailure",
    }
)
CREDENTIALS_FIX = "configure a profile, run `aws sso login`, or assume the role again"


class OpsError(Exception):
    """An expected failure: one line for the operator, no traceback."""

    exit_code = EXIT_AWS


class InputError(OpsError):
    """Bad input: an unknown environment, a missing setting, a refused name, no usable credentials."""

    exit_code = EXIT_INPUT


def from_aws(error: BaseException, what: str = "AWS call") -> OpsError | None:
    """A botocore exception as the one-line error to report, or ``None`` when it is not botocore's."""
    if not type(error).__module__.startswith("botocore"):
        return None
    names = {cls.__name__ for cls in type(error).__mro__}
    if names & CREDENTIAL_ERRORS:
        return InputError(f"{what}: no usable AWS credentials ({error}); {CREDENTIALS_FIX}")
    response = getattr(error, "response", None)
    details = response.get("Error", {}) if isinstance(response, dict) else {}
    code, message = str(details.get("Code", "")), str(details.get("Message", "") or error)
    if code in REFUSED_CREDENTIAL_CODES:
        return InputError(f"{what}: AWS refused the credentials ({code}: {message}); {CREDENTIALS_FIX}")
    if code:
        return OpsError(f"{what}: {code}: {message}")
    return OpsError(f"{what}: {error}")
