"""The real-engine cycle: preview, up, live checks, a second preview, refresh, add a project, destroy.

Every step runs `mlops-scaffold platform ...` as a user would, in its own process, against a
local cluster (scripts/local_cluster.py) with every chart from the offline repository.
`python tests/engine/cycle.py [SPEC...]` (what `scripts/e2e` runs) prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

if __package__ in (None, ""):  # run as a script: make `engine` (this folder) importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import harness

ALERT_SECRET_ENV = "MLOPS_E2E_ALERT_WEBHOOK"
MANAGED = "app.kubernetes.io/managed-by=mlops-scaffold"


class CycleFailure(AssertionError):
    """A step of the cycle did not do what it must; the message says which and why."""


@dataclass
class CycleReport:
    created: int = 0
    helm_releases: int = 0
    second_preview_changes: int = -1
    refresh_changes: int = -1
    added_project_changes: dict[str, int] = field(default_factory=dict)
    destroy_left: int = -1
    workloads: int = 0
    custom_resources: int = 0
    endpoints: dict[str, str] = field(default_factory=dict)
    gpu_daemons: dict[str, int] = field(default_factory=dict)
    shared_updates: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "helm_releases": self.helm_releases,
            "second_preview_changes": self.second_preview_changes,
            "destroy_left": self.destroy_left,
            "seconds": {k: round(v, 1) for k, v in self.seconds.items()},
        }


class Cycle:
    """One platform on one local cluster, driven through the CLI."""

    def __init__(self, specs: list[Path], work: Path, extra_project: Path | None = None) -> None:
        self.work = work
        self.spec_paths = specs
        self.extra_project = extra_project
        self.report = CycleReport()
        self.env: dict[str, str] = dict(os.environ)
        self.bin = harness.toolchain()
        self.local = harness.local_cluster_module()
        from mlops_scaffold.spec import Platform, load_specs

        # the stack is an environment of the spec (the CLI refuses any other name): the first one
        platform = load_specs(specs).platform or Platform.model_validate({"name": "platform"})
        self.stack = platform.environments[0].name

    def _cli(self, step: str, *args: str, expect: int = 0) -> dict[str, Any]:
        started = time.monotonic()
        cmd = [
            sys.executable, "-m", "mlops_scaffold", "platform", *args, "--json", "--stack", self.stack,
            "--work-dir", str(self.work / "stack"), "--secret-env", f"alert-ml-alerts={ALERT_SECRET_ENV}",
        ]  # fmt: skip
        with (self.work / "logs" / f"{step}.log").open("w") as log:
            done = subprocess.run(
                cmd + [str(p) for p in self.specs], stdout=subprocess.PIPE, stderr=log, text=True, env=self.env
            )
        self.report.seconds[step] = time.monotonic() - started
        if done.returncode != expect:
            tail = (self.work / "logs" / f"{step}.log").read_text(errors="replace").splitlines()[-40:]
            raise CycleFailure(f"{step}: exit {done.returncode}, expected {expect}:\n" + "\n".join(tail))
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        return json.loads(lines[-1]) if lines else {}

    def _state(self) -> list[dict[str, Any]]:
        done = subprocess.run(
            [str(self.bin / "pulumi"), "stack", "export", "--stack", self.stack, "--show-secrets"],
            cwd=self.work / "stack",
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        resources: list[dict[str, Any]] = json.loads(done.stdout)["deployment"].get("resources", [])
        return resources

    def run(self) -> CycleReport:
        (self.work / "logs").mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        pools = self.local.pools_from_specs([str(p) for p in self.spec_paths])
        cluster = self.local.LocalCluster(self.work / "cluster", self.bin, self.local.nodes_for(pools))
        try:
            cluster.start()
            self.report.seconds["cluster"] = time.monotonic() - started
            with harness.chart_repository() as mirror:
                self.specs = harness.mirrored_specs(self.spec_paths, mirror, self.work / "specs")
                self.env = {
                    **os.environ,
                    **harness.engine_environment(self.work, self.bin, cluster.kubeconfig),
                    ALERT_SECRET_ENV: "https://hooks.slack.invalid/services/e2e",
                }
                self._steps(cluster)
        finally:
            cluster.stop()
        self.report.seconds["total"] = time.monotonic() - started
        return self.report

    def _steps(self, cluster: Any) -> None:
        preview = self._cli("preview", "preview")
        if preview["changes"].get("create", 0) == 0:
            raise CycleFailure(f"preview plans no creation: {preview['changes']}")
        up = self._cli("up", "up")
        self.report.created = up["changes"].get("create", 0)
        state = self._state()
        self.report.helm_releases = sum(1 for r in state if r["type"] == "kubernetes:helm.sh/v3:Release")
        self._check_live(cluster, state, up["outputs"])
        second = self._cli("second_preview", "preview")
        self.report.second_preview_changes = second["changed"]
        if second["changed"]:
            raise CycleFailure(f"the second preview is not empty: {second['changes']}")
        refresh = self._cli("refresh", "refresh")
        self.report.refresh_changes = refresh["changed"]
        if refresh["changed"]:
            raise CycleFailure(f"refresh changed the state: {refresh['changes']}")
        if self.extra_project is not None:
            self._add_project(self._state())
        self._cli("destroy", "destroy", "--yes")
        self.report.destroy_left = len(self._leftovers(cluster))
        if self.report.destroy_left:
            raise CycleFailure(f"destroy left objects behind: {self._leftovers(cluster)}")

    def _check_live(self, cluster: Any, state: list[dict[str, Any]], outputs: dict[str, Any]) -> None:
        deadline = time.monotonic() + 120
        while True:
            found = harness.workloads(cluster)
            pending = [w for w in found if not w.ready]
            if not pending:
                break
            if time.monotonic() > deadline:
                raise CycleFailure("not available under kwok: " + ", ".join(
                    f"{w.kind} {w.namespace}/{w.name} ({w.detail})" for w in pending))  # fmt: skip
            time.sleep(2)
        self.report.workloads = len(found)
        gpu_nodes = sum(1 for n in cluster.nodes if n.gpus)
        for daemon in ("nvidia-device-plugin", "dcgm-exporter"):
            placed = [w for w in found if w.kind == "DaemonSet" and w.name == daemon]
            if placed and placed[0].scheduled != gpu_nodes:
                raise CycleFailure(
                    f"DaemonSet {daemon} runs on {placed[0].scheduled} nodes, not on the {gpu_nodes} GPU nodes"
                )
            self.report.gpu_daemons[daemon] = placed[0].scheduled if placed else 0
        custom = [r for r in state if _is_custom(r["type"])]
        for resource in custom:
            out = resource["outputs"]
            group_version, kind = out["apiVersion"], out["kind"]
            plural = _plural(cluster, group_version, kind)
            meta = out["metadata"]
            ns = f"/namespaces/{meta['namespace']}" if meta.get("namespace") else ""
            cluster.get(f"/apis/{group_version}{ns}/{plural}/{meta['name']}")
        self.report.custom_resources = len(custom)
        for key, url in harness.exported_endpoints(outputs).items():
            host, port = harness.url_host_port(url)
            if harness.service_port(cluster, f"{host}:{port}", port) is None:
                raise CycleFailure(f"stack output {key} = {url}: no Service with that name and port")
            self.report.endpoints[key] = url

    def _add_project(self, before: list[dict[str, Any]]) -> None:
        assert self.extra_project is not None
        name = next(
            str(doc["name"])
            for doc in YAML(typ="safe").load_all(self.extra_project.read_text())
            if isinstance(doc, dict) and doc.get("kind") == "Project"
        )
        self.specs = [*self.specs, self.extra_project]
        up = self._cli("add_project", "up")
        self.report.added_project_changes = {k: v for k, v in up["changes"].items() if k != "same"}
        after = self._state()
        old = {r["urn"]: r for r in before}
        touched = []
        self.report.shared_updates = []
        for resource in after:
            previous = old.get(resource["urn"])
            if previous is None:
                if name not in resource["urn"]:
                    touched.append(f"created {resource['urn']}")
            elif resource.get("custom") and previous.get("inputs") != resource.get("inputs"):
                # a shared object may change only to name the new project (a namespace list, an account)
                mentions = json.dumps(resource.get("inputs")).count(name) - json.dumps(previous.get("inputs")).count(
                    name
                )
                if mentions <= 0:
                    touched.append(f"changed {resource['urn']}")
                else:
                    self.report.shared_updates.append(resource["urn"].split("::")[-1])
        if touched or set(self.report.added_project_changes) - {"create", "update"}:
            raise CycleFailure(f"adding project {name} touched more than it: {up['changes']} {touched[:10]}")
        if self.report.added_project_changes.get("update", 0) != len(self.report.shared_updates):
            raise CycleFailure(f"{up['changes']}: updates other than {self.report.shared_updates}")

    def _leftovers(self, cluster: Any) -> list[str]:
        left = [
            f"namespace {n['metadata']['name']}"
            for n in cluster.get(f"/api/v1/namespaces?labelSelector={MANAGED}")["items"]
        ]
        left += [
            f"helm release {s['metadata']['namespace']}/{s['metadata']['name']}"
            for s in cluster.get("/api/v1/secrets?labelSelector=owner%3Dhelm")["items"]
        ]
        for group_version, plural in (
            ("kueue.x-k8s.io/v1beta2", "clusterqueues"),
            ("kueue.x-k8s.io/v1beta2", "resourceflavors"),
            ("monitoring.coreos.com/v1", "servicemonitors"),
            ("monitoring.coreos.com/v1", "prometheusrules"),
            ("argoproj.io/v1alpha1", "applications"),
            ("argoproj.io/v1alpha1", "appprojects"),
        ):
            try:
                items = cluster.get(f"/apis/{group_version}/{plural}")["items"]
            except OSError:
                continue  # the CRD is gone with its chart
            left += [f"{plural} {i['metadata'].get('namespace', '')}/{i['metadata']['name']}" for i in items]
        return left


BUILT_IN_GROUPS = {
    "core", "apps", "batch", "policy", "autoscaling", "networking.k8s.io", "rbac.authorization.k8s.io",
    "scheduling.k8s.io", "storage.k8s.io", "apiextensions.k8s.io", "helm.sh",
}  # fmt: skip


def _is_custom(pulumi_type: str) -> bool:
    """`kubernetes:<group>/<version>:<Kind>` of a group no built-in API (nor Helm) serves."""
    parts = pulumi_type.split(":")
    return len(parts) == 3 and parts[0] == "kubernetes" and parts[1].split("/")[0] not in BUILT_IN_GROUPS


def _plural(cluster: Any, group_version: str, kind: str) -> str:
    for resource in cluster.get(f"/apis/{group_version}")["resources"]:
        if resource["kind"] == kind and "/" not in resource["name"]:
            return str(resource["name"])
    raise CycleFailure(f"the API serves no {kind} in {group_version}: its CRD is missing")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the real-engine cycle on spec files (default: built in).")
    parser.add_argument("specs", nargs="*", type=Path)
    parser.add_argument("--add-project", type=Path, help="a Project spec to add after the first up")
    parser.add_argument("--work", type=Path, help="keep everything here (default: a temporary folder)")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="mlops-e2e-"))
    specs = list(args.specs)
    if not specs:
        from mlops_scaffold.spec.starters import default_spec_text

        default = work / "default.yaml"
        work.mkdir(parents=True, exist_ok=True)
        default.write_text(default_spec_text())
        specs = [default]
    cycle = Cycle([p.resolve() for p in specs], work.resolve(), args.add_project)
    try:
        report = cycle.run()
    except CycleFailure as exc:
        print(f"e2e: {exc}\nlogs: {work / 'logs'} (engine), {work / 'cluster' / 'logs'} (cluster)", file=sys.stderr)
        print(json.dumps({**cycle.report.summary(), "failed": str(exc).splitlines()[0]}, sort_keys=True))
        return 1
    print(json.dumps(report.summary(), sort_keys=True))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
