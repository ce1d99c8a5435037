"""Monitoring as code: alert rules, Alertmanager routes, Grafana dashboards and drift statistics."""
