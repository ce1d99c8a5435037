"""The exceptions mlops-scaffold raises on purpose, and the located issue they carry.

    ScaffoldError                 base of everything raised on purpose
    ├── UsageError                the command was called wrongly (exit 2)
    │   └── InputFileError        a named file is missing or unreadable
    ├── SpecError                 one or more located problems in spec files (exit 1)
    ├── MissingExtraError         an optional extra is needed, with the pip hint
    ├── RenderError               rendering or moving a project into place failed
    └── EngineError               the Pulumi engine failed; carries its diagnostics (exit 1, 3 for
                                  changes a run was told to expect none of)

Every one of them is a user-facing message: the CLI prints it as-is, one line per problem,
without a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

PathPart = str | int


def format_path(path: Sequence[PathPart]) -> str:
    """Render a key path as `a.b[0].c`, the way users read it in YAML."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "(root)"


@dataclass(frozen=True, order=True)
class SpecIssue:
    """One problem in a spec file, at a 1-based line and column."""

    file: str
    line: int
    column: int
    path: tuple[PathPart, ...] = field(compare=False)
    message: str = field(compare=False)

    @property
    def dotted_path(self) -> str:
        return format_path(self.path)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.dotted_path}: {self.message}"

    def as_dict(self) -> dict[str, str | int]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.dotted_path,
            "message": self.message,
        }


class ScaffoldError(Exception):
    """Base of every error mlops-scaffold raises on purpose."""

    exit_code = 1

    def lines(self) -> list[str]:
        return [str(self)]


class UsageError(ScaffoldError):
    """The command was called in a way that cannot work."""

    exit_code = 2


class InputFileError(UsageError):
    """A file named on the command line is missing, unreadable or not a file."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class SpecError(ScaffoldError):
    """One or more located problems, sorted in file order."""

    def __init__(self, issues: Iterable[SpecIssue]) -> None:
        self.issues = sorted(issues)
        super().__init__("\n".join(str(i) for i in self.issues))

    def lines(self) -> list[str]:
        return [str(i) for i in self.issues]


class MissingExtraError(ScaffoldError):
    """A feature needs an optional dependency that is not installed."""

    def __init__(self, feature: str, extra: str) -> None:
        self.feature = feature
        self.extra = extra
        super().__init__(f"{feature} needs an optional extra: pip install 'mlops-scaffold[{extra}]'")


class GitError(ScaffoldError):
    """A git command failed; the message is git's own reason (its first fatal:/error: line)."""


class RenderError(ScaffoldError):
    """Rendering a project, or moving it into place, failed; nothing was left half-written."""


class EngineError(ScaffoldError):
    """The Pulumi engine reported a failure; its own diagnostic lines are the message."""

    def __init__(self, lines: list[str], exit_code: int = 1) -> None:
        self.engine_lines = lines
        self.exit_code = exit_code
        super().__init__("\n".join(lines))

    def lines(self) -> list[str]:
        return list(self.engine_lines)
