"""Benchmark: `mlops-scaffold fleet update` against a sequential shell loop of `copier update`
and against the same loop run in parallel by `xargs -P` with as many jobs as the fleet's workers.

Run: .venv/bin/python benchmarks/fleet_update.py [--sizes 10 50 100] [--jobs N]
The template is this repository's own with its real release history (CHANGELOG.md), from v0.1.0
to the version of this checkout (across the v0.2.0 migration that renames a file). For each
size, N projects with distinct names are generated at v0.1.0, copied three times, and the copies are
updated to the current version side by side in one run: by a shell loop of `copier update` (what a
platform team would otherwise script), by `xargs -P N copier update`, and by `fleet update`.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import copier
from fleet_repos import GIT_ENV, build_real_template, git, head_tag

from mlops_scaffold.fleet.update import default_jobs

BIN = Path(sys.executable).parent


def generate(template: Path, root: Path, count: int) -> list[Path]:
    """N projects at v0.1.0, each with its own name (so its own answers, as in a real fleet)."""
    repos = []
    for i in range(count):
        repos.append(root / f"p{i:03d}")
        data = {"project_name": f"project-{i:03d}"}
        copier.run_copy(str(template), repos[-1], data=data, vcs_ref="v0.1.0", defaults=True, quiet=True)
        git(repos[-1], "init", "-q", "-b", "main")
        git(repos[-1], "add", "-A")
        git(repos[-1], "commit", "-q", "-m", "generated")
    return repos


def run(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0,):
        raise SystemExit(f"{command[:3]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--jobs", type=int, help="fleet update --jobs; default: the fleet's own default")
    args = parser.parse_args()
    env = {**os.environ, **GIT_ENV}
    workers = args.jobs or default_jobs()
    rows = []
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        template = build_real_template(Path(tmp))
        for size in args.sizes:
            base = Path(tmp) / f"n{size}"
            loop_repos = generate(template, base / "loop", size)
            fleet_repos = [base / "fleet" / r.name for r in loop_repos]
            xargs_repos = [base / "xargs" / r.name for r in loop_repos]
            for src, fleet_copy, xargs_copy in zip(loop_repos, fleet_repos, xargs_repos, strict=True):
                shutil.copytree(src, fleet_copy, symlinks=True)
                shutil.copytree(src, xargs_copy, symlinks=True)
            update = f"copier update --trust --defaults --skip-answered --vcs-ref {head_tag()}"
            script = f'for r in "$@"; do (cd "$r" && {update}) || exit 1; done'
            with_bin = {**env, "PATH": f"{BIN}:{env['PATH']}"}
            loop = run(["bash", "-c", script, "loop", *map(str, loop_repos)], with_bin)
            parallel = f'printf "%s\\0" "$@" | xargs -0 -P {workers} -I{{}} sh -c \'cd "$1" && {update}\' _ {{}}'
            xargs = run(["bash", "-c", parallel, "xargs", *map(str, xargs_repos)], with_bin)
            command = [str(BIN / "mlops-scaffold"), "fleet", "update", "--to", head_tag(), "--trust", "--format", "json"]
            fleet = run([*command, "--jobs", str(workers), *map(str, fleet_repos)], env)
            for repo in (*loop_repos[::size - 1 or 1], *xargs_repos[::size - 1 or 1], *fleet_repos[::size - 1 or 1]):
                assert f"_commit: {head_tag()}" in (repo / ".copier-answers.yml").read_text(), f"{repo} was not updated"
            rows.append((size, loop, xargs, fleet))
            shutil.rmtree(base)
    print(f"fleet update against copier update in a loop and in `xargs -P {workers}`, {os.cpu_count()} CPUs\n")
    print("| repos | copier update loop | xargs -P loop | fleet update | fleet per repo | vs loop | vs xargs -P |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size, loop, xargs, fleet in rows:
        print(
            f"| {size} | {loop:.1f} s | {xargs:.1f} s | {fleet:.1f} s | {fleet / size:.2f} s "
            f"| {loop / fleet:.2f}x | {xargs / fleet:.2f}x |"
        )


if __name__ == "__main__":
    main()
