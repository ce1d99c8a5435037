"""IAM policy and trust documents of the aws target, as plain data: linted with parliament in tests.

Every statement names its resources; no action is a wildcard on a sensitive service; every
trust policy is scoped to one identity (a service account, or a CI repository and ref).
"""

from __future__ import annotations

from typing import Any

from mlops_scaffold.constants import OIDC_ISSUERS

Document = dict[str, Any]

CI_ISSUERS = {provider: url.removeprefix("https://") for provider, url in OIDC_ISSUERS.items()}
"""Each issuer as IAM names it: the host, without the scheme."""


def _doc(*statements: dict[str, Any]) -> Document:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def service_trust(principal: str) -> Document:
    """Trust for an AWS service (eks.amazonaws.com, ec2.amazonaws.com) to assume a role."""
    return _doc({"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"})


def irsa_trust(oidc_provider_arn: str, oidc_issuer: str, namespace: str, service_account: str) -> Document:
    """IAM Roles for Service Accounts: only this Kubernetes service account may assume the role."""
    issuer = oidc_issuer.removeprefix("https://")
    return _doc(
        {
            "Effect": "Allow",
            "Principal": {"Federated": oidc_provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                    f"{issuer}:aud": "sts.amazonaws.com",
                }
            },
        }
    )


def ci_trust(provider: str, oidc_provider_arn: str, subjects: list[str]) -> Document:
    """Trust for one repository's CI jobs, through the CI provider's OIDC issuer."""
    issuer = CI_ISSUERS[provider]
    audience = "sts.amazonaws.com" if provider == "github" else f"https://{issuer}"
    return _doc(
        {
            "Effect": "Allow",
            "Principal": {"Federated": oidc_provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {f"{issuer}:aud": audience},
                "StringLike": {f"{issuer}:sub": subjects},
            },
        }
    )


def artifact_access(bucket_arn: str) -> Document:
    """MLflow's access to its artifact bucket: list the bucket, read and write its objects."""
    return _doc(
        {"Sid": "ListArtifacts", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [bucket_arn]},
        {
            "Sid": "ReadWriteArtifacts",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": [f"{bucket_arn}/*"],
        },
    )


def ci_access(repository_arn: str, cluster_arn: str) -> Document:
    """A project's CI: push and pull its own image repository, and find its cluster."""
    return _doc(
        {"Sid": "EcrLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": ["*"]},
        {
            "Sid": "PushOwnImages",
            "Effect": "Allow",
            "Action": [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:CompleteLayerUpload",
                "ecr:GetDownloadUrlForLayer",
                "ecr:InitiateLayerUpload",
                "ecr:PutImage",
                "ecr:UploadLayerPart",
            ],
            "Resource": [repository_arn],
        },
        {"Sid": "DescribeCluster", "Effect": "Allow", "Action": ["eks:DescribeCluster"], "Resource": [cluster_arn]},
    )


def bucket_policy(bucket_arn: str) -> Document:
    """Refuse any request to the artifact bucket that is not over TLS."""
    return _doc(
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )


def lifecycle_policy(keep_last: int, untagged_days: int) -> Document:
    """ECR lifecycle: expire untagged images after some days, keep the newest tagged ones."""
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"expire untagged images after {untagged_days} days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": untagged_days,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": f"keep the {keep_last} newest images",
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep_last},
                "action": {"type": "expire"},
            },
        ]
    }


def autoscaler_access(region: str, account_id: str, cluster_name: str) -> Document:
    """The cluster autoscaler: resize only this cluster's node groups; describe what it must read."""
    groups = f"arn:aws:autoscaling:{region}:{account_id}:autoScalingGroup:*:autoScalingGroupName/*"
    return _doc(
        {
            "Sid": "ResizeOwnNodeGroups",
            "Effect": "Allow",
            "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
            "Resource": [groups],
            "Condition": {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}},
        },
        {
            "Sid": "DescribeNodeGroups",
            "Effect": "Allow",
            "Action": ["eks:DescribeNodegroup"],
            "Resource": [f"arn:aws:eks:{region}:{account_id}:nodegroup/{cluster_name}/*/*"],
        },
        {
            "Sid": "DescribeCapacity",  # these actions have no resource-level permissions
            "Effect": "Allow",
            "Action": [
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations",
                "autoscaling:DescribeScalingActivities",
                "autoscaling:DescribeTags",
                "ec2:DescribeImages",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions",
                "ec2:GetInstanceTypesFromInstanceRequirements",
            ],
            "Resource": ["*"],
        },
    )
