"""Every object the platform program creates validates against the real Kubernetes and CRD schemas."""

from __future__ import annotations

from typing import Any

import pytest
from k8s_schemas import is_core, validate_core, validate_custom
from platform_specs import SPECS, planned


def _objects(name: str) -> tuple[str, list[dict[str, Any]]]:
    specs, run = planned(name)
    assert specs.platform is not None
    return specs.platform.kubernetes_version, run.manifests()


@pytest.mark.parametrize("name", SPECS)
def test_core_objects_pass_kubernetes_validate_strict(name: str) -> None:
    version, manifests = _objects(name)
    core = [m for m in manifests if is_core(m)]
    assert len(core) > 20
    for manifest in core:
        validate_core(manifest, version)


@pytest.mark.parametrize("name", SPECS)
def test_custom_resources_pass_their_crd_schemas(name: str) -> None:
    _, manifests = _objects(name)
    custom = [m for m in manifests if not is_core(m)]
    kinds = {m["kind"] for m in custom}
    expected = {"ResourceFlavor", "ClusterQueue", "Application", "ServiceMonitor", "PrometheusRule"}
    if name == "gpu":  # Ray pods are scraped through a PodMonitor
        expected |= {"PodMonitor"}
    if planned(name)[0].projects:
        expected |= {"AppProject", "LocalQueue"}
    assert expected <= kinds
    for manifest in custom:
        assert validate_custom(manifest) == [], manifest["metadata"]


def test_a_misspelt_field_is_caught_by_the_crd_check() -> None:
    _, manifests = _objects("minimal")
    queue = next(m for m in manifests if m["kind"] == "ClusterQueue")
    broken = {**queue, "spec": {**queue["spec"], "cohort": "old-v1beta1-name"}}
    assert any("cohort" in e for e in validate_custom(broken))


def test_a_broken_core_object_is_caught() -> None:
    import kubernetes_validate

    _, manifests = _objects("minimal")
    namespace = next(m for m in manifests if m["kind"] == "Namespace")
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_core({**namespace, "spec": {"finalizers": "not-a-list"}}, "1.33")
