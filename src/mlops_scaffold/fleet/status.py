"""`fleet status`: each repo's template source, current and latest version, dirtiness and conflicts."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

from packaging.version import InvalidVersion, Version

from mlops_scaffold.fleet.repo import GitError, conflicts, dirty_paths, is_repo, read_answers, reason


@dataclass
class RepoStatus:
    path: str
    template: str | None = None
    current: str | None = None
    latest: str | None = None
    dirty: bool = False
    conflicts: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def outdated(self) -> bool:
        return None not in (self.current, self.latest) and _version(self.current) != _version(self.latest)

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "outdated": self.outdated}


def _version(tag: str | None) -> Version | None:
    try:
        return Version(tag) if tag else None
    except InvalidVersion:
        return None


LS_REMOTE_TIMEOUT = 60
"""Seconds `fleet status` waits for a template source to list its tags."""


@cache
def latest_version(source: str) -> str:
    """The highest PEP 440 tag of a template repository, as copier picks it for `update`."""
    if "://" not in source and not Path(source).exists() and not re.match(r"^[\w.-]+@[\w.-]+:", source):
        raise GitError(f"template source {source} is unreachable: the folder does not exist")
    try:
        done = subprocess.run(
            ["git", "ls-remote", "--tags", "--refs", source],
            capture_output=True,
            text=True,
            check=False,
            timeout=LS_REMOTE_TIMEOUT,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"template source {source} is unreachable: no answer in {LS_REMOTE_TIMEOUT} s") from None
    if done.returncode != 0:
        raise GitError(f"template source {source} is unreachable: {reason(done.stderr) or 'git ls-remote failed'}")
    tags = [line.rsplit("refs/tags/", 1)[1] for line in done.stdout.splitlines() if "refs/tags/" in line]
    versions = [(v, t) for t in tags if (v := _version(t)) is not None and not v.is_prerelease]
    if not versions:
        raise GitError(f"{source} has no version tags")
    return max(versions)[1]


def repo_status(path: Path) -> RepoStatus:
    status = RepoStatus(str(path))
    try:
        if not is_repo(path):
            raise GitError(f"{path} is not a git repository")
        answers = read_answers(path)
        status.template = str(answers["_src_path"])
        status.current = str(answers.get("_commit")) if answers.get("_commit") else None
        status.conflicts = conflicts(path)
        status.dirty = bool(dirty_paths(path))
        status.latest = latest_version(status.template)
    except (GitError, OSError, ValueError) as error:
        status.error = str(error)
    return status


def fleet_status(paths: Iterable[Path]) -> list[RepoStatus]:
    return [repo_status(path) for path in paths]
