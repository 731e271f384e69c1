"""The suite is hermetic: the user's environment cannot change a result and nothing is written into the
home folder (tests/conftest.py, ``pytest_configure``). Proven by running a representative slice of the suite
in a subprocess whose environment is hostile and whose HOME is a folder the test watches."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import HERMETIC_SLICE_TEST, REAL_HOME_VAR, ROOT

# One of each kind: configuration loading (VIBERGLASS_*: the shipped folder, the default environment, a
# Python subprocess that loads it), in-process synthesis (jsii, Node, its package cache; a `cloud` backend,
# for which cdktf runs `terraform version`), boto3 against moto and ops commands in-process and as a process
# (AWS_*, ~/.aws: endpoint, profile, credentials), the CI scripts against the Terraform stand-in, and
# `make synth` through the cdktf CLI (which writes ~/.cdktf and ~/.terraform.d when it can). The tests
# chosen are those that read what the hostile environment sets, not whole files: the rest of those files
# adds processes and time, not another kind of reading.
SLICE = [
    "tests/test_config.py::test_shipped_environments_are_dev_and_prod",
    "tests/test_config.py::test_dev_defaults",
    "tests/test_config.py::test_prod_is_production_with_prod_sizes",
    "tests/test_config.py::test_default_environment_is_dev",
    "tests/test_config.py::test_shipped_files_name_their_tier",
    "tests/test_config.py::test_regions_come_from_the_sdk_endpoint_data",
    "tests/test_config.py::test_validating_a_configuration_does_not_import_botocore",
    "tests/test_config.py::test_choosing_an_environment_or_folder_that_is_not_there_gets_this_whole_line",
    "tests/test_state_backends.py::test_cloud_backend_names_one_workspace_per_env_and_stack",
    "tests/test_ops_errors.py::test_empty_env_creates_no_roles",
    "tests/test_ops_errors.py::test_unknown_environment_is_bad_input_naming_the_flag",
    "tests/test_ops_errors.py::test_missing_credentials_are_bad_input",
    "tests/test_ops_errors.py::test_unknown_profile_is_bad_input",
    "tests/test_ops_errors.py::test_python_m_ops_process[no-credentials]",
    "tests/test_ci_scripts.py::test_every_stack_planned_exits_0",
    "tests/test_config_errors.py::test_make_synth_failure_while_working_is_one_line",
]


def _tree(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` with a digest of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(folder.rglob("*"))
    }


def _hostile(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment set up to change every result it could, and the home folder it names."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text(
        "[default]\nregion = us-gov-west-1\nendpoint_url = http://127.0.0.1:9\n[profile hostile]\nregion = me-south-1\n"
    )
    (home / ".aws" / "credentials").write_text(
        "[default]\naws_access_key_id = AKIAHOSTILEHOSTILE12\naws_secret_access_key = hostile\n"
    )
    (home / ".terraformrc").write_text('plugin_cache_dir = "/nonexistent"\nthis is not HCL\n')
    config = tmp_path / "hostile-config"
    config.mkdir()
    for env in ("dev", "prod"):
        (config / f"{env}.yaml").write_text("tier: development\nnetwork: {vpc_cidr: 10.0.0.0/8}\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("terraform", "gh"):
        (bin_dir / tool).write_text(f"#!/bin/sh\necho 'hostile {tool}' >&2\nexit 3\n")
        (bin_dir / tool).chmod(0o755)
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),
        "VIBERGLASS_CONFIG_DIR": str(config),
        "VIBERGLASS_ENV": "prod",
        "VIBERGLASS_EAGER_IMPORTS": "1",
        "VIBERGLASS_TRACEBACK": "1",
        "AWS_PROFILE": "hostile",
        "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        "AWS_ACCESS_KEY_ID": "AKIAHOSTILEHOSTILE34",
        "AWS_SECRET_ACCESS_KEY": "hostile",
        "AWS_SESSION_TOKEN": "hostile",
        "AWS_DEFAULT_REGION": "ap-south-1",
        "AWS_REGION": "ap-south-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "TF_CLI_CONFIG_FILE": str(tmp_path / "missing.tfrc"),
        "TF_LOG": "TRACE",
        "TF_DATA_DIR": str(tmp_path / "tf-data"),
        "NODE_OPTIONS": f"--require={tmp_path / 'missing-hook.js'}",
        "JSII_NODE": "/bin/false",
        "JSII_RUNTIME_PACKAGE_CACHE_ROOT": str(home / ".cache" / "jsii"),
        "CDKTF_OUTDIR": str(tmp_path / "hostile-out"),
        "GITHUB_OUTPUT": str(tmp_path / "github-output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "github-summary"),
        "CI": "true",
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }, home


@pytest.mark.slow
def test_a_slice_of_the_suite_passes_in_a_hostile_environment_and_leaves_home_untouched(tmp_path: Path) -> None:
    env, home = _hostile(tmp_path)
    before = _tree(home)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "0", "-p", "no:randomly", "-p", "no:cacheprovider", "-q",
         "--strict-home", *SLICE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    # Every test of the slice ran and passed (none skipped): a session that runs this test does not run them itself.
    summary = result.stdout.splitlines()[-1]
    counts = {kind: int(n) for n, kind in re.findall(r"(\d+) (\w+)", summary.split(" in ")[0])}
    outcomes = {kind: n for kind, n in counts.items() if kind not in ("warning", "warnings")}
    assert outcomes == {"passed": len(SLICE)}, result.stdout[-4000:]
    assert _tree(home) == before
    for written in ("github-output", "github-summary", "hostile-out", "tf-data"):
        assert not (tmp_path / written).exists(), written


def test_a_session_running_the_slice_here_does_not_run_its_tests_again(request: pytest.FixtureRequest) -> None:
    """tests/conftest.py, ``_the_hermetic_slice_once``: the slice's tests run once, in the hostile process."""
    selected = {item.nodeid for item in request.session.items}
    if f"{__name__.replace('.', '/')}.py::{HERMETIC_SLICE_TEST}" not in selected:
        pytest.skip("this session does not run the hermetic slice")
    assert selected.isdisjoint(SLICE)


def _outside_any_session(**extra: str) -> dict[str, str]:
    """This process's environment as a fresh session would see it (not as an xdist worker of this one)."""
    inherited = {k: v for k, v in os.environ.items() if k != REAL_HOME_VAR and not k.startswith("PYTEST_XDIST")}
    return inherited | extra


GUARDED = """
import os
from pathlib import Path


def test_writes_into_the_real_home():
    Path(os.environ["{var}"], ".cdktf").mkdir()
"""


@pytest.mark.parametrize("strict", [True, False], ids=["strict", "shared-home"])
def test_the_session_fails_when_a_test_writes_into_the_real_home(tmp_path: Path, strict: bool) -> None:
    """The guard itself: a test that writes into the real home by its absolute path fails the session with
    ``--strict-home`` (a home nobody else writes to: CI, the slice above); without it, on a home shared
    with other people's processes, the session passes with a warning naming what appeared."""
    home = tmp_path / "home"
    home.mkdir()
    test_file = tmp_path / "test_guarded.py"
    test_file.write_text(GUARDED.replace("{var}", REAL_HOME_VAR))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:xdist", "-p", "no:randomly",
         "-p", "no:hypothesispytest", "-p", "no:cacheprovider", "-q", "--rootdir", str(tmp_path), "-c", os.devnull,
         *(["--strict-home"] if strict else []), str(test_file)],
        cwd=ROOT, env=_outside_any_session(HOME=str(home)), capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == (1 if strict else 0), result.stdout + result.stderr
    assert "1 passed" in result.stdout
    line = f"the tests wrote into the real home {home}: .cdktf"
    if strict:
        assert f"ERROR: {line}\n" in result.stdout
    else:
        assert f"WARNING: {line} (or another process on this machine did; --strict-home fails the session)" in (
            result.stdout
        )
