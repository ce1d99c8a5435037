"""copier migration: carry a project through a release that renamed or removed a template file.

Usage: retire.py before|after OLD [NEW] --base FILE

`copier update` runs this in the project. Copier cannot follow renames: it would see the new
file as added on both sides and conflict on every line, even in untouched projects. So:

- before the update, OLD leaves the work tree and the index. When it still equals BASE (the file
  as the last release that shipped it wrote it) nothing else happens and the new file arrives
  cleanly. When the project edited it, the edited copy is kept inside the git directory;
- after the update, a kept copy is merged into NEW with a three-way merge (BASE as the common
  ancestor), so the project's edits survive and only lines both sides changed conflict, with
  the usual markers. Without NEW (the release dropped the file) the edited copy returns as OLD.

Standard library and git only: it runs under copier's own Python.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=False)


def _kept(old: Path) -> Path:
    git_dir = _git("rev-parse", "--git-path", "mlops-scaffold-migrations").stdout.strip() or ".git/mlops-scaffold-migrations"
    return Path(git_dir).resolve() / old


def _prune(folder: Path, root: Path) -> None:
    """Remove empty folders from `folder` up to and including `root`."""
    while folder.is_dir() and not any(folder.iterdir()) and root in (folder, *folder.parents):
        folder.rmdir()
        folder = folder.parent


def before(old: Path, base: Path) -> str:
    if not old.is_file():
        return ""
    edited = old.read_bytes() != base.read_bytes()
    if edited:
        kept = _kept(old)
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(old, kept)
    if _git("ls-files", "--error-unmatch", "--", str(old)).returncode == 0:
        _git("rm", "-q", "--cached", "--", str(old))
    old.unlink()
    return f"{old}: {'edited; set aside to merge after the update' if edited else 'unchanged; removed'}"


def after(old: Path, new: Path | None, base: Path) -> str:
    kept = _kept(old)
    if not kept.is_file():
        return ""
    if new is None or not new.is_file():
        old.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(kept, old)
        _prune(kept.parent, _kept(Path()))
        return f"{old}: the release dropped it; your edited copy is back"
    labels = ["-L", f"{new} (template)", "-L", f"{old} (last release)", "-L", f"{old} (your edits)"]
    merged = _git("merge-file", *labels, "--", str(new), str(base), str(kept))
    kept.unlink()
    _prune(kept.parent, _kept(Path()))
    if merged.returncode < 0 or merged.returncode > 127:
        raise SystemExit(f"git merge-file failed on {new}: {merged.stderr.strip()}")
    if merged.returncode:
        return f"{old}: your edits merged into {new} with {merged.returncode} conflict(s) to resolve"
    return f"{old}: your edits merged into {new}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("stage", choices=["before", "after"])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path, nargs="?")
    parser.add_argument("--base", type=Path, required=True, help="OLD as the last release that shipped it wrote it")
    args = parser.parse_args(argv)
    result = before(args.old, args.base) if args.stage == "before" else after(args.old, args.new, args.base)
    if result:
        print(f"migration: {result}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
