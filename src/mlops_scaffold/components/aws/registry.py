"""EcrRegistry: one ECR repository per project, immutable tags, scan on push, and a lifecycle policy."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from mlops_scaffold.components.aws.policies import lifecycle_policy
from mlops_scaffold.spec.platform import ContainerRegistrySettings, ecr_host, image_repository


class EcrRegistry(pulumi.ComponentResource):
    repositories: dict[str, aws.ecr.Repository]
    url: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        spec: ContainerRegistrySettings,
        account_id: str,
        region: str,
        projects: list[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("mlops-scaffold:aws:EcrRegistry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.repositories = {}
        policy = json.dumps(lifecycle_policy(spec.retention.keep_last, spec.retention.untagged_days))
        for project in projects:
            repository = aws.ecr.Repository(
                f"{name}-{project}",
                name=image_repository(project),
                image_tag_mutability="IMMUTABLE" if spec.immutable_tags else "MUTABLE",
                image_scanning_configuration={"scan_on_push": spec.scan_on_push},
                encryption_configurations=[{"encryption_type": "AES256"}],
                opts=child,
            )
            aws.ecr.LifecyclePolicy(f"{name}-{project}", repository=repository.name, policy=policy, opts=child)
            self.repositories[project] = repository
        self.url = pulumi.Output.from_input(ecr_host(account_id, region))
        self.register_outputs({"url": self.url})
