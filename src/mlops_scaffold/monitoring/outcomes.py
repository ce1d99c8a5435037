"""The four outcomes an MLOps platform is judged by, as Prometheus recording rules per project and
environment, and the alerts on them (off until the spec sets their thresholds):

- deployment frequency: successful syncs of each project's Argo CD Application per environment
  (`argocd_app_sync_total`, joined to `argocd_app_labels` for the project and environment labels
  our Applications carry);
- training time: each in-cluster training Job's duration (kube-state-metrics start and completion
  times), p50/p95 per project over 7 days, Jobs still running, the last pushed duration of runs on
  a CI runner, and Kueue's admission wait;
- drift detection rate: the drift job's checks and detections (the timestamps it pushes change on
  every check and on every detection), as a ratio over 7 and 30 days per model;
- infrastructure cost: OpenCost's allocation and node prices, per namespace and thus per project
  and environment (`kube_namespace_labels`), and the idle share of each GPU's price (DCGM).
"""

from __future__ import annotations

from typing import Any

from mlops_scaffold.constants import ENVIRONMENT_LABEL, PROJECT_LABEL
from mlops_scaffold.cost import HOURS_PER_MONTH
from mlops_scaffold.spec.platform import Platform

Rule = dict[str, Any]


def prometheus_label(key: str) -> str:
    """How kube-state-metrics and Argo CD name a Kubernetes label in their `*_labels` metrics."""
    return "label_" + "".join(c if c.isalnum() else "_" for c in key)


PROJECT = prometheus_label(PROJECT_LABEL)
ENVIRONMENT = prometheus_label(ENVIRONMENT_LABEL)
DEPLOY_WINDOWS = ("1d", "7d")
DRIFT_WINDOWS = ("7d", "30d")


def _as(expr: str) -> str:
    """`expr` with the project and environment labels renamed from their Kubernetes-label form."""
    return (
        f'label_replace(label_replace({expr}, "project", "$1", "{PROJECT}", "(.*)"), '
        f'"environment", "$1", "{ENVIRONMENT}", "(.*)")'
    )


def deployment_rules() -> list[Rule]:
    rules = []
    for window in DEPLOY_WINDOWS:
        synced = (
            f'increase(argocd_app_sync_total{{phase="Succeeded"}}[{window}])'
            f" * on (namespace, name) group_left ({PROJECT}, {ENVIRONMENT}) argocd_app_labels"
        )
        rules.append(
            {
                "record": f"project_environment:mlops_deployments:increase{window}",
                "expr": f"sum by (project, environment) ({_as(synced)})",
            }
        )
    return rules


def training_rules(training_namespaces: list[str]) -> list[Rule]:
    namespaces = "|".join(training_namespaces) or "none"
    selector = f'{{namespace=~"{namespaces}"}}'
    return [
        {
            "record": "job:mlops_training_duration_seconds",
            "expr": f"max by (namespace, job_name) (kube_job_status_completion_time{selector}"
            f" - on (namespace, job_name) kube_job_status_start_time{selector})",
        },
        {
            "record": "job:mlops_training_running_seconds",
            "expr": f"max by (namespace, job_name) (time() - kube_job_status_start_time{selector}"
            f" unless on (namespace, job_name) kube_job_status_completion_time{selector})",
        },
        *(
            {
                "record": f"project:mlops_training_duration_seconds:p{q}_7d",
                "expr": f'label_replace(quantile by (namespace) (0.{q}, max_over_time(job:mlops_training_duration_seconds[7d])), "project", "$1", "namespace", "(.*)")',
            }
            for q in ("50", "95")
        ),
        {
            "record": "model:mlops_training_duration_seconds:last",
            "expr": "max by (model) (model_training_duration_seconds)",
        },
        {
            "record": "cluster_queue:mlops_queue_wait_seconds:p95_1d",
            "expr": "histogram_quantile(0.95, sum by (cluster_queue, le) (rate(kueue_admission_wait_time_seconds_bucket[1d])))",
        },
    ]


def drift_rules() -> list[Rule]:
    rules = []
    for window in DRIFT_WINDOWS:
        checks = f"sum by (model) (changes(model_drift_last_check_timestamp_seconds[{window}]))"
        found = f"sum by (model) (changes(model_drift_last_detected_timestamp_seconds[{window}]))"
        rules += [
            {"record": f"model:mlops_drift_checks:{window}", "expr": checks},
            {
                "record": f"model:mlops_drift_detected:ratio{window}",
                # no detection yet counts as 0; no check at all gives no ratio rather than 0/0
                "expr": f"({found} or {checks} * 0) / ({checks} > 0)",
            },
        ]
    return rules


def cost_rules() -> list[Rule]:
    gib = 1024**3
    namespace_cost = (
        "sum by (namespace) (container_cpu_allocation * on (node) group_left node_cpu_hourly_cost)"
        f" + sum by (namespace) (container_memory_allocation_bytes / {gib} * on (node) group_left node_ram_hourly_cost)"
        " + (sum by (namespace) (container_gpu_allocation * on (node) group_left node_gpu_hourly_cost)"
        " or sum by (namespace) (container_cpu_allocation) * 0)"
    )
    labelled = (
        f"namespace:mlops_cost_usd:hourly * on (namespace) group_left ({PROJECT}, {ENVIRONMENT}) kube_namespace_labels"
    )
    dcgm_node = 'label_replace(avg by (Hostname) (DCGM_FI_DEV_GPU_UTIL), "node", "$1", "Hostname", "(.*)")'
    return [
        {"record": "namespace:mlops_cost_usd:hourly", "expr": namespace_cost},
        {
            "record": "project_environment:mlops_cost_usd:monthly",
            "expr": f"sum by (project, environment) ({_as(labelled)}) * {HOURS_PER_MONTH}",
        },
        {"record": "cluster:mlops_cost_usd:monthly", "expr": f"sum(node_total_hourly_cost) * {HOURS_PER_MONTH}"},
        {
            "record": "node:mlops_gpu_idle_cost_usd:hourly",
            "expr": f"sum by (node) (node_gpu_hourly_cost * node_gpu_count) * on (node) (1 - {dcgm_node} / 100)",
        },
    ]


def _alert(name: str, expr: str, for_: str, severity: str, summary: str, description: str, runbook: str) -> Rule:
    return {
        "alert": name,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity},
        "annotations": {"summary": summary, "description": description, "runbook": runbook},
    }


def outcome_alerts(platform: Platform) -> list[Rule]:
    """Alerts on the outcomes the spec gives thresholds for; none by default, as they need tuning."""
    settings = platform.monitoring.outcomes
    alerts: list[Rule] = []
    last = platform.environments[-1].name
    if settings.no_deployment_days is not None:
        days = settings.no_deployment_days
        recent = f'sum by (project) (increase(argocd_app_sync_total{{phase="Succeeded"}}[{days}d]) * on (namespace, name) group_left ({ENVIRONMENT}) argocd_app_labels{{{ENVIRONMENT}="{last}"}})'
        active = f'sum by (project) (increase(argocd_app_sync_total{{phase="Succeeded"}}[{days}d])) > 0'
        alerts.append(
            _alert(
                "ProjectNotDeployed",
                f"{recent} == 0 and on (project) {active}",
                "1h",
                "warning",
                f"{{{{ $labels.project }}}} has not reached {last} in {days} days",
                f"The project deploys to other environments, but no sync to {last} succeeded in {days} days.",
                "Look for a failing promotion, a pending approval or a failing sync in Argo CD.",
            )
        )
    if settings.training_p95_minutes is not None:
        seconds = settings.training_p95_minutes * 60
        alerts.append(
            _alert(
                "TrainingSlow",
                f"project:mlops_training_duration_seconds:p95_7d > {seconds}"
                f' or label_replace(max by (namespace) (job:mlops_training_running_seconds), "project", "$1", "namespace", "(.*)") > {seconds}',
                "30m",
                "warning",
                f"Training of {{{{ $labels.project }}}} takes over {settings.training_p95_minutes} minutes",
                "The 7-day p95 of training runs, or a run still going, is above the threshold.",
                "Check the queue wait, the data size and the node pool the jobs land on.",
            )
        )
    if settings.drift_rate is not None:
        alerts.append(
            _alert(
                "DriftDetectedOften",
                f"model:mlops_drift_detected:ratio7d > {settings.drift_rate}",
                "1h",
                "warning",
                f"{{{{ $labels.model }}}} found drift in more than {settings.drift_rate:.0%} of its checks",
                f"More than {settings.drift_rate:.0%} of the drift checks of the last 7 days found drift.",
                "The inputs have moved: retrain on recent data, or revisit the features.",
            )
        )
    budget = platform.cost.budget_monthly_usd
    if budget is not None:
        alerts.append(
            _alert(
                "CostOverBudget",
                f"cluster:mlops_cost_usd:monthly > {budget}",
                "6h",
                "warning",
                f"The platform costs more than its budget of {budget:g} USD a month",
                "OpenCost's node prices, at the current size, run over the monthly budget in the spec.",
                "See the MLOps outcomes dashboard for the projects and GPU idle cost behind it.",
            )
        )
    for project, limit in sorted(platform.cost.project_budgets.items()):
        alerts.append(
            _alert(
                "ProjectCostOverBudget",
                f'sum by (project) (project_environment:mlops_cost_usd:monthly{{project="{project}"}}) > {limit}',
                "6h",
                "warning",
                f"{project} costs more than its budget of {limit:g} USD a month",
                "The project's namespaces, at OpenCost's prices, run over its monthly budget.",
                "Look at its training jobs and replicas on the MLOps outcomes dashboard.",
            )
        )
    return alerts


def outcome_group(platform: Platform, training_namespaces: list[str]) -> dict[str, Any]:
    rules = deployment_rules() + training_rules(training_namespaces) + drift_rules() + cost_rules()
    return {"name": "mlops-outcomes", "rules": rules + outcome_alerts(platform)}
