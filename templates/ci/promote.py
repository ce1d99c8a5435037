"""Promote an image through GitOps: set newTag in one overlay, commit, push; Argo CD syncs the change."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

TAG = re.compile(r"^[0-9a-f]{7,40}$|^v?\d+\.\d+\.\d+$")
ENVIRONMENTS = ("dev", "staging", "prod")


def set_tag(overlay: Path, tag: str) -> bool:
    """Rewrite the overlay's `newTag:`; say whether anything changed."""
    text = overlay.read_text()
    updated, count = re.subn(r'(?m)^(\s*newTag:\s*).*$', lambda m: f'{m.group(1)}"{tag}"', text, count=1)
    if count != 1:
        sys.exit(f"{overlay} has no newTag line")
    overlay.write_text(updated)
    return updated != text


def remote() -> str:
    token = os.environ.get("GIT_TOKEN", "")
    if os.environ.get("GITHUB_ACTIONS") == "true":
        return f"https://x-access-token:{token}@github.com/{os.environ['GITHUB_REPOSITORY']}.git"
    if os.environ.get("GITLAB_CI") == "true":
        host = os.environ["CI_SERVER_HOST"]
        return f"https://gitlab-ci-token:{os.environ['CI_JOB_TOKEN']}@{host}/{os.environ['CI_PROJECT_PATH']}.git"
    sys.exit("promote.py runs in GitHub Actions or GitLab CI")


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in ENVIRONMENTS or not TAG.match(sys.argv[2]):
        sys.exit("usage: promote.py dev|staging|prod TAG (a commit SHA or a version)")
    environment, tag = sys.argv[1], sys.argv[2]
    overlay = Path("deploy") / "overlays" / environment / "kustomization.yaml"
    if not set_tag(overlay, tag):
        print(f"{environment} already runs {tag}")
        return
    git = ["git", "-c", "user.name=mlops-scaffold-ci", "-c", "user.email=ci@users.noreply.invalid"]
    subprocess.run([*git, "commit", "-m", f"deploy: {environment} -> {tag}", str(overlay)], check=True)
    subprocess.run([*git, "push", remote(), "HEAD:main"], check=True)
    print(f"{environment} now runs {tag}")


if __name__ == "__main__":
    main()
