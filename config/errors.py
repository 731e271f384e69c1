"""The one error type configuration raises: a single line naming the file, the key and the fix."""

from __future__ import annotations


class ConfigError(Exception):
    """Bad configuration. ``str()`` is one line: ``<file>: <key>: <problem>; <fix>``."""

    def __init__(self, key: str, problem: str, fix: str, *, file: str = "") -> None:
        self.key = key
        self.problem = problem
        self.fix = fix
        self.file = file
        super().__init__(str(self))

    def in_file(self, file: str) -> ConfigError:
        return ConfigError(self.key, self.problem, self.fix, file=file)

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file else ""
        key = f"{self.key}: " if self.key else ""
        return " ".join(f"{where}{key}{self.problem}; {self.fix}".split())
