"""The `kind: Project` document: one ML project and how it trains and serves."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from mlops_scaffold.constants import PULUMI_PROJECT
from mlops_scaffold.spec.fields import Checked, Cron, DnsLabel, ProjectName, Quantity, SpecModel
from mlops_scaffold.spec.rules import Violations

MlFramework = Literal["sklearn", "xgboost", "lightgbm", "pytorch"]
PythonVersion = Literal["3.11", "3.12", "3.13"]
CPU_ONLY_FRAMEWORKS = ("sklearn", "lightgbm")
"""Frameworks that do not train on GPUs."""

OWNER = Checked(
    r"^(@?[A-Za-z0-9][-A-Za-z0-9]{0,38}(/[A-Za-z0-9][-A-Za-z0-9_.]{0,99})?|[^@\s,\"'`$\\]+@[^@\s,\"'`$\\]+\.[A-Za-z]{2,})$",
    "a user, an org/team or an e-mail address",
)
"""An owner: no commas, as the template keeps owners as one comma-separated answer."""
Owner = Annotated[str, AfterValidator(OWNER), OWNER, Field(examples=["alice", "example-org/ml-team", "bob@example.com"])]
STACK_PATTERN = r"^[A-Za-z0-9][-A-Za-z0-9_.]*/[A-Za-z0-9][-A-Za-z0-9_.]*/[A-Za-z0-9][-A-Za-z0-9_.]*$"


class ProjectTraining(SpecModel):
    """How and when the project trains."""

    queue: DnsLabel = Field("default", description="Kueue queue of the platform that training jobs go to.")
    gpus: int = Field(0, ge=0, le=64, description="GPUs per training job; 0 for CPU-only.")
    cpu: Quantity = Field("2", description="CPU request of a training job.")
    memory: Quantity = Field("4Gi", description="Memory request of a training job.")
    schedule: Cron | None = Field("0 3 * * 1", description="When training runs on its own; null for manual only.")


class Autoscaling(SpecModel):
    """Horizontal autoscaling of the model server."""

    enabled: bool = Field(True, description="Scale the model server on CPU with a HorizontalPodAutoscaler.")
    min_replicas: int = Field(2, ge=1, le=1000, description="Fewest replicas the autoscaler keeps.")
    max_replicas: int = Field(5, ge=1, le=1000, description="Most replicas the autoscaler may reach.")
    target_cpu_percent: int = Field(70, ge=1, le=100, description="Average CPU utilisation to scale at.")

    @model_validator(mode="after")
    def _rules(self) -> Autoscaling:
        found = Violations()
        if self.min_replicas > self.max_replicas:
            found.add(("min_replicas",), f"min_replicas {self.min_replicas} is above max_replicas {self.max_replicas}")
        found.raise_if_any()
        return self


class Serving(SpecModel):
    """How predictions are served."""

    mode: Literal["online", "batch", "none"] = Field("online", description="HTTP server, batch job, or nothing.")
    replicas: int = Field(2, ge=0, le=1000, description="Replicas when autoscaling is off.")
    autoscaling: Autoscaling = Field(default_factory=Autoscaling)


REMOTE_PATTERN = r"^((s3|gs)://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[-A-Za-z0-9_./]*)?|[-A-Za-z0-9_./]+)$"


class DataSettings(SpecModel):
    """How the project versions its data."""

    dvc: bool = Field(True, description="Version data and the pipeline with DVC (dvc.yaml, params.yaml, dvc.lock).")
    remote: str | None = Field(
        None,
        pattern=REMOTE_PATTERN,
        description="DVC remote: s3:// or gs:// URL, or a local folder. Default: the platform's object store "
        "(its artifact bucket, under dvc/<project>), else a local folder for offline use.",
    )


class Project(SpecModel):
    """One ML project: its code skeleton, training and serving."""

    api_version: Literal["mlops-scaffold/v1"] = Field("mlops-scaffold/v1", alias="apiVersion")
    kind: Literal["Project"] = "Project"
    name: ProjectName = Field(description="DNS-1123 label of at most 40 characters; names the repo and namespace.")
    description: str = Field(
        "An ML project.",
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f`$\\{}<>\"]*$",
        description="One line, without quotes, backticks, $, backslashes, braces or angle brackets.",
    )
    owners: list[Owner] = Field(
        default_factory=list, description="GitHub/GitLab users or teams (org/team), or e-mail addresses."
    )
    framework: MlFramework = Field("sklearn", description="sklearn, xgboost, lightgbm or pytorch.")
    python_version: PythonVersion = Field("3.12", description="Python version of the project.")
    training: ProjectTraining = Field(default_factory=ProjectTraining)
    serving: Serving = Field(default_factory=Serving)
    data: DataSettings = Field(default_factory=DataSettings)
    platform_stack: str = Field(
        f"organization/{PULUMI_PROJECT}/dev",
        pattern=STACK_PATTERN,
        description="Pulumi stack reference (org/project/stack) of the platform this project runs on.",
    )

    @model_validator(mode="after")
    def _rules(self) -> Project:
        found = Violations()
        if self.training.gpus > 0 and self.framework in CPU_ONLY_FRAMEWORKS:
            found.add(("training", "gpus"), f"{self.framework} does not train on GPUs; set gpus to 0")
        found.raise_if_any()
        return self
