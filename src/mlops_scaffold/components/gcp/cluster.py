"""GkeCluster: a private regional GKE cluster with Workload Identity and one node pool per spec pool."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_gcp as gcp

from mlops_scaffold.spec.platform import NodePool, Platform

EFFECTS = {"NoSchedule": "NO_SCHEDULE", "NoExecute": "NO_EXECUTE", "PreferNoSchedule": "PREFER_NO_SCHEDULE"}


def node_config(pool: NodePool, service_account: pulumi.Input[str]) -> Any:  # the SDK's TypedDict, as plain data
    """What a node pool's machines are, from its spec pool (GKE adds the nvidia.com/gpu taint itself)."""
    config: dict[str, Any] = {
        "machine_type": pool.instance_type,
        "spot": pool.spot,
        "labels": pool.node_labels,
        "taints": [{"key": t.key, "value": t.value or "", "effect": EFFECTS[t.effect]} for t in pool.taints],
        "service_account": service_account,
        "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
        "workload_metadata_config": {"mode": "GKE_METADATA"},
        "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
    }
    if pool.gpu is not None:
        config["guest_accelerators"] = [
            {
                "type": pool.gpu.type,
                "count": pool.gpu.count,
                "gpu_driver_installation_config": {"gpu_driver_version": "DEFAULT"},
            }
        ]
    return config


def kubeconfig(name: str, endpoint: str, certificate: str) -> str:
    """A kubeconfig that authenticates with gke-gcloud-auth-plugin, so it holds no credential."""
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "gke-gcloud-auth-plugin",
            "provideClusterInfo": True,
            "interactiveMode": "Never",
        }
    }
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": name, "cluster": {"server": f"https://{endpoint}", "certificate-authority-data": certificate}}
            ],
            "users": [{"name": name, "user": user}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
        }
    )


class GkeCluster(pulumi.ComponentResource):
    cluster: gcp.container.Cluster
    kubeconfig: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        platform: Platform,
        network: pulumi.Input[str],
        subnetwork: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("mlops-scaffold:gcp:GkeCluster", name, None, opts)
        settings = platform.gcp
        assert settings is not None
        child = pulumi.ResourceOptions(parent=self)
        nodes = gcp.serviceaccount.Account(
            f"{name}-nodes", project=settings.project, account_id="gke-nodes", display_name="GKE nodes", opts=child
        )
        for role in ("roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/artifactregistry.reader"):
            gcp.projects.IAMMember(
                f"{name}-nodes-{role.rsplit('/', 1)[1]}",
                project=settings.project,
                role=role,
                member=nodes.email.apply(lambda e: f"serviceAccount:{e}"),
                opts=child,
            )
        self.cluster = gcp.container.Cluster(
            name,
            name=platform.name,
            project=settings.project,
            location=settings.region,
            network=network,
            subnetwork=subnetwork,
            min_master_version=platform.kubernetes_version,
            release_channel={"channel": "REGULAR"},
            remove_default_node_pool=True,
            initial_node_count=1,
            workload_identity_config={"workload_pool": f"{settings.project}.svc.id.goog"},
            private_cluster_config={
                "enable_private_nodes": True,
                "enable_private_endpoint": False,
                "master_ipv4_cidr_block": "172.16.0.0/28",
            },
            ip_allocation_policy={"cluster_secondary_range_name": "pods", "services_secondary_range_name": "services"},
            deletion_protection=any(e.approval for e in platform.environments),
            opts=child,
        )
        for pool in platform.training.node_pools:
            gcp.container.NodePool(
                f"{name}-{pool.name}",
                name=pool.name,
                project=settings.project,
                location=settings.region,
                cluster=self.cluster.name,
                initial_node_count=pool.min,
                autoscaling={"min_node_count": pool.min, "max_node_count": max(pool.max, 1)},
                management={"auto_repair": True, "auto_upgrade": True},
                node_config=node_config(pool, nodes.email),
                opts=child,
            )
        self.kubeconfig = pulumi.Output.all(self.cluster.name, self.cluster.endpoint, self.cluster.master_auth).apply(
            lambda v: kubeconfig(v[0], v[1], v[2]["cluster_ca_certificate"])
        )
        self.register_outputs({"clusterName": self.cluster.name})
