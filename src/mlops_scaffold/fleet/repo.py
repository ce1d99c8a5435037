"""One git repository of the fleet: its template answers, its state, and how to put it back."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from mlops_scaffold.constants import ANSWERS_FILE
from mlops_scaffold.errors import GitError

__all__ = ["GitError", "Snapshot", "conflicts", "dirty_paths", "git", "is_repo", "read_answers", "reason"]

CONFLICT_MARKERS = ("<<<<<<< ", ">>>>>>> ")
"""Line starts that `copier update --conflict inline` (and git) leave in a conflicted file."""


def git(repo: Path, *args: str, check: bool = True, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})},
    )
    if check and done.returncode != 0:
        raise GitError(f"git {args[0]}: {reason(done.stderr or done.stdout) or f'exit {done.returncode}'}")
    return done.stdout


def reason(output: str) -> str:
    """git's own reason: its first fatal:/error: line (advice lines follow it), else its last line."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    said = [line for line in lines if line.startswith(("fatal:", "error:"))]
    if said:
        return said[0]
    return lines[-1] if lines else ""


def read_answers(repo: Path, answers_file: str = ANSWERS_FILE) -> dict[str, object]:
    path = repo / answers_file
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no copier answers file; not generated from a template")
    try:
        data = YAML(typ="safe").load(path.read_text())
    except YAMLError as exc:  # one repo's broken file fails that repo, with where and why
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ValueError(f"{where}: {problem}; fix the answers file (copier reads it too)") from None
    if not isinstance(data, dict) or "_src_path" not in data:
        raise ValueError(f"{path}: has no _src_path; copier cannot update it")
    return data


def is_repo(path: Path) -> bool:
    return path.is_dir() and git(path, "rev-parse", "--is-inside-work-tree", check=False).strip() == "true"


def dirty_paths(repo: Path) -> list[str]:
    """Changed, staged or untracked paths (ignored files do not count)."""
    out = git(repo, "status", "--porcelain", "--untracked-files=all")
    return [line[3:] for line in out.splitlines() if line]


def conflicts(repo: Path) -> list[str]:
    """Files with unmerged index entries, conflict markers, or `.rej` leftovers, sorted."""
    found = {line.split("\t", 1)[1] for line in git(repo, "ls-files", "-u").splitlines() if "\t" in line}
    candidates = set(git(repo, "diff", "--name-only", "HEAD", check=False).splitlines())
    candidates |= set(git(repo, "ls-files", "--others", "--exclude-standard").splitlines())
    for name in candidates:
        path = repo / name
        if name.endswith(".rej"):
            found.add(name)
        elif path.is_file() and _has_markers(path):
            found.add(name)
    return sorted(found)


def _has_markers(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return False
    return any(line.startswith(CONFLICT_MARKERS) for line in text.splitlines())


@dataclass(frozen=True)
class Snapshot:
    """Where a repo stood before the fleet touched it: its branch (or detached HEAD) and commit."""

    branch: str | None
    head: str

    @classmethod
    def take(cls, repo: Path) -> Snapshot:
        branch = git(repo, "symbolic-ref", "--quiet", "--short", "HEAD", check=False).strip() or None
        return cls(branch, git(repo, "rev-parse", "HEAD").strip())

    def restore(self, repo: Path, created_branch: str | None) -> None:
        """Back to exactly this state: tracked files, untracked files, index, branch and HEAD."""
        git(repo, "reset", "--quiet", "--hard", self.head)
        git(repo, "clean", "--quiet", "-d", "--force")  # ignored files (a .venv) are the user's, kept
        git(repo, "checkout", "--quiet", "--force", self.branch or self.head)
        git(repo, "reset", "--quiet", "--hard", self.head)
        if created_branch is not None and created_branch != self.branch:
            git(repo, "branch", "--quiet", "-D", created_branch, check=False)
