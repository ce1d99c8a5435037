"""The contract between the spec and the template: one declarative table of copier's questions.

Each question names the spec model field it mirrors, when copier asks it and how its answer is
read from a spec. Its type, choices, bounds, default, help and validator come from that field:
`Literal` choices, `ge`/`le`/`gt`/`lt` bounds, `max_length`, and the same pattern constants the
models validate with (`Checked` rules and `pattern`s). From this one table come copier.yml's
question block (`scripts/regen-docs` writes it between markers; a test fails when it is stale),
`answers_from_spec`, the project starter and the template matrix's values. A spec field the
template needs is added here, once.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from types import UnionType
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from mlops_scaffold.constants import ANSWERS_FILE, MAX_ENVIRONMENTS, OBJECT_STORE_URL
from mlops_scaffold.facts import FACTS
from mlops_scaffold.spec.fields import DNS_LABEL_RE, ENDPOINT_RULE, REGISTRY_HOST_RULE, Checked, python_pattern
from mlops_scaffold.spec.platform import AlertThresholds, Ci, Drift, Environment, Platform, Slo
from mlops_scaffold.spec.project import (
    CPU_ONLY_FRAMEWORKS,
    Autoscaling,
    DataSettings,
    Project,
    ProjectTraining,
    Serving,
)

Environments = list[dict[str, str | int | bool]]
AnswerValue = str | int | float | bool | Environments | list[str]
"""What an answer can be: a scalar, or the platform's environments, or a list of file names."""

PROJECT = "kind == 'project'"
PLATFORM = "kind == 'platform'"
ONLINE = f"{PROJECT} and serving_mode == 'online'"


@dataclass(frozen=True)
class Rule:
    """A rule between questions: a Jinja condition that is true when the answer is wrong, and what
    to say. The spec model states the same rule in Python; the boundary test holds them equal."""

    wrong_when: str
    message: str


@dataclass(frozen=True)
class Sources:
    """The specs an answer is read from: the project (absent for a platform repository) and the platform."""

    project: Project | None
    platform: Platform | None


Read = Callable[[Sources], AnswerValue | None]


@dataclass(frozen=True)
class Question:
    """One copier question and the spec field it mirrors."""

    name: str
    model: type[BaseModel] | None
    field: str | None
    read: Read
    """The answer from the specs; None when they do not say (copier's default stands)."""
    when: str = ""
    """Jinja condition under which copier asks; empty for always."""
    rules: tuple[Rule, ...] = ()
    checked: Checked | None = None
    """The rule of a value the spec derives rather than holds (no field)."""
    alternative: tuple[str, type[BaseModel], str] | None = None
    """(Jinja condition, model, field): where the bounds come from when the condition holds."""
    default: str | None = None
    """The default where the field has none, or a Jinja default for a value the spec derives from the facts."""
    help: str = ""
    """Help for a question with no field, or a longer one than the field's description."""
    message: str = ""
    """What a valid value is, after "must be", for a field whose rule is a bare pattern."""
    validator: str = ""
    """A whole validator, for an answer with structure (the environments)."""
    samples: tuple[Any, ...] = ()
    """Values the template matrix tries besides the default (strings and structures)."""
    joined: bool = False
    """A list field the template takes as one comma-separated answer (each item keeps its rule)."""

    @property
    def info(self) -> FieldInfo | None:
        return None if self.model is None or self.field is None else self.model.model_fields[self.field]


def _project(read: Callable[[Project], AnswerValue | None]) -> Read:
    return lambda s: None if s.project is None else read(s.project)


def _platform(read: Callable[[Platform], AnswerValue | None]) -> Read:
    return lambda s: None if s.platform is None else read(s.platform)


def _replicas(project: Project) -> int:
    scaling = project.serving.autoscaling
    return scaling.min_replicas if scaling.enabled else project.serving.replicas


def environment_answers(platform: Platform) -> Environments:
    """The template's `environments` answer: each environment's name, approval and replica bounds."""
    return [
        {"name": e.name, "approval": e.approval, "min_replicas": e.min_replicas, "max_replicas": e.max_replicas}
        for e in platform.environments
    ]


def data_remote(sources: Sources) -> tuple[str, str]:
    """The project's DVC remote and its S3 endpoint ("" for the cloud's own): the spec's
    `data.remote`, else the platform's object store (its artifact bucket, under dvc/<project>),
    else nothing, and the template's local remote stands."""
    project, platform = sources.project, sources.platform
    if project is None:
        return "", ""
    if project.data.remote:
        return project.data.remote, ""
    if platform is None:
        return "", ""
    scheme = "gs" if platform.target == "gcp" and platform.artifact_store_type == "managed" else "s3"
    remote = f"{scheme}://{platform.model_registry.artifact_store.bucket}/dvc/{project.name}"
    return remote, OBJECT_STORE_URL if platform.artifact_store_type == "in-cluster" else ""


def _jinja_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _environments_validator() -> str:
    name = _jinja_string(python_pattern(DNS_LABEL_RE))
    longest = Environment.model_fields["name"].metadata[0].max_length
    checks = (
        f"{{% if env is not mapping or (env.name | default('') | string | regex_search({name})) is none"
        f" or (env.name | length) > {longest} %}}each environment needs a name that is a DNS-1123 label of at"
        f" most {longest} characters"
        "{% elif env.min_replicas | default(1) > env.max_replicas | default(3) %}environment {{ env.name }}:"
        " min_replicas is above max_replicas"
        "{% elif env.name in ['prod', 'production'] and not env.approval | default(false) %}environment"
        " {{ env.name }} must require approval"
        "{% elif (environments | selectattr('name', 'equalto', env.name) | list | length) > 1 %}environment"
        " {{ env.name }} appears twice{% endif %}"
    )
    return (
        "{% if environments is string or environments is not iterable or environments is mapping"
        f" or environments | length < 1 or environments | length > {MAX_ENVIRONMENTS} %}}"
        f"between 1 and {MAX_ENVIRONMENTS} environments"
        f"{{% else %}}{{% for env in environments %}}{checks}{{% endfor %}}{{% endif %}}"
    )


QUESTIONS: tuple[Question, ...] = (
    Question("project_name", Project, "name", _project(lambda p: p.name), PROJECT, default="my-model",
             message="lower-case letters, digits and '-', starting and ending with a letter or digit",
             samples=("a", "m" + "-long" * 7 + "-abc")),
    Question("description", Project, "description", _project(lambda p: p.description), PROJECT,
             message="one line without quotes, backticks, $, backslashes, braces or angle brackets",
             samples=(("Scores churn risk for every account, nightly. " * 5)[:200],)),
    Question("owners", Project, "owners", _project(lambda p: ", ".join(p.owners)), PROJECT, joined=True,
             help="Owners, comma-separated (users, org/team, or e-mail addresses)",
             samples=("alice, org/ml-team, bob@example.com",)),
    Question("framework", Project, "framework", _project(lambda p: p.framework), PROJECT),
    Question("python_version", Project, "python_version", _project(lambda p: p.python_version), PROJECT),
    Question("training_queue", ProjectTraining, "queue", _project(lambda p: p.training.queue), PROJECT,
             message="a DNS-1123 label", samples=("q" * 63,)),
    Question("training_gpus", ProjectTraining, "gpus", _project(lambda p: p.training.gpus), PROJECT,
             rules=(Rule(f"training_gpus > 0 and framework in {list(CPU_ONLY_FRAMEWORKS)}",
                         "{{ framework }} does not train on GPUs"),)),
    Question("training_cpu", ProjectTraining, "cpu", _project(lambda p: p.training.cpu), PROJECT,
             samples=("500m", "16")),
    Question("training_memory", ProjectTraining, "memory", _project(lambda p: p.training.memory), PROJECT,
             samples=("512Mi", "64Gi")),
    Question("training_schedule", ProjectTraining, "schedule", _project(lambda p: p.training.schedule or ""), PROJECT,
             help="Cron schedule of training runs (five fields); empty for manual runs only",
             samples=("", "@daily")),
    Question("drift_metric", Drift, "metric", _platform(lambda p: p.monitoring.drift.metric), PROJECT),
    Question("drift_threshold", Drift, "threshold", _platform(lambda p: p.monitoring.drift.threshold), PROJECT),
    Question("drift_schedule", Drift, "schedule", _platform(lambda p: p.monitoring.drift.schedule), PROJECT,
             samples=("@hourly",)),
    Question("serving_mode", Serving, "mode", _project(lambda p: p.serving.mode), PROJECT),
    Question("serving_autoscaling", Autoscaling, "enabled", _project(lambda p: p.serving.autoscaling.enabled), ONLINE),
    Question("serving_replicas", Autoscaling, "min_replicas", _project(_replicas), ONLINE,
             alternative=("not serving_autoscaling", Serving, "replicas"),
             help="Replicas of the model server (the autoscaler's minimum when it scales)"),
    Question("serving_max_replicas", Autoscaling, "max_replicas",
             _project(lambda p: p.serving.autoscaling.max_replicas), f"{ONLINE} and serving_autoscaling",
             rules=(Rule("serving_max_replicas < serving_replicas", "must be at least serving_replicas"),)),
    Question("serving_target_cpu", Autoscaling, "target_cpu_percent",
             _project(lambda p: p.serving.autoscaling.target_cpu_percent), f"{ONLINE} and serving_autoscaling"),
    Question("alert_error_rate", AlertThresholds, "error_rate", _platform(lambda p: p.monitoring.alerts.error_rate),
             ONLINE),
    Question("latency_ms", Slo, "latency_ms", _platform(lambda p: p.monitoring.slo.latency_ms), ONLINE),
    Question("dvc", DataSettings, "dvc", _project(lambda p: p.data.dvc), PROJECT),
    Question("dvc_remote", DataSettings, "remote", lambda s: data_remote(s)[0] or None, f"{PROJECT} and dvc",
             help="DVC remote: an s3:// or gs:// URL (the platform's object store, under dvc/<project>), or empty "
             "for a local folder (.dvc-storage) that works offline",
             message="an s3:// or gs:// URL, or a local folder",
             samples=("s3://mlflow-artifacts/dvc/x", "gs://team-data/dvc")),
    Question("dvc_endpoint", None, None, lambda s: data_remote(s)[1] if data_remote(s)[0] else None,
             f"{PROJECT} and dvc and dvc_remote.startswith('s3://')", checked=ENDPOINT_RULE,
             help="S3 API endpoint of the remote; empty for AWS S3 itself", default="",
             samples=(OBJECT_STORE_URL,)),
    Question("ci_provider", Ci, "provider", _platform(lambda p: p.ci.provider)),
    Question("ci_organization", Ci, "organization", _platform(lambda p: p.ci.organization),
             message="an organization or group name", samples=("o" * 100,)),
    Question("target", Platform, "target", _platform(lambda p: p.target)),
    Question("platform_stack", Project, "platform_stack", _project(lambda p: p.platform_stack), PROJECT,
             message="org/project/stack", samples=("acme/platform-prod/prod-eu",)),
    Question("registry", None, None, _platform(lambda p: p.registry_host), PROJECT, checked=REGISTRY_HOST_RULE,
             help="Container registry host (and path) that images are pushed to",
             default="{{ facts.registry.service }}.{{ facts.registry.namespace }}.svc.cluster.local:"
             "{{ facts.registry.port }}",
             samples=("123456789012.dkr.ecr.us-east-1.amazonaws.com",)),
    Question("environments", Platform, "environments", _platform(environment_answers),
             help="The platform's environments, in promotion order (the spec's `environments`): each gets a "
             "kustomize overlay, a Pulumi stack and a CI environment; replicas bound the model server there",
             validator=_environments_validator()),
    Question("platform_name", Platform, "name", _platform(lambda p: p.name), PLATFORM, default="platform",
             message="a DNS-1123 label"),
    Question("state_backend", Ci, "state_backend", _platform(lambda p: p.ci.state_backend), PLATFORM),
)
"""copier.yml's questions about the spec, in the order copier asks them."""

BY_NAME = {q.name: q for q in QUESTIONS}
TEMPLATE_ONLY = ("kind", "spec_files", "stack_dir")
"""Answers of copier.yml's own questions, outside the table: what to render and where its files go."""


# --- answers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answers:
    """copier answers computed from specs: only questions of the table (and the template's own)."""

    values: Mapping[str, AnswerValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.values) - set(BY_NAME) - set(TEMPLATE_ONLY))
        if unknown:
            raise KeyError(f"not questions of the template: {', '.join(unknown)}")

    def __getitem__(self, name: str) -> AnswerValue:
        return self.values[name]

    def __contains__(self, name: object) -> bool:
        return name in self.values

    def data(self) -> dict[str, AnswerValue]:
        """The answers as copier's `data`."""
        return dict(self.values)

    def get(self, name: str, default: AnswerValue | None = None) -> AnswerValue | None:
        return self.values.get(name, default)


@cache
def _jinja() -> Any:
    from jinja2 import Environment

    return Environment()


def asked(question: Question, answers: Mapping[str, object]) -> bool:
    """Whether copier asks `question` given the answers before it (its `when`)."""
    if not question.when:
        return True
    return bool(_jinja().compile_expression(question.when)(**answers))


def _answers(sources: Sources, kind: str, extra: Mapping[str, AnswerValue] | None = None) -> Answers:
    known: dict[str, object] = {"kind": kind, **defaults()}
    given: dict[str, AnswerValue] = {"kind": kind} if kind == "platform" else {}
    for question in QUESTIONS:
        if not asked(question, known):
            continue
        value = question.read(sources)
        if value is not None:
            given[question.name] = known[question.name] = value
    return Answers(given | dict(extra or {}))


def answers_from_spec(project: Project, platform: Platform | None = None) -> Answers:
    """copier answers equivalent to a Project spec (and its platform, when the files have one):
    every question copier asks that the specs answer; without a platform, the template's
    defaults (the Platform spec's) stand."""
    return _answers(Sources(project, platform), "project")


def platform_answers(platform: Platform, spec_files: list[str], stack_dir: str = ".") -> Answers:
    """copier answers (kind: platform) equivalent to a Platform spec."""
    return _answers(Sources(None, platform), "platform", {"spec_files": spec_files, "stack_dir": stack_dir})


# --- copier.yml ----------------------------------------------------------------------------


def _annotation(info: FieldInfo | None) -> Any:
    """The field's type; an optional one's (the empty answer stands for null)."""
    if info is None:
        return str
    annotation = info.annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, UnionType) and len(args) == 1:
        return args[0]
    return annotation


def _optional(info: FieldInfo | None) -> bool:
    return info is not None and type(None) in typing.get_args(info.annotation)


def copier_type(question: Question) -> str:
    annotation = _annotation(question.info)
    if question.joined:
        return "str"
    if typing.get_origin(annotation) is list:
        return "yaml"
    if typing.get_origin(annotation) is Literal:
        return "int" if all(isinstance(a, int) for a in typing.get_args(annotation)) else "str"
    return {bool: "bool", int: "int", float: "float"}.get(annotation, "str")


def choices(question: Question) -> list[Any] | None:
    annotation = _annotation(question.info)
    return list(typing.get_args(annotation)) if typing.get_origin(annotation) is Literal else None


_DEFAULT_PLATFORM = Sources(None, Platform.model_validate({"name": "platform"}))


def default(question: Question) -> Any:
    """The default answer: the model's default, as the answer states it (a structured default, such
    as the environments, as the table's `read` gives it for the default platform)."""
    if question.default is not None or question.info is None:
        return question.default
    value = question.info.get_default(call_default_factory=True)
    if question.joined:
        return ", ".join(value)
    if isinstance(value, list) and any(isinstance(v, BaseModel) for v in value):
        return question.read(_DEFAULT_PLATFORM)
    if isinstance(value, BaseModel):  # pragma: no cover - every question is a scalar or a list
        raise TypeError(question.name)
    return "" if value is None else value


@cache
def defaults() -> dict[str, Any]:
    """Every question's default, and the template's facts (its hidden answer)."""
    found: dict[str, Any] = {"facts": FACTS.template_answer()}
    for question in QUESTIONS:
        value = default(question)
        if isinstance(value, str) and "{{" in value:
            value = _jinja().from_string(value).render(**found)
        found[question.name] = value
    return found


def help_text(question: Question) -> str:
    if question.help:
        return question.help
    info = question.info
    if info is None or not info.description:
        raise ValueError(f"question {question.name}: its field has no description, which copier shows as help")
    return info.description.rstrip(".")


def _metadata(info: FieldInfo) -> list[Any]:
    """The field's constraints, including those of an optional type (`Cron | None`)."""
    found = list(info.metadata)
    for arg in typing.get_args(info.annotation):
        if typing.get_origin(arg) is typing.Annotated:
            found += list(typing.get_args(arg)[1:])
    return found


def _bounds(info: FieldInfo) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for meta in _metadata(info):
        if isinstance(meta, Checked):
            continue
        for name in ("ge", "gt", "le", "lt", "min_length", "max_length", "pattern"):
            value = getattr(meta, name, None)
            if value is not None:
                found[name] = value
    return found


_NUMBER_BOUNDS = (("ge", "<", "at least"), ("gt", "<=", "above"), ("le", ">", "at most"), ("lt", ">=", "below"))
"""Each bound of a number: the comparison that breaks it, and how the message says it."""


def _number_condition(name: str, bounds: dict[str, Any]) -> tuple[str, str] | None:
    found = [(f"{name} {wrong} {bounds[b]}", f"{word} {bounds[b]}") for b, wrong, word in _NUMBER_BOUNDS if b in bounds]
    if not found:
        return None
    condition = " or ".join(c for c, _ in found)
    if "ge" in bounds and "le" in bounds:
        return condition, f"must be between {bounds['ge']} and {bounds['le']}"
    return condition, "must be " + " and ".join(w for _, w in found)


def _string_conditions(name: str, question: Question, bounds: dict[str, Any], rule: Checked | None) -> tuple[str, str]:
    conditions = []
    described = []
    if rule is not None:
        pattern = rule.joined() if question.joined else rule.pattern
        conditions.append(f"({name} | regex_search({_jinja_string(python_pattern(pattern))})) is none")
        described.append(f"comma-separated: each {rule.message}" if question.joined else rule.message)
    if "pattern" in bounds:
        conditions.append(f"({name} | regex_search({_jinja_string(python_pattern(bounds['pattern']))})) is none")
        described.append(question.message or f"a string matching {bounds['pattern']}")
    if bounds.get("min_length", 0) > 1:
        conditions.append(f"({name} | length) < {bounds['min_length']}")
        described.append(f"at least {bounds['min_length']} characters")
    if "max_length" in bounds:
        conditions.append(f"({name} | length) > {bounds['max_length']}")
        described.append(f"at most {bounds['max_length']} characters")
    condition = " or ".join(conditions)
    if _optional(question.info) or question.default == "":
        condition = f"{name} and ({condition})"  # empty: the spec's null, or the derived default
    return condition, "must be " + ", ".join(dict.fromkeys(described))


def _checks(question: Question, model: type[BaseModel], field_name: str) -> list[tuple[str, str]]:
    info = model.model_fields[field_name]
    annotation = _annotation(info)
    bounds = _bounds(info)
    rule = next((m for m in _metadata(info) if isinstance(m, Checked)), None)
    if question.joined:  # each item's rule, from the list's element type
        element = typing.get_args(annotation)[0]
        rule = next(m for m in typing.get_args(element)[1:] if isinstance(m, Checked))
    if annotation in (int, float) and not isinstance(annotation, bool):
        found = _number_condition(question.name, bounds)
        return [found] if found else []
    if annotation is str or rule is not None:
        if not bounds and rule is None:
            return []
        return [_string_conditions(question.name, question, bounds, rule)]
    return []


def validator(question: Question) -> str:
    """copier's validator for the question: the field's rules, then the rules between questions."""
    if question.validator:
        return question.validator
    if question.checked is not None:
        checks = [_string_conditions(question.name, question, {}, question.checked)]
    elif question.model is not None and question.field is not None:
        checks = _checks(question, question.model, question.field)
    else:
        checks = []
    if question.alternative is not None:
        condition, model, field_name = question.alternative
        otherwise = _checks(question, model, field_name)
        text = "".join(f"{{% if {c} %}}{m}{{% endif %}}" for c, m in otherwise)
        main = "".join(f"{{% if {c} %}}{m}{{% endif %}}" for c, m in checks)
        rules = "".join(f"{{% if {r.wrong_when} %}}{r.message}{{% endif %}}" for r in question.rules)
        return f"{{% if {condition} %}}{text}{{% else %}}{main}{{% endif %}}{rules}"
    checks += [(r.wrong_when, r.message) for r in question.rules]
    return "".join(f"{{% if {c} %}}{m}{{% endif %}}" for c, m in checks)


def copier_entries() -> Iterator[tuple[str, dict[str, Any]]]:
    """copier.yml's generated entries, in order: the answers file, the facts, the release, the questions."""
    from mlops_scaffold import __version__

    yield "_answers_file", {"value": ANSWERS_FILE}
    yield "facts", {"type": "yaml", "when": False, "default": FACTS.template_answer()}
    yield "scaffold_version", {"type": "str", "when": False, "default": __version__}
    for question in QUESTIONS:
        entry: dict[str, Any] = {"type": copier_type(question), "help": help_text(question)}
        if question.when:
            entry["when"] = "{{ " + question.when + " }}"
        options = choices(question)
        if options is not None:
            entry["choices"] = options
        entry["default"] = default(question)
        check = validator(question)
        if check:
            entry["validator"] = check
        yield question.name, entry


BEGIN = "# >>> generated from src/mlops_scaffold/questions.py by scripts/regen-docs; edit the spec models, not this"
END = "# <<< generated"


def _scalar(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def questions_block() -> str:
    """The text between copier.yml's markers."""
    lines = [BEGIN]
    for name, entry in copier_entries():
        if "value" in entry:
            lines.append(f"{name}: {_scalar(entry['value'])}")
            continue
        lines.append("")
        lines.append(f"{name}:")
        for key, value in entry.items():
            if key == "validator":
                lines.append("  validator: |-")
                lines.append("    " + value)
            else:
                lines.append(f"  {key}: {_scalar(value)}")
    lines.append(END)
    return "\n".join(lines) + "\n"


def regenerate(copier_yml: str) -> str:
    """copier.yml with its generated block rewritten."""
    start, end = copier_yml.find(BEGIN), copier_yml.find(END)
    if start < 0 or end < start:
        raise ValueError("copier.yml has no generated block (its markers are missing)")
    return copier_yml[:start] + questions_block() + copier_yml[end + len(END) + 1 :]
