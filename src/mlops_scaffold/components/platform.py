"""MlopsPlatform: the whole platform on one cluster, and the stack outputs projects read."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable

import pulumi
import pulumi_kubernetes as k8s

from mlops_scaffold.ci.identity import authentication_config
from mlops_scaffold.components.cloud import CloudFoundation, import_extra
from mlops_scaffold.components.container_registry import ContainerRegistry
from mlops_scaffold.components.gitops import GitOps
from mlops_scaffold.components.model_registry import ModelRegistry
from mlops_scaffold.components.monitoring import Monitoring
from mlops_scaffold.components.project_tenant import CI_ACCOUNT, env_namespace
from mlops_scaffold.components.project_tenant import tenant_namespaces as tenant_namespaces_of
from mlops_scaffold.components.training_cluster import TrainingCluster
from mlops_scaffold.errors import ScaffoldError
from mlops_scaffold.spec import Platform, Project, SpecSet


class MlopsPlatform(pulumi.ComponentResource):
    """The parent of every platform resource; its children share one Kubernetes provider."""

    def __init__(
        self, name: str, platform: Platform, projects: list[Project], opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlops-scaffold:index:Platform", name, None, opts)
        names = [p.name for p in projects]
        cloud = _cloud_foundation(platform, names, self)
        if cloud is None:
            config = pulumi.Config("kubernetes")
            provider = k8s.Provider(
                f"{name}-cluster",
                kubeconfig=config.get("kubeconfig"),
                # CI writes a kubeconfig with its own context (mlops_scaffold.ci) and names it here
                context=os.environ.get("MLOPS_SCAFFOLD_KUBE_CONTEXT") or config.get("context"),
                enable_server_side_apply=True,
                opts=pulumi.ResourceOptions(parent=self),
            )
        else:
            provider = cloud.provider
        child = pulumi.ResourceOptions(parent=self, providers={"kubernetes": provider})
        tenant_namespaces = [ns for p in projects for ns in tenant_namespaces_of(platform, p)]
        # monitoring comes first: its chart installs the ServiceMonitor and PrometheusRule CRDs that the
        # other components' charts and objects use, so those wait for it instead of racing it
        self.monitoring = (
            Monitoring("monitoring", platform, names, tenant_namespaces, child) if platform.monitoring.enabled else None
        )
        crds: list[pulumi.Resource] = [self.monitoring.operator] if self.monitoring is not None else []
        pull: dict[str, pulumi.Output[str]] = {}
        push: dict[str, pulumi.Output[str]] = {}
        if platform.registry_type == "zot":
            self.registry = ContainerRegistry("registry", platform, names, child, monitoring_crds=crds)
            registry_url: pulumi.Input[str] = self.registry.url
            pull, push = self.registry.pull_config, self.registry.push_config
        else:
            assert cloud is not None
            assert cloud.registry_url is not None
            registry_url = cloud.registry_url
        self.training = TrainingCluster("training", platform, projects, pull, push, child, monitoring_crds=crds)
        self.model_registry = ModelRegistry(
            "model-registry",
            platform,
            tenant_namespaces,
            child,
            managed=cloud.model_store if cloud else None,
            monitoring_crds=crds,
        )
        # Argo CD retries until a tenant's namespaces exist, so Applications need not wait on every tenant
        # resource (a dependency on a component waits for all its children, which grows quadratically)
        self.gitops = GitOps("gitops", platform, projects, child, monitoring_crds=crds)
        self.outputs: dict[str, pulumi.Input[object]] = {
            "registryUrl": registry_url,
            "mlflowUrl": self.model_registry.url,
            "mlflowAdminPassword": self.model_registry.admin_password,
            "argocdUrl": self.gitops.url,
            **(
                {
                    "grafanaUrl": self.monitoring.urls["grafana"],
                    "pushgatewayUrl": self.monitoring.urls["pushgateway"],
                }
                if self.monitoring is not None
                else {}
            ),
            "ciAuthenticationConfig": json.dumps(authentication_config(platform), sort_keys=True),
            "queues": self.training.queue_names,
            "projects": {
                p.name: {
                    "namespace": p.name,
                    "localQueue": p.training.queue,
                    "ciServiceAccount": CI_ACCOUNT,
                    "environments": {e.name: env_namespace(p.name, e.name) for e in platform.environments},
                }
                for p in projects
            },
        }
        if cloud is not None:
            self.outputs.update(cloud.outputs)
        self.register_outputs(self.outputs)


CLOUD_BUILDERS = {
    "aws": ("pulumi_aws", "mlops_scaffold.components.aws.foundation", "build_aws"),
    "gcp": ("pulumi_gcp", "mlops_scaffold.components.gcp.foundation", "build_gcp"),
}


def _cloud_foundation(platform: Platform, projects: list[str], parent: pulumi.Resource) -> CloudFoundation | None:
    """The managed cluster and services of a cloud target; the cloud SDK comes from an optional extra."""
    if platform.target == "kubernetes":
        return None
    sdk, module, function = CLOUD_BUILDERS[platform.target]
    import_extra(sdk, platform.target)
    builder: Callable[[Platform, list[str], pulumi.Resource], CloudFoundation] = getattr(
        importlib.import_module(module), function
    )
    return builder(platform, projects, parent)


def build_platform(specs: SpecSet, export: bool = True) -> MlopsPlatform:
    """Create the platform from loaded specs; with `export`, publish its outputs for StackReferences."""
    if specs.platform is None:
        raise ScaffoldError("the spec holds no Platform document")
    platform = MlopsPlatform(specs.platform.name, specs.platform, specs.projects)
    if export:
        for key, value in platform.outputs.items():
            pulumi.export(key, value)
    return platform
