"""Benchmark: `mlops-scaffold new` against plain `copier copy` of the same template with the same answers.

Run: .venv/bin/python benchmarks/render_vs_copier.py [--repeat N]
Both run as the commands a user types, in fresh processes, side by side in one run.
Prints a Markdown table with the median wall time of each and their ratio.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "template"  # the same snapshot `new` renders from, without VCS metadata
        template.mkdir()
        shutil.copy2(REPO / "copier.yml", template / "copier.yml")
        shutil.copytree(REPO / "templates", template / "templates")
        spec = Path(tmp) / "p.yaml"
        spec.write_text("kind: Project\nname: bench\nframework: xgboost\n")
        data = ["--data", "project_name=bench", "--data", "framework=xgboost"]
        ours, theirs = [], []
        for i in range(args.repeat):
            ours.append(
                timed(
                    [
                        str(BIN / "mlops-scaffold"),
                        "new",
                        "--spec",
                        str(spec),
                        "--template",
                        str(template),
                        f"{tmp}/new-{i}",
                    ]
                )
            )
            theirs.append(
                timed([str(BIN / "copier"), "copy", "--defaults", "--quiet", *data, str(template), f"{tmp}/copier-{i}"])
            )
        new_s, copier_s = statistics.median(ours), statistics.median(theirs)
        print("| command | median s |")
        print("|---|---:|")
        print(f"| `mlops-scaffold new --spec` | {new_s:.2f} |")
        print(f"| `copier copy --defaults` | {copier_s:.2f} |")
        print(f"| ratio new / copier | {new_s / copier_s:.2f} |")


if __name__ == "__main__":
    main()
