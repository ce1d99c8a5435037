"""Names, ports, labels, API versions and file names shared by the platform and the projects.

The facts a generated project relies on are written once, in `mlops_scaffold.facts` (the template
reads them as its hidden answer `facts`); this module gives them the names the package uses.
"""

from __future__ import annotations

from mlops_scaffold.facts import FACTS

ANSWERS_FILE = ".copier-answers.yml"
"""The copier answers file of every generated repository (copier.yml's `_answers_file`, generated from here)."""

PROJECT_LABEL = FACTS.labels.project
ENVIRONMENT_LABEL = FACTS.labels.environment
TRAINING_LABEL = FACTS.labels.training
KUEUE_API = FACTS.kueue_api

DNS_NAMESPACE = FACTS.dns.namespace
DNS_PORT = FACTS.dns.port
MLFLOW_NAMESPACE = FACTS.mlflow.namespace
MLFLOW_SERVICE = FACTS.mlflow.service
MLFLOW_PORT = FACTS.mlflow.port
OBJECT_STORE_SERVICE = FACTS.object_store.service
S3_PORT = FACTS.object_store.port
MONITORING_NAMESPACE = FACTS.namespaces.monitoring
PUSHGATEWAY_SERVICE = FACTS.pushgateway.service
PUSHGATEWAY_PORT = FACTS.pushgateway.port
REGISTRY_NAMESPACE = FACTS.registry.namespace
REGISTRY_SERVICE = FACTS.registry.service
REGISTRY_PORT = FACTS.registry.port
ARGOCD_NAMESPACE = FACTS.namespaces.argocd
POSTGRES_PORT = FACTS.postgres_port
PULUMI_PROJECT = FACTS.pulumi_project
OIDC_ISSUERS = FACTS.oidc_issuers

MAX_ENVIRONMENTS = 8
"""Environments a platform may have: the project template has this many overlay slots (deploy/overlays)."""

AWS_DB_INSTANCE_CLASS = "db.t4g.medium"
"""The RDS instance class of the managed MLflow database on aws (priced by `plan`)."""
GCP_DB_TIER = "db-custom-2-7680"
"""The Cloud SQL tier of the managed MLflow database on gcp (priced by `plan`)."""


def service_host(service: str, namespace: str, port: int | None = None) -> str:
    """The in-cluster DNS name of a Service, with its port when given."""
    host = f"{service}.{namespace}.svc.cluster.local"
    return f"{host}:{port}" if port is not None else host


MLFLOW_URL = f"http://{service_host(MLFLOW_SERVICE, MLFLOW_NAMESPACE, MLFLOW_PORT)}"
PUSHGATEWAY_URL = f"http://{service_host(PUSHGATEWAY_SERVICE, MONITORING_NAMESPACE, PUSHGATEWAY_PORT)}"
OBJECT_STORE_URL = f"http://{service_host(OBJECT_STORE_SERVICE, MLFLOW_NAMESPACE, S3_PORT)}"
"""The in-cluster S3 API (the artifact store on the kubernetes target): MLflow's artifacts, DVC's remote."""
REGISTRY_HOST = service_host(REGISTRY_SERVICE, REGISTRY_NAMESPACE, REGISTRY_PORT)
"""The in-cluster zot registry that images are pushed to and pulled from."""
