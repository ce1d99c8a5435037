"""TrainingCluster: Kueue queues and flavors, the training operators, GPU support and project namespaces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

from mlops_scaffold.catalog import chart_for
from mlops_scaffold.components import kube
from mlops_scaffold.components.project_tenant import ProjectTenant
from mlops_scaffold.constants import KUEUE_API, TRAINING_LABEL
from mlops_scaffold.monitoring.exporters import dcgm_counters_csv
from mlops_scaffold.spec import Platform, Project
from mlops_scaffold.spec.platform import GPU_PRESENT_LABEL, NodePool, Queue

GPU_RESOURCE = "nvidia.com/gpu"
CPU_FLAVOR = "cpu"
PRIORITY_CLASSES = (
    ("ml-critical", 100000, "Serving and other work that must not wait."),
    ("ml-standard", 10000, "Scheduled training."),
    ("ml-batch", 1000, "Experiments and backfills; preempted first."),
)
OPERATOR_NAMESPACES = {
    "kueue": "kueue-system",
    "ray": "kuberay-system",
    "pytorch": "kubeflow-system",
    "gpu": "gpu-system",
}


OPERATORS: dict[str, tuple[str, dict[str, Any]]] = {
    # Kueue admits RayJobs and RayClusters by itself; the operator needs no batch scheduler for that
    # (and v1.7.0 exits at start with `--batch-scheduler=kueue`)
    "ray": ("kuberay-operator", {"securityContext": kube.CONTAINER_SECURITY}),
    "pytorch": ("kubeflow-trainer", {"jobset": {"install": True}}),
}
"""Per training framework: the operator's chart and its values."""


def kueue_values(platform: Platform) -> dict[str, Any]:
    return {"enablePrometheus": platform.monitoring.enabled, "controllerManager": {"replicas": 1}}


def flavor_name(pool: NodePool) -> str:
    return f"pool-{pool.name}"


def tolerations(pool: NodePool) -> list[dict[str, Any]]:
    return [{"key": t.key, "operator": "Equal", "value": t.value, "effect": t.effect} for t in pool.taints]


def resource_flavors(platform: Platform) -> list[kube.Manifest]:
    """A flavor per node pool, selecting its nodes and tolerating its taints; one default CPU flavor without pools."""
    pools = platform.training.node_pools
    if not pools:
        return [
            {
                "apiVersion": KUEUE_API,
                "kind": "ResourceFlavor",
                "metadata": kube.meta(CPU_FLAVOR, labels=kube.MANAGED_BY),
            }
        ]
    flavors = []
    for pool in pools:
        spec: dict[str, Any] = {}
        if pool.node_labels:
            spec["nodeLabels"] = pool.node_labels
        if pool.taints:
            spec["nodeTaints"] = [{"key": t.key, "value": t.value, "effect": t.effect} for t in pool.taints]
            spec["tolerations"] = tolerations(pool)
        flavor: kube.Manifest = {
            "apiVersion": KUEUE_API,
            "kind": "ResourceFlavor",
            "metadata": kube.meta(
                flavor_name(pool),
                labels=kube.labels("training", {"mlops-scaffold.io/gpu": str(pool.gpu is not None).lower()}),
            ),
        }
        if spec:
            flavor["spec"] = spec
        flavors.append(flavor)
    return flavors


def cluster_queue(platform: Platform, queue: Queue) -> kube.Manifest:
    """One ClusterQueue: the queue's quota, spread over the flavors of the pools it may use."""
    pools = [p for p in platform.training.node_pools if not queue.pools or p.name in queue.pools]
    covered = ["cpu", "memory"] + ([GPU_RESOURCE] if queue.gpu > 0 else [])

    def quotas(gpu: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [
            {"name": "cpu", "nominalQuota": queue.cpu},
            {"name": "memory", "nominalQuota": queue.memory},
        ]
        if queue.gpu > 0:
            out.append({"name": GPU_RESOURCE, "nominalQuota": gpu})
        return out

    if pools:
        flavors = [{"name": flavor_name(p), "resources": quotas(queue.gpu if p.gpu else 0)} for p in pools]
    else:
        flavors = [{"name": CPU_FLAVOR, "resources": quotas(0)}]
    spec: dict[str, Any] = {
        "namespaceSelector": {"matchLabels": {TRAINING_LABEL: "true"}},
        "queueingStrategy": "BestEffortFIFO",
        "resourceGroups": [{"coveredResources": covered, "flavors": flavors}],
        "preemption": {"withinClusterQueue": "LowerPriority", "reclaimWithinCohort": "Any"},
    }
    if queue.cohort:
        spec["cohortName"] = queue.cohort
    return {
        "apiVersion": KUEUE_API,
        "kind": "ClusterQueue",
        "metadata": kube.meta(queue.name, labels=kube.MANAGED_BY),
        "spec": spec,
    }


def priority_classes() -> list[kube.Manifest]:
    return [
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": kube.meta(name, labels=kube.MANAGED_BY),
            "value": value,
            "globalDefault": False,
            "preemptionPolicy": "PreemptLowerPriority",
            "description": description,
        }
        for name, value, description in PRIORITY_CLASSES
    ]


DCGM_COUNTERS_FILE = "/etc/dcgm-exporter/mlops-counters.csv"
DCGM_VALUES: dict[str, Any] = {
    # emit exactly the counters the platform's rules and dashboards read (monitoring.exporters)
    "arguments": ["-f", DCGM_COUNTERS_FILE],
    "extraConfigMapVolumes": [{"name": "mlops-counters", "configMap": {"name": "dcgm-mlops-counters"}}],
    "extraVolumeMounts": [{"name": "mlops-counters", "mountPath": DCGM_COUNTERS_FILE, "subPath": "counters.csv"}],
}


def dcgm_values(platform: Platform) -> dict[str, Any]:
    return {**gpu_scheduling(platform), **DCGM_VALUES, "serviceMonitor": {"enabled": platform.monitoring.enabled}}


def dcgm_counters() -> kube.Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": kube.meta("dcgm-mlops-counters", OPERATOR_NAMESPACES["gpu"], labels=kube.labels("gpu")),
        "data": {"counters.csv": dcgm_counters_csv()},
    }


def gpu_scheduling(platform: Platform) -> dict[str, Any]:
    """Node affinity and tolerations that put GPU daemons on every GPU pool's nodes, and only there."""
    gpu_pools = [p for p in platform.training.node_pools if p.gpu is not None]
    tols = {(t["key"], t["value"], t["effect"]): t for p in gpu_pools for t in tolerations(p)}
    # every GPU pool labels its nodes with GPU_PRESENT_LABEL (NodePool.node_labels)
    term = {"matchExpressions": [{"key": GPU_PRESENT_LABEL, "operator": "In", "values": ["true"]}]}
    return {
        "tolerations": list(tols.values()),
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}},
    }


class TrainingCluster(pulumi.ComponentResource):
    """Kueue with a ClusterQueue per spec queue, the training operators, GPU daemons and one tenant per project."""

    queue_names: list[str]
    tenants: dict[str, ProjectTenant]

    def __init__(
        self,
        name: str,
        platform: Platform,
        projects: list[Project],
        registry_pull: dict[str, pulumi.Output[str]],
        registry_push: dict[str, pulumi.Output[str]],
        opts: pulumi.ResourceOptions | None = None,
        monitoring_crds: Sequence[pulumi.Resource] = (),
    ):
        super().__init__("mlops-scaffold:index:TrainingCluster", name, None, opts)
        kueue_ns = kube.declare(kube.namespace(OPERATOR_NAMESPACES["kueue"]), self)
        kueue = kube.helm_release(
            "kueue",
            chart_for(platform, "kueue"),
            OPERATOR_NAMESPACES["kueue"],
            kueue_values(platform),
            self,
            [kueue_ns, *monitoring_crds],
        )
        crd_users: list[pulumi.Resource] = [kueue]
        for manifest in [*resource_flavors(platform), *(cluster_queue(platform, q) for q in platform.training.queues)]:
            kube.declare(manifest, self, crd_users)
        for manifest in priority_classes():
            kube.declare(manifest, self)
        for framework in platform.training.frameworks:
            chart, values = OPERATORS[framework]
            ns = kube.declare(kube.namespace(OPERATOR_NAMESPACES[framework]), self)
            crd_users.append(
                kube.helm_release(chart, chart_for(platform, chart), OPERATOR_NAMESPACES[framework], values, self, [ns])
            )
        if platform.training.has_gpus:
            # the device plugin and DCGM need host access, so their namespace is privileged
            ns = kube.declare(kube.namespace(OPERATOR_NAMESPACES["gpu"], level="privileged"), self)
            placement = gpu_scheduling(platform)
            kube.helm_release(
                "nvidia-device-plugin",
                chart_for(platform, "nvidia-device-plugin"),
                OPERATOR_NAMESPACES["gpu"],
                placement,
                self,
                [ns],
            )
            counters = kube.declare(dcgm_counters(), self, [ns])
            kube.helm_release(
                "dcgm-exporter",
                chart_for(platform, "dcgm-exporter"),
                OPERATOR_NAMESPACES["gpu"],
                dcgm_values(platform),
                self,
                [ns, counters, *monitoring_crds],
            )
        self.queue_names = [q.name for q in platform.training.queues]
        self.tenants = {
            project.name: ProjectTenant(
                project.name,
                platform,
                project,
                registry_pull.get(project.name),
                registry_push.get(project.name),
                crd_users,
                pulumi.ResourceOptions(parent=self),
            )
            for project in projects
        }
        self.register_outputs({"queues": self.queue_names})
