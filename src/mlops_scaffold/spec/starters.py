"""Commented starter specs that `mlops-scaffold init` writes (the Project one generated from its model); tests keep them valid."""

from __future__ import annotations

import json
import re
import typing
from typing import Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from mlops_scaffold.spec.loader import SpecSet, parse_text
from mlops_scaffold.spec.project import Project

SCHEMA_FILE = "mlops-scaffold.schema.json"

StarterKind = Literal["platform", "project"]

PLATFORM_STARTER = """\
# yaml-language-server: $schema={schema}
# An mlops-scaffold Platform spec. Only `name` is required; every other key shows its default.
# Reference: `mlops-scaffold schema --format markdown`. Check it with `mlops-scaffold validate`.
apiVersion: mlops-scaffold/v1
kind: Platform
name: {name}
target: kubernetes          # kubernetes (any cluster via kubeconfig), aws or gcp
kubernetes_version: "1.33"  # quote it: 1.30 unquoted would be the number 1.3

environments:
  - {{name: dev, approval: false, auto_sync: true, min_replicas: 1, max_replicas: 2}}
  - {{name: staging, approval: false, auto_sync: true, min_replicas: 1, max_replicas: 3}}
  - {{name: prod, approval: true, auto_sync: false, min_replicas: 2, max_replicas: 10}}

container_registry:
  type: zot                 # in-cluster OCI registry; ecr / artifact-registry on clouds
  immutable_tags: true
  scan_on_push: true
  storage: 50Gi
  retention: {{keep_last: 30, untagged_days: 7}}

model_registry:             # MLflow with PostgreSQL and S3-compatible artifact storage
  database: {{type: in-cluster, storage: 20Gi, backup_retention_days: 7}}
  artifact_store: {{type: in-cluster, bucket: mlflow-artifacts, storage: 100Gi}}
  auth: {{enabled: true, default_permission: READ}}

charts:
  mirror: null              # e.g. oci://mirror.example.com/charts for air-gapped installs
  overrides: {{}}             # e.g. kueue: {{version: 0.19.2}}

training:
  frameworks: [pytorch]     # ray (KubeRay) and/or pytorch (Kubeflow Trainer)
  queues:
    - {{name: default, cpu: "32", memory: 128Gi, gpu: 0}}
  node_pools: []
  # node_pools:
  #   - name: gpu-l4
  #     instance_type: g6.xlarge
  #     gpu: {{type: nvidia-l4, count: 1}}
  #     min: 0
  #     max: 4
  #     spot: true
  #     taints: [{{key: nvidia.com/gpu, value: present, effect: NoSchedule}}]

monitoring:
  enabled: true
  retention: 15d
  storage: 50Gi
  channels: []
  # channels:
  #   - {{name: ml-alerts, type: slack, slack_channel: "#ml-alerts"}}  # webhook: Pulumi secret alert-ml-alerts
  drift: {{enabled: true, metric: psi, threshold: 0.2, schedule: "0 * * * *"}}
  slo: {{latency_ms: 250, latency_target: 0.99, availability: 0.995}}

gitops:
  engine: argocd
  repo_url: https://github.com/example-org/mlops-gitops.git
  target_revision: main

ci:
  provider: github          # github or gitlab
  state_backend: self-managed   # or pulumi-cloud (OIDC login, no stored token)
  organization: example-org
"""

PROJECT_HEADER = """\
# yaml-language-server: $schema={schema}
# An mlops-scaffold Project spec. Only `name` is required; every other key shows its default.
# Reference: `mlops-scaffold schema --format markdown`. Check it with `mlops-scaffold validate`.
"""

_PLAIN = re.compile(r"^[A-Za-z][-A-Za-z0-9_./]*$")
_YAML_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def _scalar(value: object) -> str:
    """A default as YAML writes it: plain where that reads back the same, else quoted."""
    if isinstance(value, str):
        return value if _PLAIN.match(value) and value.lower() not in _YAML_WORDS else json.dumps(value)
    if isinstance(value, BaseModel):
        return "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in _values(value)) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    return json.dumps(value)


def _values(model: BaseModel) -> list[tuple[str, object]]:
    return [(info.alias or name, getattr(model, name)) for name, info in type(model).model_fields.items()]


def _hint(info: FieldInfo) -> str:
    """The trailing comment: the field's choices, else its description."""
    annotation = info.annotation
    if typing.get_origin(annotation) is Literal:
        options = [str(a) for a in typing.get_args(annotation)]
        return ", ".join(options[:-1]) + " or " + options[-1] if len(options) > 1 else ""
    return (info.description or "").split(". ")[0].rstrip(".")


def _lines(model: BaseModel, indent: str = "") -> list[str]:
    lines = []
    for name, info in type(model).model_fields.items():
        key, value = info.alias or name, getattr(model, name)
        # sections are blocks at the top and flow mappings below (`autoscaling: {...}`)
        if isinstance(value, BaseModel) and (not indent or any(isinstance(v, BaseModel) for _, v in _values(value))):
            lines += [f"{indent}{key}:", *_lines(value, indent + "  ")]
            continue
        text = f"{indent}{key}: {_scalar(value)}"
        hint = "" if isinstance(value, BaseModel) else _hint(info)
        lines.append(f"{text:<31} # {hint}" if hint else text)
    return lines


def project_starter(name: str, schema: str) -> str:
    """The Project starter: every field of the model at its default, with its choices or description;
    generated from the model, so a new field appears here without an edit."""
    model = Project.model_validate({"name": name})
    return PROJECT_HEADER.format(schema=schema) + "\n".join(_lines(model)) + "\n"


DEFAULT_PROJECT = "demo-model"


def default_spec_text() -> str:
    """The built-in default as a spec file: the starter platform named `demo` with one starter project."""
    return (
        starter_spec("platform", "demo", SCHEMA_FILE) + "---\n" + starter_spec("project", DEFAULT_PROJECT, SCHEMA_FILE)
    )


def default_specs() -> SpecSet:
    """The built-in default, parsed."""
    return SpecSet(parse_text(default_spec_text(), "<built-in default>"))


def starter_spec(kind: StarterKind, name: str, schema: str) -> str:
    """The starter text for `kind`, naming the schema the editor should use."""
    if kind == "project":
        return project_starter(name, schema)
    return PLATFORM_STARTER.format(name=name, schema=schema)
