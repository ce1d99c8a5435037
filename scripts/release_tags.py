#!/usr/bin/env python3
"""Create the release tags a clone lacks, from CHANGELOG.md: `vX.Y.Z` at each release's `Commit:`.

Usage: python3 scripts/release_tags.py [REPO]      (default: this checkout)

`copier copy --vcs-ref vX.Y.Z`, `copier update` and `mlops-scaffold fleet update --to vX.Y.Z` read
template versions from tags; a fresh clone (or a fork) may have none. Existing tags at the right
commit are kept; a tag at another commit is an error, never moved. Standard library and git only.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

RELEASE = re.compile(r"(?m)^## \[(?P<version>\d+\.\d+\.\d+)\] - (?P<date>\d{4}-\d{2}-\d{2})\nCommit: (?P<commit>[0-9a-f]{40})$")


def releases(changelog: Path) -> list[tuple[str, str]]:
    """(version, commit) of every release the changelog records, oldest first."""
    found = [(m["version"], m["commit"]) for m in RELEASE.finditer(changelog.read_text(encoding="utf-8"))]
    return sorted(found, key=lambda release: tuple(int(n) for n in release[0].split(".")))


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)


def tag_releases(repo: Path, changelog: Path) -> list[str]:
    """Tag every release in `repo`; returns the tags created. Raises SystemExit on a conflicting tag."""
    created = []
    for version, commit in releases(changelog):
        tag = f"v{version}"
        existing = _git(repo, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{commit}}").stdout.strip()
        if existing == commit:
            continue
        if existing:
            raise SystemExit(f"release_tags: {tag} exists at {existing[:12]}, but CHANGELOG.md says {commit[:12]}")
        if _git(repo, "cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
            raise SystemExit(f"release_tags: commit {commit[:12]} of {tag} is not in {repo} (a shallow clone? git fetch --unshallow)")
        done = _git(repo, "tag", tag, commit)
        if done.returncode != 0:
            raise SystemExit(f"release_tags: git tag {tag}: {done.stderr.strip()}")
        created.append(tag)
    return created


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parents[1]
    repo = Path(argv[0]) if argv else root
    created = tag_releases(repo, root / "CHANGELOG.md")
    print(f"created {', '.join(created)}" if created else "every release in CHANGELOG.md is tagged already")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
