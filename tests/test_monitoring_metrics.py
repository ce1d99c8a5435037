"""Every metric the rules and dashboards read is one a deployed exporter emits.

Where the exporter can run here, its real output is the reference: a real MLflow server's
/metrics, our drift and training gauges as the generated code writes them, the serving app's
metric definitions, and the DCGM counters file the platform deploys. Kueue and
kube-state-metrics are checked against the documented names in `monitoring.exporters`.
"""

from __future__ import annotations

import ast
import os
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO
from platform_specs import planned
from prometheus_client.parser import text_string_to_metric_families
from promql import grafana_to_promql, metric_names
from servers import free_port, mlflow_server_command, wait_for

from mlops_scaffold.monitoring import drift, exporters
from mlops_scaffold.monitoring.dashboards import dashboards
from mlops_scaffold.monitoring.outcomes import outcome_group
from mlops_scaffold.monitoring.rules import rule_groups
from mlops_scaffold.render import render_project
from mlops_scaffold.spec.platform import MonitoringSettings, Platform

PACKAGE = REPO / "templates" / "src" / "{{ package_name }}"


def _scraped_names(text: str) -> set[str]:
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names |= {sample.name for sample in family.samples}
    return names


def _used() -> tuple[set[str], set[str]]:
    """(series names read, names recorded by our own recording rules)."""
    monitoring = MonitoringSettings()
    groups = [*rule_groups(monitoring, ["churn"]), outcome_group(Platform.model_validate({"name": "x"}), ["churn"])]
    recorded = {r["record"] for g in groups for r in g["rules"] if "record" in r}
    exprs = [r["expr"] for g in groups for r in g["rules"]]
    exprs += [
        grafana_to_promql(t["expr"]) for b in dashboards(monitoring).values() for p in b["panels"] for t in p["targets"]
    ]
    used: set[str] = set()
    for expr in exprs:
        used |= metric_names(expr)
    return used, recorded


def test_metric_name_extraction() -> None:
    expr = 'sum by (job, le) (rate(model_request_duration_seconds_bucket{job=~"a|b", le="0.5"}[5m])) / on (job) up'
    assert metric_names(expr) == {"model_request_duration_seconds_bucket", "up"}


def test_every_metric_used_is_emitted_by_an_exporter() -> None:
    used, recorded = _used()
    emitted = set().union(*exporters.emitted().values())
    unknown = used - emitted - recorded
    assert unknown == set(), f"no deployed exporter emits {sorted(unknown)}"
    assert len(used) >= 25


def test_every_exporter_is_used() -> None:
    used, _ = _used()
    for exporter, names in exporters.emitted().items():
        assert used & names, f"nothing reads {exporter}"


def test_serving_metrics_match_the_template_serve_app() -> None:
    tree = ast.parse((PACKAGE / "serve.py").read_text())
    defined: set[str] = set()
    buckets: tuple[float, ...] = ()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("Counter", "Histogram"):
            name = ast.literal_eval(node.args[0])
            if node.func.id == "Counter":
                defined |= {name if name.endswith("_total") else f"{name}_total"}
            else:
                defined |= {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
            for keyword in node.keywords:
                if keyword.arg == "buckets" and name == "model_request_duration_seconds":
                    buckets = tuple(ast.literal_eval(keyword.value))
    assert defined == exporters.SERVING
    assert buckets == exporters.SERVING_LATENCY_BUCKETS
    # every SLO latency the spec allows is a bucket boundary, so the SLO's `le` series exists
    from typing import get_args

    allowed = get_args(MonitoringSettings.model_fields["slo"].annotation.model_fields["latency_ms"].annotation)  # type: ignore[union-attr]
    assert {ms / 1000 for ms in allowed} == set(exporters.SERVING_LATENCY_BUCKETS)


def test_batch_job_metrics_are_what_generated_jobs_push() -> None:
    report = drift.drift_report({"f0": [1.0, 2.0, 3.0]}, {"f0": [2.0, 3.0, 4.0]})
    namespace: dict[str, object] = {}
    exec(compile((PACKAGE / "pushgateway.py").read_text(), "pushgateway.py", "exec"), namespace)
    training = namespace["training_success"]("churn", 1.0, 2.0)  # type: ignore[operator]
    checks = namespace["drift_check"]("churn", 1.0) + namespace["drift_detected"]("churn", 1.0)  # type: ignore[operator]
    pushed = _scraped_names(drift.to_prometheus(report, "churn")) | _scraped_names(training) | _scraped_names(checks)
    assert pushed == exporters.BATCH


def test_the_dcgm_exporter_is_configured_to_emit_exactly_our_counters() -> None:
    _, run = planned("gpu")
    counters = next(
        m for m in run.manifests() if m["kind"] == "ConfigMap" and m["metadata"]["name"] == "dcgm-mlops-counters"
    )
    fields = {
        line.split(",")[0]
        for line in counters["data"]["counters.csv"].splitlines()
        if line and not line.startswith("#")
    }
    assert fields == exporters.emitted()["dcgm-exporter"]
    release = next(r for r in run.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "dcgm-exporter")
    values = release.inputs["values"]
    mount = next(m for m in values["extraVolumeMounts"] if m["name"] == "mlops-counters")
    assert values["arguments"] == ["-f", mount["mountPath"]]


def test_project_template_rules_read_only_emitted_metrics(tmp_path: Path) -> None:
    from ruamel.yaml import YAML

    project = render_project(tmp_path / "p", {"project_name": "p", "serving_mode": "online"})
    groups = YAML(typ="safe").load((project / "monitoring" / "rules.yaml").read_text())["groups"]
    used = {name for g in groups for r in g["rules"] for name in metric_names(r["expr"])}
    assert used
    assert used <= exporters.SERVING | exporters.BATCH


@pytest.fixture(scope="module")
def mlflow_metrics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The /metrics text of a real MLflow server started with --expose-prometheus, after some traffic."""
    root = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    server = subprocess.Popen(
        mlflow_server_command(
            port,
            "--backend-store-uri",
            f"sqlite:///{root}/mlflow.db",
            "--default-artifact-root",
            str(root / "artifacts"),
            "--expose-prometheus",
            str(root / "prometheus"),
        ),
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/health", server)
        with urllib.request.urlopen(f"{base}/api/2.0/mlflow/experiments/search?max_results=1", timeout=10):
            pass
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
            yield response.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_mlflow_metrics_come_from_a_real_server(mlflow_metrics: str) -> None:
    assert _scraped_names(mlflow_metrics) >= exporters.MLFLOW
