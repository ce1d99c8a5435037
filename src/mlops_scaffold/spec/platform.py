"""The `kind: Platform` document: the shared ML platform that projects run on."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, model_validator

from mlops_scaffold.catalog import CHART_NAMES
from mlops_scaffold.constants import MAX_ENVIRONMENTS, REGISTRY_HOST
from mlops_scaffold.spec.fields import (
    Cron,
    DnsLabel,
    Duration,
    EnvironmentName,
    KubernetesVersion,
    Quantity,
    SpecModel,
)
from mlops_scaffold.spec.rules import Violations

API_VERSION = "mlops-scaffold/v1"


def ecr_host(account_id: str, region: str) -> str:
    return f"{account_id}.dkr.ecr.{region}.amazonaws.com"


def artifact_registry_host(region: str, project: str) -> str:
    return f"{region}-docker.pkg.dev/{project}"


def image_repository(project: str) -> str:
    """A project's image repository under the registry host: one repository per project, named the same
    under a folder of the project's name, so every registry (zot, ECR, Artifact Registry) takes the same path."""
    return f"{project}/{project}"


Target = Literal["kubernetes", "aws", "gcp"]
RegistryType = Literal["zot", "ecr", "artifact-registry"]
Framework = Literal["ray", "pytorch"]

REGISTRY_TYPES_BY_TARGET: dict[str, tuple[str, ...]] = {
    "kubernetes": ("zot",),
    "aws": ("ecr", "zot"),
    "gcp": ("artifact-registry", "zot"),
}

# plain http only on this machine: a chart mirror served locally (air-gapped laptops, the real-engine tests)
_URL = r"^((https|oci)://[^\s]+|http://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?(/[^\s]*)?)$"
_GIT_URL = r"^(https://|ssh://|git@)[^\s]+$"
_LABEL_KEY = r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
_CONFIG_KEY = r"^[A-Za-z][A-Za-z0-9_-]*$"


class AwsSettings(SpecModel):
    """Where the platform lives on AWS."""

    region: str = Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$", description="AWS region, e.g. eu-west-1.")
    account_id: str = Field(pattern=r"^\d{12}$", description="12-digit AWS account id.")
    vpc_id: str | None = Field(
        None, pattern=r"^vpc-[0-9a-f]{8,17}$", description="Existing VPC to use; a new VPC is created when unset."
    )
    vpc_cidr: str = Field(
        "10.0.0.0/16",
        pattern=r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$",
        description="CIDR block of the VPC created when vpc_id is unset (a prefix of /16 to /28, as AWS allows).",
    )

    @model_validator(mode="after")
    def _rules(self) -> AwsSettings:
        found = Violations()
        try:
            network = ipaddress.IPv4Network(self.vpc_cidr, strict=True)
        except ValueError as exc:
            found.add(("vpc_cidr",), f"{self.vpc_cidr!r} is not a CIDR block: {exc}")
        else:
            if not 16 <= network.prefixlen <= 28:
                found.add(("vpc_cidr",), f"prefix /{network.prefixlen} is out of range: AWS VPCs take /16 to /28")
        found.raise_if_any()
        return self


class GcpSettings(SpecModel):
    """Where the platform lives on Google Cloud."""

    project: str = Field(pattern=r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$", description="Google Cloud project id.")
    region: str = Field(pattern=r"^[a-z]+-[a-z]+\d$", description="Google Cloud region, e.g. europe-west4.")
    network: str | None = Field(None, description="Existing VPC network; a new one is created when unset.")


class Environment(SpecModel):
    """A deployment environment and how changes reach it."""

    name: EnvironmentName = Field(
        description="Environment name, e.g. dev, staging, prod; at most 22 characters (namespaces are <project>-<name>)."
    )
    approval: bool = Field(False, description="Deploys to this environment wait for a manual approval.")
    auto_sync: bool = Field(True, description="Argo CD syncs this environment automatically.")
    min_replicas: int = Field(1, ge=0, description="Lowest replica count a model server may scale to here.")
    max_replicas: int = Field(3, ge=1, description="Highest replica count a model server may scale to here.")

    @model_validator(mode="after")
    def _rules(self) -> Environment:
        found = Violations()
        if self.min_replicas > self.max_replicas:
            found.add(("min_replicas",), f"min_replicas {self.min_replicas} is above max_replicas {self.max_replicas}")
        if self.name in ("prod", "production") and not self.approval:
            found.add(("approval",), f"environment {self.name!r} must require approval")
        found.raise_if_any()
        return self


def _default_environments() -> list[Environment]:
    return [
        Environment(name="dev", approval=False, auto_sync=True, min_replicas=1, max_replicas=2),
        Environment(name="staging", approval=False, auto_sync=True, min_replicas=1, max_replicas=3),
        Environment(name="prod", approval=True, auto_sync=False, min_replicas=2, max_replicas=10),
    ]


class RegistryRetention(SpecModel):
    """How long images are kept before garbage collection."""

    keep_last: int = Field(30, ge=1, description="Tagged images kept per repository.")
    untagged_days: int = Field(7, ge=1, description="Days an untagged image survives.")


class ContainerRegistrySettings(SpecModel):
    """The OCI registry that CI pushes images to."""

    type: RegistryType | None = Field(
        None, description="zot in-cluster (any target); ecr on aws; artifact-registry on gcp. Default per target."
    )
    immutable_tags: bool = Field(True, description="A pushed tag can never be overwritten.")
    scan_on_push: bool = Field(True, description="Scan every pushed image for vulnerabilities.")
    storage: Quantity = Field("50Gi", description="Persistent volume size of an in-cluster registry.")
    retention: RegistryRetention = Field(default_factory=RegistryRetention)


class Database(SpecModel):
    """PostgreSQL behind MLflow."""

    type: Literal["in-cluster", "managed"] | None = Field(
        None, description="in-cluster StatefulSet, or the cloud's managed PostgreSQL. Default per target."
    )
    storage: Quantity = Field("20Gi", description="Disk size.")
    backup_retention_days: int = Field(7, ge=1, le=35, description="Days of automated backups kept.")


class ArtifactStore(SpecModel):
    """S3-compatible storage for MLflow artifacts."""

    type: Literal["in-cluster", "managed"] | None = Field(
        None, description="in-cluster S3 server, or the cloud's object storage. Default per target."
    )
    bucket: str = Field("mlflow-artifacts", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", description="Bucket name.")
    storage: Quantity = Field("100Gi", description="Volume size of an in-cluster object store.")


class MlflowAuth(SpecModel):
    """Who may reach the MLflow server."""

    enabled: bool = Field(True, description="Require MLflow basic auth; the admin password is a Pulumi secret.")
    default_permission: Literal["READ", "EDIT", "MANAGE", "NO_PERMISSIONS"] = Field(
        "READ", description="What a signed-in user may do with experiments and models they do not own."
    )


class ModelRegistrySettings(SpecModel):
    """The MLflow tracking server and model registry."""

    type: Literal["mlflow"] = Field("mlflow", description="Only MLflow is supported.")
    database: Database = Field(default_factory=Database)
    artifact_store: ArtifactStore = Field(default_factory=ArtifactStore)
    auth: MlflowAuth = Field(default_factory=MlflowAuth)


class ChartSource(SpecModel):
    """Where one Helm chart comes from."""

    repository: str | None = Field(
        None, pattern=_URL, description="https:// or oci:// chart repository (http:// only on 127.0.0.1 or localhost)."
    )
    version: str | None = Field(None, pattern=r"^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$", description="Chart version.")


class Charts(SpecModel):
    """Helm chart sources, overridable for mirrors and air-gapped installs."""

    mirror: str | None = Field(
        None,
        pattern=_URL,
        description="Repository that serves every chart instead of its upstream (http:// only on 127.0.0.1 or localhost).",
    )
    overrides: dict[str, ChartSource] = Field(
        default_factory=dict, description="Per-chart repository or version, keyed by chart name."
    )

    @model_validator(mode="after")
    def _rules(self) -> Charts:
        found = Violations()
        for name in self.overrides:
            if name not in CHART_NAMES:
                found.add(("overrides", name), f"unknown chart {name!r}; known: {', '.join(CHART_NAMES)}")
        found.raise_if_any()
        return self


class Taint(SpecModel):
    """A node taint; workloads that use the pool get the matching toleration."""

    key: str = Field(pattern=_LABEL_KEY, max_length=316, description="Taint key, e.g. nvidia.com/gpu.")
    value: str = Field("", pattern=r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$", max_length=63)
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"


class Gpu(SpecModel):
    """The accelerators on each node of a pool."""

    type: str | None = Field(
        None, pattern=r"^[a-z0-9][-a-z0-9]*$", description="Accelerator, e.g. nvidia-l4 or nvidia-tesla-a100."
    )
    count: int = Field(1, ge=1, le=16, description="GPUs per node.")


GPU_PRESENT_LABEL = "nvidia.com/gpu.present"


class NodePool(SpecModel):
    """A group of nodes that training runs on."""

    name: DnsLabel
    instance_type: str | None = Field(None, description="Machine type; required on cloud targets.")
    gpu: Gpu | None = Field(None, description="Accelerators per node; unset for CPU-only pools.")
    min: int = Field(0, ge=0, description="Lowest node count; 0 lets the pool scale to zero.")
    max: int = Field(3, ge=0, description="Highest node count.")
    spot: bool = Field(False, description="Use spot or preemptible capacity.")
    taints: list[Taint] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict, description="Node labels that select this pool.")

    @property
    def node_labels(self) -> dict[str, str]:
        """The labels the pool's nodes carry: the spec's, plus `nvidia.com/gpu.present=true` on GPU pools.

        The NVIDIA device plugin's chart places its daemon by that label (node-feature-discovery sets it on
        clusters that run NFD); our pools set it themselves, so the plugin and the pools always agree.
        """
        if self.gpu is None:
            return dict(self.labels)
        return {**self.labels, GPU_PRESENT_LABEL: "true"}

    @model_validator(mode="after")
    def _rules(self) -> NodePool:
        found = Violations()
        if self.min > self.max:
            found.add(("min",), f"min {self.min} is above max {self.max}")
        if self.gpu is not None and self.gpu.type is None:
            found.add(("gpu", "type"), f"GPU pool {self.name!r} must name its accelerator type")
        found.raise_if_any()
        return self


class Queue(SpecModel):
    """A Kueue ClusterQueue with its quotas."""

    name: DnsLabel
    cpu: Quantity = Field("32", description="CPU quota.")
    memory: Quantity = Field("128Gi", description="Memory quota.")
    gpu: int = Field(0, ge=0, description="GPU quota.")
    pools: list[DnsLabel] = Field(default_factory=list, description="Node pools this queue may use; all when empty.")
    cohort: DnsLabel | None = Field(None, description="Cohort for borrowing unused quota between queues.")


def _default_queues() -> list[Queue]:
    return [Queue(name="default")]


def _default_frameworks() -> list[Framework]:
    return ["pytorch"]


class Training(SpecModel):
    """Batch training: operators, queues and node pools."""

    frameworks: list[Framework] = Field(
        default_factory=_default_frameworks, description="ray (KubeRay) and/or pytorch (Kubeflow Trainer)."
    )
    queues: list[Queue] = Field(default_factory=_default_queues)
    node_pools: list[NodePool] = Field(default_factory=list)

    @model_validator(mode="after")
    def _rules(self) -> Training:
        found = Violations()
        found.duplicates("queues", (q.name for q in self.queues), "queue")
        found.duplicates("node_pools", (p.name for p in self.node_pools), "node pool")
        for index, framework in enumerate(self.frameworks):
            if framework in self.frameworks[:index]:
                found.add(("frameworks", index), f"framework {framework!r} is listed twice")
        pools = {p.name: p for p in self.node_pools}
        for q_index, queue in enumerate(self.queues):
            for p_index, pool_name in enumerate(queue.pools):
                if pool_name not in pools:
                    found.add(
                        ("queues", q_index, "pools", p_index), f"queue {queue.name!r} names unknown pool {pool_name!r}"
                    )
            usable = [pools[n] for n in queue.pools if n in pools] if queue.pools else list(pools.values())
            if queue.gpu > 0 and not any(p.gpu is not None for p in usable):
                found.add(("queues", q_index, "gpu"), f"queue {queue.name!r} has a GPU quota but no GPU node pool")
        found.raise_if_any()
        return self

    @property
    def has_gpus(self) -> bool:
        return any(p.gpu is not None for p in self.node_pools)


class Channel(SpecModel):
    """Where Alertmanager sends alerts. Credentials live in Pulumi secrets, never here."""

    name: DnsLabel
    type: Literal["slack", "pagerduty", "email", "webhook"]
    secret: str | None = Field(
        None,
        pattern=_CONFIG_KEY,
        description="Pulumi config key of the secret (webhook URL, routing key or SMTP password); "
        "default alert-<name>.",
    )
    slack_channel: str | None = Field(None, pattern=r"^#[a-z0-9][-_a-z0-9]{0,79}$", description="Slack channel.")
    email_to: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="Recipient address.")
    smarthost: str | None = Field(None, pattern=r"^[A-Za-z0-9.-]+:\d+$", description="SMTP host:port.")
    min_severity: Literal["info", "warning", "critical"] = Field("warning", description="Lowest severity sent.")

    @property
    def secret_key(self) -> str:
        return self.secret or f"alert-{self.name}"

    @model_validator(mode="after")
    def _rules(self) -> Channel:
        found = Violations()
        if self.type == "slack" and self.slack_channel is None:
            found.add(("slack_channel",), "a slack channel needs slack_channel")
        if self.type == "email":
            if self.email_to is None:
                found.add(("email_to",), "an email channel needs email_to")
            if self.smarthost is None:
                found.add(("smarthost",), "an email channel needs smarthost")
        found.raise_if_any()
        return self


class Drift(SpecModel):
    """Scheduled data and prediction drift checks."""

    enabled: bool = True
    metric: Literal["psi", "ks"] = Field("psi", description="Population stability index or Kolmogorov-Smirnov.")
    threshold: float = Field(0.2, gt=0, le=10, description="Alert when the drift score exceeds this.")
    schedule: Cron = Field("0 * * * *", description="When drift is computed.")


class Slo(SpecModel):
    """Service level objectives of model serving."""

    latency_ms: Literal[5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] = Field(
        250, description="Requests should be faster than this; one of the serving latency histogram's buckets."
    )
    latency_target: float = Field(0.99, gt=0, lt=1, description="Share of requests that meet latency_ms.")
    availability: float = Field(0.995, gt=0, lt=1, description="Share of requests that must succeed.")


class AlertThresholds(SpecModel):
    """Thresholds of the default alert rules."""

    gpu_idle_percent: int = Field(10, ge=0, le=100, description="A GPU below this utilisation counts as idle.")
    gpu_memory_percent: int = Field(95, ge=1, le=100, description="GPU memory use that raises an alert.")
    gpu_temperature_celsius: int = Field(85, ge=40, le=120, description="GPU temperature that raises an alert.")
    pending_minutes: int = Field(30, ge=1, description="A workload pending longer than this is stuck.")
    staleness_days: int = Field(30, ge=1, description="Days without a successful training run.")
    error_rate: float = Field(0.05, gt=0, lt=1, description="Share of failed requests that raises an alert.")


class OutcomeAlerts(SpecModel):
    """Alerts on the platform's outcomes; each is off until it has a threshold, as each needs tuning."""

    no_deployment_days: int | None = Field(
        None,
        ge=1,
        le=90,
        description="Alert when a project that deploys has not reached its last environment in this many days.",
    )
    training_p95_minutes: int | None = Field(
        None, ge=1, description="Alert when a project's 7-day p95 training time, or a run still going, is above this."
    )
    drift_rate: float | None = Field(
        None, gt=0, le=1, description="Alert when more than this share of a model's drift checks in 7 days found drift."
    )


class MonitoringSettings(SpecModel):
    """Metrics, dashboards, alerts and drift, on by default."""

    enabled: bool = True
    retention: Duration = Field("15d", description="How long Prometheus keeps samples.")
    storage: Quantity = Field("50Gi", description="Prometheus volume size.")
    channels: list[Channel] = Field(default_factory=list)
    drift: Drift = Field(default_factory=Drift)
    slo: Slo = Field(default_factory=Slo)
    alerts: AlertThresholds = Field(default_factory=AlertThresholds)
    outcomes: OutcomeAlerts = Field(default_factory=OutcomeAlerts)

    @model_validator(mode="after")
    def _rules(self) -> MonitoringSettings:
        found = Violations()
        found.duplicates("channels", (c.name for c in self.channels), "channel")
        found.raise_if_any()
        return self


PRICE_KEY = r"^((aws|gcp|kubernetes):[a-z0-9][-a-z0-9._]*|spot-share)$"


class CostSettings(SpecModel):
    """Prices for `plan`'s monthly estimate, and budgets that become alerts on OpenCost's figures."""

    prices: dict[str, float] = Field(
        default_factory=dict,
        description="Prices over the package's table, keyed like it (aws:<instance type>, gcp:<machine type>, "
        "kubernetes:cpu, ...): USD per hour, or per GiB-month for storage.",
    )
    budget_monthly_usd: float | None = Field(
        None, gt=0, description="Alert when a cluster (one environment) costs more than this a month."
    )
    project_budgets: dict[str, float] = Field(
        default_factory=dict, description="Alert when a project's namespaces cost more than this a month."
    )

    @model_validator(mode="after")
    def _rules(self) -> CostSettings:
        found = Violations()
        for key, price in self.prices.items():
            if re.match(PRICE_KEY, key) is None:
                found.add(("prices", key), f"{key!r} is not a price key (aws:<type>, gcp:<type>, kubernetes:<item>)")
            elif price < 0:
                found.add(("prices", key), "a price cannot be negative")
        for project, budget in self.project_budgets.items():
            if budget <= 0:
                found.add(("project_budgets", project), "a budget must be above 0")
        found.raise_if_any()
        return self


class GitOpsSettings(SpecModel):
    """Argo CD and the repository it syncs from."""

    engine: Literal["argocd"] = "argocd"
    repo_url: str = Field(
        "https://github.com/example-org/mlops-gitops.git", pattern=_GIT_URL, description="Repository Argo CD watches."
    )
    target_revision: str = Field("main", pattern=r"^[A-Za-z0-9._/-]+$", description="Branch, tag or commit.")


class Ci(SpecModel):
    """The CI system and organization that hosts the repositories."""

    provider: Literal["github", "gitlab"] = Field("github", description="CI provider: GitHub Actions or GitLab CI.")
    state_backend: Literal["self-managed", "pulumi-cloud"] = Field(
        "self-managed",
        description="Where platform CI keeps Pulumi state: a self-managed backend URL (repo variable "
        "PULUMI_BACKEND_URL), or Pulumi Cloud reached with the CI's OIDC token.",
    )
    organization: str = Field(
        "example-org", pattern=r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,98}[A-Za-z0-9])?$", description="Org or group."
    )


class Platform(SpecModel):
    """The shared platform: cluster, registries, training, monitoring, GitOpsSettings and CI."""

    api_version: Literal["mlops-scaffold/v1"] = Field("mlops-scaffold/v1", alias="apiVersion")
    kind: Literal["Platform"] = "Platform"
    name: DnsLabel = Field(description="Platform name; prefixes cluster-wide resources.")
    target: Target = Field("kubernetes", description="kubernetes (any cluster), aws or gcp.")
    kubernetes_version: KubernetesVersion = Field("1.33", description="Kubernetes minor version, as a string.")
    aws: AwsSettings | None = Field(None, description="Required when target is aws.")
    gcp: GcpSettings | None = Field(None, description="Required when target is gcp.")
    environments: list[Environment] = Field(
        default_factory=_default_environments,
        max_length=MAX_ENVIRONMENTS,
        description="Deployment environments, in promotion order.",
    )
    container_registry: ContainerRegistrySettings = Field(default_factory=ContainerRegistrySettings)
    model_registry: ModelRegistrySettings = Field(default_factory=ModelRegistrySettings)
    charts: Charts = Field(default_factory=Charts)
    training: Training = Field(default_factory=Training)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    gitops: GitOpsSettings = Field(default_factory=GitOpsSettings)
    ci: Ci = Field(default_factory=Ci)
    cost: CostSettings = Field(default_factory=CostSettings)

    @model_validator(mode="after")
    def _rules(self) -> Platform:
        found = Violations()
        for cloud in ("aws", "gcp"):
            settings = getattr(self, cloud)
            if self.target == cloud and settings is None:
                found.add((cloud,), f"target {cloud} needs an {cloud} section")
            if self.target != cloud and settings is not None:
                found.add((cloud,), f"{cloud} settings are only allowed when target is {cloud}")
        found.duplicates("environments", (e.name for e in self.environments), "environment")
        if not self.environments:
            found.add(("environments",), "at least one environment is required")
        registry = self.container_registry.type
        if registry is not None and registry not in REGISTRY_TYPES_BY_TARGET[self.target]:
            allowed = ", ".join(REGISTRY_TYPES_BY_TARGET[self.target])
            found.add(("container_registry", "type"), f"{registry} is not available on {self.target}; use {allowed}")
        if self.target == "kubernetes":
            for section in ("database", "artifact_store"):
                if getattr(self.model_registry, section).type == "managed":
                    found.add(("model_registry", section, "type"), "managed services need target aws or gcp")
        else:
            for index, pool in enumerate(self.training.node_pools):
                if pool.instance_type is None:
                    found.add(("training", "node_pools", index, "instance_type"), f"target {self.target} needs it")
            if self.database_type != self.artifact_store_type:
                # MLflow on a cloud reaches both through one identity: both managed, or both in-cluster
                found.add(
                    ("model_registry",),
                    f"on target {self.target} the database and the artifact store must both be managed or both in-cluster",
                )
        found.raise_if_any()
        return self

    @property
    def registry_type(self) -> str:
        return self.container_registry.type or REGISTRY_TYPES_BY_TARGET[self.target][0]

    @property
    def registry_host(self) -> str:
        """Where project images are pushed: `<registry_host>/<project>/<project>` (see `image_repository`)."""
        if self.registry_type == "ecr" and self.aws is not None:
            return ecr_host(self.aws.account_id, self.aws.region)
        if self.registry_type == "artifact-registry" and self.gcp is not None:
            return artifact_registry_host(self.gcp.region, self.gcp.project)
        return REGISTRY_HOST

    @property
    def database_type(self) -> str:
        return self.model_registry.database.type or ("in-cluster" if self.target == "kubernetes" else "managed")

    @property
    def artifact_store_type(self) -> str:
        default = "in-cluster" if self.target == "kubernetes" else "managed"
        return self.model_registry.artifact_store.type or default

    def environment(self, name: str) -> Environment:
        return next(e for e in self.environments if e.name == name)
