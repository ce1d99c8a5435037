"""ProjectTenant: a project's namespaces, quotas, network policies, LocalQueue and least-privilege CI role."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pulumi

from mlops_scaffold.ci.identity import project_ci_subject
from mlops_scaffold.components import kube
from mlops_scaffold.constants import (
    ENVIRONMENT_LABEL,
    KUEUE_API,
    MLFLOW_NAMESPACE,
    MLFLOW_PORT,
    PROJECT_LABEL,
    TRAINING_LABEL,
)
from mlops_scaffold.spec import Platform, Project
from mlops_scaffold.spec.fields import parse_quantity

CI_ACCOUNT = "ci"
PARALLEL_JOBS = 4
"""Training jobs of one project that the namespace quota leaves room for; Kueue admits within it."""
SERVING_POD = (Decimal("0.5"), Decimal(1024))
"""CPU cores and MiB a model-server pod is budgeted at when sizing environment quotas."""


def env_namespace(project: str, environment: str) -> str:
    return f"{project}-{environment}"


def _cpu(cores: Decimal) -> str:
    return f"{int(cores * 1000)}m"


def _mem(mib: Decimal) -> str:
    return f"{int(mib)}Mi"


def training_quota(project: Project) -> dict[str, str]:
    cpu = parse_quantity(project.training.cpu) * PARALLEL_JOBS
    mem = parse_quantity(project.training.memory) / 2**20 * PARALLEL_JOBS
    quota = {"requests.cpu": _cpu(cpu), "requests.memory": _mem(mem), "limits.memory": _mem(mem * 2), "pods": "50"}
    if project.training.gpus:
        quota["requests.nvidia.com/gpu"] = str(project.training.gpus * PARALLEL_JOBS)
    return quota


def serving_quota(platform: Platform, project: Project, environment: str) -> dict[str, str]:
    replicas = platform.environment(environment).max_replicas + 4  # room for rollouts and the drift CronJob
    cpu, mem = SERVING_POD
    return {
        "requests.cpu": _cpu(cpu * replicas),
        "requests.memory": _mem(mem * replicas),
        "limits.memory": _mem(mem * replicas * 2),
        "pods": str(replicas * 2),
    }


def limit_range(namespace_name: str) -> kube.Manifest:
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": kube.meta("defaults", namespace_name, labels=kube.MANAGED_BY),
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "default": {"memory": "1Gi"},
                    "defaultRequest": {"cpu": "100m", "memory": "256Mi"},
                    "max": {"memory": "256Gi"},
                }
            ]
        },
    }


def resource_quota(namespace_name: str, hard: dict[str, str]) -> kube.Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": kube.meta("quota", namespace_name, labels=kube.MANAGED_BY),
        "spec": {"hard": hard},
    }


def network_policies(namespace_name: str) -> list[kube.Manifest]:
    """Deny by default; allow DNS, traffic inside the namespace, MLflow, and scrapes from monitoring."""
    same: list[dict[str, Any]] = [{"podSelector": {}}]
    return [
        kube.default_deny(namespace_name),
        kube.allow_dns(namespace_name),
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": kube.meta("allow-same-namespace", namespace_name, labels=kube.MANAGED_BY),
            "spec": {
                "podSelector": {},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": same}],
                "egress": [{"to": same}],
            },
        },
        kube.allow_egress("allow-mlflow", namespace_name, {}, kube.from_namespaces([MLFLOW_NAMESPACE]), MLFLOW_PORT),
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": kube.meta("allow-monitoring", namespace_name, labels=kube.MANAGED_BY),
            "spec": {
                "podSelector": {},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": kube.from_namespaces(["monitoring"])}],
            },
        },
    ]


def local_queue(project: Project) -> kube.Manifest:
    return {
        "apiVersion": KUEUE_API,
        "kind": "LocalQueue",
        "metadata": kube.meta(project.training.queue, project.name, labels=kube.MANAGED_BY),
        "spec": {"clusterQueue": project.training.queue},
    }


CI_RULES: list[dict[str, Any]] = [
    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create", "get", "list", "watch", "delete"]},
    {"apiGroups": ["ray.io"], "resources": ["rayjobs"], "verbs": ["create", "get", "list", "watch", "delete"]},
    {
        "apiGroups": ["trainer.kubeflow.org"],
        "resources": ["trainjobs"],
        "verbs": ["create", "get", "list", "watch", "delete"],
    },
    {"apiGroups": [KUEUE_API.split("/")[0]], "resources": ["workloads"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods", "pods/log", "events"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["registry-push"], "verbs": ["get"]},
]
"""What CI may do in its project's training namespace: submit and follow jobs, read its push login."""


def ci_identity(platform: Platform, project: Project) -> list[kube.Manifest]:
    """A ServiceAccount for in-cluster use and the repository's OIDC identity, both bound to the CI role."""
    ns = project.name
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": kube.meta(CI_ACCOUNT, ns, labels=kube.MANAGED_BY),
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": kube.meta("ci-trainer", ns, labels=kube.MANAGED_BY),
            "rules": CI_RULES,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": kube.meta("ci-trainer", ns, labels=kube.MANAGED_BY),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "ci-trainer"},
            "subjects": [
                {"kind": "ServiceAccount", "name": CI_ACCOUNT, "namespace": ns},
                project_ci_subject(platform, project),
            ],
        },
    ]


def _docker_secret(name: str, namespace_name: str, config: pulumi.Input[str]) -> kube.Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": kube.meta(name, namespace_name, labels=kube.MANAGED_BY),
        "type": "kubernetes.io/dockerconfigjson",
        "stringData": {".dockerconfigjson": config},
    }


def tenant_namespaces(platform: Platform, project: Project) -> list[str]:
    """A project's namespaces: its training namespace first, then one per environment."""
    return [project.name] + [env_namespace(project.name, e.name) for e in platform.environments]


class ProjectTenant(pulumi.ComponentResource):
    """Everything one project gets from the platform, in its own namespaces."""

    namespaces: list[str]

    def __init__(
        self,
        name: str,
        platform: Platform,
        project: Project,
        pull_config: pulumi.Output[str] | None,
        push_config: pulumi.Output[str] | None,
        crd_users: Sequence[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("mlops-scaffold:index:ProjectTenant", name, None, opts)
        training_ns = project.name
        self.namespaces = tenant_namespaces(platform, project)
        for ns_name in self.namespaces:
            is_training = ns_name == training_ns
            extra = (
                {TRAINING_LABEL: "true"}
                if is_training
                else {ENVIRONMENT_LABEL: ns_name.removeprefix(f"{training_ns}-")}
            )
            ns = kube.declare(kube.namespace(ns_name, extra_labels={PROJECT_LABEL: project.name, **extra}), self)
            environment = ns_name.removeprefix(f"{training_ns}-")
            hard = training_quota(project) if is_training else serving_quota(platform, project, environment)
            objects = [
                resource_quota(ns_name, hard),
                limit_range(ns_name),
                *network_policies(ns_name),
            ]
            # an in-cluster registry needs login secrets; a cloud registry trusts the nodes' and CI's roles
            if pull_config is not None:
                objects.append(_docker_secret("registry-pull", ns_name, pull_config))
            if is_training:
                objects += ci_identity(platform, project)
                if push_config is not None:
                    objects.append(_docker_secret("registry-push", ns_name, push_config))
            for manifest in objects:
                kube.declare(manifest, self, [ns])
            if is_training:
                kube.declare(local_queue(project), self, [ns, *crd_users])
        self.register_outputs({"namespaces": self.namespaces})
