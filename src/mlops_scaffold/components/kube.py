"""Shared building blocks: Kubernetes manifests as plain dicts, and `declare`, which makes the Pulumi resource of one.

Components build manifests with pure functions (easy to test and to validate against the
real schemas), then hand them to `declare`, which picks the typed pulumi-kubernetes class for
core kinds and `CustomResource` for everything else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from mlops_scaffold.catalog import Chart
from mlops_scaffold.constants import DNS_NAMESPACE, DNS_PORT

Manifest = dict[str, Any]

MANAGED_BY = {"app.kubernetes.io/managed-by": "mlops-scaffold"}

# apiVersion -> pulumi_kubernetes module path, for the kinds we create with typed classes
_TYPED_GROUPS = {
    "v1": "core.v1",
    "apps/v1": "apps.v1",
    "batch/v1": "batch.v1",
    "networking.k8s.io/v1": "networking.v1",
    "rbac.authorization.k8s.io/v1": "rbac.v1",
    "scheduling.k8s.io/v1": "scheduling.v1",
    "policy/v1": "policy.v1",
    "autoscaling/v2": "autoscaling.v2",
}
_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def labels(component: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**MANAGED_BY, "app.kubernetes.io/component": component, **(extra or {})}


def meta(name: str, namespace: str | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name}
    if namespace is not None:
        out["namespace"] = namespace
    out.update(extra)
    return out


def pod_security_labels(level: str) -> dict[str, str]:
    """Pod Security Standards labels that enforce, audit and warn at one level."""
    return {f"pod-security.kubernetes.io/{mode}": level for mode in ("enforce", "audit", "warn")}


def namespace(name: str, level: str = "restricted", extra_labels: dict[str, str] | None = None) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": meta(name, labels={**MANAGED_BY, **pod_security_labels(level), **(extra_labels or {})}),
    }


POD_SECURITY: dict[str, Any] = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
CONTAINER_SECURITY: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}
"""The restricted Pod Security Standard, for every pod the platform runs itself."""


def default_deny(namespace_name: str) -> Manifest:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta("default-deny", namespace_name, labels=MANAGED_BY),
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


def allow_dns(namespace_name: str) -> Manifest:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta("allow-dns", namespace_name, labels=MANAGED_BY),
        "spec": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": DNS_NAMESPACE}}}],
                    "ports": [{"protocol": "UDP", "port": DNS_PORT}, {"protocol": "TCP", "port": DNS_PORT}],
                }
            ],
        },
    }


def from_namespaces(names: list[str]) -> list[dict[str, Any]]:
    """NetworkPolicy peers for whole namespaces, selected by their immutable name label."""
    return [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": n}}} for n in names]


def _allow(
    direction: str, name: str, namespace_name: str, pod_labels: dict[str, str], peers: list[dict[str, Any]], port: int
) -> Manifest:
    peer_key = "from" if direction == "Ingress" else "to"
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta(name, namespace_name, labels=MANAGED_BY),
        "spec": {
            "podSelector": {"matchLabels": pod_labels},
            "policyTypes": [direction],
            direction.lower(): [{peer_key: peers, "ports": [{"protocol": "TCP", "port": port}]}],
        },
    }


def allow_ingress(
    name: str, namespace_name: str, pod_labels: dict[str, str], peers: list[dict[str, Any]], port: int
) -> Manifest:
    """Let `peers` reach the selected pods on one TCP port."""
    return _allow("Ingress", name, namespace_name, pod_labels, peers, port)


def allow_egress(
    name: str, namespace_name: str, pod_labels: dict[str, str], peers: list[dict[str, Any]], port: int
) -> Manifest:
    """Let the selected pods reach `peers` on one TCP port."""
    return _allow("Egress", name, namespace_name, pod_labels, peers, port)


def _kwargs(manifest: Manifest) -> dict[str, Any]:
    return {_SNAKE.sub("_", key).lower(): value for key, value in manifest.items() if key not in ("apiVersion", "kind")}


def declare(
    manifest: Manifest,
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource] | None = None,
    logical_name: str | None = None,
) -> pulumi.CustomResource:
    """Create the Pulumi resource for one manifest, named `<kind>-<namespace>-<name>` for uniqueness."""
    api_version, kind = manifest["apiVersion"], manifest["kind"]
    metadata = manifest["metadata"]
    logical = logical_name or "-".join(p for p in (kind.lower(), metadata.get("namespace"), metadata["name"]) if p)
    opts = pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on or []))
    module_path = _TYPED_GROUPS.get(api_version)
    if module_path is None:
        return k8s.apiextensions.CustomResource(
            logical,
            api_version=api_version,
            kind=kind,
            metadata=metadata,
            spec=manifest.get("spec"),
            opts=opts,
        )
    module: Any = k8s
    for part in module_path.split("."):
        module = getattr(module, part)
    resource: pulumi.CustomResource = getattr(module, kind)(logical, opts=opts, **_kwargs(manifest))
    return resource


def helm_release(
    name: str,
    chart: Chart,
    namespace_name: str,
    values: dict[str, Any],
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource] | None = None,
) -> k8s.helm.v3.Release:
    """A pinned Helm release; an oci:// chart is referenced whole, an https one through its repository."""
    repository_opts = None if chart.is_oci else k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository)
    return k8s.helm.v3.Release(
        name,
        name=name,
        chart=chart.reference,
        version=chart.version,
        repository_opts=repository_opts,
        namespace=namespace_name,
        create_namespace=False,
        atomic=True,
        cleanup_on_fail=True,
        timeout=900,
        values=values,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on or [])),
    )


def secret(
    name: str,
    namespace_name: str,
    data: dict[str, pulumi.Input[str]],
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource] | None = None,
) -> pulumi.CustomResource:
    """An Opaque Secret; values that are Pulumi secrets stay secret in state and in plans."""
    return declare(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": meta(name, namespace_name, labels=MANAGED_BY),
            "type": "Opaque",
            "stringData": data,
        },
        parent,
        depends_on,
    )


def secret_value(name: str, config_key: str, parent: pulumi.Resource) -> pulumi.Output[str]:
    """A password from stack config (`pulumi config set --secret KEY`), else a generated one; always secret."""
    configured = pulumi.Config().get_secret(config_key)
    if configured is not None:
        return configured
    generated = random.RandomPassword(
        name, length=32, special=False, opts=pulumi.ResourceOptions(parent=parent, additional_secret_outputs=["result"])
    )
    return pulumi.Output.secret(generated.result)
