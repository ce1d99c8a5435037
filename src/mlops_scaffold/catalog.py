"""Pinned versions of every Helm chart and container image the platform installs.

One place to bump, and what Renovate's regex manager reads. A spec can point any chart at a
mirror (`charts.mirror`) or override one chart's repository or version
(`charts.overrides.<name>`), for air-gapped installs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlops_scaffold.facts import FACTS

if TYPE_CHECKING:  # the spec reads CHART_NAMES from here, so the catalog imports no spec at run time
    from mlops_scaffold.spec.platform import Platform


@dataclass(frozen=True)
class Chart:
    """Where a chart comes from: an https index repository or an oci:// registry path."""

    repository: str
    chart: str
    version: str

    @property
    def is_oci(self) -> bool:
        return self.repository.startswith("oci://")

    @property
    def reference(self) -> str:
        """What `helm install` takes as the chart argument."""
        return f"{self.repository.rstrip('/')}/{self.chart}" if self.is_oci else self.chart


CHARTS: dict[str, Chart] = {
    "zot": Chart("https://zotregistry.dev/helm-charts", "zot", "0.1.67"),
    "kueue": Chart("oci://registry.k8s.io/kueue/charts", "kueue", "0.19.2"),
    "kuberay-operator": Chart("https://ray-project.github.io/kuberay-helm", "kuberay-operator", "1.7.0"),
    "kubeflow-trainer": Chart("oci://ghcr.io/kubeflow/charts", "kubeflow-trainer", "2.3.0"),
    "argo-cd": Chart("https://argoproj.github.io/argo-helm", "argo-cd", "9.1.4"),
    "kube-prometheus-stack": Chart(
        "https://prometheus-community.github.io/helm-charts", "kube-prometheus-stack", "79.5.0"
    ),
    "nvidia-device-plugin": Chart("https://nvidia.github.io/k8s-device-plugin", "nvidia-device-plugin", "0.17.4"),
    "dcgm-exporter": Chart("https://nvidia.github.io/dcgm-exporter/helm-charts", "dcgm-exporter", "4.6.0"),
    "opencost": Chart("https://opencost.github.io/opencost-helm-chart", "opencost", "2.5.17"),
    # aws only: scales EKS managed node groups, from zero for GPU pools
    "cluster-autoscaler": Chart("https://kubernetes.github.io/autoscaler", "cluster-autoscaler", "9.52.1"),
}
CHART_NAMES = tuple(CHARTS)
"""Helm charts the platform installs; `charts.overrides` keys must be one of these."""

IMAGES: dict[str, str] = {
    "mlflow": f"docker.io/burakince/mlflow:{FACTS.mlflow.version}",
    "postgres": "docker.io/library/postgres:17.6-bookworm",
    "s3": "docker.io/chrislusf/seaweedfs:3.97",
    "pushgateway": "quay.io/prometheus/pushgateway:v1.11.1",
}
"""Images of the workloads the platform runs itself (the charts pin their own)."""


def chart_for(platform: Platform, name: str) -> Chart:
    """The chart to install for `name`, after the spec's mirror and per-chart overrides."""
    pinned = CHARTS[name]
    repository = platform.charts.mirror or pinned.repository
    version = pinned.version
    override = platform.charts.overrides.get(name)
    if override is not None:
        repository = override.repository or repository
        version = override.version or version
    return Chart(repository, pinned.chart, version)
