"""EksCluster: EKS with one managed node group per spec pool (GPU AMI, taints, spot, scale to zero)."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from mlops_scaffold.components.aws.policies import autoscaler_access, irsa_trust, service_trust
from mlops_scaffold.spec.platform import NodePool, Platform

AUTOSCALER_NAMESPACE, AUTOSCALER_ACCOUNT = "kube-system", "cluster-autoscaler"
EFFECTS = {"NoSchedule": "NO_SCHEDULE", "NoExecute": "NO_EXECUTE", "PreferNoSchedule": "PREFER_NO_SCHEDULE"}
NODE_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",  # pulls from the platform's ECR
)


def ami_type(pool: NodePool) -> str:
    return "AL2023_x86_64_NVIDIA" if pool.gpu is not None else "AL2023_x86_64_STANDARD"


def autoscaler_tags(cluster_name: str, pool: NodePool) -> dict[str, str]:
    """Tags that let the cluster autoscaler scale the group up from zero with the right labels and taints."""
    prefix = "k8s.io/cluster-autoscaler/node-template"
    tags = {"k8s.io/cluster-autoscaler/enabled": "true", f"k8s.io/cluster-autoscaler/{cluster_name}": "owned"}
    tags |= {f"{prefix}/label/{k}": v for k, v in sorted(pool.node_labels.items())}
    tags |= {f"{prefix}/taint/{t.key}": f"{t.value or ''}:{t.effect}" for t in pool.taints}
    if pool.gpu is not None:
        tags[f"{prefix}/resources/nvidia.com/gpu"] = str(pool.gpu.count)
    return tags


def node_group_args(pool: NodePool, cluster_name: str) -> dict[str, Any]:
    """Everything about a managed node group that comes from its spec pool."""
    assert pool.instance_type is not None, "cloud pools name their instance type (spec rule)"
    return {
        "instance_types": [pool.instance_type],
        "ami_type": ami_type(pool),
        "capacity_type": "SPOT" if pool.spot else "ON_DEMAND",
        "scaling_config": {"min_size": pool.min, "max_size": max(pool.max, 1), "desired_size": pool.min},
        "labels": pool.node_labels,
        "taints": [{"key": t.key, "value": t.value, "effect": EFFECTS[t.effect]} for t in pool.taints],
        "tags": autoscaler_tags(cluster_name, pool),
    }


def autoscaler_values(platform: Platform, role_arn: pulumi.Input[str]) -> dict[str, Any]:
    assert platform.aws is not None
    return {
        "cloudProvider": "aws",
        "awsRegion": platform.aws.region,
        "autoDiscovery": {"clusterName": platform.name},
        "rbac": {
            "serviceAccount": {
                "create": True,
                "name": AUTOSCALER_ACCOUNT,
                "annotations": {"eks.amazonaws.com/role-arn": role_arn},
            }
        },
        "extraArgs": {"balance-similar-node-groups": True, "skip-nodes-with-system-pods": False},
    }


def kubeconfig(name: str, endpoint: str, certificate: str, region: str) -> str:
    """A kubeconfig that authenticates with `aws eks get-token`, so it holds no credential."""
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", name, "--region", region, "--output", "json"],
            "interactiveMode": "Never",
        }
    }
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": {"server": endpoint, "certificate-authority-data": certificate}}],
            "users": [{"name": name, "user": user}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
        }
    )


class EksCluster(pulumi.ComponentResource):
    cluster: aws.eks.Cluster
    oidc_provider: aws.iam.OpenIdConnectProvider
    kubeconfig: pulumi.Output[str]
    autoscaler_role_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        platform: Platform,
        subnet_ids: pulumi.Input[list[str]],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("mlops-scaffold:aws:EksCluster", name, None, opts)
        assert platform.aws is not None
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-cluster", assume_role_policy=json.dumps(service_trust("eks.amazonaws.com")), opts=child
        )
        attached = aws.iam.RolePolicyAttachment(
            f"{name}-cluster", role=role.name, policy_arn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy", opts=child
        )
        self.cluster = aws.eks.Cluster(
            name,
            name=platform.name,
            role_arn=role.arn,
            version=platform.kubernetes_version,
            vpc_config={"subnet_ids": subnet_ids, "endpoint_private_access": True, "endpoint_public_access": True},
            access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": True},
            enabled_cluster_log_types=["api", "audit", "authenticator"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attached]),
        )
        issuer = self.cluster.identities.apply(lambda ids: ids[0]["oidcs"][0]["issuer"])
        self.oidc_provider = aws.iam.OpenIdConnectProvider(
            f"{name}-irsa", url=issuer, client_id_lists=["sts.amazonaws.com"], opts=child
        )
        node_role = aws.iam.Role(
            f"{name}-nodes", assume_role_policy=json.dumps(service_trust("ec2.amazonaws.com")), opts=child
        )
        node_policies = [
            aws.iam.RolePolicyAttachment(
                f"{name}-nodes-{arn.rsplit('/', 1)[1]}", role=node_role.name, policy_arn=arn, opts=child
            )
            for arn in NODE_POLICIES
        ]
        for pool in platform.training.node_pools:
            aws.eks.NodeGroup(
                f"{name}-{pool.name}",
                cluster_name=self.cluster.name,
                node_group_name=pool.name,
                node_role_arn=node_role.arn,
                subnet_ids=subnet_ids,
                **node_group_args(pool, platform.name),
                # the cluster autoscaler owns the size once the group exists
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=node_policies, ignore_changes=["scalingConfig.desiredSize"]
                ),
            )
        region = platform.aws.region
        autoscaler = aws.iam.Role(
            f"{name}-autoscaler",
            assume_role_policy=pulumi.Output.all(self.oidc_provider.arn, self.oidc_provider.url).apply(
                lambda v: json.dumps(irsa_trust(v[0], v[1], AUTOSCALER_NAMESPACE, AUTOSCALER_ACCOUNT))
            ),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-autoscaler",
            role=autoscaler.id,
            policy=json.dumps(autoscaler_access(region, platform.aws.account_id, platform.name)),
            opts=child,
        )
        self.autoscaler_role_arn = autoscaler.arn
        self.kubeconfig = pulumi.Output.all(
            self.cluster.name, self.cluster.endpoint, self.cluster.certificate_authority
        ).apply(lambda v: kubeconfig(v[0], v[1], v[2]["data"], region))
        self.register_outputs({"clusterName": self.cluster.name})
