"""The platform's Prometheus alert and recording rules, with thresholds from the Platform spec.

Each function returns one rule group as plain data, so that the same rules go into a
PrometheusRule object and into a file that `promtool check rules` / `promtool test rules` read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mlops_scaffold.spec.platform import MonitoringSettings

Rule = dict[str, Any]
Group = dict[str, Any]

MODEL_ALERTS = "templates/_partials/model-alerts.jinja"
"""The one definition of the model alerts, which projects render too."""
SLO_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
BURN_RATES: tuple[tuple[str, str, float, str], ...] = (
    # long window, short window, burn rate, severity: the multi-window, multi-burn-rate alerts of
    # Google's SRE workbook (2% of a 30-day budget in 1h, 5% in 6h, 10% in 3d)
    ("1h", "5m", 14.4, "critical"),
    ("6h", "30m", 6.0, "critical"),
    ("1d", "2h", 3.0, "warning"),
    ("3d", "6h", 1.0, "warning"),
)


def _alert(name: str, expr: str, for_: str, severity: str, summary: str, description: str) -> Rule:
    rule: Rule = {"alert": name, "expr": expr}
    if for_ != "0m":
        rule["for"] = for_
    rule["labels"] = {"severity": severity}
    rule["annotations"] = {"summary": summary, "description": description}
    return rule


def gpu_rules(monitoring: MonitoringSettings) -> Group:
    limits = monitoring.alerts
    memory = "DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE) * 100"
    return {
        "name": "mlops-gpu",
        "rules": [
            _alert(
                "GpuIdle",
                f"avg_over_time(DCGM_FI_DEV_GPU_UTIL[30m]) < {limits.gpu_idle_percent}",
                "30m",
                "warning",
                "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} is idle",
                f"Utilisation averaged below {limits.gpu_idle_percent}% for an hour: "
                "the node may be paying for a GPU nobody uses.",
            ),
            _alert(
                "GpuMemoryHigh",
                f"{memory} > {limits.gpu_memory_percent}",
                "10m",
                "warning",
                "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} is out of memory",
                f"Framebuffer use is above {limits.gpu_memory_percent}%: {{{{ $value | humanize }}}}%.",
            ),
            _alert(
                "GpuTemperatureHigh",
                f"DCGM_FI_DEV_GPU_TEMP > {limits.gpu_temperature_celsius}",
                "5m",
                "critical",
                "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} is overheating",
                f"Temperature is above {limits.gpu_temperature_celsius}C: {{{{ $value }}}}C.",
            ),
        ],
    }


def training_rules(monitoring: MonitoringSettings, training_namespaces: list[str]) -> Group:
    pending = monitoring.alerts.pending_minutes
    namespaces = "|".join(training_namespaces) or "none"
    return {
        "name": "mlops-training",
        "rules": [
            _alert(
                "TrainingJobFailed",
                f'kube_job_failed{{condition="true", namespace=~"{namespaces}"}} == 1',
                "0m",
                "warning",
                "Training job {{ $labels.namespace }}/{{ $labels.job_name }} failed",
                "A training Job (plain, RayJob submitter or TrainJob replica) ended in failure.",
            ),
            _alert(
                "TrainingQueueStuck",
                "sum by (cluster_queue) (kueue_pending_workloads) > 0"
                f" unless on (cluster_queue) sum by (cluster_queue) (increase(kueue_admitted_workloads_total[{pending}m])) > 0",
                f"{pending}m",
                "warning",
                "Queue {{ $labels.cluster_queue }} admits nothing",
                f"Workloads have waited in the queue for {pending} minutes and none was admitted.",
            ),
        ],
    }


def _ratio(bad: str, total: str, window: str) -> str:
    return f"sum by (job) (rate({bad}[{window}])) / sum by (job) (rate({total}[{window}]))"


def serving_rules(monitoring: MonitoringSettings) -> Group:
    slo = monitoring.slo
    le = _bucket(slo.latency_ms)
    rules: list[Rule] = []
    for window in SLO_WINDOWS:
        rules.append(
            {
                "record": f"job:model_slo_errors:ratio_rate{window}",
                "expr": _ratio('model_requests_total{code=~"5.."}', "model_requests_total", window),
            }
        )
        fast = _ratio(
            f'model_request_duration_seconds_bucket{{le="{le}"}}', "model_request_duration_seconds_count", window
        )
        rules.append({"record": f"job:model_slo_slow:ratio_rate{window}", "expr": f"1 - ({fast})"})
    objectives = (
        ("Availability", "errors", 1 - slo.availability, f"{slo.availability:.2%} of requests succeed"),
        ("Latency", "slow", 1 - slo.latency_target, f"{slo.latency_target:.2%} of requests within {slo.latency_ms}ms"),
    )
    for kind, series, budget, objective in objectives:
        for long, short, rate, severity in BURN_RATES:
            threshold = _number(rate * budget)
            expr = (
                f"job:model_slo_{series}:ratio_rate{long} > {threshold}"
                f" and job:model_slo_{series}:ratio_rate{short} > {threshold}"
            )
            alert = _alert(
                f"Model{kind}BudgetBurn",
                expr,
                "2m" if severity == "critical" else "15m",
                severity,
                f"{{{{ $labels.job }}}} burns its {kind.lower()} error budget {rate:g}x too fast",
                f"Objective: {objective}. Over {long} and {short} the budget burns at {rate:g}x or more.",
            )
            alert["labels"]["window"] = long
            rules.append(alert)
    return {"name": "mlops-serving", "rules": rules}


def model_alerts(
    monitoring: MonitoringSettings, *, prefix: str = "", name: str = "", online: bool = True
) -> list[Rule]:
    """The model alerts (drift, error rate, latency), from their one definition in the template
    (`templates/_partials/model-alerts.jinja`): for every model (`name` ""), or for one project."""
    import jinja2
    from ruamel.yaml import YAML

    from mlops_scaffold.bundle import template_root

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(template_root()), undefined=jinja2.StrictUndefined)
    macro = env.get_template(MODEL_ALERTS).module.model_alerts  # type: ignore[attr-defined]
    drift = monitoring.drift
    text = macro(
        prefix, name, drift.metric, drift.threshold, online, monitoring.alerts.error_rate, monitoring.slo.latency_ms
    )
    rules: list[Rule] = YAML(typ="safe").load(str(text)) or []
    return rules


def model_rules(monitoring: MonitoringSettings) -> Group:
    rules = model_alerts(monitoring)
    if not monitoring.drift.enabled:
        rules = [rule for rule in rules if rule["alert"] != "ModelDriftHigh"]
    days = monitoring.alerts.staleness_days
    rules.append(
        _alert(
            "ModelStale",
            f"(time() - max by (model) (model_training_last_success_timestamp_seconds)) / 86400 > {days}",
            "0m",
            "warning",
            '{{ $labels.model }} has not trained successfully for {{ $value | printf "%.0f" }} days',
            f"The last training run that passed its gate is older than {days} days.",
        )
    )
    return {"name": "mlops-models", "rules": rules}


PLATFORM_SERVICES = {"mlflow": "MLflow", "zot": "The container registry"}
"""Scrape job (the Service name) of each platform service, and what to call it."""


def platform_rules(jobs: Iterable[str] = tuple(PLATFORM_SERVICES)) -> Group:
    """A down alert for each platform service the target runs in the cluster (`jobs`)."""
    rules = [
        _alert(
            f"{job.capitalize()}Down",
            f'up{{job="{job}"}} == 0 or absent(up{{job="{job}"}})',
            "5m",
            "critical",
            f"{label} is down",
            f"Prometheus cannot scrape {job}: {label.lower()} is unreachable or not running.",
        )
        for job, label in PLATFORM_SERVICES.items()
        if job in jobs
    ]
    return {"name": "mlops-platform", "rules": rules}


def rule_groups(
    monitoring: MonitoringSettings, training_namespaces: list[str], platform_jobs: Iterable[str] = tuple(PLATFORM_SERVICES)
) -> list[Group]:
    """Every rule group; `platform_jobs` are the platform services running in the cluster."""
    return [
        gpu_rules(monitoring),
        training_rules(monitoring, training_namespaces),
        serving_rules(monitoring),
        model_rules(monitoring),
        platform_rules(platform_jobs),
    ]


def _bucket(latency_ms: int) -> str:
    return _number(latency_ms / 1000)


def _number(value: float) -> str:
    """A float as PromQL and Prometheus' `le` label write it: no trailing zeros, no exponent."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"
