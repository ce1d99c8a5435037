"""The platform program under Pulumi's mock engine: the resource graph for three representative specs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from conftest import EXAMPLES
from platform_specs import SPECS, planned

from mlops_scaffold.errors import SpecError
from mlops_scaffold.plan import plan_platform
from mlops_scaffold.spec import SpecSet, parse_text


@pytest.mark.parametrize("name", SPECS)
def test_every_resource_has_a_component_parent(name: str) -> None:
    _, run = planned(name)
    assert run.resources
    for resource in run.resources:
        if resource.type == "mlops-scaffold:index:Platform":
            assert resource.parent_type == "pulumi:pulumi:Stack"
        else:
            assert (resource.parent_type or "").startswith("mlops-scaffold:index:"), resource.urn


@pytest.mark.parametrize("name", SPECS)
def test_every_project_gets_its_tenancy(name: str) -> None:
    specs, run = planned(name)
    assert specs.platform is not None
    envs = [e.name for e in specs.platform.environments]
    manifests = run.manifests()
    index = Counter((m["kind"], m["metadata"].get("namespace"), m["metadata"]["name"]) for m in manifests)
    for project in specs.projects:
        ns = project.name
        assert index[("Namespace", None, ns)] == 1
        assert index[("ResourceQuota", ns, "quota")] == 1
        assert index[("LimitRange", ns, "defaults")] == 1
        assert index[("LocalQueue", ns, project.training.queue)] == 1
        assert index[("Secret", ns, "registry-push")] == 1
        assert index[("Role", ns, "ci-trainer")] == index[("RoleBinding", ns, "ci-trainer")] == 1
        assert index[("AppProject", "argocd", project.name)] == 1
        for env in envs:
            assert index[("Namespace", None, f"{ns}-{env}")] == 1
            assert index[("Secret", f"{ns}-{env}", "registry-pull")] == 1
            assert index[("NetworkPolicy", f"{ns}-{env}", "default-deny")] == 1
            assert index[("Application", "argocd", f"{project.name}-{env}")] == 1


def test_fleet_has_three_environments_by_five_projects() -> None:
    _, run = planned("fleet")
    apps = [
        m
        for m in run.manifests()
        if m["kind"] == "Application" and "mlops-scaffold.io/project" in m["metadata"]["labels"]
    ]
    assert len(apps) == 15
    prod = [a for a in apps if a["metadata"]["labels"]["mlops-scaffold.io/environment"] == "prod"]
    assert all("automated" not in a["spec"]["syncPolicy"] for a in prod)
    dev = [a for a in apps if a["metadata"]["labels"]["mlops-scaffold.io/environment"] == "dev"]
    assert all(a["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True} for a in dev)
    roots = [m for m in run.manifests() if m["kind"] == "Application" and m["spec"]["source"]["path"] == "apps"]
    assert len(roots) == 1, "one app-of-apps"


def test_gpu_spec_installs_operators_and_gpu_daemons_that_tolerate_the_taints() -> None:
    _, run = planned("gpu")
    releases = {r.inputs["name"]: r.inputs for r in run.of_type("kubernetes:helm.sh/v3:Release")}
    assert {
        "kueue",
        "kuberay-operator",
        "kubeflow-trainer",
        "nvidia-device-plugin",
        "dcgm-exporter",
        "zot",
        "argo-cd",
    } <= set(releases)
    tolerations = releases["nvidia-device-plugin"]["values"]["tolerations"]
    assert {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"} in tolerations
    assert {"key": "spot", "operator": "Equal", "value": "", "effect": "NoExecute"} in tolerations
    flavors = {m["metadata"]["name"]: m for m in run.manifests() if m["kind"] == "ResourceFlavor"}
    assert set(flavors) == {"pool-cpu", "pool-gpu-a100", "pool-gpu-l4"}
    assert flavors["pool-gpu-l4"]["spec"]["nodeLabels"] == {"pool": "l4", "nvidia.com/gpu.present": "true"}
    assert len(flavors["pool-gpu-l4"]["spec"]["tolerations"]) == 2
    queue = next(m for m in run.manifests() if m["kind"] == "ClusterQueue" and m["metadata"]["name"] == "gpu")
    group = queue["spec"]["resourceGroups"][0]
    assert group["coveredResources"] == ["cpu", "memory", "nvidia.com/gpu"]
    assert [f["name"] for f in group["flavors"]] == ["pool-gpu-a100", "pool-gpu-l4"]
    assert queue["spec"]["cohortName"] == "shared"


def test_minimal_spec_installs_no_gpu_daemons_and_only_pytorch() -> None:
    _, run = planned("minimal")
    names = {r.inputs["name"] for r in run.of_type("kubernetes:helm.sh/v3:Release")}
    assert names == {"kueue", "kubeflow-trainer", "zot", "argo-cd", "kube-prometheus-stack", "opencost"}


def test_chart_mirror_and_override_apply() -> None:
    text = "name: air\ncharts:\n  mirror: https://charts.internal.example\n  overrides:\n    kueue: {repository: 'oci://mirror.internal.example/kueue', version: 0.19.1}\n"
    run = plan_platform(SpecSet(parse_text(text, "air.yaml")))
    releases = {r.inputs["name"]: r.inputs for r in run.of_type("kubernetes:helm.sh/v3:Release")}
    assert releases["kueue"]["chart"] == "oci://mirror.internal.example/kueue/kueue"
    assert releases["kueue"]["version"] == "0.19.1"
    assert "repositoryOpts" not in releases["kueue"]
    assert releases["zot"]["repositoryOpts"]["repo"] == "https://charts.internal.example"
    assert releases["zot"]["chart"] == "zot"


@pytest.mark.parametrize("name", SPECS)
def test_namespaces_carry_pod_security_labels_and_default_deny(name: str) -> None:
    _, run = planned(name)
    manifests = run.manifests()
    namespaces = [m for m in manifests if m["kind"] == "Namespace"]
    denied = {
        m["metadata"]["namespace"]
        for m in manifests
        if m["kind"] == "NetworkPolicy" and m["metadata"]["name"] == "default-deny"
    }
    for ns in namespaces:
        labels = ns["metadata"]["labels"]
        level = labels["pod-security.kubernetes.io/enforce"]
        assert level in ("restricted", "baseline", "privileged")
        if level == "privileged":
            # the GPU daemons and node-exporter (kube-prometheus-stack) read the host
            assert ns["metadata"]["name"] in ("gpu-system", "monitoring")
    tenant_and_platform = {n["metadata"]["name"] for n in namespaces} - {
        "kueue-system",
        "kuberay-system",
        "kubeflow-system",
        "gpu-system",
        "argocd",
        "monitoring",  # the chart's own components; the Pushgateway there has an ingress policy
    }
    assert tenant_and_platform <= denied


def test_ci_role_is_namespace_scoped_and_least_privilege() -> None:
    _, run = planned("fleet")
    roles = [m for m in run.manifests() if m["kind"] in ("Role", "ClusterRole", "ClusterRoleBinding")]
    assert {m["kind"] for m in roles} == {"Role"}
    for role in roles:
        for rule in role["rules"]:
            assert "*" not in rule["verbs"]
            assert "*" not in rule["resources"]
            assert "*" not in rule["apiGroups"]
            if "secrets" in rule["resources"]:
                assert rule["resourceNames"] == ["registry-push"]
                assert rule["verbs"] == ["get"]


def test_stack_outputs_for_project_stacks() -> None:
    specs, run = planned("fleet")
    assert set(run.outputs) == {
        "registryUrl",
        "mlflowUrl",
        "mlflowAdminPassword",
        "argocdUrl",
        "grafanaUrl",
        "pushgatewayUrl",
        "ciAuthenticationConfig",
        "queues",
        "projects",
    }
    assert run.outputs["queues"] == ["default"]
    assert run.outputs["projects"]["project-3"]["environments"]["prod"] == "project-3-prod"
    assert len(run.outputs["projects"]) == len(specs.projects) == 5


def test_validate_refuses_half_managed_model_storage_on_a_cloud_as_plan_would(tmp_path: Path) -> None:
    from mlops_scaffold.cli.main import main

    spec = tmp_path / "gcp.yaml"
    spec.write_text(
        (EXAMPLES / "platform-gcp.yaml").read_text() + "model_registry: {artifact_store: {type: in-cluster}}\n"
    )
    with pytest.raises(SpecError) as caught:
        SpecSet(parse_text(spec.read_text(), str(spec)))
    (line,) = caught.value.lines()
    assert line.endswith(
        "model_registry: on target gcp the database and the artifact store must both be managed or both in-cluster"
    )
    assert line.startswith(f"{spec}:")
    assert main(["validate", str(spec)]) == 1  # validate refuses what plan cannot build
