"""Every command in README.md and docs/*.md runs as written, from the repository root after `make setup`.

Commands are the lines of unlabelled (or sh/bash/shell) code blocks and the inline code spans that start with
a program; ```text blocks are output. What needs no AWS is executed: `--help`, `plan-comment` on the
fixtures, `diagram --check` on a synthesized app (in-process through the CLI's `main`, and one through the
installed console script, as a newcomer runs it). Everything else is checked against the CLI's argparse
parser, make targets against the Makefile, cdktf stack names against the synthesized app. Commits and image
tags must be full 40-character SHAs.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import itertools
import json
import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from ops.__main__ import OPS, build_parser, main
from tests.conftest import ROOT, Stacks, SynthFn, use_account
from tests.test_hcp_stack import CLOUD
from tests.tf import items, one

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
GENERATED = "<!-- generated below -->"  # what follows is a tool's output, not commands
BLOCK = re.compile(r"^( *)```([a-z]*)\n(.*?)^\1```", re.M | re.S)
INLINE = re.compile(r"(?<!`)`([^`]+)`(?!`)")
# Programs a reader may run; EXTERNAL ones are other tools (credentials and installs of their own, see README).
PROGRAMS = {OPS, "make", "cdktf", "node_modules/.bin/cdktf", ".venv/bin/python", "export"}
EXTERNAL = {"aws", "terraform", "git", "docker"}
PRODUCERS = {"pbpaste", "echo", "printf"}  # what may pipe a secret into a command
AWS_FREE = {"plan-comment", "diagram"}
SHA_FLAGS = {"--image", "--commit", "--tag"}
# Rollback flags resolve 7+ characters to the one commit they name (tests/test_ops_deploy.py runs the
# documented rollback commands as written).
SHORT_SHA_FLAGS = {"--to-image", "--to-commit"}


@dataclass(frozen=True)
class Command:
    doc: str
    text: str
    before: tuple[str, ...] | None = None  # in a code block: the lines above it there; None: inline

    @property
    def words(self) -> list[str]:
        """The command's words without leading VAR=value assignments and a producer's pipe."""
        words = shlex.split(self.text, comments=True)
        if "|" in words:
            producer, words = words[: words.index("|")], words[words.index("|") + 1 :]
            if producer[0] == "terraform":  # moving state between backends: `state pull | state push -`
                assert producer[-2:] == ["state", "pull"] and words[-3:] == ["state", "push", "-"], self
            else:
                assert producer[0] in PRODUCERS, f"{self}: only {sorted(PRODUCERS)} pipe into a command"
        while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0]):
            words = words[1:]
        return words

    @property
    def env(self) -> dict[str, str]:
        return dict(w.split("=", 1) for w in shlex.split(self.text) if re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", w))

    def __str__(self) -> str:
        return f"{self.doc}: {self.text}"


def _starts_a_command(span: str) -> bool:
    """An inline span is a command when it starts with a program and has more than the program's name."""
    words = span.split()
    if len(words) < 2:
        return False  # `.venv/bin/viberglass-ops` alone names the program
    return words[0] in PROGRAMS | EXTERNAL or words[0].startswith("python") or bool(re.match(r"[A-Z_]+=", words[0]))


def commands() -> list[Command]:
    found: list[Command] = []
    for path in DOCS:
        text = path.read_text().split(GENERATED, 1)[0]
        doc = str(path.relative_to(ROOT))
        for match in BLOCK.finditer(text):
            if match.group(2) in {"", "sh", "bash", "shell"}:
                lines = [line.strip() for line in re.sub(r"\\\n\s*", " ", match.group(3)).splitlines()]
                found += [Command(doc, line, tuple(lines[:i])) for i, line in enumerate(lines) if line]
        spans = [" ".join(span.split()) for span in INLINE.findall(BLOCK.sub("", text))]
        found += [Command(doc, span) for span in spans if _starts_a_command(span)]
    return [Command(c.doc, part.strip(), c.before) for c in found for part in c.text.split(" && ")]


COMMANDS = commands()
OPS_COMMANDS = [c for c in COMMANDS if c.words and c.words[0] == OPS]


def _ops_args(command: Command) -> list[str]:
    # Placeholders become values the argument checks accept: a commit id for <...sha>, a word otherwise.
    sha = "3f2c1ab9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3"
    return [re.sub(r"<[^>]+>", lambda m: sha if "sha" in m.group(0) else "x", w) for w in command.words[1:]]


def _needs_no_aws(args: list[str]) -> bool:
    return "--help" in args or (bool(args) and args[0] in AWS_FREE)


def test_the_docs_show_the_commands_a_newcomer_needs() -> None:
    verbs = {c.words[1] for c in OPS_COMMANDS if len(c.words) > 1}
    assert verbs >= {"bootstrap-state", "bootstrap-github-oidc", "secrets", "deploy", "rollback", "restart", "smoke",
                     "discover", "plan-comment", "diagram"}  # fmt: skip
    assert {"make setup", "make synth", "make test"} <= {c.text.split("#")[0].strip() for c in COMMANDS}
    assert sum(1 for c in OPS_COMMANDS if _needs_no_aws(_ops_args(c))) >= 3


@pytest.mark.parametrize("command", COMMANDS, ids=str)
def test_every_command_uses_a_program_a_fresh_clone_has(command: Command) -> None:
    words = command.words
    assert words, f"{command}: empty"
    assert words[0] in PROGRAMS | EXTERNAL, (
        f"{command}: run the ops commands as {OPS} and Python as .venv/bin/python (no activation needed)"
    )
    if "VIBERGLASS_ENV" in command.env:
        assert (ROOT / "config" / f"{command.env['VIBERGLASS_ENV']}.yaml").is_file(), command


def test_no_doc_runs_python_outside_the_virtualenv() -> None:
    for path in DOCS:
        text = path.read_text().split(GENERATED, 1)[0]
        assert not re.search(r"(?<![\w/.])python3? -m ", text), f"{path.name}: use .venv/bin/python or {OPS}"


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.words and c.words[0] == "make"], ids=str)
def test_every_make_target_exists(command: Command) -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in [w for w in command.words[1:] if not w.startswith("-") and "=" not in w]:
        assert re.search(rf"^{re.escape(target)}:", makefile, re.M), f"{command}: no target {target}"


@pytest.fixture(scope="module")
def stack_names(dev: Stacks, synth: SynthFn) -> set[str]:
    """The stacks an environment synthesizes: dev's, and the `hcp` stack of an environment on HCP Terraform."""
    return set(dev["manifest"]["stacks"]) | set(synth("dev", CLOUD)["manifest"]["stacks"])


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.words and c.words[0].endswith("cdktf")], ids=str)
def test_every_cdktf_command_names_stacks_that_exist(command: Command, stack_names: set[str]) -> None:
    words = command.words
    assert words[1] in {"synth", "deploy", "diff", "destroy", "list", "output"}, command
    stacks = [w for w in words[2:] if not w.startswith("-")]
    assert set(stacks) <= stack_names, f"{command}: unknown stacks"
    if words[0] != "cdktf":  # a path: the pinned CLI `make setup` installs
        assert words[0] == "node_modules/.bin/cdktf" and "cdktf-cli" in (ROOT / "package.json").read_text()
    elif command.before is not None:  # a plain `cdktf` to type: the block puts the pinned CLI on PATH first
        assert any(re.match(r'export PATH="\$PWD/node_modules/\.bin:', line) for line in command.before), command


# Terraform subcommands the docs use, with the options each may take (Terraform 1.11's CLI).
TERRAFORM = {
    "init": {"-input=false", "-reconfigure", "-migrate-state", "-force-copy", "-backend=false", "-no-color",
             "-lockfile=readonly"},
    "plan": {"-input=false", "-no-color", "-lock=false"},
    "apply": {"-input=false", "-no-color", "-auto-approve"},
    "destroy": {"-input=false", "-no-color"},
    "state list": set(),
    "state pull": set(),
    "state push": {"-", "-lock-timeout=5m"},
    "login": set(),
    "validate": {"-no-color"},
    "show": {"-json", "-no-color"},
    "output": {"-json", "-no-color"},
    "import": {"-input=false", "-no-color"},
    "state rm": set(),
}  # fmt: skip


def _synth_folders(doc: str) -> set[str]:
    """Where a doc's commands synthesize: cdktf.out, and every `make synth SYNTH_OUT=<folder>` it runs."""
    return {"cdktf.out"} | {
        c.env.get("SYNTH_OUT") or next((w.split("=", 1)[1] for w in c.words if w.startswith("SYNTH_OUT=")), "cdktf.out")
        for c in COMMANDS
        if c.doc == doc and c.words[:2] == ["make", "synth"]
    }


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.words and c.words[0] == "terraform"], ids=str)
def test_every_terraform_command_runs_in_a_synthesized_stack(command: Command, stack_names: set[str]) -> None:
    """`-chdir` names a stack folder the doc's own `make synth` wrote; the subcommand and its options exist."""
    words = command.words
    if len(words) > 3 and "|" in shlex.split(command.text):  # state pull | state push -
        left = shlex.split(command.text)
        test_every_terraform_command_runs_in_a_synthesized_stack(
            Command(command.doc, shlex.join(left[: left.index("|")])), stack_names
        )
    args = words[1:]
    if args and args[0].startswith("-chdir="):
        folder, _, stack = args.pop(0).removeprefix("-chdir=").rpartition("/stacks/")
        assert folder in _synth_folders(command.doc) and stack in stack_names, command
    sub = " ".join(args[:2]) if args and args[0] == "state" else (args[0] if args else "")
    assert sub in TERRAFORM, f"{command}: terraform {sub} is not a command the docs use"
    options = args[2:] if args[0] == "state" else args[1:]
    unknown = [o for o in options if o not in TERRAFORM[sub] and not o.startswith("<")]
    assert not unknown, f"{command}: unknown options {unknown}"


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.words and c.words[0] == ".venv/bin/python"], ids=str)
def test_every_python_module_or_script_exists(command: Command) -> None:
    words = command.words
    if words[1] == "-m":
        assert importlib.util.find_spec(words[2]) is not None, command
    else:
        assert (ROOT / words[1]).is_file(), command


@pytest.mark.parametrize("command", OPS_COMMANDS, ids=str)
def test_every_ops_command_parses_with_full_shas(command: Command) -> None:
    args = _ops_args(command)
    if "--help" not in args:
        assert callable(build_parser().parse_args(args).handler)
    words = command.words
    for flag, value in itertools.pairwise(words):
        if flag in SHA_FLAGS and not value.startswith("<"):
            sha = value.rsplit("-", 1)[-1] if flag == "--tag" else value
            assert re.fullmatch(r"[0-9a-f]{40}", sha), f"{command}: {flag} takes the full 40-character SHA"
        if flag in SHORT_SHA_FLAGS and not value.startswith("<"):
            assert re.fullmatch(r"[0-9a-f]{7,40}", value), f"{command}: {flag} takes 7 to 40 characters of a SHA"


@pytest.fixture
def clone_dir(tmp_path: Path, dev: Stacks, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory like the repository root after `make synth` (dev), with the test fixtures."""
    for name, doc in dev.items():
        if name != "manifest":
            (tmp_path / "cdktf.out" / "stacks" / name).mkdir(parents=True)
            (tmp_path / "cdktf.out" / "stacks" / name / "cdk.tf.json").write_text(json.dumps(doc))
    (tmp_path / "tests").symlink_to(ROOT / "tests")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("command", [c for c in OPS_COMMANDS if _needs_no_aws(_ops_args(c))], ids=str)
def test_every_command_that_needs_no_aws_runs(
    command: Command, clone_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _ops_args(command)
    if "--help" in args:
        with pytest.raises(SystemExit) as exit_info:
            main(args)
        assert exit_info.value.code == 0 and "example:" in capsys.readouterr().out
        return
    assert main(args) == 0, capsys.readouterr().err
    if args[0] == "plan-comment" and command.doc == "docs/plan-comment-example.md":
        doc = (ROOT / command.doc).read_text()
        committed = doc.split("<!-- begin -->\n", 1)[1].rsplit("\n<!-- end -->", 1)[0]
        assert (clone_dir / "comment.md").read_text().strip() == committed


def test_the_installed_entry_point_runs_without_activation() -> None:
    """The README's way: `.venv/bin/viberglass-ops ...` from the root, with no virtualenv on PATH."""
    first = next(c for c in OPS_COMMANDS if "--help" in c.words)
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if ".venv" not in p)
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}} | {"PATH": path}
    result = subprocess.run(first.words, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: viberglass-ops") and "example:" in result.stdout


def _examples(parser: argparse.ArgumentParser) -> list[str]:
    """The example lines of ``parser``'s epilog and of every subcommand's, recursively."""
    found = [line.strip() for line in (parser.epilog or "").splitlines()[1:] if line.strip()]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _examples(sub)
    return found


def test_every_help_example_parses_with_full_shas() -> None:
    examples = _examples(build_parser())
    assert len(examples) == 22  # the root and every command
    for example in examples:
        command = Command("--help", example)
        assert command.words[0] == OPS, example
        test_every_ops_command_parses_with_full_shas(command)


# -- a fresh account, in the order docs/operations.md gives ------------------------------------------------------

FRESH = (
    (ROOT / "docs" / "operations.md")
    .read_text()
    .split("## A fresh environment, step by step", 1)[1]
    .split("\n## ", 1)[0]
)


def _position(text: str) -> int:
    assert text in FRESH, f"the fresh-environment steps no longer mention {text!r}"
    return FRESH.index(text)


def test_the_fresh_environment_steps_are_in_dependency_order() -> None:
    """The bootstrap installs the boundary every stack role needs; base creates the KMS alias the secrets are
    encrypted with; `secrets init` creates the secrets the backend's task definition names; platform creates
    the Amplify app `connect frontend` connects; the backend runs worker images."""
    order = [
        "ops bootstrap-state --env dev",
        "ops bootstrap-github-oidc --env dev",
        "cdktf deploy base",
        "ops secrets init --env dev",
        "cdktf deploy base workers platform",
        "ops connect frontend --env dev",
        "ops secrets set slackSigningSecret --env dev",
        "ops deploy workers --env dev",
    ]
    positions = [_position(step) for step in order]
    assert positions == sorted(positions)
    readme = (ROOT / "README.md").read_text()
    assert (
        readme.index("bootstrap-github-oidc --env dev")
        < readme.index("cdktf deploy base\n")
        < readme.index("ops secrets init --env dev")
        < readme.index("cdktf deploy base workers platform")
        < readme.index("ops connect frontend --env dev")
    )


@pytest.mark.managed_policies
def test_a_fresh_account_in_runbook_order(aws: str, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch, dev: Stacks) -> None:  # fmt: skip
    """The AWS-touching steps on the moto server, in dev's own account, in the documented order. Terraform
    cannot run here: the two `cdktf deploy` steps are stand-ins that create, with boto3, exactly what the
    later steps need of the synthesized stacks (the KMS alias of base; the Amplify app and the discovery
    parameters of platform; Amplify itself is the local stand-in of tests/test_ops_deploy.py), by the names
    the synthesized JSON gives them."""
    import boto3

    from tests.test_ops_deploy import AmplifyStandIn

    def ops(*argv: str, stdin: str | None = None) -> tuple[int, str]:
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        status = main(list(argv))
        captured = capsys.readouterr()
        return status, captured.out + captured.err

    use_account(monkeypatch, "111122223333")
    assert ops("bootstrap-state", "--env", "dev")[0] == 0
    assert ops("bootstrap-github-oidc", "--env", "dev")[0] == 0
    # Before base: the secrets have no key to be encrypted with, and the command says what to do.
    status, output = ops("secrets", "init", "--env", "dev")
    assert status == 2 and "deploy base first" in output

    # Stand-in for `cdktf deploy base`: the environment key and its alias, as synthesized.
    alias = one(dev["base"], "aws_kms_alias")["name"]
    kms = boto3.client("kms", region_name="eu-west-1")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)

    status, output = ops("secrets", "init", "--env", "dev")
    assert status == 0 and "Done: 4 change(s) made." in output
    ssm = boto3.client("ssm", region_name="eu-west-1")
    # Every secret the synthesized task definition names exists now (the stack itself holds none).
    definition = json.loads(
        one(dev["platform"], "aws_ecs_task_definition", family="viberglass-dev-backend")["container_definitions"]
    )
    named = {s["valueFrom"].split(":parameter", 1)[1] for c in definition for s in c.get("secrets", [])
             if ":parameter" in s["valueFrom"]}  # fmt: skip
    stored = {p["Name"] for p in ssm.describe_parameters()["Parameters"]}
    assert named == stored and len(named) == 4

    # Stand-in for `cdktf deploy base workers platform`: the Amplify app (unconnected) and the discovery
    # parameters `connect frontend` reads, by their synthesized names.
    amplify = AmplifyStandIn()
    amplify.repository = ""
    monkeypatch.setenv("AWS_ENDPOINT_URL_AMPLIFY", amplify.url)
    discovery = {p["name"]: p for _, p in items(dev["platform"], "aws_ssm_parameter")}
    for suffix, value in (("amplify/appId", "d1app"), ("amplify/branchName", "main"), ("amplify/region", "eu-west-1")):
        assert f"/viberglass/dev/{suffix}" in discovery
        ssm.put_parameter(Name=f"/viberglass/dev/{suffix}", Value=value, Type="String")
    try:
        status, output = ops("connect", "frontend", "--env", "dev", stdin="github-token-from-stdin\n")
    finally:
        amplify.server.shutdown()
    assert status == 0 and "github-token-from-stdin" not in output
    assert amplify.updates == [{"repository": "https://github.com/Ilities/viberglass",
                                "accessToken": "github-token-from-stdin"}]  # fmt: skip

    status, output = ops("secrets", "set", "slackSigningSecret", "--env", "dev", stdin="s3cr3t\n")
    assert status == 0 and "restart backend --env dev" in output
    slack = ssm.get_parameter(Name="/viberglass/dev/backend/slackSigningSecret", WithDecryption=True)
    assert slack["Parameter"]["Value"] == "s3cr3t"
