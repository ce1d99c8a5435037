"""GitOps: Argo CD, an AppProject per project, an Application per project and environment, and app-of-apps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

from mlops_scaffold.catalog import chart_for
from mlops_scaffold.components import kube
from mlops_scaffold.components.project_tenant import env_namespace
from mlops_scaffold.constants import ARGOCD_NAMESPACE, ENVIRONMENT_LABEL, PROJECT_LABEL
from mlops_scaffold.spec import Platform, Project

NAMESPACE = ARGOCD_NAMESPACE
ARGO_API = "argoproj.io/v1alpha1"
IN_CLUSTER = "https://kubernetes.default.svc"
FULLNAME = "argocd"
"""The chart's fullnameOverride: every object of the release is named `argocd-<part>`, the exported URL too."""
URL = f"https://{FULLNAME}-server.{NAMESPACE}.svc.cluster.local"
DEPLOYABLE_KINDS = [
    ("apps", "Deployment"),
    ("", "Service"),
    ("", "ConfigMap"),
    ("", "ServiceAccount"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("policy", "PodDisruptionBudget"),
    ("batch", "CronJob"),
    ("batch", "Job"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("monitoring.coreos.com", "ServiceMonitor"),
    ("monitoring.coreos.com", "PrometheusRule"),
]
"""What a project's manifests may create: its workloads and their monitoring, never RBAC or namespaces."""


def repo_url(platform: Platform, project: Project) -> str:
    host = "github.com" if platform.ci.provider == "github" else "gitlab.com"
    return f"https://{host}/{platform.ci.organization}/{project.name}.git"


def app_project(platform: Platform, project: Project) -> kube.Manifest:
    return {
        "apiVersion": ARGO_API,
        "kind": "AppProject",
        "metadata": kube.meta(project.name, NAMESPACE, labels=kube.MANAGED_BY),
        "spec": {
            "description": f"Deployments of {project.name}",
            "sourceRepos": [repo_url(platform, project)],
            "destinations": [
                {"server": IN_CLUSTER, "namespace": env_namespace(project.name, e.name)} for e in platform.environments
            ],
            "clusterResourceWhitelist": [],
            "namespaceResourceWhitelist": [{"group": g, "kind": k} for g, k in DEPLOYABLE_KINDS],
        },
    }


def application(platform: Platform, project: Project, environment: str) -> kube.Manifest:
    env = platform.environment(environment)
    sync: dict[str, Any] = {"syncOptions": ["CreateNamespace=false", "PrunePropagationPolicy=foreground"]}
    if env.auto_sync:
        sync["automated"] = {"prune": True, "selfHeal": True}
    return {
        "apiVersion": ARGO_API,
        "kind": "Application",
        "metadata": kube.meta(
            f"{project.name}-{environment}",
            NAMESPACE,
            labels=kube.labels("gitops", {PROJECT_LABEL: project.name, ENVIRONMENT_LABEL: environment}),
        ),
        "spec": {
            "project": project.name,
            "source": {
                "repoURL": repo_url(platform, project),
                "targetRevision": platform.gitops.target_revision,
                "path": f"deploy/overlays/{environment}",
            },
            "destination": {"server": IN_CLUSTER, "namespace": env_namespace(project.name, environment)},
            "syncPolicy": sync,
        },
    }


def root_application(platform: Platform) -> kube.Manifest:
    """App-of-apps: everything under `apps/` in the GitOps repo is synced by Argo CD itself."""
    return {
        "apiVersion": ARGO_API,
        "kind": "Application",
        "metadata": kube.meta(f"{platform.name}-apps", NAMESPACE, labels=kube.labels("gitops")),
        "spec": {
            "project": "default",
            "source": {
                "repoURL": platform.gitops.repo_url,
                "targetRevision": platform.gitops.target_revision,
                "path": "apps",
                "directory": {"recurse": True},
            },
            "destination": {"server": IN_CLUSTER, "namespace": NAMESPACE},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
        },
    }


def argocd_values(platform: Platform) -> dict[str, Any]:
    return {
        "fullnameOverride": FULLNAME,
        "global": {"securityContext": kube.POD_SECURITY},
        "configs": {"params": {"server.insecure": False}, "cm": {"admin.enabled": True, "exec.enabled": False}},
        "controller": {
            "metrics": {
                "enabled": True,
                "serviceMonitor": {"enabled": platform.monitoring.enabled},
                # argocd_app_labels then names each Application's project and environment (deployment frequency)
                "applicationLabels": {"enabled": True, "labels": [PROJECT_LABEL, ENVIRONMENT_LABEL]},
            }
        },
        "server": {"metrics": {"enabled": True, "serviceMonitor": {"enabled": platform.monitoring.enabled}}},
        "repoServer": {"metrics": {"enabled": True, "serviceMonitor": {"enabled": platform.monitoring.enabled}}},
        "dex": {"enabled": False},
    }


class GitOps(pulumi.ComponentResource):
    """Argo CD and what it deploys: one AppProject per project, one Application per project and environment."""

    url: str

    def __init__(
        self,
        name: str,
        platform: Platform,
        projects: list[Project],
        opts: pulumi.ResourceOptions | None = None,
        monitoring_crds: Sequence[pulumi.Resource] = (),
    ):
        super().__init__("mlops-scaffold:index:GitOps", name, None, opts)
        self.url = URL
        ns = kube.declare(kube.namespace(NAMESPACE, level="baseline"), self)
        argocd = kube.helm_release(
            "argo-cd", chart_for(platform, "argo-cd"), NAMESPACE, argocd_values(platform), self, [ns, *monitoring_crds]
        )
        after: list[pulumi.Resource] = [argocd]
        kube.declare(root_application(platform), self, after)
        for project in projects:
            kube.declare(app_project(platform, project), self, after)
            for env in platform.environments:
                kube.declare(application(platform, project, env.name), self, after)
        self.register_outputs({"url": self.url})
