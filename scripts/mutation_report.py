"""Mutation score per module from mutmut's results (`make mutation`; docs/testing.md).

    .venv/bin/python scripts/mutation_report.py            # after `mutmut run`
    .venv/bin/python scripts/mutation_report.py --survivors config.rules   # list one module's survivors

A mutant is *detected* when a test failed (killed) or the tests ran out of time (timeout). The score is
detected / (detected + survived + no tests): a mutant that no selected test reaches counts against it.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^\s*(?P<name>\S+__mutmut_\d+): (?P<status>.+?)\s*$")
DETECTED = {"killed", "timeout"}
MISSED = {"survived", "no tests"}


def results() -> list[tuple[str, str]]:
    listing = subprocess.run(  # noqa: S603 - our own venv's mutmut, fixed arguments
        [str(ROOT / ".venv" / "bin" / "mutmut"), "results", "--all", "true"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [(m["name"], m["status"]) for m in map(LINE.match, listing.stdout.splitlines()) if m]


def module(name: str) -> str:
    """``config.rules.x_check_sizes__mutmut_3`` -> ``config.rules``."""
    return ".".join(name.split(".")[:2])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--survivors", metavar="MODULE", help="list the surviving mutants of one module")
    args = parser.parse_args(argv)
    found = results()
    if args.survivors:
        for name, status in found:
            if module(name) == args.survivors and status in MISSED:
                print(f"{status:9} {name}")
        return 0
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for name, status in found:
        counts[module(name)][status] += 1
    total: Counter[str] = Counter()
    print(f"{'module':24} {'score':>6} {'killed':>7} {'timeout':>7} {'survived':>8} {'no tests':>8} {'other':>6}")
    for mod, c in sorted(counts.items()):
        total.update(c)
        print(_row(mod, c))
    print(_row("all", total))
    return 0


def _row(name: str, c: Counter[str]) -> str:
    detected = sum(c[s] for s in DETECTED)
    scored = detected + sum(c[s] for s in MISSED)
    other = sum(n for s, n in c.items() if s not in DETECTED | MISSED)
    score = f"{100 * detected / scored:.1f}%" if scored else "-"
    return (f"{name:24} {score:>6} {c['killed']:>7} {c['timeout']:>7} {c['survived']:>8} {c['no tests']:>8} "
            f"{other:>6}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
