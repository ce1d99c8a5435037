"""The real-engine harness: toolchain, offline chart repository, local cluster and Pulumi home, together.

Used by the real-engine tests and by `scripts/e2e`. Nothing here downloads: the toolchain is
built from the Go module proxy by `scripts/engine-toolchain` (cached), charts are served from
`../shared/charts` on 127.0.0.1, and both provider plugins are installed from local files.
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from ruamel.yaml import YAML
from servers import load_script

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("MLOPS_SCAFFOLD_SHARED", REPO.parent / "shared"))
PASSPHRASE = "real-engine-tests"


def local_cluster_module() -> ModuleType:
    """scripts/local_cluster.py, imported by path (it is a script for users, not a package module)."""
    return load_script("local_cluster")


@functools.cache
def toolchain() -> Path:
    """The folder of pulumi, the provider, kube-*, kwok, helm and etcd; built now if missing (slow once)."""
    given = os.environ.get("MLOPS_ENGINE_BIN")
    if given:
        return Path(given)
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "engine-toolchain")], stdout=subprocess.PIPE, text=True, check=True
    )
    return Path(done.stdout.strip().splitlines()[-1])


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def chart_repository() -> Iterator[str]:
    """Serve ../shared/charts (a Helm repository) on 127.0.0.1; yields its URL."""
    charts = SHARED / "charts"
    if not (charts / "index.yaml").is_file():
        raise FileNotFoundError(f"{charts}/index.yaml is missing: the offline chart repository is needed")
    handler = functools.partial(_QuietHandler, directory=str(charts))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _plugin_version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def pulumi_home(root: Path, bin_dir: Path) -> Path:
    """A Pulumi home holding exactly the two provider plugins the platform needs, both from local files."""
    home = root / "pulumi-home"
    if (home / "plugins").is_dir():
        return home
    env = {**os.environ, "PULUMI_HOME": str(home), "PULUMI_SKIP_UPDATE_CHECK": "true"}
    kubernetes = _plugin_version("pulumi_kubernetes")
    subprocess.run(
        [str(bin_dir / "pulumi"), "plugin", "install", "resource", "kubernetes", kubernetes, "--file",
         str(bin_dir / "pulumi-resource-kubernetes")],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    random_version = _plugin_version("pulumi_random")
    wrapper = root / "pulumi-resource-random"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"RANDOM_PROVIDER_VERSION={random_version} exec {sys.executable} {REPO / 'tests' / 'engine' / 'random_provider.py'}"
        ' "$@"\n'
    )
    wrapper.chmod(0o755)
    subprocess.run(
        [str(bin_dir / "pulumi"), "plugin", "install", "resource", "random", random_version, "--file", str(wrapper)],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    return home


def engine_environment(root: Path, bin_dir: Path, kubeconfig: Path) -> dict[str, str]:
    """Environment variables for a run: our Pulumi home, a file backend, no downloads, no update checks."""
    state = root / "state"
    state.mkdir(parents=True, exist_ok=True)
    helm = root / "helm"
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PULUMI_HOME": str(pulumi_home(root, bin_dir)),
        "PULUMI_BACKEND_URL": f"file://{state}",
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        # the provider binary is on PATH too (it is in the toolchain folder); use the installed plugins
        "PULUMI_IGNORE_AMBIENT_PLUGINS": "true",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
        "KUBECONFIG": str(kubeconfig),
        "HELM_CACHE_HOME": str(helm / "cache"),
        "HELM_CONFIG_HOME": str(helm / "config"),
        "HELM_DATA_HOME": str(helm / "data"),
    }


def mirrored_specs(paths: list[Path], mirror: str, out_dir: Path) -> list[Path]:
    """Copies of the spec files whose Platform installs every chart from `mirror` (the air-gapped path)."""
    yaml = YAML()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for i, path in enumerate(paths):
        docs = list(yaml.load_all(path.read_text(encoding="utf-8")))
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == "Platform":
                charts = doc.setdefault("charts", {}) or {}
                charts["mirror"] = mirror
                doc["charts"] = charts
        target = out_dir / f"{i:02d}-{path.name}"
        with target.open("w", encoding="utf-8") as fh:
            yaml.dump_all(docs, fh)
        written.append(target)
    return written


@dataclass
class Workload:
    kind: str
    namespace: str
    name: str
    ready: bool
    detail: str
    scheduled: int = 0
    """DaemonSets only: on how many nodes it wants a pod."""


def workloads(cluster: Any) -> list[Workload]:
    """Every Deployment, StatefulSet and DaemonSet, and whether it is available."""
    out = []
    for kind, path in (
        ("Deployment", "/apis/apps/v1/deployments"),
        ("StatefulSet", "/apis/apps/v1/statefulsets"),
        ("DaemonSet", "/apis/apps/v1/daemonsets"),
    ):
        for item in cluster.get(path)["items"]:
            meta, spec, status = item["metadata"], item.get("spec", {}), item.get("status", {})
            if kind == "Deployment":
                ready = any(c["type"] == "Available" and c["status"] == "True" for c in status.get("conditions", []))
                detail = f"available={status.get('availableReplicas', 0)}/{spec.get('replicas', 1)}"
            elif kind == "StatefulSet":
                ready = status.get("readyReplicas", 0) >= spec.get("replicas", 1)
                detail = f"ready={status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}"
            else:
                # a DaemonSet for nodes that do not exist here (e.g. MPS-capable GPUs) wants 0 pods
                desired = status.get("desiredNumberScheduled", 0)
                ready = status.get("numberAvailable", 0) == desired
                detail = f"available={status.get('numberAvailable', 0)}/{desired}"
            out.append(
                Workload(kind, meta["namespace"], meta["name"], ready, detail, status.get("desiredNumberScheduled", 0))
            )
    return out


def service_port(cluster: Any, host_port: str, default_port: int) -> tuple[str, str, int] | None:
    """(namespace, service, port) when `name.namespace.svc...[:port]` names an existing Service and port."""
    host, _, port_text = host_port.partition(":")
    port = int(port_text) if port_text else default_port
    parts = host.split(".")
    if len(parts) < 3 or parts[2] != "svc":
        return None
    name, namespace = parts[0], parts[1]
    try:
        service = cluster.get(f"/api/v1/namespaces/{namespace}/services/{name}")
    except OSError:
        return None
    ports = [p["port"] for p in service["spec"].get("ports", [])]
    return (namespace, name, port) if port in ports else None


def url_host_port(url: str) -> tuple[str, int]:
    """`host[:port]` of a URL or a bare `host:port`, with the scheme's default port."""
    from urllib.parse import urlsplit

    if "://" not in url:
        host, _, port = url.partition(":")
        return host, int(port or 443)
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return parts.hostname or "", parts.port or default


def exported_endpoints(outputs: dict[str, Any]) -> dict[str, str]:
    """The stack outputs that are URLs or registry hosts."""
    return {
        key: value
        for key, value in outputs.items()
        if isinstance(value, str) and (key.endswith("Url") or key.endswith("URL")) and ".svc" in value
    }
