"""The offline plan: run the platform program under mocks and present what it would create."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Literal

from mlops_scaffold.components import build_platform
from mlops_scaffold.constants import PULUMI_PROJECT
from mlops_scaffold.cost import PRICES_DATE, PRICES_SOURCE, Estimate
from mlops_scaffold.mock_engine import CapturedResource, MockRun, run_program
from mlops_scaffold.spec import SpecSet

PlanFormat = Literal["text", "json", "mermaid"]
COMPONENT_PREFIX = "mlops-scaffold:"


def plan_platform(specs: SpecSet, stack: str = "dev") -> MockRun:
    """Everything `pulumi up` on `stacks/platform` would register, with no cluster and no Pulumi CLI.

    Alert channel credentials, which `pulumi up` requires from stack config, are stand-ins here.
    """
    channels = specs.platform.monitoring.channels if specs.platform is not None else []
    stand_ins = {c.secret_key: f"planned-{c.secret_key}" for c in channels}
    return run_program(lambda: build_platform(specs), project=PULUMI_PROJECT, stack=stack, secret_config=stand_ins)


def short_type(type_: str) -> str:
    """`kubernetes:apps/v1:Deployment` -> `Deployment`; `mlops-scaffold:index:GitOps` -> `GitOps`."""
    return type_.rsplit(":", 1)[-1]


def key_inputs(resource: CapturedResource) -> str:
    """A one-line summary of the inputs a reviewer cares about."""
    inputs = resource.inputs
    if resource.type == "kubernetes:helm.sh/v3:Release":
        return f"chart={inputs.get('chart')}@{inputs.get('version')} ns={inputs.get('namespace')}"
    meta = inputs.get("metadata") or {}
    parts = []
    if isinstance(meta, dict):
        if meta.get("namespace"):
            parts.append(f"ns={meta['namespace']}")
        enforce = (meta.get("labels") or {}).get("pod-security.kubernetes.io/enforce")
        if enforce:
            parts.append(f"pod-security={enforce}")
    raw_spec = inputs.get("spec")
    spec: dict[str, Any] = raw_spec if isinstance(raw_spec, dict) else {}
    if resource.type.endswith(":ClusterQueue"):
        quotas = spec["resourceGroups"][0]["flavors"][0]["resources"]
        parts.append("quota=" + ",".join(f"{q['name']}:{q['nominalQuota']}" for q in quotas))
    if resource.type.endswith(":LocalQueue"):
        parts.append(f"clusterQueue={spec.get('clusterQueue')}")
    if resource.type.endswith(":Application"):
        sync = "auto" if "automated" in spec.get("syncPolicy", {}) else "manual"
        parts.append(f"path={spec['source'].get('path')} sync={sync}")
    if resource.type.endswith(":ResourceQuota"):
        parts.append(" ".join(f"{k}={v}" for k, v in sorted(spec.get("hard", {}).items())))
    return " ".join(parts)


def _sorted(resources: list[CapturedResource]) -> list[CapturedResource]:
    return sorted(resources, key=lambda r: (r.type, r.name))


def _components(run: MockRun) -> list[CapturedResource]:
    """Components depth-first from the top, siblings sorted, so output never depends on timing."""
    ordered: list[CapturedResource] = []

    def visit(component: CapturedResource) -> None:
        ordered.append(component)
        for child in _sorted([r for r in run.children(component) if r.type.startswith(COMPONENT_PREFIX)]):
            visit(child)

    for top in _sorted(
        [
            r
            for r in run.resources
            if r.type.startswith(COMPONENT_PREFIX) and not (r.parent_type or "").startswith(COMPONENT_PREFIX)
        ]
    ):
        visit(top)
    return ordered


def _leaves(run: MockRun, component: CapturedResource) -> list[CapturedResource]:
    return _sorted([r for r in run.children(component) if not r.type.startswith(COMPONENT_PREFIX)])


def format_text(run: MockRun, cost: Estimate | None = None) -> str:
    lines: list[str] = []
    for component in _components(run):
        children = _leaves(run, component)
        lines.append(f"{short_type(component.type)} {component.name}  ({_count(len(children), 'resource')})")
        for child in children:
            summary = key_inputs(child)
            lines.append(f"  + {short_type(child.type):<22} {child.name}" + (f"  {summary}" if summary else ""))
    counts = Counter(short_type(r.type) for r in run.resources)
    lines.append("")
    lines.append(
        f"{_count(len(run.resources), 'resource')}: " + ", ".join(f"{n} {t}" for t, n in sorted(counts.items()))
    )
    lines.append("outputs:")
    lines += [f"  {k}: {json.dumps(v, sort_keys=True)}" for k, v in run.outputs.items()]
    if cost is not None:
        lines += ["", *format_cost(cost)]
    return "\n".join(lines) + "\n"


def format_cost(cost: Estimate) -> list[str]:
    """The estimate as text: one line per item of an environment, then the totals."""
    low, high = cost.per_environment
    environments = ", ".join(cost.environments)
    lines = [f"estimated monthly cost, per environment ({environments}), USD:"]
    for line in cost.lines:
        span = f"{line.min:,.2f}" if line.min == line.max else f"{line.min:,.2f} to {line.max:,.2f}"
        lines.append(f"  {line.item:<26} {span:>22}  {line.detail}")
    lines += [f"  {'unpriced':<26} {item}" for item in cost.unpriced]
    count = len(cost.environments)
    lines.append(
        f"  per environment: {low:,.2f} to {high:,.2f}; all {count}: {low * count:,.2f} to {high * count:,.2f}"
    )
    lines.append(f"  prices: {PRICES_SOURCE}, recorded {PRICES_DATE}; override with cost.prices in the spec")
    return lines


def format_json(run: MockRun, cost: Estimate | None = None) -> str:
    data: dict[str, Any] = {
        "resources": [
            {"type": r.type, "name": r.name, "urn": r.urn, "parent": r.parent, "inputs": r.inputs}
            for r in sorted(run.resources, key=lambda r: r.urn)
        ],
        "outputs": run.outputs,
        "summary": dict(sorted(Counter(r.type for r in run.resources).items())),
    }
    if cost is not None:
        data["cost"] = cost.as_dict()
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def format_mermaid(run: MockRun, cost: Estimate | None = None) -> str:
    """Components as boxes, their resources folded into one node per kind with a count."""
    lines = ["graph LR"]
    ids = {c.urn: f"c{i}" for i, c in enumerate(_components(run))}
    for component in _components(run):
        cid = ids[component.urn]
        lines.append(f'  {cid}["{short_type(component.type)}<br/>{component.name}"]')
        if component.parent in ids:
            lines.append(f"  {ids[component.parent]} --> {cid}")
        kinds = Counter(short_type(r.type) for r in _leaves(run, component))
        for index, (kind, count) in enumerate(sorted(kinds.items())):
            lines.append(f'  {cid} --- {cid}r{index}("{kind} ×{count}")')
    return "\n".join(lines) + "\n"


FORMATTERS = {"text": format_text, "json": format_json, "mermaid": format_mermaid}


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def render_plan(run: MockRun, fmt: PlanFormat, cost: Estimate | None = None) -> str:
    """The plan in `fmt`; text and json carry the cost estimate too, when given."""
    return FORMATTERS[fmt](run, cost)
