"""Commented starter specs that `mlops-scaffold init` writes; tests keep them valid."""

from __future__ import annotations

from typing import Literal

from mlops_scaffold.spec.loader import SpecSet, parse_text

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

PROJECT_STARTER = """\
# yaml-language-server: $schema={schema}
# An mlops-scaffold Project spec. Only `name` is required; every other key shows its default.
# Reference: `mlops-scaffold schema --format markdown`. Check it with `mlops-scaffold validate`.
apiVersion: mlops-scaffold/v1
kind: Project
name: {name}
description: An ML project.
owners: []                  # e.g. [alice, example-org/ml-team, bob@example.com]
framework: sklearn          # sklearn, xgboost, lightgbm or pytorch
python_version: "3.12"

training:
  queue: default            # a queue of the platform's training.queues
  gpus: 0
  cpu: "2"
  memory: 4Gi
  schedule: "0 3 * * 1"     # cron; null for manual runs only

serving:
  mode: online              # online, batch or none
  replicas: 2
  autoscaling: {{enabled: true, min_replicas: 2, max_replicas: 5, target_cpu_percent: 70}}

platform_stack: organization/platform/dev   # Pulumi stack reference of the platform
"""

DEFAULT_PROJECT = "demo-model"


def default_spec_text() -> str:
    """The built-in default as a spec file: the starter platform named `demo` with one starter project."""
    return (
        starter_spec("platform", "demo", SCHEMA_FILE) + "---\n" + starter_spec("project", DEFAULT_PROJECT, SCHEMA_FILE)
    )


def default_specs() -> SpecSet:
    """The built-in default, parsed."""
    return SpecSet(parse_text(default_spec_text(), "<built-in default>"))


_STARTERS = {"platform": PLATFORM_STARTER, "project": PROJECT_STARTER}


def starter_spec(kind: StarterKind, name: str, schema: str) -> str:
    """The starter text for `kind`, naming the schema the editor should use."""
    return _STARTERS[kind].format(name=name, schema=schema)
