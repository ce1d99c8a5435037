"""Grafana dashboards as code: training queues, GPUs, model serving, drift and platform health.

Dashboards are plain JSON (Grafana's dashboard model), provisioned through ConfigMaps that the
kube-prometheus-stack Grafana sidecar loads. Every query uses the `$datasource` variable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlops_scaffold.spec.platform import MonitoringSettings

SCHEMA_VERSION = 41
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
WIDTH = 24
HEIGHT = 8


@dataclass(frozen=True)
class Panel:
    title: str
    queries: dict[str, str]
    """Legend -> PromQL."""
    unit: str = "short"
    kind: str = "timeseries"
    width: int = 12
    description: str = ""
    thresholds: list[tuple[float, str]] = field(default_factory=list)


def _panel(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    steps += [{"color": color, "value": value} for value, color in panel.thresholds]
    return {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": HEIGHT, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {
            "defaults": {"unit": panel.unit, "thresholds": {"mode": "absolute", "steps": steps}},
            "overrides": [],
        },
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}} if panel.kind == "timeseries" else {},
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}
            for i, (legend, expr) in enumerate(panel.queries.items())
        ],
    }


def _variable(name: str, query: str, label: str) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "query": query,
        "refresh": 2,
        "includeAll": True,
        "multi": True,
        "allValue": ".*",
        "current": {"text": "All", "value": "$__all"},
        "sort": 1,
    }


def dashboard(
    uid: str, title: str, description: str, panels: list[Panel], variables: list[dict[str, Any]]
) -> dict[str, Any]:
    laid_out: list[dict[str, Any]] = []
    x = y = 0
    for number, panel in enumerate(panels, start=1):
        if x + panel.width > WIDTH:
            x, y = 0, y + HEIGHT
        laid_out.append(_panel(panel, number, x, y))
        x += panel.width
    datasource = {
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        "current": {"text": "Prometheus", "value": "prometheus"},
    }
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["mlops-scaffold"],
        "editable": False,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "refresh": "1m",
        "time": {"from": "now-6h", "to": "now"},
        "timezone": "browser",
        "templating": {"list": [datasource, *variables]},
        "annotations": {"list": []},
        "links": [],
        "panels": laid_out,
    }


RATE = "$__rate_interval"
MODEL = 'job=~"$model"'


def training() -> dict[str, Any]:
    queue = 'cluster_queue=~"$queue"'
    return dashboard(
        "mlops-training",
        "MLOps / Training queues",
        "Kueue workloads per ClusterQueue, admission wait and failed training Jobs.",
        [
            Panel(
                "Pending workloads",
                {
                    "{{cluster_queue}} {{status}}": f"sum by (cluster_queue, status) (kueue_pending_workloads{{{queue}}})"
                },
            ),
            Panel(
                "Admitted, running workloads",
                {"{{cluster_queue}}": f"sum by (cluster_queue) (kueue_admitted_active_workloads{{{queue}}})"},
            ),
            Panel(
                "Admission wait p90",
                {
                    "{{cluster_queue}}": f"histogram_quantile(0.9, sum by (cluster_queue, le) (rate(kueue_admission_wait_time_seconds_bucket{{{queue}}}[{RATE}])))"
                },
                unit="s",
            ),
            Panel(
                "Admissions per hour",
                {
                    "{{cluster_queue}}": f"sum by (cluster_queue) (increase(kueue_admitted_workloads_total{{{queue}}}[1h]))"
                },
            ),
            Panel(
                "Quota in use",
                {
                    "{{cluster_queue}} {{resource}}": f"sum by (cluster_queue, resource) (kueue_cluster_queue_resource_usage{{{queue}}}) / sum by (cluster_queue, resource) (kueue_cluster_queue_nominal_quota{{{queue}}})"
                },
                unit="percentunit",
            ),
            Panel(
                "Failed training Jobs",
                {"{{namespace}}/{{job_name}}": 'kube_job_failed{condition="true"} == 1'},
                kind="table",
            ),
        ],
        [_variable("queue", "label_values(kueue_pending_workloads, cluster_queue)", "Queue")],
    )


def gpus(monitoring: MonitoringSettings) -> dict[str, Any]:
    limits = monitoring.alerts
    node = 'Hostname=~"$node"'
    return dashboard(
        "mlops-gpus",
        "MLOps / GPUs",
        "DCGM: utilisation, memory, temperature and power of every GPU.",
        [
            Panel(
                "Utilisation",
                {"{{Hostname}} gpu {{gpu}}": f"DCGM_FI_DEV_GPU_UTIL{{{node}}}"},
                unit="percent",
                thresholds=[(float(limits.gpu_idle_percent), "blue")],
            ),
            Panel(
                "Memory used",
                {
                    "{{Hostname}} gpu {{gpu}}": f"DCGM_FI_DEV_FB_USED{{{node}}} / (DCGM_FI_DEV_FB_USED{{{node}}} + DCGM_FI_DEV_FB_FREE{{{node}}}) * 100"
                },
                unit="percent",
                thresholds=[(float(limits.gpu_memory_percent), "red")],
            ),
            Panel(
                "Temperature",
                {"{{Hostname}} gpu {{gpu}}": f"DCGM_FI_DEV_GPU_TEMP{{{node}}}"},
                unit="celsius",
                thresholds=[(float(limits.gpu_temperature_celsius), "red")],
            ),
            Panel("Power", {"{{Hostname}} gpu {{gpu}}": f"DCGM_FI_DEV_POWER_USAGE{{{node}}}"}, unit="watt"),
            Panel(
                "Idle GPUs",
                {
                    "idle": f"count(avg_over_time(DCGM_FI_DEV_GPU_UTIL{{{node}}}[30m]) < {limits.gpu_idle_percent}) or vector(0)"
                },
                kind="stat",
                width=6,
            ),
            Panel(
                "XID errors",
                {"{{Hostname}} gpu {{gpu}}": f"DCGM_FI_DEV_XID_ERRORS{{{node}}} > 0"},
                kind="table",
                width=18,
            ),
        ],
        [_variable("node", "label_values(DCGM_FI_DEV_GPU_UTIL, Hostname)", "Node")],
    )


def serving(monitoring: MonitoringSettings) -> dict[str, Any]:
    buckets = f"sum by (job, le) (rate(model_request_duration_seconds_bucket{{{MODEL}}}[{RATE}]))"
    return dashboard(
        "mlops-serving",
        "MLOps / Model serving",
        "Requests per second, latency percentiles, error rate and SLO budget burn of every served model.",
        [
            Panel(
                "Requests per second",
                {"{{job}} {{code}}": f"sum by (job, code) (rate(model_requests_total{{{MODEL}}}[{RATE}]))"},
                unit="reqps",
            ),
            Panel(
                "Latency p50 / p95 / p99",
                {f"{{{{job}}}} p{q}": f"histogram_quantile(0.{q}, {buckets})" for q in (50, 95, 99)},
                unit="s",
                thresholds=[(monitoring.slo.latency_ms / 1000, "red")],
            ),
            Panel(
                "Error rate",
                {
                    "{{job}}": f'sum by (job) (rate(model_requests_total{{{MODEL}, code=~"5.."}}[{RATE}])) / sum by (job) (rate(model_requests_total{{{MODEL}}}[{RATE}]))'
                },
                unit="percentunit",
                thresholds=[(monitoring.alerts.error_rate, "red")],
            ),
            Panel(
                "SLO budget burn (1h)",
                {
                    "{{job}} availability": f"job:model_slo_errors:ratio_rate1h{{{MODEL}}} / {1 - monitoring.slo.availability:.6g}",
                    "{{job}} latency": f"job:model_slo_slow:ratio_rate1h{{{MODEL}}} / {1 - monitoring.slo.latency_target:.6g}",
                },
                thresholds=[(1.0, "orange"), (14.4, "red")],
            ),
            Panel(
                "Prediction score p50",
                {
                    "{{job}}": f"histogram_quantile(0.5, sum by (job, le) (rate(model_prediction_score_bucket{{{MODEL}}}[{RATE}])))"
                },
            ),
        ],
        [_variable("model", "label_values(model_requests_total, job)", "Model")],
    )


def drift(monitoring: MonitoringSettings) -> dict[str, Any]:
    method = monitoring.drift.metric
    return dashboard(
        "mlops-drift",
        "MLOps / Data and prediction drift",
        f"Drift scores ({method.upper()} and KS) per model and feature, from the scheduled drift jobs.",
        [
            Panel(
                f"{method.upper()} per feature",
                {"{{model}} {{feature}}": f'model_drift_score{{model=~"$model", method="{method}"}}'},
                thresholds=[(monitoring.drift.threshold, "red")],
                width=24,
            ),
            Panel(
                "Prediction drift", {"{{model}} {{method}}": 'model_drift_score{model=~"$model", feature="prediction"}'}
            ),
            Panel(
                "Hours since the last drift check",
                {"{{model}}": '(time() - push_time_seconds{job="drift", model=~"$model"}) / 3600'},
                unit="h",
            ),
            Panel(
                "Days since the last successful training",
                {
                    "{{model}}": 'max by (model) (time() - model_training_last_success_timestamp_seconds{model=~"$model"}) / 86400'
                },
                unit="d",
                thresholds=[(float(monitoring.alerts.staleness_days), "red")],
            ),
        ],
        [_variable("model", "label_values(model_drift_score, model)", "Model")],
    )


def platform_health() -> dict[str, Any]:
    return dashboard(
        "mlops-platform",
        "MLOps / Platform health",
        "Scrape targets, firing alerts, MLflow traffic and platform workloads.",
        [
            Panel("Targets up", {"{{job}}": "sum by (job) (up)"}, kind="stat", width=8),
            Panel("Targets down", {"{{job}}": "sum by (job) (up == 0)"}, kind="stat", width=8),
            Panel(
                "Firing alerts",
                {"{{severity}}": 'sum by (severity) (ALERTS{alertstate="firing"})'},
                kind="stat",
                width=8,
            ),
            Panel(
                "MLflow requests per second",
                {"{{status}}": f'sum by (status) (rate(mlflow_http_request_total{{job="mlflow"}}[{RATE}]))'},
                unit="reqps",
            ),
            Panel(
                "MLflow latency p95",
                {
                    "p95": f'histogram_quantile(0.95, sum by (le) (rate(mlflow_http_request_duration_seconds_bucket{{job="mlflow"}}[{RATE}])))'
                },
                unit="s",
            ),
            Panel(
                "Unavailable platform replicas",
                {
                    "{{namespace}}/{{deployment}}": "kube_deployment_spec_replicas - kube_deployment_status_replicas_available > 0",
                    "{{namespace}}/{{statefulset}}": "kube_statefulset_replicas - kube_statefulset_status_replicas_ready > 0",
                },
                kind="table",
            ),
            Panel(
                "Container restarts (1h)",
                {"{{namespace}}/{{pod}}": "increase(kube_pod_container_status_restarts_total[1h]) > 0"},
                kind="table",
            ),
        ],
        [],
    )


def outcomes() -> dict[str, Any]:
    """The four outcomes per project and environment, every query on the recording rules of
    `monitoring/outcomes.py`."""
    scope = 'project=~"$project", environment=~"$environment"'
    return dashboard(
        "mlops-outcomes",
        "MLOps outcomes",
        "Deployment frequency, training time, drift detection rate and infrastructure cost, per project and environment.",
        [
            Panel(
                "Deployments per day",
                {"{{project}} {{environment}}": f"project_environment:mlops_deployments:increase1d{{{scope}}}"},
                description="Successful Argo CD syncs of each project's Application, over the last 24 hours.",
            ),
            Panel(
                "Deployments per week",
                {"{{project}} {{environment}}": f"project_environment:mlops_deployments:increase7d{{{scope}}}"},
                kind="stat",
            ),
            Panel(
                "Training time p50 / p95 (7 days)",
                {
                    "{{project}} p50": 'project:mlops_training_duration_seconds:p50_7d{project=~"$project"}',
                    "{{project}} p95": 'project:mlops_training_duration_seconds:p95_7d{project=~"$project"}',
                },
                unit="s",
                description="In-cluster training Jobs, from kube-state-metrics start and completion times.",
            ),
            Panel(
                "Training runs still going",
                {"{{namespace}}/{{job_name}}": 'job:mlops_training_running_seconds{namespace=~"$project"}'},
                unit="s",
                kind="table",
            ),
            Panel(
                "Last training duration on a CI runner",
                {"{{model}}": 'model:mlops_training_duration_seconds:last{model=~"$project"}'},
                unit="s",
                kind="stat",
            ),
            Panel(
                "Queue wait p95 (1 day)",
                {"{{cluster_queue}}": "cluster_queue:mlops_queue_wait_seconds:p95_1d"},
                unit="s",
            ),
            Panel(
                "Drift detection rate (7 and 30 days)",
                {
                    "{{model}} 7d": 'model:mlops_drift_detected:ratio7d{model=~"$project"}',
                    "{{model}} 30d": 'model:mlops_drift_detected:ratio30d{model=~"$project"}',
                },
                unit="percentunit",
            ),
            Panel(
                "Drift checks (7 and 30 days)",
                {
                    "{{model}} 7d": 'model:mlops_drift_checks:7d{model=~"$project"}',
                    "{{model}} 30d": 'model:mlops_drift_checks:30d{model=~"$project"}',
                },
                kind="stat",
            ),
            Panel(
                "Monthly cost per project and environment",
                {"{{project}} {{environment}}": f"project_environment:mlops_cost_usd:monthly{{{scope}}}"},
                unit="currencyUSD",
                description="OpenCost's allocation at its node prices, at the current rate, times 730 hours.",
            ),
            Panel(
                "Cluster monthly cost", {"cluster": "cluster:mlops_cost_usd:monthly"}, unit="currencyUSD", kind="stat"
            ),
            Panel(
                "GPU idle cost per hour",
                {"{{node}}": "node:mlops_gpu_idle_cost_usd:hourly"},
                unit="currencyUSD",
                description="Each GPU node's GPU price times the share of its GPUs unused (DCGM utilisation).",
            ),
        ],
        [
            _variable("project", "label_values(project_environment:mlops_deployments:increase7d, project)", "Project"),
            _variable(
                "environment",
                "label_values(project_environment:mlops_deployments:increase7d, environment)",
                "Environment",
            ),
        ],
    )


def dashboards(monitoring: MonitoringSettings) -> dict[str, dict[str, Any]]:
    """Every dashboard by file name."""
    return {
        "mlops-training.json": training(),
        "mlops-gpus.json": gpus(monitoring),
        "mlops-serving.json": serving(monitoring),
        "mlops-drift.json": drift(monitoring),
        "mlops-platform.json": platform_health(),
        "mlops-outcomes.json": outcomes(),
    }
