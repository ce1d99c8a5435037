"""Monitoring: kube-prometheus-stack, Alertmanager routes, dashboards, alert rules and a Pushgateway."""

from __future__ import annotations

import json
from collections.abc import Sequence
from io import StringIO
from typing import Any

import pulumi
from ruamel.yaml import YAML

from mlops_scaffold.catalog import IMAGES, chart_for
from mlops_scaffold.components import kube
from mlops_scaffold.components.training_cluster import OPERATOR_NAMESPACES
from mlops_scaffold.constants import (
    ENVIRONMENT_LABEL,
    MONITORING_NAMESPACE,
    PROJECT_LABEL,
    PUSHGATEWAY_PORT,
    PUSHGATEWAY_SERVICE,
    PUSHGATEWAY_URL,
)
from mlops_scaffold.cost import HOURS_PER_MONTH, PRICES_DATE, prices_for
from mlops_scaffold.monitoring.alertmanager import alertmanager_config
from mlops_scaffold.monitoring.dashboards import dashboards
from mlops_scaffold.monitoring.outcomes import outcome_group
from mlops_scaffold.monitoring.rules import PLATFORM_SERVICES, rule_groups
from mlops_scaffold.spec.platform import MonitoringSettings, Platform

NAMESPACE = MONITORING_NAMESPACE
ALERTMANAGER_SECRET = "alertmanager-mlops"
GRAFANA_SECRET = "grafana-admin"
PUSHGATEWAY = {"app.kubernetes.io/name": PUSHGATEWAY_SERVICE}
URLS = {
    "grafana": f"http://kube-prometheus-stack-grafana.{NAMESPACE}.svc.cluster.local",
    "prometheus": f"http://kube-prometheus-stack-prometheus.{NAMESPACE}.svc.cluster.local:9090",
    "alertmanager": f"http://kube-prometheus-stack-alertmanager.{NAMESPACE}.svc.cluster.local:9093",
    "pushgateway": PUSHGATEWAY_URL,
}


def stack_values(monitoring: MonitoringSettings) -> dict[str, Any]:
    """kube-prometheus-stack values: retention and storage from the spec; every monitor and rule selected."""
    return {
        "fullnameOverride": "kube-prometheus-stack",
        "prometheus": {
            "prometheusSpec": {
                "retention": monitoring.retention,
                "storageSpec": {
                    "volumeClaimTemplate": {
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": monitoring.storage}},
                        }
                    }
                },
                # select monitors and rules in every namespace, not only those labelled for this release
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "ruleSelectorNilUsesHelmValues": False,
                "probeSelectorNilUsesHelmValues": False,
            }
        },
        "alertmanager": {
            "alertmanagerSpec": {"useExistingSecret": True, "configSecret": ALERTMANAGER_SECRET},
        },
        # kube_namespace_labels then carries each namespace's project and environment (cost per project)
        "kube-state-metrics": {"metricLabelsAllowlist": [f"namespaces=[{PROJECT_LABEL},{ENVIRONMENT_LABEL}]"]},
        "grafana": {
            "admin": {"existingSecret": GRAFANA_SECRET, "userKey": "admin-user", "passwordKey": "admin-password"},
            "sidecar": {
                "dashboards": {
                    "enabled": True,
                    "label": "grafana_dashboard",
                    "labelValue": "1",
                    "searchNamespace": NAMESPACE,
                    "folderAnnotation": "grafana_folder",
                    "provider": {"foldersFromFilesStructure": True},
                }
            },
        },
    }


def in_cluster_services(platform: Platform) -> list[str]:
    """The platform services (scrape jobs) this target runs in the cluster: MLflow always, zot when it is the registry."""
    return [job for job in PLATFORM_SERVICES if job != "zot" or platform.registry_type == "zot"]


def prometheus_rule(platform: Platform, training_namespaces: list[str]) -> kube.Manifest:
    """The platform's rules: component alerts for what the target runs, and the outcome rules."""
    groups = rule_groups(platform.monitoring, training_namespaces, in_cluster_services(platform))
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": kube.meta("mlops-platform", NAMESPACE, labels=kube.labels("monitoring")),
        "spec": {"groups": [*groups, outcome_group(platform, training_namespaces)]},
    }


def opencost_values(platform: Platform) -> dict[str, Any]:
    """OpenCost reads kube-prometheus-stack's Prometheus and is scraped by it. On the kubernetes target
    it prices nodes from the custom sheet `plan` uses too; on a cloud, from the cloud's prices."""
    prices = prices_for(platform)
    values: dict[str, Any] = {
        "fullnameOverride": "opencost",
        "opencost": {
            "exporter": {"defaultClusterId": platform.name},
            "prometheus": {
                "internal": {
                    "enabled": True,
                    "serviceName": "kube-prometheus-stack-prometheus",
                    "namespaceName": NAMESPACE,
                    "port": 9090,
                }
            },
            "metrics": {"serviceMonitor": {"enabled": True}},
            "ui": {"enabled": False},
        },
    }
    if platform.target == "kubernetes":
        values["opencost"]["customPricing"] = {
            "enabled": True,
            "provider": "custom",
            "costModel": {
                "description": f"mlops-scaffold price sheet ({PRICES_DATE})",
                "CPU": str(prices["kubernetes:cpu"]),
                "RAM": str(prices["kubernetes:memory-gib"]),
                "GPU": str(prices["kubernetes:gpu"]),
                "storage": str(prices["kubernetes:storage-gib-month"] / HOURS_PER_MONTH),
                "spotCPU": str(prices["kubernetes:cpu"] * prices["spot-share"]),
                "spotRAM": str(prices["kubernetes:memory-gib"] * prices["spot-share"]),
            },
        }
    return values


def dashboard_config_maps(monitoring: MonitoringSettings) -> list[kube.Manifest]:
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": kube.meta(
                file_name.removesuffix(".json"),
                NAMESPACE,
                labels=kube.labels("monitoring", {"grafana_dashboard": "1"}),
                annotations={"grafana_folder": "MLOps"},
            ),
            "data": {file_name: json.dumps(board, indent=2, sort_keys=True) + "\n"},
        }
        for file_name, board in dashboards(monitoring).items()
    ]


def pushgateway_objects(client_namespaces: list[str]) -> list[kube.Manifest]:
    """A Pushgateway for batch jobs (drift checks, training), scraped with their own labels kept."""
    pod = {
        "securityContext": {**kube.POD_SECURITY, "runAsUser": 65534, "runAsGroup": 65534},
        "automountServiceAccountToken": False,
        "containers": [
            {
                "name": "pushgateway",
                "image": IMAGES["pushgateway"],
                "args": ["--persistence.file=/data/metrics", "--persistence.interval=1m"],
                "ports": [{"name": "http", "containerPort": PUSHGATEWAY_PORT}],
                "readinessProbe": {"httpGet": {"path": "/-/ready", "port": "http"}},
                "livenessProbe": {"httpGet": {"path": "/-/healthy", "port": "http"}},
                "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
                "securityContext": kube.CONTAINER_SECURITY,
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
            }
        ],
        "volumes": [{"name": "data", "emptyDir": {}}],
    }
    labels = kube.labels("pushgateway", PUSHGATEWAY)
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": kube.meta("pushgateway", NAMESPACE, labels=labels),
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": PUSHGATEWAY},
                "template": {"metadata": {"labels": PUSHGATEWAY}, "spec": pod},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": kube.meta("pushgateway", NAMESPACE, labels=labels),
            "spec": {
                "selector": PUSHGATEWAY,
                "ports": [{"name": "http", "port": PUSHGATEWAY_PORT, "targetPort": "http"}],
            },
        },
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "ServiceMonitor",
            "metadata": kube.meta("pushgateway", NAMESPACE, labels=labels),
            "spec": {
                "selector": {"matchLabels": PUSHGATEWAY},
                "namespaceSelector": {"matchNames": [NAMESPACE]},
                # keep the job and model labels the batch jobs pushed
                "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s", "honorLabels": True}],
            },
        },
        kube.allow_ingress(
            "allow-pushgateway",
            NAMESPACE,
            PUSHGATEWAY,
            kube.from_namespaces([NAMESPACE, *client_namespaces]),
            PUSHGATEWAY_PORT,
        ),
    ]


def ray_pod_monitor(training_namespaces: list[str]) -> kube.Manifest:
    """Ray head and worker pods export their metrics on the `metrics` port KubeRay adds."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": kube.meta("ray", NAMESPACE, labels=kube.labels("monitoring")),
        "spec": {
            "selector": {"matchExpressions": [{"key": "ray.io/node-type", "operator": "Exists"}]},
            "namespaceSelector": {"matchNames": training_namespaces},
            "podMetricsEndpoints": [{"port": "metrics", "interval": "30s"}],
        },
    }


def kuberay_operator_monitor() -> kube.Manifest:
    """The KubeRay operator serves its metrics on the `http` port of its Service."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": kube.meta("kuberay-operator", NAMESPACE, labels=kube.labels("monitoring")),
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "kuberay-operator"}},
            "namespaceSelector": {"matchNames": [OPERATOR_NAMESPACES["ray"]]},
            "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}],
        },
    }


def alertmanager_yaml(monitoring: MonitoringSettings, secrets: dict[str, str]) -> str:
    yaml = YAML()
    yaml.default_flow_style = False
    out = StringIO()
    yaml.dump(alertmanager_config(monitoring, secrets), out)
    return out.getvalue()


class Monitoring(pulumi.ComponentResource):
    """Prometheus, Alertmanager and Grafana with the platform's rules and dashboards; secrets stay secret."""

    urls: dict[str, str]
    grafana_password: pulumi.Output[str]
    operator: pulumi.Resource
    """The kube-prometheus-stack release: whatever uses its CRDs (ServiceMonitor, PrometheusRule) waits for it."""

    def __init__(
        self,
        name: str,
        platform: Platform,
        training_namespaces: list[str],
        workload_namespaces: list[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("mlops-scaffold:index:Monitoring", name, None, opts)
        spec = platform.monitoring
        self.urls = dict(URLS)
        # Prometheus and its exporters need host-level reads, so the namespace is privileged
        ns = kube.declare(kube.namespace(NAMESPACE, level="privileged"), self)
        deps: Sequence[pulumi.Resource] = [ns]
        keys = sorted({c.secret_key for c in spec.channels})
        values = [_required_secret(key) for key in keys]
        config = pulumi.Output.all(*values).apply(
            lambda got: alertmanager_yaml(spec, dict(zip(keys, got, strict=True)))
        )
        kube.secret(ALERTMANAGER_SECRET, NAMESPACE, {"alertmanager.yaml": pulumi.Output.secret(config)}, self, deps)
        self.grafana_password = kube.secret_value("grafana-admin-password", "grafanaAdminPassword", self)
        kube.secret(
            GRAFANA_SECRET, NAMESPACE, {"admin-user": "admin", "admin-password": self.grafana_password}, self, deps
        )
        for manifest in dashboard_config_maps(spec):
            kube.declare(manifest, self, deps)
        stack = kube.helm_release(
            "kube-prometheus-stack",
            chart_for(platform, "kube-prometheus-stack"),
            NAMESPACE,
            stack_values(spec),
            self,
            deps,
        )
        self.operator = stack
        custom = [
            prometheus_rule(platform, training_namespaces),
            *pushgateway_objects(workload_namespaces),
        ]
        if "ray" in platform.training.frameworks:
            custom.append(kuberay_operator_monitor())
            if training_namespaces:
                custom.append(ray_pod_monitor(training_namespaces))
        for manifest in custom:
            kube.declare(manifest, self, [stack])
        # its chart renders a ServiceMonitor, so it waits for the operator's CRDs too
        kube.helm_release(
            "opencost", chart_for(platform, "opencost"), NAMESPACE, opencost_values(platform), self, [stack]
        )
        self.register_outputs({"urls": self.urls})


def _required_secret(key: str) -> pulumi.Output[str]:
    """A channel credential from stack config; `pulumi config set --secret KEY` must have set it."""
    return pulumi.Config().require_secret(key)
