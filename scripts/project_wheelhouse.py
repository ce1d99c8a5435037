"""Download every dependency of a generated project, for each framework, into one wheelhouse.

Usage: python scripts/project_wheelhouse.py [WHEELHOUSE]
The default WHEELHOUSE is $MLOPS_WHEELHOUSE, else ~/.cache/mlops-scaffold/wheelhouse (outside the
clone, as the real-engine toolchain is, so that a new clone or a CI cache reuses its ~4.2 GB).
The tests then install generated projects with PIP_NO_INDEX=1 and PIP_FIND_LINKS=WHEELHOUSE.
A stamp file keyed on what decides the wheels skips the work when nothing changed. A refresh
builds a new wheelhouse beside the old one, taking the wheels it still needs from it, and then
swaps the two: a failed refresh leaves the old one whole, and wheels no pin needs any more go.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FRAMEWORKS = ("sklearn", "xgboost", "lightgbm", "pytorch")
REPO = Path(__file__).resolve().parent.parent
# what decides the wheels: the template's pins and how the projects install, and this script
STAMPED = ("templates/pyproject.toml.jinja", "templates/Makefile.jinja", "scripts/project_wheelhouse.py")


def default_wheelhouse() -> Path:
    given = os.environ.get("MLOPS_WHEELHOUSE")
    if given:
        return Path(given)
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "mlops-scaffold" / "wheelhouse"


def digest() -> str:
    return hashlib.sha256(b"".join((REPO / p).read_bytes() for p in STAMPED)).hexdigest()


def is_current(wheelhouse: Path) -> bool:
    stamp = wheelhouse / ".stamp"
    return stamp.is_file() and stamp.read_text() == digest()


def download(into: Path, reuse: Path) -> None:
    from mlops_scaffold.render import render_project  # only when downloading

    with tempfile.TemporaryDirectory() as tmp:
        for framework in FRAMEWORKS:
            project = render_project(
                Path(tmp) / framework,
                {"project_name": f"wh-{framework}", "framework": framework, "python_version": "3.11"},
            )
            # pip prefers a --find-links file to the index's copy of the same version
            find_links = ["--find-links", str(reuse)] if reuse.is_dir() else []
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "-q",
                    "--disable-pip-version-check",
                    *find_links,
                    "-d",
                    str(into),
                    f"{project}[dev,data]",
                    "pip",
                    "hatchling==1.27.0",
                    "editables",
                ],
                check=True,
            )


def main() -> None:
    wheelhouse = (Path(sys.argv[1]) if len(sys.argv) > 1 else default_wheelhouse()).resolve()
    if is_current(wheelhouse):
        print(f"wheelhouse {wheelhouse} is current")
        return
    wheelhouse.parent.mkdir(parents=True, exist_ok=True)
    # clones share the wheelhouse: one refreshes it at a time, and the next finds it current
    with open(wheelhouse.with_name(wheelhouse.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_current(wheelhouse):
            print(f"wheelhouse {wheelhouse} is current (another clone refreshed it)")
            return
        refresh(wheelhouse)
    print(f"wheelhouse {wheelhouse} ready")


def refresh(wheelhouse: Path) -> None:
    new = wheelhouse.with_name(wheelhouse.name + ".new")
    old = wheelhouse.with_name(wheelhouse.name + ".old")
    for leftover in (new, old):
        shutil.rmtree(leftover, ignore_errors=True)
    new.mkdir()
    download(new, reuse=wheelhouse)
    (new / ".stamp").write_text(digest())
    # what the old one held beyond its wheels (the tests' uv cache) was derived from the old wheels
    if wheelhouse.exists():
        wheelhouse.rename(old)
    new.rename(wheelhouse)
    shutil.rmtree(old, ignore_errors=True)


if __name__ == "__main__":
    main()
