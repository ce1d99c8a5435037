"""AwsIdentities: IRSA roles for in-cluster workloads and a keyless CI role per project repository."""

from __future__ import annotations

import json
from collections.abc import Callable

import pulumi
import pulumi_aws as aws

from mlops_scaffold.ci.identity import ci_subjects, ci_username
from mlops_scaffold.components.aws.policies import (
    CI_ISSUERS,
    artifact_access,
    ci_access,
    ci_trust,
    irsa_trust,
)
from mlops_scaffold.spec import Platform


def _trust(provider: str, subjects: list[str]) -> Callable[[str], str]:
    return lambda arn: json.dumps(ci_trust(provider, arn, subjects))


class AwsIdentities(pulumi.ComponentResource):
    mlflow_role_arn: pulumi.Output[str]
    ci_role_arns: dict[str, pulumi.Output[str]]

    def __init__(
        self,
        name: str,
        platform: Platform,
        projects: list[str],
        cluster: aws.eks.Cluster,
        irsa: aws.iam.OpenIdConnectProvider,
        bucket: aws.s3.Bucket,
        repositories: dict[str, aws.ecr.Repository],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("mlops-scaffold:aws:Identities", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        mlflow = aws.iam.Role(
            f"{name}-mlflow",
            assume_role_policy=pulumi.Output.all(irsa.arn, irsa.url).apply(
                lambda v: json.dumps(irsa_trust(v[0], v[1], "mlflow", "mlflow"))
            ),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-mlflow",
            role=mlflow.id,
            policy=bucket.arn.apply(lambda arn: json.dumps(artifact_access(arn))),
            opts=child,
        )
        self.mlflow_role_arn = mlflow.arn
        provider = platform.ci.provider
        ci_issuer = aws.iam.OpenIdConnectProvider(
            f"{name}-ci",
            url=f"https://{CI_ISSUERS[provider]}",
            client_id_lists=["sts.amazonaws.com" if provider == "github" else f"https://{CI_ISSUERS[provider]}"],
            opts=child,
        )
        protected = [e.name for e in platform.environments if e.approval]
        self.ci_role_arns = {}
        for project in projects:
            subjects = ci_subjects(provider, platform.ci.organization, project, protected)
            role = aws.iam.Role(
                f"{name}-ci-{project}",
                assume_role_policy=ci_issuer.arn.apply(_trust(provider, subjects)),
                max_session_duration=3600,
                opts=child,
            )
            aws.iam.RolePolicy(
                f"{name}-ci-{project}",
                role=role.id,
                policy=pulumi.Output.all(repositories[project].arn, cluster.arn).apply(
                    lambda v: json.dumps(ci_access(v[0], v[1]))
                ),
                opts=child,
            )
            # the role signs in to Kubernetes as the same user the project's RoleBinding names
            aws.eks.AccessEntry(
                f"{name}-ci-{project}",
                cluster_name=cluster.name,
                principal_arn=role.arn,
                user_name=ci_username(platform, project),
                type="STANDARD",
                opts=child,
            )
            self.ci_role_arns[project] = role.arn
        self.register_outputs({"mlflowRoleArn": self.mlflow_role_arn})
