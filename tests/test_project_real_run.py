"""Generated projects for real: their own `make test`, then `make train` against a real MLflow server.

The server runs on PostgreSQL from Debian with artifacts in moto's S3 API server, all on
loopback and started here. Generated projects install from the wheelhouse that
scripts/install-tools filled, so nothing is downloaded while the tests run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fleet_repos import git
from servers import BUCKET, S3_ENV, boto_kwargs, make, offline_env

from mlops_scaffold.render import render_project

# DVC on for three frameworks and off for lightgbm: both kinds of project pass their own tests and train
DVC = {"sklearn": True, "xgboost": True, "lightgbm": False, "pytorch": True}
# `make setup` with uv where it is on PATH, and with pip without it: lightgbm's takes pip's path
UV = {"sklearn": True, "xgboost": True, "lightgbm": False, "pytorch": True}


@pytest.mark.parametrize("framework", ["sklearn", "xgboost", "lightgbm", "pytorch"])
def test_generated_project_tests_trains_and_registers(
    framework: str, mlflow_server: str, s3: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"real-{framework}"
    answers = {"project_name": name, "framework": framework, "python_version": "3.11", "dvc": DVC[framework]}
    project = render_project(workdir / name, answers)
    assert (project / "dvc.yaml").is_file() == DVC[framework]
    for argv in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "generated"]):
        git(project, *argv)
    # the same targets the generated CI runs: lint, type check, test
    tested = make(project, ["lint", "typecheck", "test"], offline_env(), uv=UV[framework])
    assert " passed" in tested
    # uv seeds no pip into the virtualenv it makes; `python -m venv` does
    assert (project / ".venv" / "bin" / "pip").is_file() != UV[framework]
    trained = make(project, ["train"], offline_env(MLFLOW_TRACKING_URI=mlflow_server, **S3_ENV), uv=UV[framework])

    from mlflow import MlflowClient
    from mlflow.artifacts import download_artifacts

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", mlflow_server)
    client = MlflowClient()
    assert f'"tracking_uri": "{mlflow_server}"' in trained, trained
    version = client.get_model_version_by_alias(name, "champion")
    assert version.run_id is not None
    run = client.get_run(version.run_id)
    assert run.data.params["framework"] == framework
    assert run.data.metrics["accuracy"] >= 0.8
    local = Path(download_artifacts(artifact_uri=f"models:/{name}@champion", dst_path=str(workdir / "dl")))
    assert (local / "MLmodel").is_file()
    import boto3

    keys = [
        o["Key"]
        for o in boto3.client("s3", endpoint_url=s3, **boto_kwargs())
        .list_objects_v2(Bucket=BUCKET)
        .get("Contents", [])
    ]
    assert any(k.endswith("MLmodel") for k in keys), "artifacts went to the S3 server"

    # every framework is deterministic: a retrain from the version's lineage gives its metrics
    assert version.tags["lineage.git.commit"]
    reproduced = make(
        project, ["reproduce", f"VERSION={version.version}"], offline_env(MLFLOW_TRACKING_URI=mlflow_server), uv=UV[framework]
    )
    assert f"{name} version {version.version} reproduces within 0.001" in reproduced


def test_make_train_without_a_server_uses_a_local_store(workdir: Path) -> None:
    project = render_project(workdir / "local", {"project_name": "local", "python_version": "3.11"})
    make(project, ["train"], offline_env())
    assert (project / "mlruns" / "models" / "local").is_dir()
    assert (project / "artifacts" / "model.pkl").is_file()
