"""Validate Kubernetes objects offline: core kinds with kubernetes-validate, custom resources with their CRDs."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import kubernetes_validate.utils as _kv_utils
import yaml
from conftest import crds_dir
from jsonschema import Draft202012Validator

CORE_GROUPS = {
    "",
    "apps",
    "batch",
    "networking.k8s.io",
    "rbac.authorization.k8s.io",
    "scheduling.k8s.io",
    "policy",
    "autoscaling",
}


def is_core(manifest: dict[str, Any]) -> bool:
    api_version = str(manifest["apiVersion"])
    return (api_version.split("/")[0] if "/" in api_version else "") in CORE_GROUPS


# kubernetes-validate reads and parses a kind's schema and the 1.5 MB of shared definitions on every
# call, 70% of its time; the files never change, so each is parsed once per process (read-only after)
_kv_utils.schema_contents = cache(_kv_utils.schema_contents)


def validate_core(manifest: dict[str, Any], kubernetes_version: str) -> None:
    """kubernetes-validate --strict against the real OpenAPI schema of that Kubernetes minor version."""
    kubernetes_validate.validate(manifest, f"{kubernetes_version}.0", strict=True)


def _strict(schema: Any) -> Any:
    """CRD schemas prune unknown fields; tighten them so that a misspelt field fails instead."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


class _CrdLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's loader: the 11 MB of upstream CRDs in about 2 s, against about 15 s with ruamel's
    pure-Python one, per test process (the same documents for every file of ../shared/crds)."""


# `=` (YAML's value key) appears as a plain string in some CRDs' enums
_CrdLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


@cache
def crd_validators(root: Path) -> dict[tuple[str, str], Draft202012Validator]:
    found: dict[tuple[str, str], Draft202012Validator] = {}
    for path in sorted(root.glob("*/*.yaml")):
        for doc in yaml.load_all(path.read_text(), Loader=_CrdLoader):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
            for version in doc["spec"]["versions"]:
                schema = _strict(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
                found[(f"{group}/{version['name']}", kind)] = Draft202012Validator(schema)
    return found


def validate_custom(manifest: dict[str, Any]) -> list[str]:
    """Errors of a custom resource against its CRD's schema; a missing CRD is an error too."""
    validators = crd_validators(crds_dir())
    key = (str(manifest["apiVersion"]), str(manifest["kind"]))
    if key not in validators:
        return [f"no CRD for {key[0]} {key[1]} in {crds_dir()}"]
    body = {k: v for k, v in manifest.items() if k != "metadata"}
    body["metadata"] = {}
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validators[key].iter_errors(body)]
