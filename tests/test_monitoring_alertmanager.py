"""The rendered Alertmanager config passes `amtool check-config`, and routes each severity where the spec says."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import require_tool

from mlops_scaffold.components.monitoring import alertmanager_yaml
from mlops_scaffold.spec import SpecSet, parse_text
from mlops_scaffold.spec.platform import MonitoringSettings

CHANNELS = """\
name: alerts
monitoring:
  channels:
    - {name: ml-alerts, type: slack, slack_channel: "#ml-alerts"}
    - {name: oncall, type: pagerduty, min_severity: critical}
    - {name: team, type: email, email_to: ml@example.com, smarthost: "smtp.example.com:587"}
    - {name: audit, type: webhook, min_severity: info, secret: auditHook}
"""
SECRETS = {
    "alert-ml-alerts": "https://hooks.slack.com/services/T0/B0/abc",
    "alert-oncall": "0123456789abcdef0123456789abcdef",
    "alert-team": "smtp-password",
    "auditHook": "https://audit.example.com/hook",
}


def _monitoring(text: str) -> MonitoringSettings:
    specs = SpecSet(parse_text(text, "alerts.yaml"))
    assert specs.platform is not None
    return specs.platform.monitoring


def _amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_tool("amtool"), *args], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("spec", [CHANNELS, "name: quiet\n"], ids=["four-channels", "no-channels"])
def test_config_passes_amtool_check_config(spec: str, tmp_path: Path) -> None:
    monitoring = _monitoring(spec)
    config = tmp_path / "alertmanager.yaml"
    config.write_text(alertmanager_yaml(monitoring, dict(SECRETS.items())))
    done = _amtool("check-config", str(config))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(monitoring.channels) + 1} receivers" in done.stdout


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (["severity=critical", "alertname=MlflowDown"], {"ml-alerts", "oncall", "team", "audit"}),
        (["severity=warning", "alertname=ModelDriftHigh"], {"ml-alerts", "team", "audit"}),
        (["severity=info", "alertname=Something"], {"audit"}),
        (["severity=critical", "alertname=Watchdog"], {"null"}),
    ],
)
def test_routes_follow_each_channels_min_severity(labels: list[str], receivers: set[str], tmp_path: Path) -> None:
    config = tmp_path / "alertmanager.yaml"
    config.write_text(alertmanager_yaml(_monitoring(CHANNELS), SECRETS))
    done = _amtool("config", "routes", "test", f"--config.file={config}", *labels)
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(done.stdout.strip().split(",")) == receivers


def test_credentials_land_in_the_right_fields() -> None:
    text = alertmanager_yaml(_monitoring(CHANNELS), SECRETS)
    assert "api_url: https://hooks.slack.com/services/T0/B0/abc" in text
    assert "routing_key: 0123456789abcdef0123456789abcdef" in text
    assert "auth_password: smtp-password" in text
    assert "url: https://audit.example.com/hook" in text


def test_a_broken_config_is_caught_by_amtool(tmp_path: Path) -> None:
    config = tmp_path / "alertmanager.yaml"
    config.write_text(alertmanager_yaml(_monitoring(CHANNELS), SECRETS).replace("receiver: oncall", "receiver: nobody"))
    assert _amtool("check-config", str(config)).returncode != 0
