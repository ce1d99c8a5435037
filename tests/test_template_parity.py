"""copier.yml's questions are generated from the spec (tests/test_questions.py holds their rules to
the models'); these tests hold the answers `new` passes to the template's defaults, and a property
test renders arbitrary valid Project specs and reads every field back."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2 import Environment
from ruamel.yaml import YAML

from mlops_scaffold import constants
from mlops_scaffold.bundle import copier_settings, template_root
from mlops_scaffold.facts import FACTS
from mlops_scaffold.render import answers_from_spec, environment_answers, render_project
from mlops_scaffold.spec import Platform, Project, SpecSet, parse_text

ROOT = template_root()


@cache
def questions() -> dict[str, Any]:
    return copier_settings()


def _env() -> Environment:
    return Environment(extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"])


def project(**fields: Any) -> Project:
    return Project.model_validate({"name": "demo", **fields})


# --- defaults ----------------------------------------------------------------------------------


def test_every_project_question_defaults_to_what_answers_from_spec_gives_for_the_default_spec() -> None:
    defaults = {name: q.get("default") for name, q in questions().items() if not name.startswith("_")}
    expected = answers_from_spec(project(name="my-model"), Platform.model_validate({"name": "platform"}))
    for name, value in expected.data().items():
        assert name in defaults, f"render.py passes {name}, which copier.yml does not ask"
        if name in ("dvc_remote", "dvc_endpoint"):
            continue  # the platform's object store; copier's default is the offline local remote (below)
        default = defaults[name]
        if name == "registry":
            default = _env().from_string(default).render(facts=FACTS.template_answer())
        assert default == value, f"copier.yml's default for {name} is {default!r}; the spec's is {value!r}"


def test_dvc_remote_is_the_platform_object_store_else_the_template_local_default() -> None:
    assert questions()["dvc_remote"]["default"] == ""
    assert "dvc_remote" not in answers_from_spec(project())
    kubernetes = answers_from_spec(project(), Platform.model_validate({"name": "p"}))
    assert kubernetes["dvc_remote"] == "s3://mlflow-artifacts/dvc/demo"
    assert kubernetes["dvc_endpoint"] == constants.OBJECT_STORE_URL
    own = answers_from_spec(project(data={"remote": "s3://team-data/demo"}), Platform.model_validate({"name": "p"}))
    assert (own["dvc_remote"], own["dvc_endpoint"]) == ("s3://team-data/demo", "")
    off = answers_from_spec(project(data={"dvc": False}), Platform.model_validate({"name": "p"}))
    assert off["dvc"] is False
    assert "dvc_remote" not in off


def test_environments_default_is_the_platform_default() -> None:
    default = questions()["environments"]["default"]
    assert default == environment_answers(Platform.model_validate({"name": "p"}))


def test_the_template_has_an_overlay_slot_for_every_environment_the_spec_admits() -> None:
    slots = [p for p in (ROOT / "templates/deploy/overlays").iterdir() if p.is_dir()]
    assert len(slots) == constants.MAX_ENVIRONMENTS
    max_length = next(m.max_length for m in Platform.model_fields["environments"].metadata if hasattr(m, "max_length"))
    assert max_length == constants.MAX_ENVIRONMENTS


def test_facts_reach_the_template_and_the_package_alike() -> None:
    facts = FACTS.template_answer()
    registry: Any = facts["registry"]
    assert f"{registry['service']}.{registry['namespace']}.svc.cluster.local:{registry['port']}" == constants.REGISTRY_HOST
    assert questions()["_answers_file"] == constants.ANSWERS_FILE
    from mlops_scaffold.catalog import CHART_NAMES, CHARTS

    assert tuple(CHARTS) == CHART_NAMES


# --- any valid project renders, and the render reflects every field ---------------------------

ENVIRONMENT_NAMES = st.lists(
    st.from_regex(r"\A[a-z][a-z0-9]{0,6}\Z"), min_size=1, max_size=constants.MAX_ENVIRONMENTS, unique=True
)


@st.composite
def spec_pairs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A Platform and a Project, each valid; the GPU queue rule between them is not this test's."""
    framework = draw(st.sampled_from(["sklearn", "xgboost", "lightgbm", "pytorch"]))
    gpus = draw(st.integers(0, 8)) if framework in ("xgboost", "pytorch") else 0
    autoscaling = draw(st.booleans())
    low = draw(st.integers(1, 1000))
    environments = [
        {"name": name, "approval": name == "prod", "max_replicas": draw(st.integers(1, 50))}
        for name in draw(ENVIRONMENT_NAMES)
    ]
    platform: dict[str, Any] = {"name": "demo", "environments": environments}
    spec = {
        "apiVersion": "mlops-scaffold/v1",
        "kind": "Project",
        "name": draw(st.from_regex(r"\A[a-z][a-z0-9-]{0,30}[a-z0-9]\Z")),
        "framework": framework,
        "training": {
            "gpus": gpus,
            "cpu": draw(st.sampled_from(["500m", "2", "3.5", "16"])),
            "memory": draw(st.sampled_from(["512Mi", "4Gi", "64Gi"])),
            "schedule": draw(st.sampled_from([None, "0 3 * * 1", "@daily", "*/30 * * * *"])),
        },
        "serving": {
            "mode": draw(st.sampled_from(["online", "batch", "none"])),
            "replicas": draw(st.integers(0, 1000)),
            "autoscaling": {
                "enabled": autoscaling,
                "min_replicas": low,
                "max_replicas": draw(st.integers(low, 1000)),
                "target_cpu_percent": draw(st.integers(1, 100)),
            },
        },
        "data": draw(st.sampled_from([{}, {"dvc": False}, {"remote": "s3://team-data/x"}, {"remote": "/srv/dvc"}])),
    }
    if draw(st.booleans()):
        platform |= {"target": "gcp", "gcp": {"project": "demo-project-1", "region": "us-central1"}}
    return platform, spec


def _yaml(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(pair=spec_pairs())
def test_any_valid_project_renders_and_reflects_its_spec(
    tmp_path_factory: pytest.TempPathFactory, pair: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    platform, spec = Platform.model_validate(pair[0]), Project.model_validate(pair[1])
    out = render_project(tmp_path_factory.mktemp("render") / spec.name, answers_from_spec(spec, platform))

    # the project's own spec file says the same as the spec it came from
    rendered = SpecSet(parse_text((out / "mlops.yaml").read_text(), "mlops.yaml")).projects[0]
    assert rendered.training == spec.training
    assert rendered.framework == spec.framework
    assert rendered.serving.mode == spec.serving.mode
    assert rendered.data.dvc == spec.data.dvc

    # DVC's pipeline and its remote: the spec's, else the platform's bucket (gs:// on gcp)
    assert (out / "dvc.yaml").exists() == spec.data.dvc
    if spec.data.dvc:
        remote = spec.data.remote or f"{'gs' if platform.target == 'gcp' else 's3'}://mlflow-artifacts/dvc/{spec.name}"
        assert f"url = {remote}\n" in (out / ".dvc/config").read_text()
        assert rendered.data.remote == remote
        extra = "dvc-gs" if remote.startswith("gs://") else "dvc-s3"
        assert f'"{extra}==' in (out / "pyproject.toml").read_text()

    # the training Job's resources, and the schedule or its absence
    cluster = (out / "ci/cluster.py").read_text()
    assert f'CPU = "{spec.training.cpu}"' in cluster
    assert f'MEMORY = "{spec.training.memory}"' in cluster
    assert f"GPUS = {spec.training.gpus}" in cluster
    train = _yaml(out / ".github/workflows/train.yml")
    assert ("schedule" in train["on"]) == (spec.training.schedule is not None)

    # one overlay per environment, in the spec's namespaces, within the environment's bounds
    overlays = sorted(p.name for p in (out / "deploy/overlays").iterdir())
    assert overlays == sorted(e.name for e in platform.environments)
    scaling = spec.serving.autoscaling
    for env in platform.environments:
        overlay = _yaml(out / "deploy/overlays" / env.name / "kustomization.yaml")
        assert overlay["namespace"] == f"{spec.name}-{env.name}"
        assert overlay["labels"][0]["pairs"] == {constants.ENVIRONMENT_LABEL: env.name}
        if spec.serving.mode == "online":
            patches = " ".join(p["patch"] for p in overlay["patches"])
            # with an autoscaler, only its bounds are patched: no replica count for GitOps to restore
            field = "minReplicas" if scaling.enabled else "replicas"
            assert ("/spec/replicas" in patches) == (not scaling.enabled)
            replicas = int(re.search(rf"/spec/{field}, value: (\d+)", patches)[1])  # type: ignore[index]
            wanted = scaling.min_replicas if scaling.enabled else spec.serving.replicas
            assert replicas == min(max(wanted, env.min_replicas), env.max_replicas)

    # the autoscaler, with the spec's target, only when the spec scales
    hpa = out / "deploy/base/hpa.yaml"
    assert hpa.exists() == (spec.serving.mode == "online" and scaling.enabled)
    if spec.serving.mode == "online":
        assert ("replicas" in _yaml(out / "deploy/base/deployment.yaml")["spec"]) == (not scaling.enabled)
    if hpa.exists():
        target = _yaml(hpa)["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"]
        assert target == scaling.target_cpu_percent


@pytest.mark.parametrize("online", [True, False])
def test_a_project_renders_the_platform_model_alerts_for_itself(tmp_path: Path, online: bool) -> None:
    """One definition: the project's rules are the platform's, scoped to the project, with the
    platform's thresholds (here not the defaults)."""
    from mlops_scaffold.monitoring.rules import model_alerts

    platform = Platform.model_validate(
        {
            "name": "demo",
            "monitoring": {
                "drift": {"metric": "ks", "threshold": 0.35},
                "alerts": {"error_rate": 0.02},
                "slo": {"latency_ms": 500},
            },
        }
    )
    spec = project(name="churn", serving={"mode": "online" if online else "batch"})
    out = render_project(tmp_path / "churn", answers_from_spec(spec, platform))
    rules = _yaml(out / "monitoring/rules.yaml")["groups"][0]["rules"]
    assert rules == model_alerts(platform.monitoring, prefix="Project", name="churn", online=online)
    names = [r["alert"] for r in rules]
    assert names == ["ProjectModelDriftHigh"] + (
        ["ProjectModelErrorRateHigh", "ProjectModelLatencyHigh"] if online else []
    )
    assert 'model="churn", method="ks"' in rules[0]["expr"]
    assert rules[0]["expr"].endswith("> 0.35")
    platform_rules = model_alerts(platform.monitoring)
    for mine, theirs in zip(rules, platform_rules, strict=False):
        assert mine["alert"] == "Project" + theirs["alert"]
        assert (
            mine["expr"].replace('model="churn", ', "").replace('job="churn", ', "").replace('{job="churn"}', "")
            == theirs["expr"]
        )


def test_every_question_depends_only_on_questions_asked_before_it() -> None:
    """copier evaluates `when`, defaults and validators in file order: a later answer is still
    undefined there (an answer so hidden on `copier copy` but recorded on `copier update`)."""
    names = [n for n in questions() if not n.startswith("_")]
    for position, name in enumerate(names):
        question = questions()[name]
        # copier renders strings (and lists of them) as templates; a mapping default (the facts) is data
        text = " ".join(str(v) for key in ("when", "default", "validator") if isinstance(v := question.get(key, ""), str | list))
        used = {n for n in names if re.search(rf"\b{n}\b", text)} - {name}
        later = sorted(n for n in used if names.index(n) > position)
        assert later == [], f"{name} uses {later}, which copier asks later"
