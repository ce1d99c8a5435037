"""What a cloud target hands the Kubernetes components: a provider for its managed cluster and the
managed services that replace the in-cluster registry, database and object store."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType

import pulumi
import pulumi_kubernetes as k8s

from mlops_scaffold.constants import POSTGRES_PORT
from mlops_scaffold.errors import MissingExtraError
from mlops_scaffold.spec.fields import parse_quantity


def import_extra(module: str, extra: str) -> ModuleType:
    """Import a cloud SDK that only an extra installs, or say which extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingExtraError(f"target {extra} ({module})", extra) from error


@dataclass
class ManagedModelStore:
    """MLflow's managed backends and the cloud identity its pod runs as."""

    database_uri: pulumi.Output[str]
    artifacts_destination: str
    service_account_annotations: dict[str, pulumi.Input[str]]
    database_cidr: str
    """Where the database lives, for MLflow's egress policy."""


@dataclass
class CloudFoundation:
    provider: k8s.Provider
    registry_url: pulumi.Output[str] | None
    """Set when the cloud's registry replaces the in-cluster one."""
    model_store: ManagedModelStore | None
    outputs: dict[str, pulumi.Input[object]] = field(default_factory=dict)


def database_gib(quantity: str) -> int:
    """A Kubernetes quantity as whole GiB for a managed database disk, at least 20 (RDS's minimum)."""
    return max(20, int(-(-parse_quantity(quantity) // (1024**3))))


def postgres_uri(password: pulumi.Input[str], host: pulumi.Input[str]) -> pulumi.Output[str]:
    """MLflow's connection string to a managed PostgreSQL, TLS required; a Pulumi secret."""
    return pulumi.Output.secret(
        pulumi.Output.all(password, host).apply(
            lambda v: f"postgresql://mlflow:{v[0]}@{v[1]}:{POSTGRES_PORT}/mlflow?sslmode=require"
        )
    )


def cluster_provider(name: str, kubeconfig: pulumi.Input[str], parent: pulumi.Resource) -> k8s.Provider:
    """The Kubernetes provider for a managed cluster, from its credential-free kubeconfig."""
    return k8s.Provider(
        f"{name}-cluster",
        kubeconfig=kubeconfig,
        enable_server_side_apply=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )
