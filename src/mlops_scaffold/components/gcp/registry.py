"""ArtifactRegistry: one Docker repository per project, immutable tags, cleanup policies, scanning."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_gcp as gcp

from mlops_scaffold.spec.platform import ContainerRegistrySettings, GcpSettings, artifact_registry_host


def cleanup_policies(spec: ContainerRegistrySettings) -> Any:  # the SDK's TypedDicts, as plain data
    return [
        {
            "id": "delete-untagged",
            "action": "DELETE",
            "condition": {"tag_state": "UNTAGGED", "older_than": f"{spec.retention.untagged_days * 86400}s"},
        },
        {"id": "keep-newest", "action": "KEEP", "most_recent_versions": {"keep_count": spec.retention.keep_last}},
    ]


class ArtifactRegistry(pulumi.ComponentResource):
    repositories: dict[str, gcp.artifactregistry.Repository]
    url: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        spec: ContainerRegistrySettings,
        settings: GcpSettings,
        projects: list[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("mlops-scaffold:gcp:ArtifactRegistry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if spec.scan_on_push:
            gcp.projects.Service(
                f"{name}-scanning",
                project=settings.project,
                service="containerscanning.googleapis.com",
                disable_on_destroy=False,
                opts=child,
            )
        self.repositories = {
            project: gcp.artifactregistry.Repository(
                f"{name}-{project}",
                project=settings.project,
                location=settings.region,
                repository_id=project,
                format="DOCKER",
                docker_config={"immutable_tags": spec.immutable_tags},
                cleanup_policies=cleanup_policies(spec),
                opts=child,
            )
            for project in projects
        }
        self.url = pulumi.Output.from_input(artifact_registry_host(settings.region, settings.project))
        self.register_outputs({"url": self.url})
