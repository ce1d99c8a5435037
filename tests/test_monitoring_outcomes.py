"""The outcome rules (deployment frequency, training time, drift detection rate, cost) and their
alerts under `promtool test rules`, on synthetic series with the edge cases: no deployments, a
failed sync, a run that never finishes, zero drift checks, and a GPU nobody uses."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conftest import require_tool

from mlops_scaffold.monitoring.outcomes import ENVIRONMENT, PROJECT, outcome_group
from mlops_scaffold.spec import SpecSet, parse_text

SPEC = """\
name: outcomes
monitoring:
  outcomes: {no_deployment_days: 3, training_p95_minutes: 60, drift_rate: 0.25}
cost:
  budget_monthly_usd: 500
  project_budgets: {churn: 100}
---
kind: Project
name: churn
---
kind: Project
name: quiet
"""
ARGO = {"namespace": "argocd", "dest_server": "https://kubernetes.default.svc"}


def _platform() -> Any:
    specs = SpecSet(parse_text(SPEC, "outcomes.yaml"))
    assert specs.platform is not None
    return specs.platform


def _series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    inner = ", ".join(f'{k}="{v}"' for k, v in labels.items())
    return {"series": f"{name}{{{inner}}}", "values": values}


def _sample(expr: str, at: str, samples: Sequence[tuple[dict[str, str], float]]) -> dict[str, Any]:
    """A promql_expr_test of a recording rule: its series carry the rule's name too."""
    named = [({"__name__": expr, **labels}, value) for labels, value in samples]
    exp = [
        {"labels": "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}", "value": value}
        for labels, value in named
    ]
    return {"expr": expr, "eval_time": at, "exp_samples": exp}


def _app(project: str, environment: str) -> dict[str, str]:
    return {**ARGO, "name": f"{project}-{environment}", "project": project}


def _app_labels(project: str, environment: str) -> dict[str, str]:
    return {"namespace": "argocd", "name": f"{project}-{environment}", PROJECT: project, ENVIRONMENT: environment}


def _rule(alert: str) -> dict[str, Any]:
    return next(r for r in outcome_group(_platform(), ["churn", "quiet"])["rules"] if r.get("alert") == alert)


def _fires(alert: str, labels: dict[str, str]) -> dict[str, Any]:
    """An expected alert: its labels and its annotations with $labels filled in, as Prometheus does."""
    rule = _rule(alert)
    every = {**labels, **rule["labels"]}
    notes = {
        k: re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: every[m.group(1)], v) for k, v in rule["annotations"].items()
    }
    return {"exp_labels": every, "exp_annotations": notes}


def _cases() -> list[dict[str, Any]]:
    return [
        {  # deployments, every 5 minutes: churn syncs dev each time and prod twice, on its first day only;
            # a failed sync does not count; quiet never deploys
            "interval": "5m",
            "input_series": [
                _series("argocd_app_sync_total", {**_app("churn", "dev"), "phase": "Succeeded"}, "0+1x1300"),
                _series("argocd_app_sync_total", {**_app("churn", "dev"), "phase": "Failed"}, "0+5x1300"),
                _series(
                    "argocd_app_sync_total", {**_app("churn", "prod"), "phase": "Succeeded"}, "0x100 1x100 2+0x1100"
                ),
                _series("argocd_app_sync_total", {**_app("quiet", "dev"), "phase": "Succeeded"}, "3+0x1300"),
                _series("argocd_app_labels", _app_labels("churn", "dev"), "1+0x1300"),
                _series("argocd_app_labels", _app_labels("churn", "prod"), "1+0x1300"),
                _series("argocd_app_labels", _app_labels("quiet", "dev"), "1+0x1300"),
            ],
            "promql_expr_test": [
                _sample(
                    "project_environment:mlops_deployments:increase1d",
                    "48h",
                    [
                        ({"project": "churn", "environment": "dev"}, 288),
                        ({"project": "churn", "environment": "prod"}, 0),
                        ({"project": "quiet", "environment": "dev"}, 0),
                    ],
                ),
                _sample(
                    "project_environment:mlops_deployments:increase7d",
                    "48h",
                    [
                        ({"project": "churn", "environment": "dev"}, 576),
                        ({"project": "churn", "environment": "prod"}, 2),
                        ({"project": "quiet", "environment": "dev"}, 0),
                    ],
                ),
            ],
            "alert_rule_test": [
                # churn deploys (to dev) but has not reached prod in 3 days; quiet deploys nowhere, so it is not active
                {"eval_time": "30h", "alertname": "ProjectNotDeployed", "exp_alerts": []},
                {
                    "eval_time": "99h",
                    "alertname": "ProjectNotDeployed",
                    "exp_alerts": [_fires("ProjectNotDeployed", {"project": "churn"})],
                },
            ],
        },
        {  # training: one Job took 30 min, one 90 min, one never finishes
            "interval": "1m",
            "input_series": [
                _series("kube_job_status_start_time", {"namespace": "churn", "job_name": "train-1"}, "0+0x200"),
                _series(
                    "kube_job_status_completion_time", {"namespace": "churn", "job_name": "train-1"}, "_x30 1800+0x170"
                ),
                _series("kube_job_status_start_time", {"namespace": "churn", "job_name": "train-2"}, "600+0x200"),
                _series(
                    "kube_job_status_completion_time", {"namespace": "churn", "job_name": "train-2"}, "_x100 6000+0x100"
                ),
                _series("kube_job_status_start_time", {"namespace": "quiet", "job_name": "train-9"}, "0+0x200"),
                _series("kube_job_status_start_time", {"namespace": "elsewhere", "job_name": "x"}, "0+0x200"),
                _series("model_training_duration_seconds", {"job": "pushgateway", "model": "churn"}, "42+0x200"),
                _series("kueue_admission_wait_time_seconds_bucket", {"cluster_queue": "gpu", "le": "60"}, "0+1x200"),
                _series("kueue_admission_wait_time_seconds_bucket", {"cluster_queue": "gpu", "le": "600"}, "0+2x200"),
                _series("kueue_admission_wait_time_seconds_bucket", {"cluster_queue": "gpu", "le": "+Inf"}, "0+2x200"),
            ],
            "promql_expr_test": [
                _sample(
                    "job:mlops_training_duration_seconds",
                    "150m",
                    [
                        ({"namespace": "churn", "job_name": "train-1"}, 1800),
                        ({"namespace": "churn", "job_name": "train-2"}, 5400),
                    ],
                ),
                _sample(
                    "job:mlops_training_running_seconds",
                    "150m",
                    [({"namespace": "quiet", "job_name": "train-9"}, 9000)],
                ),
                _sample(
                    "project:mlops_training_duration_seconds:p50_7d",
                    "150m",
                    [({"namespace": "churn", "project": "churn"}, 3600)],
                ),
                _sample("model:mlops_training_duration_seconds:last", "150m", [({"model": "churn"}, 42)]),
                _sample(
                    "project:mlops_training_duration_seconds:p95_7d",
                    "150m",
                    [({"namespace": "churn", "project": "churn"}, 5220)],
                ),
                # half the workloads wait up to a minute, the rest up to ten: p95 interpolates in the second bucket
                {
                    "expr": "round(cluster_queue:mlops_queue_wait_seconds:p95_1d)",  # 546 up to float rounding
                    "eval_time": "150m",
                    "exp_samples": [{"labels": '{cluster_queue="gpu"}', "value": 546}],
                },
            ],
            "alert_rule_test": [
                {"eval_time": "30m", "alertname": "TrainingSlow", "exp_alerts": []},
                {
                    "eval_time": "150m",
                    "alertname": "TrainingSlow",
                    "exp_alerts": [
                        _fires("TrainingSlow", {"namespace": "churn", "project": "churn"}),
                        _fires("TrainingSlow", {"namespace": "quiet", "project": "quiet"}),
                    ],
                },
            ],
        },
        {  # drift, checked hourly: churn drifts every 10th hour after 100h, flaky at every check, steady never,
            # and unchecked has no checks (no ratio rather than 0/0); windows end between samples
            "interval": "1h",
            "input_series": [
                _series("model_drift_last_check_timestamp_seconds", {"model": "churn"}, "0+3600x200"),
                _series(
                    "model_drift_last_detected_timestamp_seconds",
                    {"model": "churn"},
                    "0x100 " + " ".join(f"{k}x9" for k in range(1, 11)),
                ),
                _series("model_drift_last_check_timestamp_seconds", {"model": "flaky"}, "0+3600x200"),
                _series("model_drift_last_detected_timestamp_seconds", {"model": "flaky"}, "0+3600x200"),
                _series("model_drift_last_check_timestamp_seconds", {"model": "steady"}, "0+3600x200"),
                _series("model_drift_last_check_timestamp_seconds", {"model": "unchecked"}, "5+0x200"),
            ],
            "promql_expr_test": [
                _sample(
                    "model:mlops_drift_checks:7d",
                    "199h30m",
                    [({"model": m}, 167) for m in ("churn", "flaky", "steady")] + [({"model": "unchecked"}, 0)],
                ),
                _sample(
                    "model:mlops_drift_detected:ratio7d",
                    "50h30m",
                    [({"model": "churn"}, 0), ({"model": "flaky"}, 1), ({"model": "steady"}, 0)],
                ),
                _sample(
                    "model:mlops_drift_detected:ratio7d",
                    "199h30m",
                    [({"model": "churn"}, 10 / 167), ({"model": "flaky"}, 1), ({"model": "steady"}, 0)],
                ),
                _sample(
                    "model:mlops_drift_checks:30d",
                    "199h30m",
                    [({"model": m}, 199) for m in ("churn", "flaky", "steady")] + [({"model": "unchecked"}, 0)],
                ),
                _sample(
                    "model:mlops_drift_detected:ratio30d",
                    "199h30m",
                    [({"model": "churn"}, 10 / 199), ({"model": "flaky"}, 1), ({"model": "steady"}, 0)],
                ),
            ],
            "alert_rule_test": [
                {
                    "eval_time": "199h30m",
                    "alertname": "DriftDetectedOften",
                    "exp_alerts": [_fires("DriftDetectedOften", {"model": "flaky"})],
                },
            ],
        },
        {  # cost: churn-prod runs 2 CPUs and 4 GiB on a node priced 0.5/CPU-hour and 0.25/GiB-hour, with an idle GPU
            "interval": "5m",
            "input_series": [
                _series(
                    "container_cpu_allocation",
                    {"namespace": "churn-prod", "pod": "p", "container": "c", "node": "n1"},
                    "2+0x100",
                ),
                _series(
                    "container_memory_allocation_bytes",
                    {"namespace": "churn-prod", "pod": "p", "container": "c", "node": "n1"},
                    f"{4 * 1024**3}+0x100",
                ),
                _series(
                    "container_gpu_allocation",
                    {"namespace": "churn-prod", "pod": "p", "container": "c", "node": "n1"},
                    "1+0x100",
                ),
                _series("node_cpu_hourly_cost", {"node": "n1", "instance_type": "g6.2xlarge"}, "0.5+0x100"),
                _series("node_ram_hourly_cost", {"node": "n1", "instance_type": "g6.2xlarge"}, "0.25+0x100"),
                _series("node_gpu_hourly_cost", {"node": "n1", "instance_type": "g6.2xlarge"}, "1+0x100"),
                _series("node_gpu_count", {"node": "n1", "instance_type": "g6.2xlarge"}, "1+0x100"),
                _series("node_total_hourly_cost", {"node": "n1", "instance_type": "g6.2xlarge"}, "3+0x100"),
                _series(
                    "kube_namespace_labels",
                    {"namespace": "churn-prod", PROJECT: "churn", ENVIRONMENT: "prod"},
                    "1+0x100",
                ),
                _series("DCGM_FI_DEV_GPU_UTIL", {"Hostname": "n1", "gpu": "0"}, "25+0x100"),
            ],
            "promql_expr_test": [
                _sample("namespace:mlops_cost_usd:hourly", "10m", [({"namespace": "churn-prod"}, 3)]),
                _sample(
                    "project_environment:mlops_cost_usd:monthly",
                    "10m",
                    [({"project": "churn", "environment": "prod"}, 2190)],
                ),
                _sample("cluster:mlops_cost_usd:monthly", "10m", [({}, 2190)]),
                _sample("node:mlops_gpu_idle_cost_usd:hourly", "10m", [({"node": "n1"}, 0.75)]),
            ],
            "alert_rule_test": [
                {"eval_time": "5h", "alertname": "CostOverBudget", "exp_alerts": []},  # over budget, not yet for 6h
                {"eval_time": "7h", "alertname": "CostOverBudget", "exp_alerts": [_fires("CostOverBudget", {})]},
                {
                    "eval_time": "7h",
                    "alertname": "ProjectCostOverBudget",
                    "exp_alerts": [_fires("ProjectCostOverBudget", {"project": "churn"})],
                },
            ],
        },
    ]


def test_outcome_rules_pass_promtool(tmp_path: Path) -> None:
    group = outcome_group(_platform(), ["churn", "quiet"])
    rules = tmp_path / "outcomes.yaml"
    rules.write_text(json.dumps({"groups": [group]}, indent=1))
    promtool = require_tool("promtool")
    check = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    tests = tmp_path / "outcomes-test.yaml"
    # every 5 minutes: these rules' shortest `for` is 30m and their shortest range 1d, and the cases span
    # up to 200 hours (at Prometheus's default 1m, 12,000 evaluations and a minute of promtool)
    tests.write_text(json.dumps({"rule_files": [rules.name], "evaluation_interval": "5m", "tests": _cases()}, indent=1))
    done = subprocess.run(
        [promtool, "test", "rules", tests.name], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_outcome_rule_and_alert_has_a_promtool_case() -> None:
    group = outcome_group(_platform(), ["churn", "quiet"])
    tested = " ".join(case["expr"] for c in _cases() for case in c.get("promql_expr_test", []))
    alerted = {case["alertname"] for c in _cases() for case in c.get("alert_rule_test", []) if case["exp_alerts"]}
    for rule in group["rules"]:
        if "record" in rule:
            assert rule["record"] in tested, f"{rule['record']} has no promql_expr_test"
        else:
            assert rule["alert"] in alerted, f"{rule['alert']} never fires in a test"


def test_outcome_alerts_are_off_until_the_spec_sets_them() -> None:
    platform = SpecSet(parse_text("name: quiet\n", "quiet.yaml")).platform
    assert platform is not None
    group = outcome_group(platform, [])
    assert [r for r in group["rules"] if "alert" in r] == []
    assert {r["record"] for r in group["rules"]} >= {
        "project_environment:mlops_deployments:increase1d",
        "project:mlops_training_duration_seconds:p95_7d",
        "model:mlops_drift_detected:ratio7d",
        "project_environment:mlops_cost_usd:monthly",
    }
