"""boto3 clients for the tests' own calls to the moto server, made once per service, region, endpoint,
credentials and process (creating a client costs ~10-20 ms of CPU; a test file of deploys makes hundreds).

The key holds everything a client takes from the environment when it is made, so a test that changes the
endpoint or the credentials (``use_account``) gets a client of its own, and so does a forked process (mutmut
runs each mutant's tests in a fork, with a moto server of its own)."""

from __future__ import annotations

import functools
import os
from typing import Any

import boto3


def moto_client(service: str, region: str = "eu-west-1") -> Any:
    """A client of ``service`` for the environment as it is now."""
    env = os.environ
    return _client(service, region, env.get("AWS_ENDPOINT_URL", ""), env.get("AWS_ACCESS_KEY_ID", ""),
                   env.get("AWS_SESSION_TOKEN", ""), os.getpid())  # fmt: skip


@functools.cache
def _client(service: str, region: str, endpoint: str, key: str, token: str, pid: int) -> Any:
    del endpoint, key, token, pid  # part of the cache key only: boto3 reads them from the environment
    make: Any = boto3.client
    return make(service, region_name=region)
