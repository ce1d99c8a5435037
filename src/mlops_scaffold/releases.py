"""Template releases are git tags; a clone made without them (or a fork) can recreate them."""

from __future__ import annotations

import subprocess
from pathlib import Path

RELEASE_TAGS = "python3 scripts/release_tags.py"
"""What recreates a template clone's release tags, from the commits CHANGELOG.md records."""


def has_tags(clone: Path) -> bool:
    """Whether a local git clone has any tag (an unreadable one counts as having them: git will say why)."""
    done = subprocess.run(["git", "tag", "--list"], cwd=clone, capture_output=True, text=True, check=False)
    return done.returncode != 0 or bool(done.stdout.strip())


def missing_tags_hint(template: Path) -> str:
    """What to add to "unknown revision" for a local template: a hint when it has no tags at all."""
    if not (template / ".git").exists() or has_tags(template):
        return ""
    return f"; {template} has no tags (cloned without them?): run `{RELEASE_TAGS}` in it to recreate them"
