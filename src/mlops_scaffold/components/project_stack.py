"""ProjectResources: a project's own resources, wired to the platform through a StackReference."""

from __future__ import annotations

from typing import Any

import pulumi

from mlops_scaffold.components import kube

DEFAULT_ENVIRONMENTS = ("dev", "staging", "prod")


class ProjectResources(pulumi.ComponentResource):
    """Per environment, a `platform` ConfigMap telling the project's workloads where MLflow and the registry are."""

    namespaces: pulumi.Output[dict[str, str]]
    mlflow_url: pulumi.Output[Any]

    def __init__(
        self,
        name: str,
        platform_stack: str,
        environments: tuple[str, ...] = DEFAULT_ENVIRONMENTS,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("mlops-scaffold:index:ProjectResources", name, None, opts)
        platform = pulumi.StackReference(platform_stack, opts=pulumi.ResourceOptions(parent=self))
        self.mlflow_url = platform.get_output("mlflowUrl")
        registry = platform.get_output("registryUrl")
        project = platform.get_output("projects").apply(lambda projects: projects[name])

        def namespace_of(env: str) -> pulumi.Output[str]:
            return project.apply(lambda p: str(p["environments"][env]))

        self.namespaces = pulumi.Output.all(*[namespace_of(e) for e in environments]).apply(
            lambda names: dict(zip(environments, names, strict=True))
        )
        for env in environments:
            kube.declare(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "platform", "namespace": namespace_of(env), "labels": kube.MANAGED_BY},
                    "data": {"MLFLOW_TRACKING_URI": self.mlflow_url, "REGISTRY": registry, "ENVIRONMENT": env},
                },
                self,
                logical_name=f"configmap-{env}-platform",
            )
        self.register_outputs({"namespaces": self.namespaces})
