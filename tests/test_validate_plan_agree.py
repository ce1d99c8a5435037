"""`validate` and `plan` agree: every cross-field rule lives in the spec, so any spec that `validate`
accepts, `plan` builds. Hypothesis draws specs across the choices the rules tie together (target,
registry, model storage, node pools and GPUs, queues, projects, channels, environments, charts)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops_scaffold.errors import SpecError
from mlops_scaffold.plan import plan_platform
from mlops_scaffold.spec import SpecSet, parse_text

CLOUD = {
    "aws": {"aws": {"region": "eu-west-1", "account_id": "123456789012"}},
    "gcp": {"gcp": {"project": "acme-ml-123", "region": "europe-west4"}},
    "kubernetes": {},
}
INSTANCE = {"aws": "g6.2xlarge", "gcp": "g2-standard-8", "kubernetes": None}
MAYBE_TYPE = st.sampled_from([None, "in-cluster", "managed"])
REGISTRY = {"kubernetes": "zot", "aws": "ecr", "gcp": "artifact-registry"}


def rarely(draw: st.DrawFn) -> bool:
    """True one time in eight: most drawn specs are valid, and some break each rule."""
    return draw(st.sampled_from([False] * 7 + [True]))  # hypothesis leans to the first choice


@st.composite
def spec_texts(draw: st.DrawFn) -> str:
    target = draw(st.sampled_from(["kubernetes", "aws", "gcp"]))
    platform: dict[str, Any] = {"name": "demo", "target": target, **CLOUD[target]}
    if rarely(draw):  # settings for the other cloud, or none at all
        platform.pop("aws", None), platform.pop("gcp", None)
        platform |= CLOUD[draw(st.sampled_from(["aws", "gcp"]))]
    registry = draw(st.sampled_from([None, "zot", REGISTRY[target]]))
    platform["container_registry"] = {
        "type": draw(st.sampled_from(["ecr", "artifact-registry"])) if rarely(draw) else registry
    }
    database = draw(MAYBE_TYPE)
    store = draw(MAYBE_TYPE) if rarely(draw) else database
    platform["model_registry"] = {"database": {"type": database}, "artifact_store": {"type": store}}
    pools = []
    if draw(st.booleans()):
        gpu = draw(st.booleans())
        pool: dict[str, Any] = {"name": "gpu" if gpu else "cpu", "min": 0, "max": draw(st.integers(0, 4))}
        if gpu:
            pool["gpu"] = {"count": 1} if rarely(draw) else {"type": "nvidia-l4", "count": 1}
        if not rarely(draw):
            pool["instance_type"] = INSTANCE[target]
        pools.append(pool)
    has_gpus = any("gpu" in p for p in pools)
    queue_gpus = 4 if has_gpus != rarely(draw) else 0
    queues = [{"name": "default"}, {"name": "gpu", "gpu": queue_gpus, "pools": [p["name"] for p in pools]}]
    platform["training"] = {
        "frameworks": draw(st.lists(st.sampled_from(["ray", "pytorch"]), unique=True, max_size=2)),
        "node_pools": pools,
        "queues": queues,
    }
    names = draw(st.lists(st.sampled_from(["dev", "qa", "staging", "prod"]), min_size=1, max_size=4, unique=True))
    platform["environments"] = [{"name": n, "approval": n == "prod" or draw(st.booleans())} for n in names]
    platform["monitoring"] = {
        "enabled": draw(st.booleans()),
        "channels": [{"name": "ops", "type": draw(st.sampled_from(["slack", "webhook", "pagerduty"]))}]
        if draw(st.booleans())
        else [],
        "drift": {"enabled": draw(st.booleans())},
    }
    for channel in platform["monitoring"]["channels"]:
        if channel["type"] == "slack" and not rarely(draw):
            channel["slack_channel"] = "#ops"
    if draw(st.booleans()):
        chart = "nope" if rarely(draw) else draw(st.sampled_from(["kueue", "zot", "dcgm-exporter"]))
        platform["charts"] = {"overrides": {chart: {"version": "1.2.3"}}}
    projects = []
    for index in range(draw(st.integers(0, 2))):
        framework = draw(st.sampled_from(["sklearn", "pytorch", "xgboost"]))
        gpus = 1 if framework != "sklearn" and queue_gpus and draw(st.booleans()) else int(rarely(draw))
        projects.append(
            {
                "apiVersion": "mlops-scaffold/v1",
                "kind": "Project",
                "name": f"model-{index}",
                "framework": framework,
                "training": {
                    "queue": "missing" if rarely(draw) else ("gpu" if gpus else "default"),
                    "gpus": draw(st.sampled_from([0, 1])),
                },
                "serving": {"mode": draw(st.sampled_from(["online", "batch", "none"]))},
            }
        )
    return "\n---\n".join(json.dumps(d) for d in [platform, *projects])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=spec_texts())
def test_what_validate_accepts_plan_builds(text: str) -> None:
    try:
        specs = SpecSet(parse_text(text, "mlops.yaml"))
    except SpecError:
        return  # refused with its place, as validate says; plan refuses it the same way
    run = plan_platform(specs)
    assert run.resources
