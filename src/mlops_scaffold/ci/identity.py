"""Who CI is, as the Kubernetes API server sees it after trusting the CI provider's OIDC issuer."""

from __future__ import annotations

import hashlib
from typing import Any

from mlops_scaffold.constants import OIDC_ISSUERS as ISSUERS
from mlops_scaffold.spec import Platform, Project

AUDIENCE = "kubernetes"


def ci_account_id(project: str) -> str:
    """The gcp service account id (6-30 characters) of a project's CI, unique even for long names."""
    account = f"ci-{project}"
    if len(account) <= 30:
        return account
    return f"ci-{project[:21].rstrip('-')}-{hashlib.sha256(project.encode()).hexdigest()[:6]}"


def ci_username(platform: Platform, repository: str, branch: str = "main") -> str:
    """The Kubernetes user a CI job on `branch` of `repository` authenticates as.

    On gcp, CI reaches GKE as the project's CI service account (through Workload Identity
    Federation), whose e-mail is its Kubernetes user name. On aws, the CI role's EKS access
    entry maps it to the same name as on plain Kubernetes.
    """
    if platform.target == "gcp" and platform.gcp is not None:
        return f"{ci_account_id(repository)}@{platform.gcp.project}.iam.gserviceaccount.com"
    org = platform.ci.organization
    if platform.ci.provider == "github":
        return f"github:repo:{org}/{repository}:ref:refs/heads/{branch}"
    return f"gitlab:project_path:{org}/{repository}:ref_type:branch:ref:{branch}"


def ci_subjects(provider: str, organization: str, project: str, environments: list[str]) -> list[str]:
    """The OIDC `sub` claims of one repository's main branch and protected environments."""
    if provider == "github":
        repo = f"repo:{organization}/{project}"
        return [f"{repo}:ref:refs/heads/main", *(f"{repo}:environment:{e}" for e in environments)]
    path = f"project_path:{organization}/{project}"
    return [f"{path}:ref_type:branch:ref:main"]


def project_ci_subject(platform: Platform, project: Project) -> dict[str, str]:
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": ci_username(platform, project.name)}


def authentication_config(platform: Platform) -> dict[str, Any]:
    """The API server's AuthenticationConfiguration that maps CI tokens to the usernames above."""
    provider = platform.ci.provider
    return {
        "apiVersion": "apiserver.config.k8s.io/v1beta1",
        "kind": "AuthenticationConfiguration",
        "jwt": [
            {
                "issuer": {"url": ISSUERS[provider], "audiences": [AUDIENCE]},
                "claimValidationRules": [
                    {
                        "expression": f"claims.{'repository_owner' if provider == 'github' else 'namespace_path'} "
                        f"== '{platform.ci.organization}'",
                        "message": "only the organization's repositories",
                    }
                ],
                "claimMappings": {"username": {"expression": f"'{provider}:' + claims.sub"}},
            }
        ],
    }
