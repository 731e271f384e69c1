"""No plan file, plan JSON, outputs or state leaves a runner where repository readers can get it: one scan
over every workflow (and composite action) and every file under scripts/ and .ci/.

Saved plans (`plan -out=`), `terraform show -json` output, `terraform output -json`/`-raw` output and state
(`state pull`, `*.tfstate`) hold every value Terraform knows in clear; an artifact, a cache, a log or the
job summary is readable by everyone who can read the repository. The scan follows the files: it learns
which files hold a plan, plan JSON, outputs or state from the scripts themselves (`-out=F`,
`show -json ... > F`, `output -json > F`, `state pull > F`, `cp`/`mv` of such a file, shell variables
resolved where the script assigns them), adds the names Terraform and cdktf use (`*.tfstate`, `tfplan`,
`*.tfplan`, `plan.json`, `cdktf.out/`, `terraform-state/`, `.terraform/`), and fails on:

* an `actions/upload-artifact`, `actions/cache`(`/save`) or `actions/upload-pages-artifact` step whose
  `path` is, or holds, such a file, or the scripts' work folder `plans/` (plan text and Terraform logs);
* `gh release upload`, `gh gist create`, `gh api -F/--field/--input @file`, `curl -T/-F/--data-binary @file`
  of such a file or of anything under `plans/`;
* printing one to the log or the job summary (`cat`, `head`, `tail`, `jq`, `echo`, ... without a redirect
  to a file), `terraform show -json`, `terraform output -json`/`-raw` or `terraform state pull`/`state show`
  output that is not redirected to a file, and a shell variable holding one echoed;
* human plan text in the job summary other than through `ops plan-comment --job-summary` (which redacts
  what the plan JSON marks sensitive): `terraform show` appended to `$GITHUB_STEP_SUMMARY`, or a plan text
  file (`terraform show ... > F`, `plans/**.txt`) printed into it.

Storing a saved plan where only the apply identity can read it (an encrypted S3 prefix, `aws s3 cp`) is
not a leak and is not flagged. The known findings are listed in ``KNOWN``: each must keep matching (a
fixed leak fails until its entry is deleted) and nothing else may be found.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, load_yaml

UPLOADERS = ("actions/upload-artifact", "actions/cache", "actions/upload-pages-artifact")
SENSITIVE_NAMES = ("*.tfstate", "*.tfstate.*", "tfplan", "*.tfplan", "*tfplan.json", "plan.json", "*.plan.json")
SENSITIVE_DIRS = {"cdktf.out", "terraform-state", ".terraform"}
# The scripts' work folder (plan text, Terraform's logs): nothing to upload, though printing a log's tail
# on failure is how a failed plan is reported.
UPLOAD_ONLY_DIRS = {"plans"}
SUMMARY = {"$GITHUB_STEP_SUMMARY", "${GITHUB_STEP_SUMMARY}"}
LOGS = {"$GITHUB_STEP_SUMMARY", "${GITHUB_STEP_SUMMARY}", "/dev/stdout", "/dev/stderr"}
OUTPUT_VALUES = {"-json", "-raw"}  # `terraform output` prints sensitive outputs in clear with either
PRINTERS = {"cat", "head", "tail", "jq", "less", "more", "base64", "xxd", "od", "strings", "tee"}


@dataclass(frozen=True)
class Finding:
    file: str  # path from the repository root
    where: str  # workflow job/step, or "script"
    rule: str
    detail: str


# Findings that are known and accepted, each with its reason. None: the prod deploy hands over only the
# value-free review record and the PR plan workflow only the value-free digest.
KNOWN: dict[Finding, str] = {}


# -- reading shell ------------------------------------------------------------------------------------------------


def _normalise(word: str, variables: dict[str, str]) -> str:
    """A path as far as it can be known: assigned variables substituted, anything else (`${{ }}`,
    unknown `$VAR`) a `*`."""
    for _ in range(5):
        replaced = re.sub(
            r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?",
            lambda m: variables.get(m.group(1), "\x00"),
            word,
        )
        if replaced == word:
            break
        word = replaced
    word = re.sub(r"\$\{\{[^}]*\}\}", "*", word).replace("\x00", "*")
    word = re.sub(r"\$\{?[0-9@*#]\}?", "*", word)  # positional parameters
    return word.strip("\"'")


def _commands(script: str) -> list[list[str]]:
    """The script's simple commands as word lists (continuations joined, `;`/`&&`/`||` split, pipes kept
    as a `|` word, `$(...)` substitutions also as commands of their own)."""
    text = re.sub(r"\\\n", " ", script)
    found = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [line, *re.findall(r"\$\(([^()]*)\)", line)]
        for part in parts:
            for command in re.split(r"\s*(?:&&|\|\||;)\s*", part):
                piece = re.sub(r"^(?:(?:do|then|else|!|\{|\()\s+)+", "", command.strip())
                try:
                    lexer = shlex.shlex(piece, posix=True, punctuation_chars="|><")
                    lexer.whitespace_split = True
                    lexer.commenters = "#"
                    words = list(lexer)
                except ValueError:
                    words = piece.split()
                if words:
                    found.append(words)
    return found


def _assignments(script: str) -> dict[str, str]:
    variables: dict[str, str] = {}
    for name, value in re.findall(r"(?m)^\s*(?:local\s+|export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(\S+)", script):
        if not value.startswith("$("):
            variables[name] = value.strip("\"'")
    for loop_var in _loops(script):
        variables.setdefault(loop_var, "*")
    return variables


def _loops(script: str) -> dict[str, list[str]]:
    """``for VAR in ITEMS`` loops: the items each variable takes."""
    return {
        var: shlex.split(items, posix=True)
        for var, items in re.findall(r"\bfor\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\s+([^;\n]*?)\s*(?:;|\n)\s*do\b", script)
    }


def _redirect_target(words: list[str]) -> str | None:
    """Where the command's standard output goes (``>``/``>>`` target), or None (the log)."""
    for i, word in enumerate(words):
        if word in {">", ">>"} and i + 1 < len(words):
            return words[i + 1]
        if word.startswith(">") and not word.startswith(">&") and len(word) > 1 and word not in {">", ">>"}:
            return word.lstrip(">")
    return None


def _chdir(words: list[str]) -> str:
    for word in words:
        if word.startswith("-chdir="):
            return word.split("=", 1)[1]
    return ""


def sensitive_files(scripts: list[str]) -> set[str]:
    """Every file the scripts write a plan, plan JSON or state into (paths normalised)."""
    found: set[str] = set()
    for _ in range(3):  # copies of copies
        for script in scripts:
            variables = _assignments(script)
            for words in _commands(script):
                norm = [_normalise(w, variables) for w in words]
                if norm and norm[0].endswith("terraform"):
                    base = _normalise(_chdir(words), variables)
                    for word in norm:
                        if word.startswith("-out="):
                            found.add(f"{base}/{word[5:]}" if base else word[5:])
                    target = _redirect_target(norm)
                    if target and (
                        ("show" in norm and "-json" in norm)
                        or ("state" in norm and "pull" in norm)
                        or ("output" in norm and OUTPUT_VALUES & set(norm))
                    ):
                        found.add(target)
                if norm and norm[0] in {"cp", "mv"} and len(norm) >= 3:
                    args = [w for w in norm[1:] if not w.startswith("-")]
                    if len(args) == 2 and is_sensitive(args[0], found):
                        found.add(args[1])
    return found


def plan_texts(scripts: list[str]) -> set[str]:
    """Every file the scripts write human plan text into (``terraform show`` without ``-json`` redirected),
    and the scripts' own naming of it (``plans/**.txt``)."""
    found = {"plans/*.txt", "plans/*/*.txt"}
    for script in scripts:
        variables = _assignments(script)
        for words in _commands(script):
            norm = [_normalise(w, variables) for w in words]
            target = _redirect_target(norm)
            is_show = bool(norm) and norm[0].endswith("terraform") and "show" in norm and "-json" not in norm
            if is_show and target and target not in LOGS:
                found.add(target)
    return found


def is_sensitive(path: str, files: set[str], *, upload: bool = False) -> bool:
    """``path`` (a file or folder, possibly a glob) is, or holds, a plan, plan JSON, outputs or state (for an
    upload: or anything of the scripts' work folder)."""
    path = path.strip().rstrip("/")
    if not path:
        return False
    parts = path.split("/")
    dirs = SENSITIVE_DIRS | UPLOAD_ONLY_DIRS if upload else SENSITIVE_DIRS
    if dirs & set(parts) or any(fnmatch.fnmatchcase(parts[-1], n) for n in SENSITIVE_NAMES):
        return True
    # A written file (its unknown parts are `*`) named by the path, held in it, or matching it.
    return any(
        fnmatch.fnmatchcase(f, path) or fnmatch.fnmatchcase(f, f"{path}/*") or fnmatch.fnmatchcase(path, f)
        for f in files
    )


def scan_shell(script: str, files: set[str], texts: set[str] | None = None) -> list[tuple[str, str]]:
    """(rule, detail) of every leak in one shell script (``texts``: the plan text files, see plan_texts)."""
    variables = _assignments(script)
    holders = {
        name
        for name, value in re.findall(r"(?m)^\s*(?:local\s+|export\s+)?([A-Za-z_]\w*)=\"?\$\((.*)\)\"?\s*$", script)
        if re.search(r"terraform\b.*\b(show\b.*-json|state\s+(pull|show))", value)
        or any(is_sensitive(_normalise(w, variables), files) for w in value.split()[1:])
    }
    loops = _loops(script)

    def paths(word: str) -> list[str]:
        """What one argument may name: a loop variable alone stands for each of its items."""
        alone = re.fullmatch(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", word)
        if alone and alone.group(1) in loops:
            return [_normalise(item, variables) for item in loops[alone.group(1)]]
        return [_normalise(word, variables)]

    found = []
    for words in _commands(script):
        norm = [_normalise(w, variables) for w in words]
        target = _redirect_target(words)
        to_log = target is None or target in LOGS
        cut = next((i for i, w in enumerate(words) if w in {">", ">>"} or w.startswith(">")), len(words))
        args = [p for w in words[1:cut] if w != "|" for p in paths(w)]
        rule = _printed(norm, args, words, files, holders) if to_log else None
        rule = rule or (_plan_text(norm, args, texts or set()) if target in SUMMARY else None)
        rule = rule or _uploaded(norm[0], args, files)
        if rule:
            found.append((rule, " ".join(words)))
    return found


def _terraform_printed(norm: list[str]) -> str | None:
    """The rule a Terraform command breaks by printing plan JSON, state or outputs, or None."""
    before = {word: norm[: norm.index(word)] for word in ("show", "output") if word in norm}
    if "show" in norm and "-json" in norm and "|" not in before["show"]:
        return "plan JSON to the log"
    if "state" in norm and {"pull", "show"} & set(norm):
        return "state to the log"
    if "output" in norm and OUTPUT_VALUES & set(norm) and "|" not in before["output"]:
        return "outputs to the log"
    return None


def _printed(norm: list[str], args: list[str], words: list[str], files: set[str], holders: set[str]) -> str | None:
    """The rule a command breaks by writing a plan, plan JSON, outputs or state to the log (its output is not
    redirected to a file), or None."""
    program = norm[0]
    if program.endswith("terraform"):
        return _terraform_printed(norm)
    if program in PRINTERS and any(is_sensitive(a, files) for a in args if not a.startswith("-")):
        return "printed to the log"
    if program in {"echo", "printf"} and any(re.search(rf"\$\{{?{h}\b", w) for h in holders for w in words):
        return "printed to the log"
    return None


def _plan_text(norm: list[str], args: list[str], texts: set[str]) -> str | None:
    """Human plan text appended to the job summary not through ``ops plan-comment --job-summary``."""
    if norm[0].endswith("terraform") and "show" in norm and "-json" not in norm:
        return "plan text to the job summary"
    if norm[0] in PRINTERS and any(fnmatch.fnmatchcase(a, t) or fnmatch.fnmatchcase(t, a) for a in args for t in texts):
        return "plan text to the job summary"
    return None


def _uploaded(program: str, args: list[str], files: set[str]) -> str | None:
    """``upload`` when a ``gh`` or ``curl`` command sends a plan, plan JSON or state file somewhere."""
    sent: list[str] = []
    if program == "gh" and args[:2] in (["release", "upload"], ["gist", "create"]):
        sent = [a for a in args[2:] if not a.startswith("-")]
    elif program == "gh" and args[:1] == ["api"]:
        sent = [w.split("=@", 1)[1] for w in args if "=@" in w]
        sent += [args[i + 1] for i, w in enumerate(args[:-1]) if w == "--input"]
    elif program == "curl":
        sent = [args[i + 1] for i, w in enumerate(args[:-1]) if w in {"-T", "--upload-file"}]
        sent += [w.split("@", 1)[1] for w in args if "@" in w and not w.startswith("http")]
    return "upload" if any(is_sensitive(path, files, upload=True) for path in sent) else None


# -- reading workflows ----------------------------------------------------------------------------------------------

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
ACTIONS = sorted((ROOT / ".github").glob("actions/**/action.y*ml"))
SCRIPTS = sorted(
    p
    for folder in ("scripts", ".ci")
    for p in (ROOT / folder).rglob("*")
    if p.is_file() and "__pycache__" not in p.parts and p.suffix not in {".pyc"}
)


def _steps(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    if "runs" in document:  # a composite action
        return [("action", s) for s in document["runs"].get("steps", [])]
    return [(job, step) for job, spec in (document.get("jobs") or {}).items() for step in spec.get("steps", [])]


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return ""


def scan(workflows: list[Path], actions: list[Path], scripts: list[Path], root: Path = ROOT) -> set[Finding]:
    documents = {p: load_yaml(p) or {} for p in [*workflows, *actions]}
    runs = [str(step.get("run", "")) for d in documents.values() for _, step in _steps(d)]
    texts = {p: _text(p) for p in scripts}
    files = sensitive_files([*runs, *texts.values()])
    plan_text = plan_texts([*runs, *texts.values()])
    found: set[Finding] = set()
    for path, document in documents.items():
        name = str(path.relative_to(root))
        for job, step in _steps(document):
            uses = str(step.get("uses", ""))
            label = step.get("name") or uses.split("@", 1)[0] or "run"
            if uses.startswith(UPLOADERS):
                for line in str((step.get("with") or {}).get("path", "")).splitlines():
                    target = _normalise(line.strip(), {})
                    if target and not target.startswith("!") and is_sensitive(target, files, upload=True):
                        found.add(Finding(name, f"{job}: {uses.split('@', 1)[0]}", "upload", line.strip()
                                          .replace("${{ matrix.env }}", "*")))  # fmt: skip
            for rule, detail in scan_shell(str(step.get("run", "")), files, plan_text):
                found.add(Finding(name, f"{job}: {label}", rule, detail))
    for path, text in texts.items():
        for rule, detail in scan_shell(text, files, plan_text):
            found.add(Finding(str(path.relative_to(root)), "script", rule, detail))
    return found


def test_no_workflow_or_script_leaks_a_plan_or_state() -> None:
    found = scan(WORKFLOWS, ACTIONS, SCRIPTS)
    assert found - KNOWN.keys() == set(), "a plan, plan JSON or state would reach repository readers"
    assert KNOWN.keys() - found == set(), "a known leak is gone: delete its entry from KNOWN"


def test_the_scan_reads_every_workflow_and_script() -> None:
    assert {p.name for p in WORKFLOWS} >= {"terraform-plan.yml", "terraform-drift.yml", "terraform-deploy-prod.yml",
                                           "terraform-deploy-dev.yml", "ci.yml"}  # fmt: skip
    assert {p.name for p in SCRIPTS} >= {"plan-stacks.sh", "stack.sh", "validate-stacks.sh", "provider-locks.sh",
                                         "check", "run"}  # fmt: skip
    # It learns the plan files from the scripts themselves.
    runs = [str(s.get("run", "")) for p in WORKFLOWS for _, s in _steps(load_yaml(p))]
    files = sensitive_files([*runs, *(_text(p) for p in SCRIPTS)])
    assert any(fnmatch.fnmatchcase(f, "cdktf.out/stacks/*/plan.json") for f in files), files
    assert any(fnmatch.fnmatchcase(f, "cdktf.out/stacks/*/outputs.json") for f in files), files


# -- the scanner finds what it is meant to find -----------------------------------------------------------------------

HEAD = "on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    permissions: {}\n    steps:\n"
UPLOAD = "      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2\n        with:\n"
CACHE = "      - uses: actions/cache/save@5a3ec84eff668545956fd18022155c47e93e2684 # v4.2.3\n        with:\n"


def _scan_one(tmp_path: Path, steps: str, script: str | None = None) -> set[Finding]:
    workflow = tmp_path / "w.yml"
    workflow.write_text(HEAD + steps)
    scripts = []
    if script is not None:
        scripts = [tmp_path / "plan.sh"]
        scripts[0].write_text(script)
    return scan([workflow], [], scripts, root=tmp_path)


LEAKS = {
    "binary plan in an artifact": UPLOAD + "          name: p\n          path: out/tfplan\n",
    "a folder holding saved plans": (
        "      - run: terraform -chdir=stacks/base plan -out=../../saved/base.bin\n"
        + UPLOAD
        + "          name: p\n          path: stacks/base/../../saved/\n"
    ),
    "plan JSON written by a script, uploaded by a workflow": UPLOAD + "          name: p\n          path: review/\n",
    "state in a cache": CACHE + "          key: k\n          path: terraform-state\n",
    "a copy of a saved plan": (
        '      - run: cp "cdktf.out/stacks/$s/tfplan" "keep/$s.bin"\n'
        + UPLOAD
        + "          name: p\n          path: keep/\n"
    ),
    "plan JSON printed": "      - run: terraform -chdir=cdktf.out/stacks/base show -json tfplan\n",
    "plan JSON piped to jq": "      - run: terraform show -json tfplan | jq .resource_changes\n",
    "plan JSON in the job summary": '      - run: terraform show -json tfplan >> "$GITHUB_STEP_SUMMARY"\n',
    "state pulled to the log": "      - run: terraform -chdir=cdktf.out/stacks/base state pull\n",
    "a plan JSON file printed": "      - run: cat review/base.json\n",
    "a variable holding plan JSON echoed": (
        '      - run: |\n          PLAN=$(terraform show -json tfplan)\n          echo "$PLAN"\n'
    ),
    "gh release upload": "      - run: gh release upload v1 cdktf.out/stacks/base/tfplan\n",
    "gh api file field": "      - run: gh api repos/o/r/issues/1/comments -F body=@review/base.json\n",
    "curl upload": "      - run: curl -T prod.tfstate https://example.com/\n",
    "a saved plan by its name, in a release": "      - run: gh release upload v1 base.tfplan\n",
    "curl form field": "      - run: curl -F plan=@review/base.json https://example.com/\n",
    "a multi-line artifact path holding a plan": (
        UPLOAD
        + "          name: p\n          path: |\n            digest/dev.json\n"
        + "            cdktf.out/stacks/base/tfplan\n"
    ),
    "the scripts' work folder in an artifact": UPLOAD + "          name: p\n          path: plans/dev/\n",
    "the work folder in a pages artifact": (
        "      - uses: actions/upload-pages-artifact@v3\n        with:\n          path: plans\n"
    ),
    "plan text sent with gh api": "      - run: gh api repos/o/r/issues/1/comments -F body=@plans/dev/base.txt\n",
    "outputs printed": "      - run: terraform -chdir=cdktf.out/stacks/platform output -json\n",
    "one output printed raw": "      - run: terraform -chdir=cdktf.out/stacks/platform output -raw db_password\n",
    "an outputs file written by a script, uploaded": UPLOAD + "          name: o\n          path: vals/\n",
    "an outputs file printed": "      - run: cat vals/platform.json\n",
    "a plan JSON file under cdktf.out printed": "      - run: cat cdktf.out/stacks/base/plan.json\n",
    "Terraform's working folder cached": CACHE + "          key: k\n          path: cdktf.out/stacks/base/.terraform\n",
    "plan text in the job summary": '      - run: terraform show -no-color tfplan >> "$GITHUB_STEP_SUMMARY"\n',
    "a plan text file in the job summary": '      - run: head -c 1000 plans/dev/base.txt >> "$GITHUB_STEP_SUMMARY"\n',
    "a script's plan text file in the job summary": '      - run: cat notes/base.txt >> "$GITHUB_STEP_SUMMARY"\n',
}
SCRIPT = (
    'dir="cdktf.out/stacks/$1"\nout="review"\nterraform -chdir="$dir" show -json tfplan > "$out/$1.json"\n'
    'terraform -chdir="$dir" show -no-color tfplan > "notes/$1.txt"\n'
    'terraform -chdir="$dir" output -json > "vals/$1.json"\n'
)


@pytest.mark.parametrize("case", LEAKS)
def test_the_scanner_catches(tmp_path: Path, case: str) -> None:
    assert _scan_one(tmp_path, LEAKS[case], SCRIPT), case


SAFE = {
    "a value-free digest": UPLOAD + "          name: d\n          path: digest/${{ matrix.env }}.json\n",
    "plan JSON kept beside the stack": '      - run: terraform -chdir="$d" show -json tfplan > "$d/plan.json"\n',
    "a digest written from plan JSON": (
        "      - run: jq -c '[.resource_changes[].change.actions]' review/base.json > digest.json\n"
    ),
    "a rendered comment in the summary": '      - run: cat comment.md >> "$GITHUB_STEP_SUMMARY"\n',
    "saved plans to a private S3 prefix": (
        "      - run: aws s3 cp cdktf.out/stacks/base/tfplan s3://plans/prod/base.tfplan --sse aws:kms\n"
    ),
    "the provider cache": CACHE + "          key: k\n          path: .tools/terraform-plugins\n",
    "state listed by address": "      - run: terraform -chdir=cdktf.out/stacks/base state list\n",
    "plan JSON kept beside the stack, errors to the log file": (
        '      - run: terraform -chdir="$dir" show -json tfplan > "$dir/plan.json" 2>> "$log"\n'
    ),
    "outputs kept beside the stack": '      - run: terraform -chdir="$dir" output -json > "$dir/outputs.json"\n',
    "the value-free review record": UPLOAD + "          name: reviewed-base\n          path: reviewed/base.json\n",
    "the redacted job summary": '      - run: cat job-summary.md >> "$GITHUB_STEP_SUMMARY"\n',
    "a failed plan's log tail": '      - run: tail -n 20 plans/dev/base.log\n',
}  # fmt: skip


@pytest.mark.parametrize("case", SAFE)
def test_the_scanner_lets_value_free_work_pass(tmp_path: Path, case: str) -> None:
    assert _scan_one(tmp_path, SAFE[case], SCRIPT) == set(), case
