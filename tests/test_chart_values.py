"""Chart-level regressions: the real pinned charts, rendered by helm with our values, produce what the platform needs.

Each test asserts on what the chart renders (probe headers, operator args, Service names,
selectors), not on our own dicts, so a value the chart ignores or misreads fails here.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, REPO
from ruamel.yaml import YAML

from mlops_scaffold.catalog import CHARTS
from mlops_scaffold.components import container_registry, gitops, model_registry, monitoring, training_cluster
from mlops_scaffold.components.platform import MlopsPlatform
from mlops_scaffold.monitoring.rules import rule_groups
from mlops_scaffold.spec import load_specs
from mlops_scaffold.spec.starters import default_specs
from mlops_scaffold.testing import run_program

CHARTS_DIR = Path(os.environ.get("MLOPS_SCAFFOLD_SHARED", REPO.parent / "shared")) / "charts"
KUBE_VERSION = "1.34.0"


@pytest.fixture(scope="module")
def helm() -> str:
    from engine.harness import toolchain

    path = toolchain() / "helm"
    assert path.is_file(), f"{path} missing: scripts/engine-toolchain builds it"
    return str(path)


def render(
    helm: str, name: str, release: str, namespace: str, values: dict[str, Any], tmp: Path
) -> list[dict[str, Any]]:
    """`helm template` of the pinned chart from the offline repository, as parsed objects."""
    chart = CHARTS_DIR / f"{CHARTS[name].chart}-{CHARTS[name].version}.tgz"
    assert chart.is_file(), f"{chart} is not in the offline chart repository"
    values_file = tmp / f"{release}-values.json"
    values_file.write_text(json.dumps(values))
    done = subprocess.run(
        [helm, "template", release, str(chart), "--namespace", namespace, "--kube-version", KUBE_VERSION,
         "--include-crds", "--api-versions", "monitoring.coreos.com/v1", "-f", str(values_file)],
        capture_output=True, text=True, check=False,
        env={**os.environ, "HELM_CACHE_HOME": str(tmp / "helm"), "HELM_CONFIG_HOME": str(tmp / "helm")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    yaml = YAML(typ="safe")
    # a bare `=` (YAML's old value tag) appears in some charts' config files; it is just the string
    yaml.constructor.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))
    return [d for d in yaml.load_all(done.stdout) if isinstance(d, dict)]


def one(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, (
        f"{len(found)} {kind} {name or ''} in {[o['metadata']['name'] for o in objects if o['kind'] == kind]}"
    )
    return found[0]


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = workload["spec"]["template"]["spec"]["containers"]
    return result


# -- KubeRay: the operator must start (no unsupported batch scheduler) ---------------------------


def test_kuberay_operator_gets_no_batch_scheduler_flag(helm: str, tmp_path: Path) -> None:
    chart, values = training_cluster.OPERATORS["ray"]
    objects = render(helm, chart, chart, training_cluster.OPERATOR_NAMESPACES["ray"], values, tmp_path)
    args = [a for c in containers(one(objects, "Deployment")) for a in c.get("args", [])]
    assert args, "the chart renders operator args"
    assert not [a for a in args if "batch-scheduler" in a], args


# -- zot: probes authenticate, metrics are readable by the account Prometheus uses --------------


def test_zot_probes_authenticate_and_metrics_have_a_reader(helm: str, tmp_path: Path) -> None:
    platform = default_specs().platform
    assert platform is not None
    config = container_registry.zot_config(platform, ["churn"])
    probe_auth = base64.b64encode(f"{container_registry.MONITOR}:pw".encode()).decode()
    values = container_registry.zot_values(platform, config, "platform-monitor:$2y$hash\n", probe_auth)
    objects = render(helm, "zot", "zot", container_registry.NAMESPACE, values, tmp_path)
    zot = containers(one(objects, "Deployment"))[0]
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        headers = zot[probe]["httpGet"].get("httpHeaders", [])
        assert {"name": "Authorization", "value": f"Basic {probe_auth}"} in headers, (probe, headers)
    rendered_config = json.loads(one(objects, "ConfigMap")["data"]["config.json"])
    assert container_registry.MONITOR in rendered_config["http"]["accessControl"]["metrics"]["users"]
    # the chart's own ServiceMonitor cannot authenticate, so it is off and ours selects the chart's Service
    assert not [o for o in objects if o["kind"] == "ServiceMonitor"]
    service = one(objects, "Service", "zot")
    monitor = container_registry.service_monitor()
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] in [p["name"] for p in service["spec"]["ports"]]
    assert monitor["spec"]["endpoints"][0]["basicAuth"]["password"]["name"] == container_registry.MONITOR_SECRET


# -- every exported URL names a Service and port that the charts or our manifests create -------------


def test_every_exported_url_names_a_real_service(helm: str, tmp_path: Path) -> None:
    specs = default_specs()
    platform = specs.platform
    assert platform is not None
    services: set[tuple[str, str, int]] = set()

    def add(objects: list[dict[str, Any]], namespace: str) -> None:
        for o in objects:
            if o["kind"] == "Service":
                ns = o["metadata"].get("namespace", namespace)
                services.update((o["metadata"]["name"], ns, int(p["port"])) for p in o["spec"]["ports"])

    add(
        render(helm, "argo-cd", "argo-cd", gitops.NAMESPACE, gitops.argocd_values(platform), tmp_path), gitops.NAMESPACE
    )
    stack = render(
        helm, "kube-prometheus-stack", "kube-prometheus-stack", monitoring.NAMESPACE,
        monitoring.stack_values(platform.monitoring), tmp_path,
    )  # fmt: skip
    add(stack, monitoring.NAMESPACE)
    config = container_registry.zot_config(platform, [])
    add(
        render(
            helm,
            "zot",
            "zot",
            container_registry.NAMESPACE,
            container_registry.zot_values(platform, config, "", ""),
            tmp_path,
        ),
        container_registry.NAMESPACE,
    )
    add(model_registry.mlflow_objects(platform), model_registry.NAMESPACE)
    add(monitoring.pushgateway_objects([]), monitoring.NAMESPACE)

    urls = {
        "argocdUrl": gitops.URL,
        "mlflowUrl": model_registry.URL,
        "registryUrl": f"http://{container_registry.SERVICE_HOST}",
        **{f"{k}Url": v for k, v in monitoring.URLS.items()},
    }
    from urllib.parse import urlsplit

    for key, url in urls.items():
        parts = urlsplit(url)
        name, namespace = (parts.hostname or "").split(".")[:2]
        port = parts.port or (443 if parts.scheme == "https" else 80)
        assert (name, namespace, port) in services, f"{key} = {url}: no such Service and port"


# -- ServiceMonitors and PrometheusRules wait for the CRDs kube-prometheus-stack installs ----------------


def _charts_with_monitoring_objects(helm: str, tmp: Path) -> set[str]:
    platform = load_specs([EXAMPLES / "mlops.yaml"]).platform
    assert platform is not None
    rendered = {
        "zot": render(helm, "zot", "zot", "registry", container_registry.zot_values(platform, {}, "", ""), tmp),
        "kueue": render(helm, "kueue", "kueue", "kueue-system", training_cluster.kueue_values(platform), tmp),
        "argo-cd": render(helm, "argo-cd", "argo-cd", "argocd", gitops.argocd_values(platform), tmp),
        "dcgm-exporter": render(helm, "dcgm-exporter", "dcgm-exporter", "gpu-system", training_cluster.dcgm_values(platform), tmp),
        "kuberay-operator": render(helm, "kuberay-operator", "kuberay-operator", "kuberay-system", training_cluster.OPERATORS["ray"][1], tmp),
        "kubeflow-trainer": render(helm, "kubeflow-trainer", "kubeflow-trainer", "kubeflow-system", training_cluster.OPERATORS["pytorch"][1], tmp),
        "nvidia-device-plugin": render(helm, "nvidia-device-plugin", "nvidia-device-plugin", "gpu-system", training_cluster.gpu_scheduling(platform), tmp),
    }  # fmt: skip
    return {
        chart
        for chart, objects in rendered.items()
        if any(o["apiVersion"].startswith("monitoring.coreos.com/") for o in objects)
    }


def test_monitoring_objects_depend_on_the_operator_release(helm: str, tmp_path: Path) -> None:
    specs = load_specs([EXAMPLES / "mlops.yaml"])
    run = run_program(
        lambda: MlopsPlatform("demo", specs.platform, specs.projects),  # type: ignore[arg-type]
        secret_config={"alert-ml-alerts": "https://hooks.slack.invalid/x"},
    )
    releases = {r.name: r for r in run.of_type("kubernetes:helm.sh/v3:Release")}
    operator = releases["kube-prometheus-stack"].urn
    users = [r for r in run.resources if r.type.startswith("kubernetes:monitoring.coreos.com/")]
    assert len(users) >= 5, [r.name for r in users]
    for resource in users:
        assert operator in resource.dependencies, f"{resource.type} {resource.name} does not wait for the CRDs"
    charted = _charts_with_monitoring_objects(helm, tmp_path)
    assert {"kueue", "argo-cd", "dcgm-exporter"} <= charted, charted
    for chart in charted:
        assert operator in releases[chart].dependencies, f"release {chart} renders monitoring objects before their CRDs"


# -- the NVIDIA device plugin and DCGM run on every GPU pool's nodes ------------------------------


def _matches(term: dict[str, Any], labels: dict[str, str]) -> bool:
    for expr in term.get("matchExpressions", []):
        value = labels.get(expr["key"])
        op = expr["operator"]
        if op == "In" and value not in expr["values"]:
            return False
        if op == "Exists" and value is None:
            return False
        if op == "NotIn" and value in expr["values"]:
            return False
        if op == "DoesNotExist" and value is not None:
            return False
    return True


def schedulable(pod_spec: dict[str, Any], labels: dict[str, str], taints: list[dict[str, str]]) -> bool:
    """Whether a pod with this spec may run on a node with these labels and taints (nodeSelector, affinity, taints)."""
    if not set((pod_spec.get("nodeSelector") or {}).items()) <= set(labels.items()):
        return False
    required = (((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms")  # fmt: skip
    if required and not any(_matches(t, labels) for t in required):
        return False
    tolerations = pod_spec.get("tolerations") or []
    for taint in taints:
        if taint["effect"] not in ("NoSchedule", "NoExecute"):
            continue
        if not any(
            (t.get("operator") == "Exists" and t.get("key") in (None, taint["key"]))
            or (t.get("key") == taint["key"] and t.get("value") == taint["value"])
            for t in tolerations
            if t.get("effect") in (None, "", taint["effect"])
        ):
            return False
    return True


@pytest.mark.parametrize("chart", ["nvidia-device-plugin", "dcgm-exporter"])
def test_gpu_daemons_run_on_every_gpu_pool_and_not_on_cpu_nodes(helm: str, tmp_path: Path, chart: str) -> None:
    platform = load_specs([EXAMPLES / "platform-full.yaml"]).platform
    assert platform is not None
    gpu_pools = [p for p in platform.training.node_pools if p.gpu is not None]
    assert gpu_pools
    values = (
        training_cluster.gpu_scheduling(platform)
        if chart == "nvidia-device-plugin"
        else training_cluster.dcgm_values(platform)
    )
    objects = render(helm, chart, chart, "gpu-system", values, tmp_path)
    daemon = [o for o in objects if o["kind"] == "DaemonSet"]
    assert daemon
    pod = daemon[0]["spec"]["template"]["spec"]
    for pool in gpu_pools:
        taints = [{"key": t.key, "value": t.value, "effect": t.effect} for t in pool.taints]
        assert schedulable(pod, pool.node_labels, taints), f"{chart} cannot run on pool {pool.name}"
    assert not schedulable(pod, {"kubernetes.io/os": "linux"}, []), f"{chart} would run on CPU nodes"


# -- the project template's alerts do not reuse the platform's alert names --------------------------


def test_template_alert_names_are_not_the_platforms(tmp_path: Path) -> None:
    """A project's alerts (what its monitoring/rules.yaml holds: tests/test_template_parity.py) keep
    names of their own, so both can load in one Prometheus."""
    from mlops_scaffold.monitoring.rules import model_alerts

    platform = load_specs([EXAMPLES / "platform-full.yaml"]).platform
    assert platform is not None
    project = {r["alert"] for r in model_alerts(platform.monitoring, prefix="Project", name="churn")}
    names = {r["alert"] for g in rule_groups(platform.monitoring, ["churn"]) for r in g["rules"] if "alert" in r}
    assert project
    assert names
    assert not project & names, project & names
