"""GcpIdentities: Workload Identity for MLflow, and Workload Identity Federation for each project's CI."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pulumi
import pulumi_gcp as gcp

from mlops_scaffold.ci.identity import ci_account_id, ci_subjects
from mlops_scaffold.constants import OIDC_ISSUERS as ISSUERS
from mlops_scaffold.spec import Platform


def provider_attributes(provider: str, organization: str) -> tuple[dict[str, str], str]:
    """Attribute mapping and the condition that admits only the organization's repositories."""
    if provider == "github":
        mapping = {
            "google.subject": "assertion.sub",
            "attribute.repository": "assertion.repository",
            "attribute.ref": "assertion.ref",
        }
        return mapping, f"assertion.repository_owner == '{organization}'"
    mapping = {
        "google.subject": "assertion.sub",
        "attribute.project_path": "assertion.project_path",
        "attribute.ref": "assertion.ref",
    }
    return mapping, f"assertion.namespace_path == '{organization}'"


def _principal(subject: str) -> Callable[[str], str]:
    """One federated identity (a repository and ref), never the whole pool."""
    return lambda pool: f"principal://iam.googleapis.com/{pool}/subject/{subject}"


class GcpIdentities(pulumi.ComponentResource):
    mlflow_account: pulumi.Output[str]
    ci_accounts: dict[str, pulumi.Output[str]]
    workload_identity_provider: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        platform: Platform,
        bucket: gcp.storage.Bucket,
        repositories: dict[str, gcp.artifactregistry.Repository],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("mlops-scaffold:gcp:Identities", name, None, opts)
        settings = platform.gcp
        assert settings is not None
        child = pulumi.ResourceOptions(parent=self)
        mlflow = gcp.serviceaccount.Account(
            f"{name}-mlflow", project=settings.project, account_id="mlflow-artifacts", opts=child
        )
        gcp.storage.BucketIAMMember(
            f"{name}-mlflow",
            bucket=bucket.name,
            role="roles/storage.objectUser",
            member=mlflow.email.apply(lambda e: f"serviceAccount:{e}"),
            opts=child,
        )
        gcp.serviceaccount.IAMMember(
            f"{name}-mlflow-wi",
            service_account_id=mlflow.name,
            role="roles/iam.workloadIdentityUser",
            member=f"serviceAccount:{settings.project}.svc.id.goog[mlflow/mlflow]",
            opts=child,
        )
        self.mlflow_account = mlflow.email
        provider = platform.ci.provider
        pool = gcp.iam.WorkloadIdentityPool(
            f"{name}-ci", project=settings.project, workload_identity_pool_id="ci", display_name="CI", opts=child
        )
        mapping, condition = provider_attributes(provider, platform.ci.organization)
        federation = gcp.iam.WorkloadIdentityPoolProvider(
            f"{name}-ci-{provider}",
            project=settings.project,
            workload_identity_pool_id=pool.workload_identity_pool_id,
            workload_identity_pool_provider_id=provider,
            attribute_mapping=mapping,
            attribute_condition=condition,
            oidc={"issuer_uri": ISSUERS[provider]},
            opts=child,
        )
        self.workload_identity_provider = federation.name
        protected = [e.name for e in platform.environments if e.approval]
        self.ci_accounts = {}
        for project, repository in repositories.items():
            account = gcp.serviceaccount.Account(
                f"{name}-ci-{project}", project=settings.project, account_id=ci_account_id(project), opts=child
            )
            member = account.email.apply(lambda e: f"serviceAccount:{e}")
            for subject in ci_subjects(provider, platform.ci.organization, project, protected):
                gcp.serviceaccount.IAMMember(
                    f"{name}-ci-{project}-{hashlib.sha256(subject.encode()).hexdigest()[:8]}",
                    service_account_id=account.name,
                    role="roles/iam.workloadIdentityUser",
                    # one repository and ref (or protected environment), never the whole pool
                    member=pool.name.apply(_principal(subject)),
                    opts=child,
                )
            gcp.artifactregistry.RepositoryIamMember(
                f"{name}-ci-{project}",
                project=settings.project,
                location=settings.region,
                repository=repository.name,
                role="roles/artifactregistry.writer",
                member=member,
                opts=child,
            )
            # enough to fetch cluster credentials; Kubernetes RBAC limits it to the project's namespace
            gcp.projects.IAMMember(
                f"{name}-ci-{project}-cluster",
                project=settings.project,
                role="roles/container.clusterViewer",
                member=member,
                opts=child,
            )
            self.ci_accounts[project] = account.email
        self.register_outputs({"mlflowAccount": self.mlflow_account})
