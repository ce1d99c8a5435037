"""The platform's facts (ports, names, namespaces, issuers, versions): the one place each is written.

The package imports them from here, and the template reads the same values as its hidden answer
`facts`, which `scripts/regen-docs` writes into copier.yml from `FACTS` (a test fails when the two
differ). Nothing here reads a file: importing the package does no I/O.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Fact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Labels(_Fact):
    project: str = "mlops-scaffold.io/project"
    environment: str = "mlops-scaffold.io/environment"
    training: str = "mlops-scaffold.io/training"
    queue: str = "kueue.x-k8s.io/queue-name"


class Service(_Fact):
    """A Service in the cluster: its namespace, name and port."""

    namespace: str
    service: str
    port: int


class NamedPort(_Fact):
    """A Service in a namespace that another fact names: its name and port."""

    service: str
    port: int


class Dns(_Fact):
    namespace: str = "kube-system"
    port: int = 53


class Mlflow(_Fact):
    namespace: str = "mlflow"
    service: str = "mlflow"
    port: int = 5000
    version: str = "3.17.2"
    """The MLflow release the platform's server runs and the projects' client pins: one tested pair."""


class Namespaces(_Fact):
    monitoring: str = "monitoring"
    argocd: str = "argocd"


class Facts(_Fact):
    """Facts the package and the template share."""

    labels: Labels = Labels()
    kueue_api: str = "kueue.x-k8s.io/v1beta2"
    dns: Dns = Dns()
    mlflow: Mlflow = Mlflow()
    object_store: NamedPort = NamedPort(service="s3", port=8333)
    """The in-cluster S3 API, in MLflow's namespace."""
    namespaces: Namespaces = Namespaces()
    """Namespaces of the platform's shared services."""
    pushgateway: NamedPort = NamedPort(service="pushgateway", port=9091)
    """In the monitoring namespace."""
    registry: Service = Service(namespace="registry", service="zot", port=5000)
    postgres_port: int = 5432
    model_server_port: int = 8080
    """The port a generated model server listens on (Dockerfile, Deployment, NetworkPolicy, serve.py)."""
    python_images: dict[str, str] = {"3.11": "3.11.14", "3.12": "3.12.12", "3.13": "3.13.9"}
    """Each Python version a project may choose, to the patch release its images and CI jobs pin."""
    oidc_issuers: dict[str, str] = {
        "github": "https://token.actions.githubusercontent.com",
        "gitlab": "https://gitlab.com",
    }
    """The OIDC issuer of each CI provider's job tokens."""
    local_backend_url: str = "file://~/.pulumi-state"
    """Where Pulumi state lives unless the user chooses another backend: the platform repository's
    README logs in here, and `mlops-scaffold platform` uses it when neither --backend nor
    PULUMI_BACKEND_URL is set, so both see the same stacks."""
    pulumi_project: str = "platform"
    """The Pulumi project name of the platform program (Pulumi.yaml, the mock engine, the Automation API)."""
    indexes: dict[str, str] = {"pytorch_cpu": "https://download.pytorch.org/whl/cpu"}
    """torch's CPU-only builds (+cpu), so a CPU project does not pull CUDA (about 7.5 GB)."""

    def template_answer(self) -> dict[str, object]:
        """The value of the template's hidden `facts` answer."""
        return self.model_dump(mode="json")


FACTS = Facts()
