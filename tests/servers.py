"""Real servers on loopback for the tests (PostgreSQL from Debian, moto's S3 API, MLflow on both),
as fixtures conftest.py shares, and helpers: a free port, waiting until one answers, and running a
generated project's make targets offline, from the wheelhouse scripts/install-tools fills, and
importing a script of scripts/ by path."""

from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent


def load_script(name: str) -> ModuleType:
    """A script of scripts/ (`name` without .py), imported by path: scripts are for users, not package modules."""
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


WHEELHOUSE: Path = load_script("project_wheelhouse").default_wheelhouse()
BUCKET = "mlflow-artifacts"
S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def _require(condition: bool, what: str) -> None:
    if not condition:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} is missing; scripts/install-tools installs it")
        pytest.skip(f"{what} is missing; run scripts/install-tools")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mlflow_server_command(port: int, *options: str) -> list[str]:
    """`mlflow server` from the test environment on loopback, one worker, with the given store options."""
    mlflow = Path(sys.executable).parent / "mlflow"
    return [str(mlflow), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1", *options]


def wait_for(url: str, process: subprocess.Popen[bytes], seconds: float = 120) -> None:
    """Return once `url` answers; fail early if the server process exits."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(url)


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

        boto3.client("s3", endpoint_url=endpoint, **boto_kwargs()).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=30)


def boto_kwargs() -> dict[str, str]:
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def mlflow_server(postgres: str, s3: str) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, **S3_ENV, "MLFLOW_S3_ENDPOINT_URL": s3}
    log = Path(tempfile.mkdtemp(prefix="mlflow-log-")) / "server.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            mlflow_server_command(
                port, "--backend-store-uri", postgres, "--artifacts-destination", f"s3://{BUCKET}", "--serve-artifacts"
            ),
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


def offline_env(**extra: str) -> dict[str, str]:
    _require((WHEELHOUSE / ".stamp").is_file(), f"the wheelhouse {WHEELHOUSE}")
    # as in a user's shell: no virtualenv or MLflow settings of the tests, and Python writes bytecode
    # (this machine sets PYTHONDONTWRITEBYTECODE; uv leaves compiling to the first import)
    skip = ("VIRTUAL_ENV", "PYTHONPATH", "MLFLOW_", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    env.update({"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(WHEELHOUSE), "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    # uv the same way: the wheelhouse only, and no pytorch-cpu index from tool.uv.sources (as pip
    # ignores --extra-index-url under PIP_NO_INDEX); never a Python download
    env.update({"UV_NO_INDEX": "1", "UV_FIND_LINKS": str(WHEELHOUSE), "UV_NO_SOURCES": "1", "UV_OFFLINE": "1"})
    # uv's cache in the wheelhouse, whose wheels it unpacks; scripts/project_wheelhouse.py replaces the
    # whole wheelhouse when it refreshes the wheels, and this cache goes with it
    env.update({"UV_CACHE_DIR": str(WHEELHOUSE / ".uv-cache"), "UV_PYTHON_DOWNLOADS": "never", **extra})
    return env


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    """A scratch directory whose project virtualenvs (up to 5 GB for pytorch) go when the test ends."""
    yield tmp_path
    for venv in tmp_path.glob("*/.venv"):
        shutil.rmtree(venv, ignore_errors=True)


UV = Path(sys.executable).parent / "uv"  # installed with the test extras


def make(project: Path, targets: list[str], env: dict[str, str], *, uv: bool = True) -> str:
    """Run make targets of a generated project with the interpreter running the tests; return stdout.

    `make setup` installs with uv, as where uv is on PATH, or with pip (`uv=False`, as without it)."""
    python = getattr(sys, "_base_executable", sys.executable)
    if uv:
        _require(UV.is_file(), f"uv ({UV})")
    argv = ["make", *targets, f"PYTHON={python}", f"UV={UV if uv else ''}"]
    done = subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout
