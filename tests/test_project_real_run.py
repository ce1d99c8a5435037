"""Generated projects for real: their own `make test`, then `make train` against a real MLflow server.

The server runs on PostgreSQL from Debian with artifacts in moto's S3 API server, all on
loopback and started here. Generated projects install from the wheelhouse that
scripts/install-tools filled, so nothing is downloaded while the tests run.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO
from servers import free_port, wait_for

from mlops_scaffold.render import render_project

WHEELHOUSE = REPO / ".tools" / "wheelhouse"
BUCKET = "mlflow-artifacts"
S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def _require(condition: bool, what: str) -> None:
    if not condition:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} is missing; scripts/install-tools installs it")
        pytest.skip(f"{what} is missing; run scripts/install-tools")


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    initdb = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    _require(bool(initdb), "PostgreSQL (Debian package postgresql)")
    bin_dir = Path(initdb[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="mlops-pg-", dir="/tmp"))
    root.chmod(0o755)
    data = root / "data"
    data.mkdir()
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(data, "postgres", "postgres")
        shutil.chown(root, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run(
        [*as_postgres, str(bin_dir / "initdb"), "-D", str(data), "-U", "mlflow", "--auth=trust"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    subprocess.run(
        [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(root / "log"), "start"],
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            [*as_postgres, str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "mlflow", "mlflow"],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg2://mlflow@127.0.0.1:{port}/mlflow"
    finally:
        subprocess.run(
            [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{endpoint}/moto-api/", server)
        import boto3

        boto3.client("s3", endpoint_url=endpoint, **_boto_kwargs()).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=30)


def _boto_kwargs() -> dict[str, str]:
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def mlflow_server(postgres: str, s3: str) -> Iterator[str]:
    port = free_port()
    mlflow = Path(sys.executable).parent / "mlflow"
    env = {**os.environ, **S3_ENV, "MLFLOW_S3_ENDPOINT_URL": s3}
    log = Path(tempfile.mkdtemp(prefix="mlflow-log-")) / "server.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [
                str(mlflow),
                "server",
                "--backend-store-uri",
                postgres,
                "--artifacts-destination",
                f"s3://{BUCKET}",
                "--serve-artifacts",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    uri = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for(f"{uri}/health", server, seconds=240)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{exc}\n{log.read_text()[-3000:]}") from None
        yield uri
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(log.parent, ignore_errors=True)


def _offline_env(**extra: str) -> dict[str, str]:
    _require((WHEELHOUSE / ".stamp").is_file(), f"the wheelhouse {WHEELHOUSE}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH", "MLFLOW_"))}
    env.update({"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(WHEELHOUSE), "PIP_DISABLE_PIP_VERSION_CHECK": "1", **extra})
    return env


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    """A scratch directory whose project virtualenvs (up to 5 GB for pytorch) go when the test ends."""
    yield tmp_path
    for venv in tmp_path.glob("*/.venv"):
        shutil.rmtree(venv, ignore_errors=True)


def _make(project: Path, targets: list[str], env: dict[str, str]) -> str:
    """Run make targets of a generated project with the interpreter running the tests; return stdout."""
    python = getattr(sys, "_base_executable", sys.executable)
    done = subprocess.run(
        ["make", *targets, f"PYTHON={python}"], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.mark.parametrize("framework", ["sklearn", "xgboost", "lightgbm", "pytorch"])
def test_generated_project_tests_trains_and_registers(
    framework: str, mlflow_server: str, s3: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"real-{framework}"
    project = render_project(workdir / name, {"project_name": name, "framework": framework, "python_version": "3.11"})
    # the same targets the generated CI runs: lint, type check, test
    tested = _make(project, ["lint", "typecheck", "test"], _offline_env())
    assert " passed" in tested
    trained = _make(project, ["train"], _offline_env(MLFLOW_TRACKING_URI=mlflow_server, **S3_ENV))

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
        for o in boto3.client("s3", endpoint_url=s3, **_boto_kwargs())
        .list_objects_v2(Bucket=BUCKET)
        .get("Contents", [])
    ]
    assert any(k.endswith("MLmodel") for k in keys), "artifacts went to the S3 server"


def test_make_train_without_a_server_uses_a_local_store(workdir: Path) -> None:
    project = render_project(workdir / "local", {"project_name": "local", "python_version": "3.11"})
    _make(project, ["train"], _offline_env())
    assert (project / "mlruns" / "models" / "local").is_dir()
    assert (project / "artifacts" / "model.pkl").is_file()
