"""Benchmark: a generated project as its user runs it, per framework: `make setup` (time and the
size of .venv), then `make test` and `make train` (the DVC pipeline and registration into ./mlruns).

Run: .venv/bin/python benchmarks/project_timings.py [--frameworks sklearn xgboost ...]
Installs offline from the wheelhouse that scripts/install-tools fills (.tools/wheelhouse), as the
tests do, so the figures are install and run time, not download time. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlops_scaffold.render import render_project

REPO = Path(__file__).resolve().parent.parent
WHEELHOUSE = REPO / ".tools" / "wheelhouse"


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def make(project: Path, target: str, env: dict[str, str]) -> float:
    python = getattr(sys, "_base_executable", sys.executable)
    start = time.perf_counter()
    done = subprocess.run(["make", target, f"PYTHON={python}"], cwd=project, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"make {target} failed in {project}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frameworks", nargs="+", default=["sklearn", "xgboost", "lightgbm", "pytorch"])
    args = parser.parse_args()
    if not (WHEELHOUSE / ".stamp").is_file():
        raise SystemExit(f"no wheelhouse at {WHEELHOUSE}: run scripts/install-tools first")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH", "MLFLOW_"))}
    env |= {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(WHEELHOUSE), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    print("| framework | make setup s | .venv MB | make test s | make train s |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for framework in args.frameworks:
            answers = {"project_name": f"bench-{framework}", "framework": framework, "python_version": "3.11"}
            project = render_project(Path(tmp) / framework, answers)
            setup = make(project, "setup", env)
            venv = size_mb(project / ".venv")
            test = make(project, "test", env)
            train = make(project, "train", env)
            print(f"| {framework} | {setup:.1f} | {venv:.0f} | {test:.1f} | {train:.1f} |", flush=True)


if __name__ == "__main__":
    main()
