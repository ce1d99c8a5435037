"""ContainerRegistry: an in-cluster zot OCI registry with per-project push and pull accounts."""

from __future__ import annotations

import base64
import json
from typing import Any

import pulumi
import pulumi_random as random

from mlops_scaffold.catalog import chart_for
from mlops_scaffold.components import kube
from mlops_scaffold.spec import Platform

NAMESPACE = "registry"
PORT = 5000
SERVICE_HOST = f"zot.{NAMESPACE}.svc.cluster.local:{PORT}"
ADMIN = "platform-admin"


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
            },
        },
        "log": {"level": "info"},
        "extensions": extensions,
    }


def zot_values(platform: Platform, config: dict[str, Any], htpasswd: pulumi.Input[str]) -> dict[str, Any]:
    return {
        "service": {"type": "ClusterIP", "port": PORT},
        "persistence": True,
        "pvc": {"create": True, "storage": platform.container_registry.storage},
        "mountConfig": True,
        "configFiles": {"config.json": json.dumps(config, sort_keys=True)},
        "mountSecret": True,
        "secretFiles": {"htpasswd": htpasswd},
        "podSecurityContext": kube.POD_SECURITY | {"runAsUser": 1000, "fsGroup": 1000},
        "securityContext": kube.CONTAINER_SECURITY,
        "metrics": {"enabled": True, "serviceMonitor": {"enabled": platform.monitoring.enabled}},
    }


def docker_config(user: str, password: str) -> str:
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    return json.dumps({"auths": {SERVICE_HOST: {"username": user, "password": password, "auth": auth}}}, sort_keys=True)


class ContainerRegistry(pulumi.ComponentResource):
    """The platform's OCI registry; `credentials[project]` holds each project's push and pull logins."""

    url: str
    pull_config: dict[str, pulumi.Output[str]]
    push_config: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, platform: Platform, projects: list[str], opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlops-scaffold:index:ContainerRegistry", name, None, opts)
        self.url = SERVICE_HOST
        ns = kube.apply(kube.namespace(NAMESPACE), self)
        accounts = [ADMIN] + [f"{p}-{role}" for p in projects for role in ("push", "pull")]
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
        kube.helm_release(
            "zot", chart_for(platform, "zot"), NAMESPACE, zot_values(platform, config, htpasswd), self, [ns]
        )
        kube.apply(kube.default_deny(NAMESPACE), self, [ns])
        kube.apply(
            kube.allow_ingress(
                "allow-registry", NAMESPACE, {"app.kubernetes.io/name": "zot"}, [{"namespaceSelector": {}}], PORT
            ),
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
