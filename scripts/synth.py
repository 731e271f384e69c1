"""``make synth``: check the configuration, then ``cdktf synth`` with the pinned CLI, keeping the project's
exit-code contract (0 done, 2 bad configuration, 1 synthesis failed; one ``error:`` line on stderr).

The cdktf CLI runs ``main.py`` itself but reports any failure of it as its own exit status 1, wrapped in a
multi-line report ("cdktf encountered an error while synthesizing ... Command output on stderr: ...").
So the configuration is checked here first, in this process (a bad file never reaches the CLI), and when
the CLI fails anyway its report is reduced to the application's one ``error:`` line. The CLI's full
output is printed only when it succeeds.

Usage: ``python scripts/synth.py [OUTDIR]`` (default ``cdktf.out``), run from the repository root.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.cli import EXIT_FAILURE, EXIT_OK, clear_output, error_line, one_line, show_tracebacks  # noqa: E402
from main import OUTDIR_VAR  # noqa: E402
from main import main as check_configuration  # noqa: E402

# The application's own line inside the CLI's report (indented under "Command output on stderr:").
_APP_ERROR = re.compile(r"^\s*error: (.+)$", re.MULTILINE)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def app_error(output: str) -> str | None:
    """The first ``error:`` line the application printed, found in the CLI's report."""
    match = _APP_ERROR.search(_ANSI.sub("", output))
    return match.group(1).strip() if match else None


_SPINNER = re.compile(r"[\u2800-\u28ff]")  # the CLI's progress frames (braille spinner characters)


def progress_removed(output: str) -> str:
    """The CLI's output without the spinner frames it replays when its output is not a terminal (about a
    hundred "Synthesizing" lines), each remaining line once."""
    kept: list[str] = []
    for line in _ANSI.sub("", output.replace("\r", "\n")).splitlines():
        if line.strip() and not _SPINNER.search(line) and line not in kept:
            kept.append(line)
    return "".join(f"{line}\n" for line in kept)


def main(argv: list[str]) -> int:
    outdir = Path(argv[0]) if argv else Path("cdktf.out")
    os.environ[OUTDIR_VAR] = str(outdir)
    status = check_configuration(["--check"])
    if status != EXIT_OK:
        clear_output(outdir)  # a bad configuration leaves no earlier synthesis that could pass for this one
        return status
    cdktf = ROOT / "node_modules" / ".bin" / "cdktf"
    result = subprocess.run(  # noqa: S603 (the pinned CLI, fixed arguments)
        [str(cdktf), "synth", "--output", str(outdir)], capture_output=True, text=True, check=False
    )
    if result.returncode == 0:
        sys.stdout.write(progress_removed(result.stdout))
        sys.stderr.write(result.stderr)
        return EXIT_OK
    clear_output(outdir)
    if show_tracebacks():
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
    line = app_error(result.stderr) or app_error(result.stdout)
    if line is None:
        said = [one_line(_ANSI.sub("", text)) for text in result.stderr.splitlines() if text.strip()]
        line = f"cdktf synth failed (exit status {result.returncode}): {said[-1] if said else 'no output'}"
    error_line(line)
    return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
