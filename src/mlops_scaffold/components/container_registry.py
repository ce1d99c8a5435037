"""ContainerRegistry: an in-cluster zot OCI registry with per-project push and pull accounts."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_random as random

from mlops_scaffold.catalog import chart_for
from mlops_scaffold.components import kube
from mlops_scaffold.constants import REGISTRY_HOST, REGISTRY_NAMESPACE, REGISTRY_PORT
from mlops_scaffold.spec import Platform

NAMESPACE = REGISTRY_NAMESPACE
PORT = REGISTRY_PORT
SERVICE_HOST = REGISTRY_HOST
ADMIN = "platform-admin"
MONITOR = "platform-monitor"
"""Probes `/v2/` and scrapes `/metrics`; it may read no repository."""
MONITOR_SECRET = "zot-monitor"
SELECTOR = {"app.kubernetes.io/name": "zot", "app.kubernetes.io/instance": "zot"}


def zot_config(platform: Platform, projects: list[str]) -> dict[str, Any]:
    """zot's config.json: storage with GC and retention, htpasswd auth and per-project access."""
    registry = platform.container_registry
    push_actions = ["read", "create"] if registry.immutable_tags else ["read", "create", "update", "delete"]
    repositories: dict[str, Any] = {
        f"{name}/**": {
            "policies": [
                {"users": [f"{name}-push"], "actions": push_actions},
                {"users": [f"{name}-pull"], "actions": ["read"]},
            ],
            "defaultPolicy": [],
        }
        for name in projects
    }
    extensions: dict[str, Any] = {
        "metrics": {"enable": True, "prometheus": {"path": "/metrics"}},
        "search": {"enable": True, "cve": {"updateInterval": "2h"}} if registry.scan_on_push else {"enable": True},
        "scrub": {"enable": True, "interval": "24h"},
    }
    return {
        "distSpecVersion": "1.1.1",
        "storage": {
            "rootDirectory": "/var/lib/registry",
            "dedupe": True,
            "gc": True,
            "gcDelay": "1h",
            "gcInterval": "24h",
            "retention": {
                "delay": f"{registry.retention.untagged_days * 24}h",
                "policies": [
                    {
                        "repositories": ["**"],
                        "deleteReferrers": True,
                        "deleteUntagged": True,
                        "keepTags": [{"mostRecentlyPushedCount": registry.retention.keep_last}],
                    }
                ],
            },
        },
        "http": {
            "address": "0.0.0.0",
            "port": str(PORT),
            "auth": {"htpasswd": {"path": "/secret/htpasswd"}, "failDelay": 5},
            "accessControl": {
                "repositories": repositories,
                "adminPolicy": {"users": [ADMIN], "actions": ["read", "create", "update", "delete"]},
                # without this only the admin may read /metrics
                "metrics": {"users": [MONITOR]},
            },
        },
        "log": {"level": "info"},
        "extensions": extensions,
    }


def zot_values(
    platform: Platform, config: dict[str, Any], htpasswd: pulumi.Input[str], probe_auth: pulumi.Input[str]
) -> dict[str, Any]:
    """Chart values; `probe_auth` is base64 of `user:password` of the monitor account, for the HTTP probes."""
    return {
        "service": {"type": "ClusterIP", "port": PORT},
        "persistence": True,
        "pvc": {"create": True, "storage": platform.container_registry.storage},
        "mountConfig": True,
        "configFiles": {"config.json": json.dumps(config, sort_keys=True)},
        "mountSecret": True,
        "secretFiles": {"htpasswd": htpasswd},
        # with htpasswd and no anonymous policy, probes of /v2/ need credentials or they get 401
        "authHeader": probe_auth,
        "podSecurityContext": kube.POD_SECURITY | {"runAsUser": 1000, "fsGroup": 1000},
        "securityContext": kube.CONTAINER_SECURITY,
        # the chart's ServiceMonitor cannot authenticate; ours does (service_monitor)
        "metrics": {"enabled": True, "serviceMonitor": {"enabled": False}},
    }


def service_monitor() -> kube.Manifest:
    """Prometheus scrapes zot's /metrics as the monitor account, whose login is in MONITOR_SECRET."""
    credential = {key: {"name": MONITOR_SECRET, "key": key} for key in ("username", "password")}
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": kube.meta("zot", NAMESPACE, labels=kube.labels("registry")),
        "spec": {
            "jobLabel": "app.kubernetes.io/name",
            "selector": {"matchLabels": SELECTOR},
            "namespaceSelector": {"matchNames": [NAMESPACE]},
            "endpoints": [{"port": "zot", "path": "/metrics", "interval": "30s", "basicAuth": credential}],
        },
    }


def docker_config(user: str, password: str) -> str:
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    return json.dumps({"auths": {SERVICE_HOST: {"username": user, "password": password, "auth": auth}}}, sort_keys=True)


class ContainerRegistry(pulumi.ComponentResource):
    """The platform's OCI registry; `credentials[project]` holds each project's push and pull logins."""

    url: str
    pull_config: dict[str, pulumi.Output[str]]
    push_config: dict[str, pulumi.Output[str]]

    def __init__(
        self,
        name: str,
        platform: Platform,
        projects: list[str],
        opts: pulumi.ResourceOptions | None = None,
        monitoring_crds: Sequence[pulumi.Resource] = (),
    ):
        super().__init__("mlops-scaffold:index:ContainerRegistry", name, None, opts)
        self.url = SERVICE_HOST
        ns = kube.declare(kube.namespace(NAMESPACE), self)
        accounts = [ADMIN, MONITOR] + [f"{p}-{role}" for p in projects for role in ("push", "pull")]
        passwords = {
            account: random.RandomPassword(
                f"registry-{account}",
                length=32,
                special=False,
                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["result", "bcryptHash"]),
            )
            for account in accounts
        }

        def htpasswd_file(hashes: list[str]) -> str:
            return "".join(f"{a}:{h}\n" for a, h in zip(accounts, hashes, strict=True))

        htpasswd: pulumi.Output[str] = pulumi.Output.secret(
            pulumi.Output.all(*[passwords[a].bcrypt_hash for a in accounts]).apply(htpasswd_file)
        )
        config = zot_config(platform, projects)
        monitor_password: pulumi.Output[str] = passwords[MONITOR].result

        def basic_auth(password: str) -> str:
            return base64.b64encode(f"{MONITOR}:{password}".encode()).decode()

        probe_auth: pulumi.Output[str] = pulumi.Output.secret(monitor_password.apply(basic_auth))
        kube.helm_release(
            "zot",
            chart_for(platform, "zot"),
            NAMESPACE,
            zot_values(platform, config, htpasswd, probe_auth),
            self,
            [ns],
        )
        if platform.monitoring.enabled:
            login = kube.secret(
                MONITOR_SECRET,
                NAMESPACE,
                {"username": MONITOR, "password": pulumi.Output.secret(monitor_password)},
                self,
                [ns],
            )
            kube.declare(service_monitor(), self, [ns, login, *monitoring_crds])
        kube.declare(kube.default_deny(NAMESPACE), self, [ns])
        kube.declare(
            kube.allow_ingress("allow-registry", NAMESPACE, SELECTOR, [{"namespaceSelector": {}}], PORT),
            self,
            [ns],
        )
        self.pull_config = {p: self._login(passwords[f"{p}-pull"], f"{p}-pull") for p in projects}
        self.push_config = {p: self._login(passwords[f"{p}-push"], f"{p}-push") for p in projects}
        self.register_outputs({"url": self.url})

    @staticmethod
    def _login(password: random.RandomPassword, user: str) -> pulumi.Output[str]:
        def render(plain: str) -> str:
            return docker_config(user, plain)

        return pulumi.Output.secret(password.result.apply(render))
