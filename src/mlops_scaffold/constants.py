"""Names, ports, labels, API versions and file names shared by the platform and the projects.

The facts a generated project relies on are written once, in the template
(`templates/_partials/facts.yml`, which copier.yml includes as the hidden answer `facts`);
this module reads them from the bundled template. The rest are written here, once.
"""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from ruamel.yaml import YAML

from mlops_scaffold.bundle import copier_settings, template_root

FACTS_FILE = "templates/_partials/facts.yml"


@cache
def facts() -> dict[str, Any]:
    """The template's `facts` answer (its default), as the template renders with it."""
    loaded = YAML(typ="safe").load((template_root() / FACTS_FILE).read_text())
    return cast(dict[str, Any], loaded["facts"]["default"])


def _fact(*path: str) -> Any:
    value: Any = facts()
    for key in path:
        value = value[key]
    return value


ANSWERS_FILE: str = copier_settings()["_answers_file"]
"""The copier answers file of every generated repository (copier.yml's `_answers_file`)."""

PROJECT_LABEL: str = _fact("labels", "project")
ENVIRONMENT_LABEL: str = _fact("labels", "environment")
TRAINING_LABEL: str = _fact("labels", "training")
QUEUE_LABEL: str = _fact("labels", "queue")
KUEUE_API: str = _fact("kueue_api")

DNS_NAMESPACE: str = _fact("dns", "namespace")
MLFLOW_NAMESPACE: str = _fact("mlflow", "namespace")
MLFLOW_SERVICE: str = _fact("mlflow", "service")
MLFLOW_PORT: int = _fact("mlflow", "port")
OBJECT_STORE_SERVICE: str = _fact("object_store", "service")
S3_PORT: int = _fact("object_store", "port")
MONITORING_NAMESPACE: str = _fact("monitoring", "namespace")
PUSHGATEWAY_SERVICE: str = _fact("pushgateway", "service")
PUSHGATEWAY_PORT: int = _fact("pushgateway", "port")
REGISTRY_NAMESPACE: str = _fact("registry", "namespace")
REGISTRY_SERVICE: str = _fact("registry", "service")
REGISTRY_PORT: int = _fact("registry", "port")

MAX_ENVIRONMENTS = 8
"""Environments a platform may have: the project template has this many overlay slots (deploy/overlays)."""

AWS_DB_INSTANCE_CLASS = "db.t4g.medium"
"""The RDS instance class of the managed MLflow database on aws (priced by `plan`)."""
GCP_DB_TIER = "db-custom-2-7680"
"""The Cloud SQL tier of the managed MLflow database on gcp (priced by `plan`)."""

ARGOCD_NAMESPACE = "argocd"
POSTGRES_PORT = 5432


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
