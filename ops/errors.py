"""Errors with exit codes CI can read: 1 for an AWS-side failure, 2 for bad input."""

from __future__ import annotations

EXIT_OK, EXIT_AWS, EXIT_INPUT = 0, 1, 2


class OpsError(Exception):
    """An expected failure: one line for the operator, no traceback."""

    exit_code = EXIT_AWS


class InputError(OpsError):
    """Bad input: an unknown environment, a missing setting, a refused name."""

    exit_code = EXIT_INPUT
