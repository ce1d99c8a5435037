"""MlflowDatabase: Cloud SQL PostgreSQL for MLflow: private IP only, TLS, backups; the password a secret."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from mlops_scaffold.components import kube
from mlops_scaffold.components.cloud import database_gib, postgres_uri
from mlops_scaffold.constants import GCP_DB_TIER
from mlops_scaffold.spec.platform import Database, GcpSettings

VERSION = "POSTGRES_17"


class MlflowDatabase(pulumi.ComponentResource):
    uri: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        spec: Database,
        settings: GcpSettings,
        network: pulumi.Input[str],
        peering: pulumi.Resource | None,
        deletion_protection: bool,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("mlops-scaffold:gcp:MlflowDatabase", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        password = kube.secret_value(f"{name}-password", "mlflowDbPassword", self)
        instance = gcp.sql.DatabaseInstance(
            name,
            project=settings.project,
            region=settings.region,
            database_version=VERSION,
            deletion_protection=deletion_protection,
            settings={
                "tier": GCP_DB_TIER,
                "disk_size": database_gib(spec.storage),
                "disk_autoresize": True,
                "availability_type": "REGIONAL" if deletion_protection else "ZONAL",
                "ip_configuration": {"ipv4_enabled": False, "private_network": network, "ssl_mode": "ENCRYPTED_ONLY"},
                "backup_configuration": {
                    "enabled": True,
                    "point_in_time_recovery_enabled": True,
                    "backup_retention_settings": {"retained_backups": spec.backup_retention_days},
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[peering] if peering is not None else []),
        )
        gcp.sql.Database(name, project=settings.project, instance=instance.name, name="mlflow", opts=child)
        gcp.sql.User(
            name, project=settings.project, instance=instance.name, name="mlflow", password=password, opts=child
        )
        self.uri = postgres_uri(password, instance.private_ip_address)
        self.register_outputs({})
