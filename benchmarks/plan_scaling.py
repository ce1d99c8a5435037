"""Benchmark: `mlops-scaffold plan` time for 1, 10 and 100 projects on the default platform.

Run: .venv/bin/python benchmarks/plan_scaling.py [--repeat N]
Prints a Markdown table: projects, resources, median seconds, milliseconds per resource.
"""

from __future__ import annotations

import argparse
import statistics
import time

from mlops_scaffold.plan import plan_platform
from mlops_scaffold.spec import SpecSet, parse_text


def spec_with(projects: int) -> SpecSet:
    docs = ["name: bench\n"] + [f"kind: Project\nname: project-{i}\n" for i in range(projects)]
    return SpecSet(parse_text("---\n".join(docs), f"bench-{projects}.yaml"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="1,10,100")
    args = parser.parse_args()
    plan_platform(spec_with(1))  # warm imports and the gRPC machinery once
    print("| projects | resources | median s | ms / resource |")
    print("|---:|---:|---:|---:|")
    for size in (int(s) for s in args.sizes.split(",")):
        specs = spec_with(size)
        times, count = [], 0
        for _ in range(args.repeat):
            start = time.perf_counter()
            run = plan_platform(specs)
            times.append(time.perf_counter() - start)
            count = len(run.resources)
        median = statistics.median(times)
        print(f"| {size} | {count} | {median:.2f} | {median / count * 1000:.2f} |")


if __name__ == "__main__":
    main()
