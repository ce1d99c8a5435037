#!/usr/bin/env python3
"""A local Kubernetes control plane with simulated nodes, on 127.0.0.1, for trying the platform without a cloud.

etcd + kube-apiserver + kube-controller-manager + kube-scheduler run as processes; kwok
simulates the nodes and their pods (every pod it schedules becomes Running and Ready, Job
pods complete). Nodes: one CPU node, plus one node per node pool of the given specs, with
the pool's labels (`NodePool.node_labels`), taints and `nvidia.com/gpu` capacity; with no
GPU pool in the specs, one GPU node like the platform's default GPU pool. PersistentVolumes
are pre-created so that PVCs bind. Admission webhooks are off in the API server: their
servers would be pods, and kwok's pods serve nothing.

    python scripts/local_cluster.py up DIR [--spec FILE...]   # prints the kubeconfig path; runs until down
    python scripts/local_cluster.py down DIR

Binaries come from `bash scripts/engine-toolchain` (its last output line is their folder);
pass it as --bin or $MLOPS_ENGINE_BIN. Logs are in DIR/logs and are kept.
Standard library only, so the harness runs with any Python 3.11.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOKEN = "mlops-scaffold-local-admin"
FAKE_NODE = {"kwok.x-k8s.io/node": "fake"}
GPU_RESOURCE = "nvidia.com/gpu"
DEFAULT_GPU_POOL: dict[str, Any] = {
    "name": "gpu",
    "labels": {"nvidia.com/gpu.present": "true"},
    "taints": [{"key": GPU_RESOURCE, "value": "present", "effect": "NoSchedule"}],
    "gpus": 1,
}
PROCESSES = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
PERSISTENT_VOLUMES = 24


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class NodeSpec:
    """One simulated node."""

    name: str
    labels: dict[str, str] = field(default_factory=dict)
    taints: list[dict[str, str]] = field(default_factory=list)
    gpus: int = 0

    def manifest(self) -> dict[str, Any]:
        allocatable = {"cpu": "64", "memory": "512Gi", "pods": "250", "ephemeral-storage": "1Ti"}
        if self.gpus:
            allocatable[GPU_RESOURCE] = str(self.gpus)
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": self.name,
                "annotations": {**FAKE_NODE, "node.alpha.kubernetes.io/ttl": "0"},
                "labels": {
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "kubernetes.io/hostname": self.name,
                    "type": "kwok",
                    **self.labels,
                },
            },
            "spec": {"taints": self.taints},
            "status": {"allocatable": allocatable, "capacity": allocatable},
        }


def nodes_for(pools: list[dict[str, Any]]) -> list[NodeSpec]:
    """A CPU node, and a node per pool (GPU pools as `{name, labels, taints, gpus}`); a GPU node at least."""
    nodes = [NodeSpec("default-cpu-0")]
    if not any(p.get("gpus") for p in pools):
        pools = [*pools, DEFAULT_GPU_POOL]
    for pool in pools:
        nodes.append(NodeSpec(f"pool-{pool['name']}-0", dict(pool["labels"]), list(pool["taints"]), int(pool["gpus"])))
    return nodes


class LocalCluster:
    """Start, use and stop the control plane in `root`; `kubeconfig` is ready after `start()`."""

    def __init__(self, root: Path, bin_dir: Path, nodes: list[NodeSpec] | None = None) -> None:
        self.root = root.resolve()
        self.bin = bin_dir
        self.nodes = nodes if nodes is not None else nodes_for([])
        self.logs = self.root / "logs"
        self.kubeconfig = self.root / "kubeconfig"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.api_port = 0

    # -- processes -------------------------------------------------------------------------
    def _spawn(self, name: str, args: list[str]) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        binary = str(self.bin / name)
        # the child keeps its own copy of the descriptor; ours is closed at once
        with open(self.logs / f"{name}.log", "ab") as log:
            self.procs[name] = subprocess.Popen(
                [binary, *args], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        (self.root / "pids").mkdir(exist_ok=True)
        (self.root / "pids" / name).write_text(str(self.procs[name].pid))

    def _check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                tail = (self.logs / f"{name}.log").read_text(errors="replace").splitlines()[-15:]
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n" + "\n".join(tail))

    def _pki(self) -> Path:
        pki = self.root / "pki"
        pki.mkdir(parents=True, exist_ok=True)
        if not (pki / "sa.key").exists():
            subprocess.run(["openssl", "genrsa", "-out", str(pki / "sa.key"), "2048"], check=True, capture_output=True)
            subprocess.run(
                ["openssl", "rsa", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub")],
                check=True,
                capture_output=True,
            )
        (pki / "tokens.csv").write_text(f'{TOKEN},admin,admin,"system:masters"\n')
        return pki

    def start(self, timeout: float = 120) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        pki = self._pki()
        etcd_port, peer_port, self.api_port = free_port(), free_port(), free_port()
        self._spawn(
            "etcd",
            [
                "--name=local",
                f"--data-dir={self.root / 'etcd'}",
                f"--listen-client-urls=http://127.0.0.1:{etcd_port}",
                f"--advertise-client-urls=http://127.0.0.1:{etcd_port}",
                f"--listen-peer-urls=http://127.0.0.1:{peer_port}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}",
                f"--initial-cluster=local=http://127.0.0.1:{peer_port}",
                "--unsafe-no-fsync",
                "--quota-backend-bytes=8589934592",
            ],
        )
        self._spawn(
            "kube-apiserver",
            [
                f"--etcd-servers=http://127.0.0.1:{etcd_port}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.api_port}",
                f"--cert-dir={pki}",
                f"--token-auth-file={pki / 'tokens.csv'}",
                "--authorization-mode=RBAC",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                "--service-cluster-ip-range=10.96.0.0/16",
                "--allow-privileged=true",
                "--endpoint-reconciler-type=none",
                # webhook servers would be kwok pods, which serve nothing: no admission webhooks here
                "--disable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook",
            ],
        )
        self._write_kubeconfig()
        self._wait_ready(timeout)
        kube_args = [f"--kubeconfig={self.kubeconfig}", "--leader-elect=false", "--bind-address=127.0.0.1"]
        self._spawn(
            "kube-controller-manager",
            [
                *kube_args,
                f"--secure-port={free_port()}",
                f"--service-account-private-key-file={pki / 'sa.key'}",
                f"--root-ca-file={pki / 'apiserver.crt'}",
                "--use-service-account-credentials=false",
                # the ClusterRole aggregation controller applies (so re-creates) an aggregated ClusterRole that
                # `helm uninstall` has just deleted, and helm then waits forever for it to go; nothing here needs it
                "--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-route,-clusterrole-aggregation",
                # kwok's heartbeats can lag on a busy 2-core machine; a simulated node never really goes away
                "--node-monitor-grace-period=1h",
            ],
        )
        self._spawn("kube-scheduler", [*kube_args, f"--secure-port={free_port()}"])
        self._spawn(
            "kwok",
            [
                f"--kubeconfig={self.kubeconfig}",
                "--manage-all-nodes=false",
                "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                "--cidr=10.0.0.1/16",
                "--node-ip=10.0.0.1",
                f"--server-address=127.0.0.1:{free_port()}",
            ],
        )
        for node in self.nodes:
            self.request("POST", "/api/v1/nodes", node.manifest())
        for i in range(PERSISTENT_VOLUMES):
            self.request("POST", "/api/v1/persistentvolumes", persistent_volume(f"local-pv-{i:02d}", self.root))
        self._wait_nodes_ready(timeout)

    def stop(self) -> None:
        for name in reversed(PROCESSES):
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.procs.clear()

    # -- API -------------------------------------------------------------------------------
    def _write_kubeconfig(self) -> None:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "local",
                    "cluster": {"server": f"https://127.0.0.1:{self.api_port}", "insecure-skip-tls-verify": True},
                }
            ],
            "users": [{"name": "admin", "user": {"token": TOKEN}}],
            "contexts": [{"name": "local", "context": {"cluster": "local", "user": "admin"}}],
            "current-context": "local",
        }
        self.kubeconfig.write_text(json.dumps(config, indent=2) + "\n")

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One API call as cluster admin; JSON in, JSON out."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"https://127.0.0.1:{self.api_port}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, context=_unverified(), timeout=30) as response:
            return json.loads(response.read() or b"null")

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            try:
                req = urllib.request.Request(
                    f"https://127.0.0.1:{self.api_port}/readyz", headers={"Authorization": f"Bearer {TOKEN}"}
                )
                with urllib.request.urlopen(req, context=_unverified(), timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"kube-apiserver not ready after {timeout:.0f} s; see {self.logs}")
            time.sleep(0.5)

    def _wait_nodes_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            items = self.get("/api/v1/nodes")["items"]
            ready = [n for n in items if _schedulable(n)]
            if len(ready) == len(self.nodes):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(ready)} of {len(self.nodes)} kwok nodes ready after {timeout:.0f} s")
            time.sleep(0.5)


def _unverified() -> ssl.SSLContext:
    """The API server's certificate is self-signed for this run; the token is what authenticates."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _schedulable(node: dict[str, Any]) -> bool:
    """Ready, and the node lifecycle controller has lifted the not-ready taint every new node starts with."""
    conditions = node.get("status", {}).get("conditions", [])
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
    taints = [t["key"] for t in node.get("spec", {}).get("taints") or []]
    return ready and not any(k.startswith("node.kubernetes.io/") for k in taints)


def persistent_volume(name: str, root: Path) -> dict[str, Any]:
    """A large unclassed volume: any PVC without a storage class binds to one (nothing is written to it)."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "labels": {"mlops-scaffold.io/local-cluster": "true"}},
        "spec": {
            "capacity": {"storage": "2Ti"},
            "accessModes": ["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany"],
            "persistentVolumeReclaimPolicy": "Retain",
            "hostPath": {"path": str(root / "volumes" / name)},
        },
    }


def pools_from_specs(paths: list[str]) -> list[dict[str, Any]]:
    """Node pools of the specs' platform, read with mlops-scaffold when it is importable."""
    if not paths:
        return []
    from mlops_scaffold import load_specs

    specs = load_specs([Path(p) for p in paths])
    if specs.platform is None:
        return []
    return [
        {
            "name": pool.name,
            "labels": pool.node_labels,
            "taints": [{"key": t.key, "value": t.value, "effect": t.effect} for t in pool.taints],
            "gpus": pool.gpu.count if pool.gpu else 0,
        }
        for pool in specs.platform.training.node_pools
    ]


def _bin_dir(given: str | None) -> Path:
    value = given or os.environ.get("MLOPS_ENGINE_BIN")
    if not value:
        sys.exit("local_cluster: give --bin DIR (the last line `bash scripts/engine-toolchain` prints)")
    return Path(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="local_cluster.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the cluster in DIR and keep it running until `down` or Ctrl-C")
    up.add_argument("dir")
    up.add_argument("--bin")
    up.add_argument("--spec", action="append", default=[], help="platform spec whose node pools become nodes")
    down = sub.add_parser("down", help="stop the cluster started in DIR")
    down.add_argument("dir")
    args = parser.parse_args(argv)
    root = Path(args.dir)
    if args.command == "down":
        for name in reversed(PROCESSES):
            pid_file = root / "pids" / name
            if pid_file.exists():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid_file.read_text()), signal.SIGTERM)
                pid_file.unlink()
        print(f"stopped; logs kept in {root / 'logs'}")
        return 0
    cluster = LocalCluster(root, _bin_dir(args.bin), nodes_for(pools_from_specs(args.spec)))
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        cluster.start()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        cluster.stop()
        print(f"local_cluster: {exc}", file=sys.stderr)
        return 1
    print(f"export KUBECONFIG={cluster.kubeconfig}", flush=True)
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
