"""Download every dependency of a generated project, for each framework, into one wheelhouse.

Usage: python scripts/project-wheelhouse.py WHEELHOUSE
The tests then install generated projects with PIP_NO_INDEX=1 and PIP_FIND_LINKS=WHEELHOUSE.
A stamp file keyed on the template's pyproject skips the work when nothing changed.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from mlops_scaffold.render import render_project

FRAMEWORKS = ("sklearn", "xgboost", "lightgbm", "pytorch")
UV_CACHE = ".uv-cache"  # in the wheelhouse; pip and uv read only the archives beside it
REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    wheelhouse = Path(sys.argv[1]).resolve()
    wheelhouse.mkdir(parents=True, exist_ok=True)
    pins = b"".join(
        (REPO / p).read_bytes()
        for p in ("templates/pyproject.toml.jinja", "templates/Makefile.jinja", "scripts/project-wheelhouse.py")
    )
    stamp = wheelhouse / ".stamp"
    digest = hashlib.sha256(pins).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        print(f"wheelhouse {wheelhouse} is current")
        return
    # the uv cache that the tests' `make setup` fill from these wheels (tests/servers.py): unpacked
    # wheels are keyed by file, so a refreshed wheelhouse would add its ~7 GB beside the old ones
    shutil.rmtree(wheelhouse / UV_CACHE, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        for framework in FRAMEWORKS:
            project = render_project(
                Path(tmp) / framework,
                {"project_name": f"wh-{framework}", "framework": framework, "python_version": "3.11"},
            )
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "-q",
                    "--disable-pip-version-check",
                    "-d",
                    str(wheelhouse),
                    f"{project}[dev,data]",
                    "pip",
                    "hatchling==1.27.0",
                    "editables",
                ],
                check=True,
            )
    stamp.write_text(digest)
    print(f"wheelhouse {wheelhouse} ready")


if __name__ == "__main__":
    main()
