"""MlflowDatabase: RDS PostgreSQL for MLflow: private, encrypted, backed up; the password a Pulumi secret."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from mlops_scaffold.components import kube
from mlops_scaffold.components.cloud import database_gib, postgres_uri
from mlops_scaffold.constants import AWS_DB_INSTANCE_CLASS, POSTGRES_PORT
from mlops_scaffold.spec.platform import Database

ENGINE_VERSION = "17.6"


class MlflowDatabase(pulumi.ComponentResource):
    uri: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        spec: Database,
        vpc_id: pulumi.Input[str],
        vpc_cidr: str,
        subnet_ids: pulumi.Input[list[str]],
        deletion_protection: bool,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("mlops-scaffold:aws:MlflowDatabase", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        password = kube.secret_value(f"{name}-password", "mlflowDbPassword", self)
        subnets = aws.rds.SubnetGroup(name, subnet_ids=subnet_ids, opts=child)
        firewall = aws.ec2.SecurityGroup(
            name,
            vpc_id=vpc_id,
            description="PostgreSQL for MLflow, reachable from inside the VPC only",
            ingress=[{"protocol": "tcp", "from_port": POSTGRES_PORT, "to_port": POSTGRES_PORT, "cidr_blocks": [vpc_cidr]}],
            opts=child,
        )
        instance = aws.rds.Instance(
            name,
            engine="postgres",
            engine_version=ENGINE_VERSION,
            instance_class=AWS_DB_INSTANCE_CLASS,
            allocated_storage=database_gib(spec.storage),
            storage_type="gp3",
            storage_encrypted=True,
            publicly_accessible=False,
            db_name="mlflow",
            username="mlflow",
            password=password,
            port=POSTGRES_PORT,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[firewall.id],
            backup_retention_period=spec.backup_retention_days,
            deletion_protection=deletion_protection,
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{name}-final",
            auto_minor_version_upgrade=True,
            copy_tags_to_snapshot=True,
            opts=child,
        )
        self.uri = postgres_uri(password, instance.address)
        self.register_outputs({})
