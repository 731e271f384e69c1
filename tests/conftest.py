"""Shared fixtures. Synthesis is expensive (a jsii runtime per process), so each environment and each
configuration variant is synthesized once per test session and every test reads the JSON.

The session is hermetic (docs/testing.md): before anything runs, :func:`pytest_configure` removes the
variables of the user's environment that could change a result (``VIBERGLASS_*``, ``AWS_*``, ``TF_*``,
``NODE_OPTIONS``, ``JSII_*``, ...), points ``HOME`` at a temporary folder (so the cdktf CLI, Terraform,
checkov and boto3 find no user configuration and leave nothing in the real home), puts the Terraform and
gh STAND-INs (tests/standin) first on PATH and keeps the jsii package cache inside the repository
(``.tools/``). At the end it fails the session when anything new appeared in the real home's tool
folders. ``tests/test_hermetic.py`` runs a slice of the suite in a hostile environment to prove it.
"""

from __future__ import annotations

import copy
import functools
import gc
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml

from config.defaults import merge
from config.loader import CONFIG_DIR, parse

ROOT = Path(__file__).resolve().parent.parent
Stacks = dict[str, dict[str, Any]]
SynthFn = Callable[..., Stacks]

# -- hermetic session --------------------------------------------------------------------------------------
# The real home, handed from the pytest-xdist controller to its workers (which see the temporary one).
REAL_HOME_VAR = "VIBERGLASS_TESTS_REAL_HOME"
# Every variable with one of these prefixes, or one of these names, is removed for the session: each can
# change what the code under test does (config folder, environment, AWS profile/credentials/endpoint,
# Terraform CLI configuration, the Node.js jsii starts, CI-only output files, ...).
SCRUBBED_PREFIXES = ("VIBERGLASS_", "AWS_", "TF_", "TFE_", "JSII_", "CDKTF_", "GITHUB_", "RUNNER_", "MOTO_",
                     "BOTO_", "NODE_", "NPM_CONFIG_", "PYTHON", "XDG_", "ACTIONS_")  # fmt: skip
SCRUBBED_NAMES = {"CI", "GH_TOKEN", "GH_HOST", "CHECKPOINT_DISABLE", "CDKTF_OUTDIR", "LANGUAGE", "TZ",
                  "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "VIRTUAL_ENV"}  # fmt: skip
# Kept although they match a prefix: how Python itself runs, not what the code does.
KEPT = {"PYTHONUNBUFFERED", "PYTHONPATH", "PYTHONHOME", "PYTEST_XDIST_WORKER",
        "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID", "NODE_EXTRA_CA_CERTS", REAL_HOME_VAR}  # fmt: skip
# Where the tools this suite starts would keep state in a home folder: nothing new may appear there.
WATCHED_IN_HOME = (".cdktf", ".terraform.d", ".terraformrc", ".aws", ".cache/aws", ".cache/checkov",
                   ".config/cdktf", ".checkov", ".hypothesis", ".pytest_cache")  # fmt: skip
JSII_CACHE = ROOT / ".tools" / "jsii-package-cache"


def hermetic_environment(environ: dict[str, str], home: Path) -> dict[str, str]:
    """``environ`` without the user's settings, with ``home`` as HOME and fixed, harmless defaults."""
    kept = {
        name: value
        for name, value in environ.items()
        if name in KEPT or not (name in SCRUBBED_NAMES or name.upper().startswith(SCRUBBED_PREFIXES))
    }
    return kept | {
        "HOME": str(home),
        "LC_ALL": "C.UTF-8",
        "LANG": "C.UTF-8",
        # boto3: no profile, no credentials file, no instance metadata; tests that talk to AWS use `aws`.
        "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        # Terraform and the cdktf CLI: no version check or telemetry (nothing is sent, nothing written).
        "CHECKPOINT_DISABLE": "1",
        # jsii unpacks the provider bindings (~400 MB) once per package version; a cache in a fresh home
        # would cost ~3 s in every process that synthesizes. It stays in the repository's ignored .tools/.
        "JSII_RUNTIME_PACKAGE_CACHE_ROOT": str(JSII_CACHE),
    }


def _snapshot(home: Path) -> set[str]:
    """The entries directly in ``home`` and everything below its watched tool folders."""
    found = {p.name for p in home.iterdir()} if home.is_dir() else set()
    for watched in WATCHED_IN_HOME:
        top = home / watched
        if top.is_dir():  # os.walk: Path.rglob costs ~0.5 s on a home with a 10,000-file jsii cache
            for folder, folders, files in os.walk(top):
                below = os.path.relpath(folder, home)
                found.update(os.path.join(below, name) for name in folders + files)
        elif top.exists():
            found.add(watched)
    return found


def pytest_configure(config: pytest.Config) -> None:
    worker = "PYTEST_XDIST_WORKER" in os.environ
    real_home = Path(os.environ[REAL_HOME_VAR] if worker and REAL_HOME_VAR in os.environ else Path.home())
    home = Path(tempfile.mkdtemp(prefix="viberglass-tests-home-"))
    clean = hermetic_environment(dict(os.environ), home)
    os.environ.clear()
    os.environ.update(clean)
    # No test depends on a Terraform (or gh) the machine may or may not have: the STAND-INs come first on
    # PATH for the whole session (cdktf asks `terraform version` when it synthesizes a `cloud` backend).
    os.environ["PATH"] = standin_path(home / "standin-bin")
    _plain_pythons(home / "standin-bin")
    os.environ[REAL_HOME_VAR] = str(real_home)
    # .pyc files of the project's and the tests' modules go to their __pycache__ folders in the repository
    # (ignored by git), whatever PYTHONDONTWRITEBYTECODE says: every worker and subprocess would otherwise
    # compile (and pytest re-rewrite) the same modules again.
    sys.dont_write_bytecode = False
    config.stash[_HOME] = (home, real_home, set() if worker else _snapshot(real_home))


def _plain_pythons(folder: Path) -> None:
    """``python`` and ``python3`` in ``folder`` (first on the session's PATH) are the interpreter this
    virtualenv was made from, as a GitHub runner's are plain interpreters: what a workflow step or a
    script's ``#!/usr/bin/env python3`` starts does not depend on the machine's PATH, and no version
    manager's shim (pyenv's costs ~50 ms of CPU a call; the workflow tests make ~80 such calls) stands in
    between. The project's own commands keep running with ``.venv/bin/python``, as the workflows say."""
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    for name in ("python", "python3"):
        link = folder / name
        if not link.exists():
            link.symlink_to(base)


def pytest_sessionfinish(session: pytest.Session) -> None:
    home, real_home, before = session.config.stash[_HOME]
    shutil.rmtree(home, ignore_errors=True)
    if "PYTEST_XDIST_WORKER" in os.environ:
        return
    appeared = sorted(_snapshot(real_home) - before)
    if appeared:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        strict = session.config.getoption("strict_home")
        message = f"the tests wrote into the real home {real_home}: {', '.join(appeared[:10])}"
        if not strict:
            # A home shared with other people's processes (a cdktf run of theirs writes
            # ~/.terraform.d/checkpoint_signature) changes under the session without any test's doing.
            message += " (or another process on this machine did; --strict-home fails the session)"
        if reporter is not None:
            reporter.write_line(f"{'ERROR' if strict else 'WARNING'}: {message}", red=True)
        if strict:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--strict-home",
        action="store_true",
        help="fail the session when anything new appears in the real home's tool folders (a home no other "
        "process writes to: CI, tests/test_hermetic.py); without it a warning",
    )


_HOME = pytest.StashKey[tuple[Path, Path, set[str]]]()


# Fixtures whose tests cost ~0.3-1 s each (a moto server answering boto3, a workflow run through the runner
# stand-in): a file with many of them is one of the longest for its worker.
EXPENSIVE_FIXTURES = {"aws", "moto_url", "dispatch"}
# A file with subprocess synths counts as this many such tests (~10-20 s).
SLOW_FILE_WEIGHT = 25


HERMETIC_SLICE_TEST = "test_a_slice_of_the_suite_passes_in_a_hostile_environment_and_leaves_home_untouched"


def _the_hermetic_slice_once(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests of tests/test_hermetic.py's ``SLICE`` run there, in a process whose environment is hostile, and
    must pass there. A session that selects that test does not run them a second time in its own, friendlier
    environment (~3 s of CPU, a cdktf CLI synthesis among them); a session without it runs them as usual."""
    hermetic = next((item for item in items if item.name == HERMETIC_SLICE_TEST), None)
    if not isinstance(hermetic, pytest.Function):
        return
    in_slice = set(hermetic.module.SLICE)
    config.hook.pytest_deselected(items=[item for item in items if item.nodeid in in_slice])
    items[:] = [item for item in items if item.nodeid not in in_slice]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The slice tests/test_hermetic.py runs is run there only (``_the_hermetic_slice_once``). Then the longest
    test files first (longest processing time first), estimated by how many of their tests
    use an expensive fixture and whether they have ``slow`` tests (subprocess synths); files of equal weight
    in the random order pytest-randomly gave them. pytest-xdist hands out whole files in this order
    (``--no-loadscope-reorder`` in pyproject.toml: by default it re-sorts files by their number of tests), so
    the long ones start at once instead of one of them keeping a worker busy while the other idles at the
    end."""
    _the_hermetic_slice_once(config, items)
    slow = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow")}
    weight: dict[str, int] = {}
    for item in items:
        path = item.nodeid.split("::")[0]
        weight[path] = weight.get(path, 0) + bool(EXPENSIVE_FIXTURES & set(getattr(item, "fixturenames", ())))
    for path in slow:
        weight[path] += SLOW_FILE_WEIGHT
    items.sort(key=lambda item: -weight[item.nodeid.split("::")[0]])


@pytest.hookimpl(wrapper=True)
def pytest_collection(session: pytest.Session) -> Generator[None, object, object]:
    """Python's cyclic garbage collector, tuned for a test process: paused while the test modules import
    (pytest, botocore's models, moto, pydantic, z3, the jsii bindings: objects that live until the end), then
    everything made so far is frozen out of its scans, and it runs after 50,000 new container objects instead
    of 700. Each full scan of that heap cost ~0.4 s: collecting takes ~0.4 s less and the in-process tests
    ~17 % less CPU. Objects are still freed as soon as nothing refers to them (reference counting); only
    cycles wait a little longer."""
    from tests.moto_server import freeze_what_was_built

    gc.disable()
    try:
        return (yield)
    finally:
        gc.enable()
        freeze_what_was_built()


# The STAND-INs the whole session puts first on PATH: the machine's Terraform or gh must never answer. The
# others (`make`, `docker`) stand in only for the tests that choose them (the workflow runner, the deploys):
# a session-wide `make` stand-in would refuse the tests' real `make synth`.
SESSION_STANDINS = ("terraform", "gh")
ALL_STANDINS = ("terraform", "gh", "make", "docker")
# The stand-ins that need more than the standard library (none: docker speaks ECR's JSON API itself).
NEEDS_SITE_PACKAGES: set[str] = set()


def standin_path(folder: Path, names: tuple[str, ...] = SESSION_STANDINS, path: str | None = None) -> str:
    """``path`` (default: this process's ``PATH``) with the STAND-INs ``names`` of tests/standin first.

    Each is reached through a two-line launcher in ``folder`` that runs it with this interpreter in
    isolated mode (``-I``; ``-S`` too for the standard-library-only ones): neither the user's ``python3``
    on PATH (the pyenv shim behind it costs ~190 ms a call here, and a deploy workflow makes ~20 calls)
    nor a real ``terraform``/``gh`` on PATH can change what a test sees.
    """
    import sys

    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        standin = ROOT / "tests" / "standin" / name
        flags = "-I" if name in NEEDS_SITE_PACKAGES else "-I -S"
        launcher = folder / standin.name
        launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" {flags} "{standin}" "$@"\n')
        launcher.chmod(0o755)
    return f"{folder}{os.pathsep}{os.environ['PATH'] if path is None else path}"


@functools.lru_cache(maxsize=64)
def _parsed_yaml(text: str) -> Any:
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_yaml(path: Path) -> Any:
    """The YAML document in ``path`` (a workflow, a shipped configuration), as ``yaml.safe_load`` reads it,
    parsed once per text with libyaml (the suite reads the same few files ~400 times) and copied, so a test
    may change what it gets."""
    return copy.deepcopy(_parsed_yaml(path.read_text()))


def raw_config(env: str) -> dict[str, Any]:
    data: dict[str, Any] = load_yaml(CONFIG_DIR / f"{env}.yaml")
    return data


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> SynthFn:
    """``synth(env, overrides)`` -> {stack name: synthesized JSON}, cached per (env, overrides).

    The pytest-xdist workers of one session share what they synthesize: the first worker to need a variant
    synthesizes it into the session's common temporary folder (under a file lock), the others read its JSON.
    Nothing outlives the session (the folder is pytest's temporary directory of this run)."""
    from filelock import FileLock

    cache: dict[str, Stacks] = {}
    # The base temporary folder of this worker; its parent is the session's, common to every worker.
    shared = tmp_path_factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:
        shared = shared.parent
    shared = shared / "synth-shared"
    shared.mkdir(exist_ok=True)

    def run(env: str, overrides: dict[str, Any] | None = None) -> Stacks:
        key = f"{env}:{json.dumps(overrides, sort_keys=True)}"
        if key not in cache:
            if MUTANT in os.environ:
                out = _synth_for_mutation_testing(env, overrides or {})
            else:
                out = shared / hashlib.sha256(key.encode()).hexdigest()[:16]
                with FileLock(f"{out}.lock"):
                    if not (out / "manifest.json").is_file():
                        from stacks import build_app

                        build_app(parse(merge(raw_config(env), overrides or {}), env), outdir=str(out)).synth()
            cache[key] = {p.parent.name: json.loads(p.read_text()) for p in (out / "stacks").glob("*/cdk.tf.json")}
            cache[key]["manifest"] = json.loads((out / "manifest.json").read_text())
        return cache[key]

    return run


# mutmut (`make mutation`) sets this in the processes it runs the tests in: the name of the active mutant.
MUTANT = "MUTANT_UNDER_TEST"
ScopeName = Literal["session", "package", "module", "class", "function"]


def per_test_under_mutation(scope: ScopeName) -> Callable[[str, pytest.Config], ScopeName]:
    """The scope of a shared fixture that calls the code under test: ``scope`` in a normal run, one set-up per test
    under mutmut. mutmut records which functions each test reaches at the test's teardown, so a shared fixture's
    calls count only for the first test that set it up, and a mutant of what the fixture computes would be
    judged by that one test alone (docs/testing.md, "Mutation testing")."""

    def pick(fixture_name: str, config: pytest.Config) -> ScopeName:
        return "function" if MUTANT in os.environ else scope

    return pick


@pytest.fixture(autouse=True)
def _no_memo_across_tests_under_mutation() -> None:
    """The same weakness for the code's own per-process memos (a YAML text parsed once, the command line
    built once): under mutmut each test starts without them, so every test that reaches the parser or the
    command line is counted, and judges its mutants. A normal run keeps them."""
    if MUTANT in os.environ:
        from config.loader import _parsed
        from ops.__main__ import build_parser

        _parsed.cache_clear()
        build_parser.cache_clear()


_SYNTH_ONE = """
import json, sys
from config.defaults import merge
from config.loader import parse
from stacks import build_app
from tests.conftest import raw_config
env, overrides, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
build_app(parse(merge(raw_config(env), overrides), env), outdir=out).synth()
"""


def _synth_for_mutation_testing(env: str, overrides: dict[str, Any]) -> Path:
    """Under mutmut: the stacks synthesized by the unmutated code in a process of their own, once per mutation
    run (a folder in the temporary directory, keyed by the code's copy, the environment and the overrides).

    mutmut forks one warm process per mutant, and jsii's Node process cannot be shared across forks; a synth
    in each fork would also cost seconds per mutant. The synthesized JSON is the tests' input here (the
    deploy and bootstrap decisions under mutation read it); the synthesis code's own mutants are judged by
    the tests that call it directly."""
    import subprocess

    digest = hashlib.sha256(f"{ROOT}:{env}:{json.dumps(overrides, sort_keys=True)}".encode()).hexdigest()[:16]
    out = Path(tempfile.gettempdir()) / f"viberglass-mutation-synth-{digest}"
    if not (out / "manifest.json").is_file():
        partial = Path(tempfile.mkdtemp(prefix=f"{out.name}-"))
        subprocess.run(
            [sys.executable, "-c", _SYNTH_ONE, env, json.dumps(overrides), str(partial)],
            cwd=ROOT, env={**os.environ, MUTANT: ""}, check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        try:
            partial.rename(out)
        except OSError:  # another mutant's process got there first
            shutil.rmtree(partial, ignore_errors=True)
    return out


@pytest.fixture(scope="session")
def dev(synth: SynthFn) -> Stacks:
    return synth("dev")


@pytest.fixture(scope="session")
def prod(synth: SynthFn) -> Stacks:
    return synth("prod")


@pytest.fixture(scope="session", params=["dev", "prod"])
def each_env(request: pytest.FixtureRequest, synth: SynthFn) -> tuple[str, Stacks]:
    """Run a test once per shipped environment."""
    env: str = request.param
    return env, synth(env)


# The AWS managed policies the code under test attaches or a test attaches by hand, as moto bundles them
# (their real documents). moto parses all ~1,200 of its bundle whenever it builds an account's IAM (every
# reset, every further account a test acts in: ~0.7 s each); these few are all any test uses, and a policy
# outside them is refused (NoSuchEntity), so nothing can come to depend on one silently.
MANAGED_POLICIES = ("ReadOnlyAccess", "PowerUserAccess", "AdministratorAccess")


def _moto_server() -> Any:
    from tests.moto_server import start

    return start(MANAGED_POLICIES)


@pytest.fixture(scope="session")
def _moto_session() -> str:
    """The moto server of the function-scoped ``aws`` fixture, which resets it before every test. It is not
    stopped: its thread is a daemon and ends with the process, while moto's ``stop()`` waits out
    ``serve_forever``'s 0.5 s poll at the very end of the session."""
    server = _moto_server()
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """A moto server on 127.0.0.1 (real HTTP; boto3 is not patched) of one test module's own, for a
    module-scoped fixture that sets up an account once and lets several tests read it.

    It is a separate process that nothing else resets: the function-scoped ``aws`` fixture resets the
    session's in-process server, so the tests of a module may run in any order (pytest-randomly) without
    wiping what the module fixture made.
    """
    import subprocess
    import sys

    # tests/moto_server.py, `serve`: it loads the AWS managed policies of MANAGED_POLICIES.
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.moto_server", *MANAGED_POLICIES],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdin is not None
    address = process.stdout.readline().strip()
    try:
        assert address, "the moto server process did not start"
        yield f"http://{address}"
    finally:
        process.stdin.close()
        process.wait(timeout=30)


@pytest.fixture
def aws(_moto_session: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    """Point boto3 at the moto server with fake credentials, starting from an empty account.

    Tests marked ``managed_policies`` also get AWS managed IAM policies (ReadOnlyAccess, ...): moto parses
    ~1,200 of them on every reset (~0.7 s), so only the tests that attach them pay for it. The server runs
    in this process and reads the variable when it rebuilds its IAM backend.
    """
    import urllib.request

    moto_url = _moto_session
    wanted = request.node.get_closest_marker("managed_policies") is not None
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true" if wanted else "false")
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    return moto_url


def without_credentials(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make boto3 find no credentials at all (after the ``aws`` fixture): no keys in the environment, no
    credentials or config file (``folder`` holds none), no instance metadata, and a new default session
    (boto3 caches the credentials an earlier test found)."""
    import boto3

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(folder / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(folder / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)


def use_account(monkeypatch: pytest.MonkeyPatch, account: str) -> None:
    """Make boto3 act in ``account`` on the moto server (after the ``aws`` fixture): credentials of a role
    assumed there, which moto attributes to that account, as AWS does. The configuration names its own
    accounts (`aws.account_id`), and the bootstrap commands refuse any other."""
    import boto3

    credentials = boto3.client("sts", region_name="eu-west-1").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/operator", RoleSessionName="operator"
    )["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials["SessionToken"])
    # boto3 caches the credentials it first resolved: a new default session (its service models come from the
    # session-wide loader, `_one_botocore_loader`).
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)


@pytest.fixture(scope="session", autouse=True)
def _one_botocore_loader() -> Iterator[None]:
    """Every boto3 session of a test process reads botocore's service models through one loader (which keeps
    what it has parsed), as one session would: the tests start a session per account and per test
    (``use_account``, the deploy and bootstrap fixtures), and each would otherwise parse ECR's, S3's or IAM's
    JSON model again (~30-100 ms a client)."""
    import functools

    import botocore.session

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", functools.lru_cache(botocore.session.create_loader))
        yield


@pytest.fixture(scope="session", autouse=True)
def _one_client_per_session_and_settings() -> Iterator[None]:
    """A boto3 session hands out one client per set of arguments and ``AWS_*`` variables, as the one command of an
    ops process would use them: a test process runs hundreds of ops commands in one boto3 session (``use_account``,
    the deploy fixtures), and each command's clients would be built again (~3 ms each, ~600 in the suite: the
    client class with a method per operation, a copy of the session's event handlers). Whatever botocore reads
    when it builds a client is in the key: the arguments, the ``Config`` options, and every ``AWS_*`` variable
    (a region from ``AWS_DEFAULT_REGION``, an ``AWS_ENDPOINT_URL_AMPLIFY`` stand-in, keys set after a first client
    found none), so a client is reused only where a new one would be built the same."""
    import weakref

    import boto3.session

    made: weakref.WeakKeyDictionary[boto3.session.Session, dict[str, Any]] = weakref.WeakKeyDictionary()
    build = boto3.session.Session.client

    def client(self: boto3.session.Session, *args: Any, **kwargs: Any) -> Any:
        config = kwargs.get("config")
        options = sorted(getattr(config, "_user_provided_options", {}).items()) if config is not None else None
        # botocore reads the region, endpoints, retries and credentials from AWS_* variables when it builds a client.
        variables = sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_"))
        key = repr((args, sorted((k, v) for k, v in kwargs.items() if k != "config"), options, variables))
        clients = made.setdefault(self, {})
        if key not in clients:
            clients[key] = build(self, *args, **kwargs)
        return clients[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(boto3.session.Session, "client", client)
        yield
