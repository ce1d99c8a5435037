"""The aws target's foundation: network, EKS, ECR, S3, RDS and identities, wired for the platform."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from mlops_scaffold.catalog import chart_for
from mlops_scaffold.components.aws.cluster import AUTOSCALER_NAMESPACE, EksCluster, autoscaler_values
from mlops_scaffold.components.aws.database import MlflowDatabase
from mlops_scaffold.components.aws.identity import AwsIdentities
from mlops_scaffold.components.aws.network import AwsNetwork
from mlops_scaffold.components.aws.registry import EcrRegistry
from mlops_scaffold.components.aws.storage import ArtifactBucket
from mlops_scaffold.components.cloud import CloudFoundation, ManagedModelStore, cluster_provider
from mlops_scaffold.spec import Platform


def build_aws(platform: Platform, projects: list[str], parent: pulumi.Resource) -> CloudFoundation:
    settings = platform.aws
    assert settings is not None, "the spec requires aws settings for target aws"
    child = pulumi.ResourceOptions(parent=parent)
    network = AwsNetwork("network", settings, platform.name, child)
    cluster = EksCluster("cluster", platform, network.private_subnet_ids, child)
    provider = cluster_provider(platform.name, cluster.kubeconfig, parent)
    chart = chart_for(platform, "cluster-autoscaler")
    k8s.helm.v3.Release(
        "cluster-autoscaler",
        name="cluster-autoscaler",
        chart=chart.reference,
        version=chart.version,
        repository_opts=None if chart.is_oci else k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
        namespace=AUTOSCALER_NAMESPACE,
        atomic=True,
        values=autoscaler_values(platform, cluster.autoscaler_role_arn),
        opts=pulumi.ResourceOptions(parent=cluster, provider=provider),
    )
    outputs: dict[str, pulumi.Input[object]] = {"clusterName": cluster.cluster.name}
    registry_url = None
    repositories = {}
    if platform.registry_type == "ecr":
        registry = EcrRegistry(
            "registry", platform.container_registry, settings.account_id, settings.region, projects, child
        )
        registry_url, repositories = registry.url, registry.repositories
    model_store = None
    if platform.artifact_store_type == "managed" and platform.database_type == "managed":
        bucket = ArtifactBucket("artifacts", platform.model_registry.artifact_store.bucket, child).bucket
        database = MlflowDatabase(
            "mlflow-db",
            platform.model_registry.database,
            network.vpc_id,
            network.cidr,
            network.private_subnet_ids,
            deletion_protection=any(e.approval for e in platform.environments),
            opts=child,
        )
        identities = AwsIdentities(
            "identity",
            platform,
            list(repositories),
            cluster.cluster,
            cluster.oidc_provider,
            bucket,
            repositories,
            child,
        )
        model_store = ManagedModelStore(
            database.uri,
            f"s3://{platform.model_registry.artifact_store.bucket}",
            {"eks.amazonaws.com/role-arn": identities.mlflow_role_arn},
            network.cidr,
        )
        outputs["ciRoleArns"] = identities.ci_role_arns
    return CloudFoundation(provider, registry_url, model_store, outputs)
