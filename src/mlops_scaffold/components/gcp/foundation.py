"""The gcp target's foundation: network, GKE, Artifact Registry, GCS, Cloud SQL and identities."""

from __future__ import annotations

import pulumi

from mlops_scaffold.components.cloud import CloudFoundation, ManagedModelStore, cluster_provider
from mlops_scaffold.components.gcp.cluster import GkeCluster
from mlops_scaffold.components.gcp.database import MlflowDatabase
from mlops_scaffold.components.gcp.identity import GcpIdentities
from mlops_scaffold.components.gcp.network import GcpNetwork
from mlops_scaffold.components.gcp.registry import ArtifactRegistry
from mlops_scaffold.components.gcp.storage import ArtifactBucket
from mlops_scaffold.spec import Platform


def build_gcp(platform: Platform, projects: list[str], parent: pulumi.Resource) -> CloudFoundation:
    settings = platform.gcp
    assert settings is not None, "the spec requires gcp settings for target gcp"
    child = pulumi.ResourceOptions(parent=parent)
    network = GcpNetwork("network", settings, child)
    cluster = GkeCluster("cluster", platform, network.network, network.subnetwork, child)
    provider = cluster_provider(platform.name, cluster.kubeconfig, parent)
    outputs: dict[str, pulumi.Input[object]] = {"clusterName": cluster.cluster.name}
    registry_url = None
    repositories = {}
    if platform.registry_type == "artifact-registry":
        registry = ArtifactRegistry("registry", platform.container_registry, settings, projects, child)
        registry_url, repositories = registry.url, registry.repositories
    model_store = None
    if platform.artifact_store_type == "managed" and platform.database_type == "managed":
        bucket = ArtifactBucket("artifacts", platform.model_registry.artifact_store.bucket, settings, child).bucket
        database = MlflowDatabase(
            "mlflow-db",
            platform.model_registry.database,
            settings,
            network.network,
            network.peering,
            deletion_protection=any(e.approval for e in platform.environments),
            opts=child,
        )
        identities = GcpIdentities("identity", platform, bucket, repositories, child)
        model_store = ManagedModelStore(
            database.uri,
            f"gs://{platform.model_registry.artifact_store.bucket}",
            {"iam.gke.io/gcp-service-account": identities.mlflow_account},
            "0.0.0.0/0",  # Cloud SQL's private address comes from the peered services range
        )
        outputs["ciServiceAccounts"] = identities.ci_accounts
        outputs["workloadIdentityProvider"] = identities.workload_identity_provider
    return CloudFoundation(provider, registry_url, model_store, outputs)
