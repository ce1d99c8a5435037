"""Pulumi ComponentResources, one per file, each driven by one section of the Platform spec."""

from mlops_scaffold.components.container_registry import ContainerRegistry
from mlops_scaffold.components.gitops import GitOps
from mlops_scaffold.components.model_registry import ModelRegistry
from mlops_scaffold.components.platform import MlopsPlatform, build_platform
from mlops_scaffold.components.project_tenant import ProjectTenant
from mlops_scaffold.components.training_cluster import TrainingCluster

__all__ = [
    "ContainerRegistry",
    "GitOps",
    "MlopsPlatform",
    "ModelRegistry",
    "ProjectTenant",
    "TrainingCluster",
    "build_platform",
]
