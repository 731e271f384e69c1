"""ops purge-state-history against the moto server on 127.0.0.1: after rotating the tokens that earlier
state held (docs/security.md, "Upgrading: old state held secrets"), every earlier version of the
environment's state objects goes, and nothing else does."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from ops.__main__ import main
from tests.conftest import use_account

BUCKET, DEV, MOTO = "viberglass-dev-terraform-state", "111122223333", "123456789012"
KEYS = ("viberglass/dev/base.tfstate", "viberglass/dev/platform.tfstate")
OTHER = "viberglass/prod/platform.tfstate"  # another environment's key in the same bucket (a shared account)


def _versions(client: Any) -> list[tuple[str, bool, bool]]:
    """(key, is latest, is a delete marker) of everything in the bucket."""
    page = client.list_object_versions(Bucket=BUCKET)
    found = [(v["Key"], v["IsLatest"], False) for v in page.get("Versions", [])]
    found += [(m["Key"], m["IsLatest"], True) for m in page.get("DeleteMarkers", [])]
    return sorted(found)


@pytest.fixture
def state(aws: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """dev's versioned state bucket with three versions of each state, a key deleted since (a noncurrent
    version behind a current delete marker), and another environment's history."""
    use_account(monkeypatch, DEV)
    client = boto3.client("s3", region_name="eu-west-1")
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for key in (*KEYS, OTHER):
        for serial in range(3):
            client.put_object(Bucket=BUCKET, Key=key, Body=f'{{"serial": {serial}, "slack": "xoxb-old"}}'.encode())
    client.put_object(Bucket=BUCKET, Key="viberglass/dev/gone.tfstate", Body=b"{}")
    client.delete_object(Bucket=BUCKET, Key="viberglass/dev/gone.tfstate")
    return client


def test_every_earlier_version_goes_and_every_current_one_stays(state: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["purge-state-history", "--env", "dev"]) == 0
    out = capsys.readouterr().out
    assert "changed delete 2 earlier version(s) of viberglass/dev/base.tfstate" in out
    assert _versions(state) == sorted(
        [(k, True, False) for k in KEYS]
        + [("viberglass/dev/gone.tfstate", True, True)]  # the current delete marker: the key stays deleted
        + [(OTHER, True, False), (OTHER, False, False), (OTHER, False, False)]  # prod's history is prod's
    )
    current = state.get_object(Bucket=BUCKET, Key=KEYS[1])["Body"].read()
    assert current == b'{"serial": 2, "slack": "xoxb-old"}'
    assert main(["purge-state-history", "--env", "dev"]) == 0
    assert "none: every state object has only its current version" in capsys.readouterr().out


def test_a_dry_run_lists_and_deletes_nothing(state: Any, capsys: pytest.CaptureFixture[str]) -> None:
    before = _versions(state)
    assert main(["purge-state-history", "--env", "dev", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would   delete 2 earlier version(s) of viberglass/dev/platform.tfstate" in out
    assert "would   delete 1 earlier version(s) of viberglass/dev/gone.tfstate" in out
    assert "nothing was changed" in out and _versions(state) == before


def test_another_accounts_credentials_are_refused(
    state: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _versions(state)
    use_account(monkeypatch, MOTO)
    assert main(["purge-state-history", "--env", "dev"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: the AWS credentials are for account {MOTO}, but config/dev.yaml names {DEV}")
    use_account(monkeypatch, DEV)
    assert _versions(state) == before
