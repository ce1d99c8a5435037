"""ModelRegistry: MLflow tracking server and model registry on PostgreSQL and S3-compatible storage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

from mlops_scaffold.catalog import IMAGES
from mlops_scaffold.components import kube
from mlops_scaffold.components.cloud import ManagedModelStore
from mlops_scaffold.constants import (
    MLFLOW_NAMESPACE,
    MLFLOW_PORT,
    MLFLOW_SERVICE,
    MLFLOW_URL,
    OBJECT_STORE_SERVICE,
    OBJECT_STORE_URL,
    POSTGRES_PORT,
    S3_PORT,
)
from mlops_scaffold.spec import Platform

NAMESPACE = MLFLOW_NAMESPACE
PG_PORT = POSTGRES_PORT
URL = MLFLOW_URL
APP = {"app.kubernetes.io/name": MLFLOW_SERVICE}
PG = {"app.kubernetes.io/name": "postgres"}
S3 = {"app.kubernetes.io/name": "s3"}


def _container(name: str, image: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": image, "securityContext": kube.CONTAINER_SECURITY, **extra}


def _secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _run_as(uid: int) -> dict[str, Any]:
    """The restricted pod security context, running as one non-root user and group."""
    return kube.POD_SECURITY | {"runAsUser": uid, "runAsGroup": uid, "fsGroup": uid}


def _resources(cpu: str, memory: str) -> dict[str, Any]:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}}


def _stateful_set(
    name: str, selector: dict[str, str], component: str, pod: dict[str, Any], storage: str
) -> kube.Manifest:
    """One replica with its own volume: how the platform runs its small stateful services."""
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": kube.meta(name, NAMESPACE, labels=kube.labels(component, selector)),
        "spec": {
            "serviceName": name,
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "template": {"metadata": {"labels": selector}, "spec": pod},
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage}}},
                }
            ],
        },
    }


def postgres_objects(platform: Platform) -> list[kube.Manifest]:
    """A single-replica PostgreSQL StatefulSet; its password comes from the `postgres` Secret."""
    pod = {
        "securityContext": _run_as(999),
        "containers": [
            _container(
                "postgres",
                IMAGES["postgres"],
                ports=[{"name": "postgres", "containerPort": PG_PORT}],
                env=[
                    {"name": "POSTGRES_USER", "value": "mlflow"},
                    {"name": "POSTGRES_DB", "value": "mlflow"},
                    {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
                    _secret_env("POSTGRES_PASSWORD", "postgres", "password"),
                ],
                readinessProbe={"exec": {"command": ["pg_isready", "-U", "mlflow"]}, "periodSeconds": 10},
                resources=_resources("250m", "512Mi"),
                volumeMounts=[
                    {"name": "data", "mountPath": "/var/lib/postgresql/data"},
                    {"name": "run", "mountPath": "/var/run/postgresql"},
                    {"name": "tmp", "mountPath": "/tmp"},
                ],
            )
        ],
        "volumes": [{"name": "run", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
    }
    return [
        _stateful_set("postgres", PG, "database", pod, platform.model_registry.database.storage),
        _service("postgres", PG, PG_PORT, "postgres"),
    ]


def s3_objects(platform: Platform) -> list[kube.Manifest]:
    """A single-node SeaweedFS serving the S3 API; identities come from the `s3` Secret."""
    pod = {
        "securityContext": _run_as(1000),
        "containers": [
            _container(
                "s3",
                IMAGES["s3"],
                args=["server", "-dir=/data", "-s3", f"-s3.port={S3_PORT}", "-s3.config=/etc/s3/config.json"],
                ports=[{"name": "s3", "containerPort": S3_PORT}],
                resources=_resources("250m", "512Mi"),
                volumeMounts=[
                    {"name": "data", "mountPath": "/data"},
                    {"name": "config", "mountPath": "/etc/s3", "readOnly": True},
                    {"name": "tmp", "mountPath": "/tmp"},
                ],
            )
        ],
        "volumes": [
            {
                "name": "config",
                "secret": {"secretName": "s3", "items": [{"key": "config.json", "path": "config.json"}]},
            },
            {"name": "tmp", "emptyDir": {}},
        ],
    }
    return [
        _stateful_set("s3", S3, "artifact-store", pod, platform.model_registry.artifact_store.storage),
        _service(OBJECT_STORE_SERVICE, S3, S3_PORT, "s3"),
    ]


def mlflow_objects(platform: Platform, artifacts_destination: str | None = None) -> list[kube.Manifest]:
    """The MLflow server with proxied artifact access, so clients never need S3 credentials.

    With `artifacts_destination` (s3:// or gs:// of a managed bucket), MLflow reaches the cloud
    with its service account's workload identity: no keys, no in-cluster object store.
    """
    registry = platform.model_registry
    bucket = registry.artifact_store.bucket
    args = [
        "server",
        "--host=0.0.0.0",
        f"--port={MLFLOW_PORT}",
        "--backend-store-uri=$(MLFLOW_BACKEND_STORE_URI)",
        f"--artifacts-destination={artifacts_destination or f's3://{bucket}'}",
        "--serve-artifacts",
        "--expose-prometheus=/tmp/metrics",
    ]
    if registry.auth.enabled:
        args.append("--app-name=basic-auth")
    env = [
        _secret_env("MLFLOW_BACKEND_STORE_URI", "mlflow", "backend-store-uri"),
        {"name": "MLFLOW_S3_ENDPOINT_URL", "value": OBJECT_STORE_URL},
        _secret_env("AWS_ACCESS_KEY_ID", "mlflow", "s3-access-key"),
        _secret_env("AWS_SECRET_ACCESS_KEY", "mlflow", "s3-secret-key"),
        _secret_env("MLFLOW_FLASK_SERVER_SECRET_KEY", "mlflow", "flask-secret-key"),
        {"name": "MLFLOW_AUTH_CONFIG_PATH", "value": "/etc/mlflow/basic_auth.ini"},
    ]
    make_bucket = (
        "import boto3, botocore, os\n"
        "s3 = boto3.client('s3', endpoint_url=os.environ['MLFLOW_S3_ENDPOINT_URL'])\n"
        f"try:\n    s3.head_bucket(Bucket='{bucket}')\n"
        f"except botocore.exceptions.ClientError:\n    s3.create_bucket(Bucket='{bucket}')\n"
    )
    mounts = [{"name": "auth", "mountPath": "/etc/mlflow", "readOnly": True}, {"name": "tmp", "mountPath": "/tmp"}]
    if artifacts_destination is not None:
        env = [
            e for e in env if e["name"] not in ("MLFLOW_S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
        ]
    pod = {
        "serviceAccountName": "mlflow",
        "securityContext": _run_as(1000),
        "initContainers": [
            _container(
                "create-bucket", IMAGES["mlflow"], command=["python", "-c", make_bucket], env=env, volumeMounts=mounts
            )
        ],
        "containers": [
            _container(
                "mlflow",
                IMAGES["mlflow"],
                command=["mlflow"],
                args=args,
                env=env,
                ports=[{"name": "http", "containerPort": MLFLOW_PORT}],
                readinessProbe={"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 10},
                livenessProbe={"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 30},
                resources=_resources("250m", "1Gi"),
                volumeMounts=mounts,
            )
        ],
        "volumes": [
            {
                "name": "auth",
                "secret": {"secretName": "mlflow", "items": [{"key": "basic_auth.ini", "path": "basic_auth.ini"}]},
            },
            {"name": "tmp", "emptyDir": {}},
        ],
    }
    if artifacts_destination is not None:
        del pod["initContainers"]  # the managed bucket exists already
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": kube.meta("mlflow", NAMESPACE, labels=kube.labels("model-registry", APP)),
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": APP},
                "template": {"metadata": {"labels": APP}, "spec": pod},
            },
        },
        _service(MLFLOW_SERVICE, APP, MLFLOW_PORT, "http"),
    ]


def service_monitor() -> kube.Manifest:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": kube.meta("mlflow", NAMESPACE, labels=kube.labels("model-registry", APP)),
        "spec": {
            "selector": {"matchLabels": APP},
            "namespaceSelector": {"matchNames": [NAMESPACE]},
            "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}],
        },
    }


def service_account(annotations: dict[str, Any] | None = None) -> kube.Manifest:
    """MLflow's own identity; on a cloud its annotation names the cloud role it may act as."""
    metadata = kube.meta("mlflow", NAMESPACE, labels=kube.labels("model-registry", APP))
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata, "automountServiceAccountToken": True}


def network_policies(project_namespaces: list[str], database_cidr: str | None = None) -> list[kube.Manifest]:
    """MLflow is reachable from projects, monitoring and Argo CD; the database and S3 only from MLflow.

    With a managed database (`database_cidr`), MLflow may leave the cluster for it and for the
    cloud's HTTPS APIs (object storage, token exchange), and nothing else.
    """
    clients = kube.from_namespaces([*project_namespaces, "monitoring"])
    mlflow_pods = [{"podSelector": {"matchLabels": APP}}]
    base = [
        kube.default_deny(NAMESPACE),
        kube.allow_dns(NAMESPACE),
        kube.allow_ingress("allow-mlflow", NAMESPACE, APP, clients, MLFLOW_PORT),
    ]
    if database_cidr is not None:
        return [
            *base,
            kube.allow_egress("mlflow-to-database", NAMESPACE, APP, [{"ipBlock": {"cidr": database_cidr}}], PG_PORT),
            kube.allow_egress("mlflow-to-cloud-apis", NAMESPACE, APP, [{"ipBlock": {"cidr": "0.0.0.0/0"}}], 443),
        ]
    return [
        *base,
        kube.allow_ingress("allow-postgres", NAMESPACE, PG, mlflow_pods, PG_PORT),
        kube.allow_ingress("allow-s3", NAMESPACE, S3, mlflow_pods, S3_PORT),
        kube.allow_egress("mlflow-to-postgres", NAMESPACE, APP, [{"podSelector": {"matchLabels": PG}}], PG_PORT),
        kube.allow_egress("mlflow-to-s3", NAMESPACE, APP, [{"podSelector": {"matchLabels": S3}}], S3_PORT),
    ]


def _service(name: str, selector: dict[str, str], port: int, port_name: str) -> kube.Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": kube.meta(name, NAMESPACE, labels=kube.labels(name, selector)),
        "spec": {"selector": selector, "ports": [{"name": port_name, "port": port, "targetPort": port_name}]},
    }


def basic_auth_ini(admin_password: str, database_uri: str, default_permission: str) -> str:
    return (
        "[mlflow]\n"
        f"default_permission = {default_permission}\n"
        f"database_uri = {database_uri}\n"
        "admin_username = admin\n"
        f"admin_password = {admin_password}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )


class ModelRegistry(pulumi.ComponentResource):
    """MLflow on PostgreSQL and S3-compatible storage, in-cluster or managed; every password a Pulumi secret."""

    url: str
    admin_password: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        platform: Platform,
        project_namespaces: list[str],
        opts: pulumi.ResourceOptions | None = None,
        managed: ManagedModelStore | None = None,
        monitoring_crds: Sequence[pulumi.Resource] = (),
    ):
        super().__init__("mlops-scaffold:index:ModelRegistry", name, None, opts)
        self.url = URL
        ns = kube.declare(kube.namespace(NAMESPACE), self)
        deps = [ns]
        self.admin_password = kube.secret_value("mlflow-admin-password", "mlflowAdminPassword", self)
        flask_key = kube.secret_value("mlflow-flask-secret-key", "mlflowFlaskSecretKey", self)
        permission = platform.model_registry.auth.default_permission
        data: dict[str, pulumi.Input[str]] = {"flask-secret-key": flask_key}
        if managed is None:
            db_password = kube.secret_value("mlflow-db-password", "mlflowDbPassword", self)
            s3_secret = kube.secret_value("mlflow-s3-secret-key", "mlflowS3SecretKey", self)
            db_uri = db_password.apply(
                lambda pw: f"postgresql://mlflow:{pw}@postgres.{NAMESPACE}.svc.cluster.local:{PG_PORT}/mlflow"
            )
            s3_config = s3_secret.apply(
                lambda key: (
                    '{"identities": [{"name": "mlflow", "credentials": [{"accessKey": "mlflow", "secretKey": "'
                    + key
                    + '"}], "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}'
                )
            )
            kube.secret("postgres", NAMESPACE, {"password": db_password}, self, deps)
            kube.secret("s3", NAMESPACE, {"config.json": s3_config}, self, deps)
            data |= {"s3-access-key": "mlflow", "s3-secret-key": s3_secret}
            objects = [*postgres_objects(platform), *s3_objects(platform), *mlflow_objects(platform)]
            objects.append(service_account())
        else:
            db_uri = managed.database_uri
            objects = [*mlflow_objects(platform, managed.artifacts_destination)]
            objects.append(service_account(managed.service_account_annotations))
        data["backend-store-uri"] = db_uri
        data["basic_auth.ini"] = pulumi.Output.all(self.admin_password, db_uri).apply(
            lambda v: basic_auth_ini(v[0], v[1], permission)
        )
        kube.secret("mlflow", NAMESPACE, data, self, deps)
        for manifest in objects:
            kube.declare(manifest, self, deps)
        for manifest in network_policies(project_namespaces, managed.database_cidr if managed else None):
            kube.declare(manifest, self, deps)
        if platform.monitoring.enabled:
            kube.declare(service_monitor(), self, [*deps, *monitoring_crds])
        self.register_outputs({"url": self.url})
