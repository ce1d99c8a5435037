"""Alertmanager configuration: one receiver per spec channel, routed by severity.

Credentials (webhook URLs, routing keys, SMTP passwords) are passed in, so the same function
renders the real config inside a Pulumi secret and a test config with placeholders.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_scaffold.spec.platform import Channel, MonitoringSettings

SEVERITIES = ("info", "warning", "critical")
GROUP_BY = ["alertname", "namespace", "job", "model"]
SILENT = "null"
"""The receiver of alerts nobody is paged for (and of kube-prometheus-stack's Watchdog)."""


def _receiver(channel: Channel, secret: str) -> dict[str, Any]:
    resolved = {"send_resolved": True}
    if channel.type == "slack":
        config = {
            **resolved,
            "api_url": secret,
            "channel": channel.slack_channel,
            "title": "{{ .CommonLabels.alertname }} ({{ .Status }})",
            "text": "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}",
        }
        return {"name": channel.name, "slack_configs": [config]}
    if channel.type == "pagerduty":
        severity = "{{ if .CommonLabels.severity }}{{ .CommonLabels.severity }}{{ else }}warning{{ end }}"
        return {"name": channel.name, "pagerduty_configs": [{**resolved, "routing_key": secret, "severity": severity}]}
    if channel.type == "email":
        assert channel.email_to is not None
        sender = "alertmanager@" + channel.email_to.split("@", 1)[1]
        config = {
            **resolved,
            "to": channel.email_to,
            "from": sender,
            "smarthost": channel.smarthost,
            "auth_username": sender,
            "auth_password": secret,
            "require_tls": True,
        }
        return {"name": channel.name, "email_configs": [config]}
    return {"name": channel.name, "webhook_configs": [{**resolved, "url": secret}]}


def alertmanager_config(monitoring: MonitoringSettings, secrets: Mapping[str, str]) -> dict[str, Any]:
    """The whole alertmanager.yaml; `secrets` maps each channel's secret config key to its value."""
    routes: list[dict[str, Any]] = [{"receiver": SILENT, "matchers": ['alertname=~"Watchdog|InfoInhibitor"']}]
    receivers: list[dict[str, Any]] = [{"name": SILENT}]
    for channel in monitoring.channels:
        wanted = SEVERITIES[SEVERITIES.index(channel.min_severity) :]
        routes.append({"receiver": channel.name, "matchers": [f'severity=~"{"|".join(wanted)}"'], "continue": True})
        receivers.append(_receiver(channel, secrets[channel.secret_key]))
    return {
        "global": {"resolve_timeout": "5m"},
        "route": {
            "receiver": SILENT,
            "group_by": GROUP_BY,
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": routes,
        },
        "receivers": receivers,
        "inhibit_rules": [
            {
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity=~"info|warning"'],
                "equal": GROUP_BY,
            }
        ],
    }
