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
    # the wheelhouse's folders hold what was derived from its wheels, such as the uv cache the tests'
    # `make setup` fill (tests/servers.py); keyed by file, it would keep the old wheels' ~7 GB
    for derived in (p for p in wheelhouse.iterdir() if p.is_dir()):
        shutil.rmtree(derived)
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
