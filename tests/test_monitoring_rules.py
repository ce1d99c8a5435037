"""The platform's alert rules under Prometheus' own tools: `promtool check rules` and `promtool test rules`.

Thresholds come from a spec that changes every default, so a rule that ignored the spec would
fire (or stay quiet) in the wrong case. Each alert has a case that fires and one that must not.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import require_tool

from mlops_scaffold.monitoring.rules import rule_groups
from mlops_scaffold.spec import SpecSet, parse_text
from mlops_scaffold.spec.platform import MonitoringSettings

SPEC = """\
name: rules
monitoring:
  drift: {metric: ks, threshold: 0.3}
  slo: {latency_ms: 500, latency_target: 0.95, availability: 0.99}
  alerts:
    gpu_idle_percent: 20
    gpu_memory_percent: 90
    gpu_temperature_celsius: 80
    pending_minutes: 45
    staleness_days: 7
    error_rate: 0.02
"""
TRAINING_NAMESPACES = ["churn", "vision"]


def _monitoring() -> MonitoringSettings:
    specs = SpecSet(parse_text(SPEC, "rules.yaml"))
    assert specs.platform is not None
    return specs.platform.monitoring


def _alerts() -> list[dict[str, Any]]:
    return [r for g in rule_groups(_monitoring(), TRAINING_NAMESPACES) for r in g["rules"] if "alert" in r]


def _rules() -> dict[str, dict[str, Any]]:
    """The first rule of each alert name (burn-rate alerts have one per window)."""
    out: dict[str, dict[str, Any]] = {}
    for rule in _alerts():
        out.setdefault(rule["alert"], rule)
    return out


def _rule(alert: str, window: str | None) -> dict[str, Any]:
    return next(r for r in _alerts() if r["alert"] == alert and r["labels"].get("window") == window)


def _annotations(rule: dict[str, Any], labels: dict[str, str], value: str = "") -> dict[str, str]:
    """The rule's annotations with $labels and $value filled in as Prometheus would."""
    out = {}
    for key, text in rule["annotations"].items():
        text = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m.group(1)], text)
        out[key] = re.sub(r"\{\{ \$value[^}]*\}\}", value, text)
    return out


def _fires(alert: str, labels: dict[str, str], value: str = "", extra: dict[str, str] | None = None) -> dict[str, Any]:
    rule = _rule(alert, (extra or {}).get("window"))
    all_labels = {**labels, **rule["labels"]}
    return {"exp_labels": all_labels, "exp_annotations": _annotations(rule, all_labels, value)}


def _check(alert: str, at: str, firing: list[dict[str, Any]]) -> dict[str, Any]:
    return {"eval_time": at, "alertname": alert, "exp_alerts": firing}


GPU0 = {"Hostname": "node-a", "gpu": "0"}
GPU1 = {"Hostname": "node-a", "gpu": "1"}


def _series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    inner = ", ".join(f'{k}="{v}"' for k, v in labels.items())
    return {"series": f"{name}{{{inner}}}", "values": values}


def _cases() -> list[dict[str, Any]]:
    burn_windows = ["1h", "6h", "1d", "3d"]
    churn = {"job": "churn"}
    return [
        {  # GPUs: gpu 0 sits just under each threshold's wrong side, gpu 1 just on the right side
            "interval": "1m",
            "input_series": [
                _series("DCGM_FI_DEV_GPU_UTIL", GPU0, "19x100"),
                _series("DCGM_FI_DEV_GPU_UTIL", GPU1, "21x100"),
                _series("DCGM_FI_DEV_FB_USED", GPU0, "91x100"),
                _series("DCGM_FI_DEV_FB_FREE", GPU0, "9x100"),
                _series("DCGM_FI_DEV_FB_USED", GPU1, "89x100"),
                _series("DCGM_FI_DEV_FB_FREE", GPU1, "11x100"),
                _series("DCGM_FI_DEV_GPU_TEMP", GPU0, "81x100"),
                _series("DCGM_FI_DEV_GPU_TEMP", GPU1, "80x100"),
            ],
            "alert_rule_test": [
                _check("GpuIdle", "20m", []),
                _check("GpuIdle", "70m", [_fires("GpuIdle", GPU0)]),
                _check("GpuMemoryHigh", "5m", []),
                _check("GpuMemoryHigh", "15m", [_fires("GpuMemoryHigh", GPU0, "91")]),
                _check("GpuTemperatureHigh", "3m", []),
                _check("GpuTemperatureHigh", "10m", [_fires("GpuTemperatureHigh", GPU0, "81")]),
            ],
        },
        {  # training: a failed Job in a training namespace, one elsewhere, one that did not fail
            "interval": "1m",
            "input_series": [
                _series("kube_job_failed", {"condition": "true", "namespace": "churn", "job_name": "train-1"}, "1x10"),
                _series("kube_job_failed", {"condition": "true", "namespace": "other", "job_name": "x"}, "1x10"),
                _series("kube_job_failed", {"condition": "true", "namespace": "vision", "job_name": "ok"}, "0x10"),
                _series("kueue_pending_workloads", {"cluster_queue": "gpu", "status": "active"}, "3x120"),
                _series("kueue_admitted_workloads_total", {"cluster_queue": "gpu"}, "5x120"),
                _series("kueue_pending_workloads", {"cluster_queue": "cpu", "status": "active"}, "2x120"),
                _series("kueue_admitted_workloads_total", {"cluster_queue": "cpu"}, "0+1x120"),
            ],
            "alert_rule_test": [
                _check(
                    "TrainingJobFailed",
                    "5m",
                    [_fires("TrainingJobFailed", {"condition": "true", "namespace": "churn", "job_name": "train-1"})],
                ),
                _check("TrainingQueueStuck", "40m", []),
                _check("TrainingQueueStuck", "50m", [_fires("TrainingQueueStuck", {"cluster_queue": "gpu"})]),
            ],
        },
        {  # serving: churn fails 1 in 6 and is slow; steady is healthy
            "interval": "1m",
            "input_series": [
                _series("model_requests_total", {"job": "churn", "code": "200"}, "0+100x100"),
                _series("model_requests_total", {"job": "churn", "code": "500"}, "0+20x100"),
                _series("model_request_duration_seconds_bucket", {"job": "churn", "le": "0.5"}, "0+12x100"),
                _series("model_request_duration_seconds_count", {"job": "churn"}, "0+120x100"),
                _series("model_request_duration_seconds_bucket", {"job": "churn", "le": "2.5"}, "0+60x100"),
                _series("model_request_duration_seconds_bucket", {"job": "churn", "le": "+Inf"}, "0+120x100"),
                _series("model_requests_total", {"job": "steady", "code": "200"}, "0+1000x100"),
                _series("model_requests_total", {"job": "steady", "code": "500"}, "0+1x100"),
                _series("model_request_duration_seconds_bucket", {"job": "steady", "le": "0.5"}, "0+1000x100"),
                _series("model_request_duration_seconds_count", {"job": "steady"}, "0+1001x100"),
                _series("model_request_duration_seconds_bucket", {"job": "steady", "le": "0.1"}, "0+1000x100"),
                _series("model_request_duration_seconds_bucket", {"job": "steady", "le": "+Inf"}, "0+1001x100"),
            ],
            "alert_rule_test": [
                _check("ModelErrorRateHigh", "5m", []),
                _check("ModelErrorRateHigh", "30m", [_fires("ModelErrorRateHigh", churn)]),
                _check("ModelLatencyHigh", "5m", []),
                _check("ModelLatencyHigh", "30m", [_fires("ModelLatencyHigh", churn)]),
                _check("ModelAvailabilityBudgetBurn", "1m", []),
                _check(
                    "ModelAvailabilityBudgetBurn",
                    "90m",
                    [_fires("ModelAvailabilityBudgetBurn", churn, extra={"window": w}) for w in burn_windows],
                ),
                _check(
                    "ModelLatencyBudgetBurn",
                    "90m",
                    [_fires("ModelLatencyBudgetBurn", churn, extra={"window": w}) for w in burn_windows],
                ),
                _check("ModelLatencyBudgetBurn", "1m", []),
            ],
        },
        {  # drift by the spec's metric (ks): f0 over the threshold; f1 under; psi ignored
            "interval": "1m",
            "input_series": [
                _series("model_drift_score", {"model": "churn", "feature": "f0", "method": "ks"}, "0.5x30"),
                _series("model_drift_score", {"model": "churn", "feature": "f1", "method": "ks"}, "0.29x30"),
                _series("model_drift_score", {"model": "churn", "feature": "f2", "method": "psi"}, "0.9x30"),
            ],
            "alert_rule_test": [
                _check("ModelDriftHigh", "5m", []),
                _check("ModelDriftHigh", "20m", [_fires("ModelDriftHigh", {"model": "churn", "feature": "f0"})]),
            ],
        },
        {  # staleness: churn last trained at t=0, fresh keeps training
            "interval": "1h",
            "input_series": [
                _series("model_training_last_success_timestamp_seconds", {"model": "churn"}, "0x200"),
                _series("model_training_last_success_timestamp_seconds", {"model": "fresh"}, "0+3600x200"),
            ],
            "alert_rule_test": [
                _check("ModelStale", "6d", []),
                _check("ModelStale", "8d", [_fires("ModelStale", {"model": "churn"}, "8")]),
            ],
        },
        {  # platform services: MLflow down, the registry up
            "interval": "1m",
            "input_series": [
                _series("up", {"job": "mlflow", "instance": "10.0.0.1:5000"}, "0x20"),
                _series("up", {"job": "zot", "instance": "10.0.0.2:5000"}, "1x20"),
            ],
            "alert_rule_test": [
                _check("MlflowDown", "3m", []),
                _check("MlflowDown", "10m", [_fires("MlflowDown", {"job": "mlflow", "instance": "10.0.0.1:5000"})]),
                _check("ZotDown", "10m", []),
            ],
        },
        {  # a registry nobody scrapes is down too
            "interval": "1m",
            "input_series": [_series("up", {"job": "mlflow", "instance": "10.0.0.1:5000"}, "1x20")],
            "alert_rule_test": [_check("ZotDown", "10m", [_fires("ZotDown", {"job": "zot"})])],
        },
    ]


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "platform-rules.yaml"
    path.write_text(json.dumps({"groups": rule_groups(_monitoring(), TRAINING_NAMESPACES)}, indent=1))
    return path


def test_rules_pass_promtool_check(rules_file: Path) -> None:
    done = subprocess.run(
        [require_tool("promtool"), "check", "rules", str(rules_file)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"SUCCESS: \d+ rules found", done.stdout)


def test_rules_pass_promtool_unit_tests(rules_file: Path) -> None:
    # minute-scale cases at Prometheus's default 1m; the days-long hourly ones (staleness: no `for`, no
    # range) every 5 minutes, a fifth of the 11,520 evaluations that took most of a minute
    files = []
    for interval, cases in (
        ("1m", [c for c in _cases() if c["interval"] != "1h"]),
        ("5m", [c for c in _cases() if c["interval"] == "1h"]),
    ):
        assert cases
        files.append(rules_file.parent / f"platform-rules-test-{interval}.yaml")
        files[-1].write_text(
            json.dumps({"rule_files": [rules_file.name], "evaluation_interval": interval, "tests": cases}, indent=1)
        )
    done = subprocess.run(
        [require_tool("promtool"), "test", "rules", *(f.name for f in files)],
        cwd=rules_file.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for case in _cases():
        for check in case["alert_rule_test"]:
            (firing if check["exp_alerts"] else quiet).add(check["alertname"])
            # a check that fires lists fewer alerts than series it was given: the others stay quiet
            if check["exp_alerts"]:
                quiet.add(check["alertname"])
    assert firing == set(_rules())
    assert quiet == set(_rules())


def test_a_wrong_threshold_fails_the_unit_tests(tmp_path: Path) -> None:
    """The unit tests can fail: rules rendered with default thresholds do not meet them."""
    defaults = MonitoringSettings()
    (tmp_path / "platform-rules.yaml").write_text(json.dumps({"groups": rule_groups(defaults, TRAINING_NAMESPACES)}))
    # the cases that check GpuIdle, whose default threshold is below these tests' (the others take minutes)
    gpu = [c for c in _cases() if any(t["alertname"] == "GpuIdle" for t in c["alert_rule_test"])]
    assert gpu
    tests = tmp_path / "t.yaml"
    tests.write_text(json.dumps({"rule_files": ["platform-rules.yaml"], "evaluation_interval": "1m", "tests": gpu}))
    done = subprocess.run(
        [require_tool("promtool"), "test", "rules", tests.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "GpuIdle" in done.stdout + done.stderr


def test_thresholds_come_from_the_spec() -> None:
    rules = _rules()
    assert "< 20" in rules["GpuIdle"]["expr"]
    assert "> 90" in rules["GpuMemoryHigh"]["expr"]
    assert 'method="ks"' in rules["ModelDriftHigh"]["expr"]
    assert "> 0.3" in rules["ModelDriftHigh"]["expr"]
    assert rules["TrainingQueueStuck"]["for"] == "45m"
    assert 'namespace=~"churn|vision"' in rules["TrainingJobFailed"]["expr"]


@pytest.mark.parametrize(
    ("example", "down_alerts"),
    [
        ("platform-minimal.yaml", {"MlflowDown", "ZotDown"}),  # zot runs in the cluster
        ("platform-full.yaml", {"MlflowDown"}),  # ECR: no zot to be down
        ("platform-gcp.yaml", {"MlflowDown"}),  # Artifact Registry
    ],
)
def test_platform_down_alerts_only_for_services_the_target_runs(example: str, down_alerts: set[str]) -> None:
    from conftest import EXAMPLES

    from mlops_scaffold.plan import plan_platform
    from mlops_scaffold.spec import load_spec

    run = plan_platform(load_spec(EXAMPLES / example))
    (rule,) = [
        m for m in run.manifests() if m["kind"] == "PrometheusRule" and m["metadata"]["name"] == "mlops-platform"
    ]
    group = next(g for g in rule["spec"]["groups"] if g["name"] == "mlops-platform")
    assert {r["alert"] for r in group["rules"]} == down_alerts
