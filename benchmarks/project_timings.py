"""Benchmark: a generated project as its user runs it, per framework: `make setup` (time and the
size of .venv) with pip (no uv on PATH), then with uv from a cold and from a warm cache, and
`make test` and `make train` (the DVC pipeline and registration into ./mlruns).

Run: .venv/bin/python benchmarks/project_timings.py [--frameworks sklearn xgboost ...]
Installs offline from the wheelhouse that scripts/install-tools fills (scripts/project_wheelhouse.py), as the
tests do, so the figures are install and run time, not download time. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from mlops_scaffold.render import render_project

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from servers import UV, WHEELHOUSE, make, offline_env  # noqa: E402  (the tests' offline make, one place)


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def timed_make(project: Path, target: str, env: dict[str, str], *, uv: bool) -> float:
    start = time.perf_counter()
    make(project, [target], env, uv=uv)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frameworks", nargs="+", default=["sklearn", "xgboost", "lightgbm", "pytorch"])
    args = parser.parse_args()
    if not (WHEELHOUSE / ".stamp").is_file():
        raise SystemExit(f"no wheelhouse at {WHEELHOUSE}: run scripts/install-tools first")
    if not UV.is_file():
        raise SystemExit(f"no uv at {UV}: run scripts/setup-env test first")
    print("| framework | make setup, pip s | .venv MB | make setup, uv cold s | uv warm s | .venv MB | make test s | make train s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for framework in args.frameworks:
            env = offline_env(UV_CACHE_DIR=str(Path(tmp) / f"uv-cache-{framework}"))  # cold at the first uv setup
            answers = {"project_name": f"bench-{framework}", "framework": framework, "python_version": "3.11"}
            project = render_project(Path(tmp) / framework, answers)
            venv = project / ".venv"
            pip = timed_make(project, "setup", env, uv=False)
            pip_mb = size_mb(venv)
            shutil.rmtree(venv)
            cold = timed_make(project, "setup", env, uv=True)
            shutil.rmtree(venv)
            warm = timed_make(project, "setup", env, uv=True)
            uv_mb = size_mb(venv)
            test = timed_make(project, "test", env, uv=True)
            train = timed_make(project, "train", env, uv=True)
            print(
                f"| {framework} | {pip:.1f} | {pip_mb:.0f} | {cold:.1f} | {warm:.1f} | {uv_mb:.0f} | {test:.1f} | {train:.1f} |",
                flush=True,
            )

if __name__ == "__main__":
    main()
