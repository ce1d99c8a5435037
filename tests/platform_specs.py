"""Representative platform specs and their plans under the mock engine, shared by the test modules."""

from __future__ import annotations

from functools import cache

from conftest import EXAMPLES

from mlops_scaffold.plan import plan_platform
from mlops_scaffold.spec import SpecSet, load_spec, parse_text
from mlops_scaffold.testing import MockRun

GPU_SPEC = """\
name: gpu
training:
  frameworks: [ray, pytorch]
  queues:
    - {name: default}
    - {name: gpu, gpu: 8, pools: [gpu-a100, gpu-l4], cohort: shared}
  node_pools:
    - {name: cpu, labels: {pool: cpu}}
    - name: gpu-a100
      gpu: {type: nvidia-tesla-a100, count: 8}
      taints: [{key: nvidia.com/gpu, value: present, effect: NoSchedule}]
      labels: {pool: a100}
    - name: gpu-l4
      gpu: {type: nvidia-l4, count: 1}
      spot: true
      taints: [{key: nvidia.com/gpu, value: present, effect: NoSchedule}, {key: spot, effect: NoExecute}]
      labels: {pool: l4}
---
kind: Project
name: llm
framework: pytorch
training: {queue: gpu, gpus: 8}
"""


def fleet_spec(projects: int = 5) -> str:
    docs = [
        "name: fleet\nenvironments:\n  - {name: dev}\n  - {name: staging, approval: true}\n  - {name: prod, approval: true, auto_sync: false}\n"
    ]
    docs += [
        f"kind: Project\nname: project-{i}\nframework: {('sklearn', 'xgboost', 'lightgbm', 'pytorch')[i % 4]}\n"
        for i in range(projects)
    ]
    return "---\n".join(docs)


SPECS = {
    "minimal": lambda: load_spec(EXAMPLES / "platform-minimal.yaml"),
    "gpu": lambda: SpecSet(parse_text(GPU_SPEC, "gpu.yaml")),
    "fleet": lambda: SpecSet(parse_text(fleet_spec(), "fleet.yaml")),
}


@cache
def planned(name: str) -> tuple[SpecSet, MockRun]:
    specs = SPECS[name]()
    return specs, plan_platform(specs)
