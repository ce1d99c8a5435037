"""The platform repository's CI (preview on change requests, up per environment, nightly drift),
taken from the template's platform kind so that `platform init`, `platform-ci` and `fleet update`
write the same files."""

from __future__ import annotations

import tempfile
from pathlib import Path

from mlops_scaffold.errors import UsageError
from mlops_scaffold.files import write_atomic
from mlops_scaffold.spec import Platform

CI_PATHS = ("ci/", ".github/", ".gitlab-ci.yml", "renovate.json")
"""What of a rendered platform repository is its CI."""


def platform_ci_files(platform: Platform, stack_dir: str = ".") -> dict[str, str]:
    """Path (relative to the repository root) to content, for the spec's CI provider."""
    from mlops_scaffold.questions import platform_answers
    from mlops_scaffold.render import render_project

    with tempfile.TemporaryDirectory(prefix="mlops-scaffold-ci.") as tmp:
        root = render_project(Path(tmp) / "repo", platform_answers(platform, [], stack_dir))
        return {
            path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(root.rglob("*"))
            if path.is_file() and path.relative_to(root).as_posix().startswith(CI_PATHS)
        }


def write_platform_ci(platform: Platform, root: Path, stack_dir: str = ".", *, force: bool = False) -> list[Path]:
    """Write the CI files into `root`; refuse to replace existing ones unless `force`."""
    files = platform_ci_files(platform, stack_dir)
    existing = [relative for relative in files if (root / relative).exists()]
    if existing and not force:
        raise UsageError(f"{root / existing[0]} exists ({len(existing)} CI file(s) would be replaced); pass --force")
    written = []
    for relative, text in sorted(files.items()):
        target = root / relative
        write_atomic(target, text)
        written.append(target)
    return written
