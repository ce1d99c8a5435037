"""Data versioning, lineage and governance of a generated project, for real: its DVC pipeline
against moto's S3 API server, its registry on a real MLflow server (PostgreSQL behind it), its
lineage resolved back to git and dvc.lock, the evaluation gate guarding `champion`, a promotion
recorded in the registry and in the overlay's git history, and a retrain that reproduces."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import boto3
from fleet_repos import git
from ruamel.yaml import YAML
from servers import BUCKET, S3_ENV, boto_kwargs, make, offline_env

from mlops_scaffold import __version__
from mlops_scaffold.render import render_project

NAME = "lineage-demo"
PACKAGE = NAME.replace("-", "_")


def commit(project: Path, message: str) -> str:
    git(project, "add", "-A")
    git(project, "commit", "-qm", message)
    return git(project, "rev-parse", "HEAD").strip()


def run(project: Path, argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True, check=False)


def lock_md5(project: Path, path: str) -> str:
    lock = YAML(typ="safe").load((project / "dvc.lock").read_text())
    return str(next(o["md5"] for s in lock["stages"].values() for o in s.get("outs", []) if o["path"] == path))


def digest_files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_pipeline_lineage_gate_promotion_and_reproduction(mlflow_server: str, s3: str, workdir: Path) -> None:
    remote = f"s3://{BUCKET}/dvc/{NAME}"
    answers: dict[str, Any] = {
        "project_name": NAME,
        "python_version": "3.11",
        "owners": "alice, org/ml-team",
        "dvc_remote": remote,
        "dvc_endpoint": s3,
    }
    project = render_project(workdir / NAME, answers)
    git(project, "init", "-q", "-b", "main")
    commit(project, "generated")
    env = offline_env(**S3_ENV)
    dvc = str(project / ".venv" / "bin" / "dvc")
    python = str(project / ".venv" / "bin" / "python")

    # the pipeline runs every stage once; a second repro runs none
    first = make(project, ["pipeline"], env)
    assert all(f"Running stage '{stage}'" in first for stage in ("prepare", "train", "evaluate")), first
    again = run(project, [dvc, "repro"], env)
    assert again.returncode == 0, again.stderr
    assert "Running stage" not in again.stdout
    assert "Data and pipelines are up to date" in again.stdout
    assert git(project, "status", "--porcelain", "--", "artifacts/metrics.json", "dvc.lock").startswith("??")
    commit(project, "pipeline run")

    # push: the data and the model reach the S3 server under the remote's prefix, by content hash
    make(project, ["data-push"], env)
    keys = {
        o["Key"]
        for o in boto3.client("s3", endpoint_url=s3, **boto_kwargs())
        .list_objects_v2(Bucket=BUCKET, Prefix=f"dvc/{NAME}/")
        .get("Contents", [])
    }
    for out in ("data/prepared", "artifacts/model.pkl"):
        md5 = lock_md5(project, out)
        assert f"dvc/{NAME}/files/md5/{md5[:2]}/{md5[2:]}" in keys, (out, sorted(keys))

    # pull: with the cache and the outputs gone, `make data` brings back the same bytes
    before = digest_files(project / "data" / "prepared") | {"model": digest_files(project / "artifacts")["model.pkl"]}
    for gone in ("data/prepared", ".dvc/cache"):
        subprocess.run(["rm", "-rf", str(project / gone)], check=True)
    (project / "artifacts" / "model.pkl").unlink()
    make(project, ["data"], env)
    after = digest_files(project / "data" / "prepared") | {"model": digest_files(project / "artifacts")["model.pkl"]}
    assert after == before
    assert "Running stage" not in run(project, [dvc, "repro"], env).stdout

    # register: the version records its lineage; `champion` moves to it
    registry = offline_env(**S3_ENV, MLFLOW_TRACKING_URI=mlflow_server)
    trained = make(project, ["train"], registry)
    assert '"version": "1"' in trained, trained
    head = git(project, "rev-parse", "HEAD").strip()
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_server, registry_uri=mlflow_server)
    v1 = client.get_model_version(NAME, "1")
    tags = dict(v1.tags)
    assert tags["lineage.git.commit"] == head
    assert tags["lineage.git.dirty"] == "false"
    assert tags["lineage.data.dvc_md5"] == lock_md5(project, "data/prepared")
    assert tags["lineage.template.version"] == __version__
    assert tags["lineage.spec.sha256"] == hashlib.sha256((project / "mlops.yaml").read_bytes()).hexdigest()
    assert tags["governance.gate"] == "passed"
    assert client.get_model_version_by_alias(NAME, "champion").version == "1"
    assert v1.run_id is not None
    run_tags = client.get_run(v1.run_id).data.tags
    assert run_tags["lineage.git.commit"] == head
    card_files = {a.path for a in client.list_artifacts(v1.run_id, "model_card")}
    assert card_files == {"model_card/model_card.md", "model_card/model_card.json"}
    card = json.loads((project / "artifacts" / "model_card.json").read_text())
    assert card["owners"] == ["alice", "org/ml-team"]
    assert card["data"]["dvc_md5"] == tags["lineage.data.dvc_md5"]

    # the lineage command resolves every link back: commit -> git, data hash -> dvc.lock at that commit
    shown = run(project, [python, "-m", f"{PACKAGE}.lineage", NAME, "1", "--json"], registry)
    assert shown.returncode == 0, shown.stderr[-2000:]
    chain = json.loads(shown.stdout)
    links = {link["link"]: link for link in chain["links"]}
    assert links["code"] == {"link": "code", "value": head, "status": "ok", "detail": "in git"}
    assert links["data"]["status"] == "ok"
    assert links["data"]["value"] == lock_md5(project, "data/prepared")
    assert links["params"]["status"] == "ok"
    assert links["spec"]["status"] == "ok"
    assert git(project, "cat-file", "-t", chain["links"][0]["value"]).strip() == "commit"
    assert chain["aliases"] == ["champion"]

    # a failing gate registers the version for the record, and leaves `champion` where it was
    params = project / "params.yaml"
    params.write_text(params.read_text().replace("accuracy: 0.8", "accuracy: 0.999"))
    commit(project, "stricter gate")
    failed = run(project, ["make", "train"], registry)
    assert failed.returncode != 0
    assert "Running stage 'evaluate'" in failed.stdout
    assert "Running stage 'train'" not in failed.stdout  # only the stage whose params changed
    assert "champion stays at version 1" in failed.stderr, failed.stderr[-2000:]
    assert client.get_model_version(NAME, "2").tags["governance.gate"] == "failed"
    assert client.get_model_version_by_alias(NAME, "champion").version == "1"

    # a passing gate moves it
    params.write_text(params.read_text().replace("accuracy: 0.999", "accuracy: 0.8"))
    trained_at = commit(project, "gate back")
    make(project, ["train"], registry)
    assert client.get_model_version_by_alias(NAME, "champion").version == "3"

    # promotion to prod: the overlay commit reaches the remote; the registry records who, when, what
    origin = workdir / "origin.git"
    git(workdir, "init", "-q", "--bare", str(origin))
    promote_env = registry | {"GIT_REMOTE": str(origin), "GITHUB_ACTOR": "release-manager"}
    promoted = run(project, ["python3", "ci/promote.py", "prod", trained_at], promote_env)
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    overlay_commit = git(project, "rev-parse", "HEAD").strip()
    assert git(origin, "rev-parse", "main").strip() == overlay_commit
    assert f'newTag: "{trained_at}"' in git(project, "show", "HEAD:deploy/overlays/prod/kustomization.yaml")
    v3 = client.get_model_version(NAME, "3").tags
    assert v3["promotion.prod.by"] == "release-manager"
    assert v3["promotion.prod.commit"] == overlay_commit
    assert v3["promotion.prod.image"] == trained_at
    assert v3["promotion.prod.at"].endswith("Z")
    assert client.get_model_version_by_alias(NAME, "prod").version == "3"

    # reproducibility: a retrain from version 3's commit and params matches its data and metrics
    reproduced = make(project, ["reproduce", "VERSION=3"], registry)
    assert f"{NAME} version 3 reproduces within 0.001" in reproduced
