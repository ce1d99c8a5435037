"""Invalid specs: each gives the expected located message, and all problems come at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_scaffold.errors import InputFileError, SpecError
from mlops_scaffold.spec import Platform, load_spec, load_specs, parse_text
from mlops_scaffold.spec.loader import MAX_FILE_BYTES

# (id, spec text, [(line, column, key path, part of the message)])
CASES: list[tuple[str, str, list[tuple[int, int, str, str]]]] = [
    ("missing-name", "target: kubernetes\n", [(1, 1, "name", "required key is missing")]),
    ("unknown-key-typo", "name: a\ntrainig: {}\n", [(2, 1, "trainig", "did you mean 'training'")]),
    ("bad-target", "name: a\ntarget: azure\n", [(2, 1, "target", "'kubernetes', 'aws' or 'gcp'")]),
    ("unquoted-version", "name: a\nkubernetes_version: 1.30\n", [(2, 1, "kubernetes_version", "write it in quotes")]),
    ("unsupported-version", 'name: a\nkubernetes_version: "1.20"\n', [(2, 1, "kubernetes_version", "pattern")]),
    ("bad-name", "name: My_Platform\n", [(1, 1, "name", "is not a DNS-1123 label")]),
    ("duplicate-key", "name: a\nname: b\n", [(2, 1, "name", "duplicate key 'name' (first defined on line 1)")]),
    ("aws-without-section", "name: a\ntarget: aws\n", [(1, 1, "aws", "target aws needs an aws section")]),
    (
        "gcp-on-kubernetes",
        "name: a\ngcp: {project: my-proj-1, region: europe-west4}\n",
        [(2, 1, "gcp", "only allowed when target is gcp")],
    ),
    (
        "prod-without-approval",
        "name: a\nenvironments:\n  - name: dev\n  - name: prod\n    approval: false\n",
        [(5, 5, "environments[1].approval", "must require approval")],
    ),
    (
        "duplicate-environment",
        "name: a\nenvironments:\n  - {name: dev}\n  - {name: dev}\n",
        [(4, 6, "environments[1].name", "duplicate environment name 'dev'")],
    ),
    (
        "pool-min-above-max",
        "name: a\ntraining:\n  node_pools:\n    - name: cpu\n      min: 5\n      max: 2\n",
        [(5, 7, "training.node_pools[0].min", "min 5 is above max 2")],
    ),
    (
        "gpu-pool-without-type",
        "name: a\ntraining:\n  node_pools:\n    - name: g\n      gpu: {count: 2}\n",
        [(5, 7, "training.node_pools[0].gpu.type", "must name its accelerator type")],
    ),
    (
        "bad-quantity",
        "name: a\ntraining:\n  queues:\n    - name: q\n      memory: 12 GB\n",
        [(5, 7, "training.queues[0].memory", "must be a non-negative Kubernetes quantity")],
    ),
    (
        "gpu-quota-without-gpu-pool",
        "name: a\ntraining:\n  queues:\n    - name: q\n      gpu: 2\n",
        [(5, 7, "training.queues[0].gpu", "has a GPU quota but no GPU node pool")],
    ),
    (
        "queue-names-unknown-pool",
        "name: a\ntraining:\n  queues:\n    - name: q\n      pools: [nope]\n",
        [(5, 15, "training.queues[0].pools[0]", "unknown pool 'nope'")],
    ),
    (
        "bad-cron",
        'name: a\nmonitoring:\n  drift:\n    schedule: "0 25 * * *"\n',
        [(4, 5, "monitoring.drift.schedule", "hour 25 is outside 0-23")],
    ),
    (
        "cron-field-count",
        'kind: Project\nname: p\ntraining:\n  schedule: "every day"\n',
        [(4, 3, "training.schedule", "expected 5 fields separated by single spaces, got 2")],
    ),
    (
        "slack-without-channel",
        "name: a\nmonitoring:\n  channels:\n    - {name: s, type: slack}\n",
        [(4, 7, "monitoring.channels[0].slack_channel", "needs slack_channel")],
    ),
    (
        "bad-duration",
        "name: a\nmonitoring:\n  retention: 2 weeks\n",
        [(3, 3, "monitoring.retention", "not a duration")],
    ),
    (
        "threshold-out-of-range",
        "name: a\nmonitoring:\n  drift: {threshold: 0}\n",
        [(3, 11, "monitoring.drift.threshold", "greater than 0")],
    ),
    (
        "unknown-chart",
        "name: a\ncharts:\n  overrides:\n    nginx: {version: 1.0.0}\n",
        [(4, 5, "charts.overrides.nginx", "unknown chart 'nginx'")],
    ),
    (
        "registry-not-on-target",
        "name: a\ncontainer_registry: {type: ecr}\n",
        [(2, 22, "container_registry.type", "ecr is not available on kubernetes")],
    ),
    (
        "managed-db-on-kubernetes",
        "name: a\nmodel_registry:\n  database: {type: managed}\n",
        [(3, 14, "model_registry.database.type", "managed services need target aws or gcp")],
    ),
    (
        "project-name-too-long",
        "kind: Project\nname: " + "a" * 41 + "\n",
        [(2, 1, "name", "at most 40 characters")],
    ),
    (
        "sklearn-with-gpus",
        "kind: Project\nname: p\ntraining: {gpus: 1}\n",
        [(3, 12, "training.gpus", "sklearn does not train on GPUs")],
    ),
    (
        "autoscaling-min-above-max",
        "kind: Project\nname: p\nserving:\n  autoscaling: {min_replicas: 9, max_replicas: 3}\n",
        [(4, 17, "serving.autoscaling.min_replicas", "min_replicas 9 is above max_replicas 3")],
    ),
    (
        "bad-owner",
        "kind: Project\nname: p\nowners: [alice, 'not an owner']\n",
        [(3, 17, "owners[1]", "must be a user, an org/team or an e-mail address")],
    ),
    ("unknown-kind", "kind: Cluster\nname: a\n", [(1, 1, "kind", "unknown kind 'Cluster'")]),
    ("wrong-api-version", "apiVersion: v2\nname: a\n", [(1, 1, "apiVersion", "'mlops-scaffold/v1'")]),
    ("root-is-list", "- name: a\n", [(1, 1, "(root)", "must be a mapping, not a list")]),
    ("root-is-scalar", "just text\n", [(1, 1, "(root)", "must be a mapping, not a single value")]),
    ("empty-file", "# nothing here\n", [(1, 1, "(root)", "holds no spec document")]),
    ("syntax-error", "name: a\ntraining: [\n", [(3, 1, "(root)", "YAML syntax error")]),
    ("python-tag", "name: !!python/object/apply:os.system [ls]\n", [(1, 7, "name", "tag !!python/object")]),
    ("custom-tag", "name: !Ref foo\n", [(1, 7, "name", "tag !Ref is not allowed")]),
    ("set-tag", "name: a\nci: !!set {a, b}\n", [(2, 5, "ci", "tag !!set is not allowed")]),
    ("non-string-key", "name: a\n1: x\n", [(2, 1, "(root)", "keys must be plain strings")]),
    (
        "self-alias",
        "name: a\ncharts: &c {overrides: {kueue: *c}}\n",
        [(2, 9, "charts.overrides.kueue", "alias refers")],
    ),
    (
        "two-platforms",
        "name: a\n---\nname: b\n",
        [(3, 1, "kind", "only one Platform document is allowed")],
    ),
    (
        "project-queue-not-in-platform",
        "name: a\n---\nkind: Project\nname: p\ntraining: {queue: gpu}\n",
        [(5, 12, "training.queue", "queue 'gpu' is not in the platform")],
    ),
    (
        "duplicate-project",
        "kind: Project\nname: p\n---\nkind: Project\nname: p\n",
        [(5, 1, "name", "duplicate project name 'p'")],
    ),
]


@pytest.mark.parametrize(("text", "expected"), [pytest.param(t, e, id=i) for i, t, e in CASES])
def test_invalid_spec_is_located(text: str, expected: list[tuple[int, int, str, str]]) -> None:
    with pytest.raises(SpecError) as caught:
        parse_text(text, "spec.yaml")
    got = [(i.line, i.column, i.dotted_path, i.message) for i in caught.value.issues]
    assert len(got) == len(expected), got
    for (line, column, path, message), (e_line, e_col, e_path, e_part) in zip(got, expected, strict=True):
        assert (line, column, path) == (e_line, e_col, e_path), got
        assert e_part in message
    for issue in caught.value.issues:
        assert str(issue).startswith(f"spec.yaml:{issue.line}:{issue.column}: {issue.dotted_path}: ")


def test_at_least_twenty_distinct_cases() -> None:
    assert len({text for _, text, _ in CASES}) >= 20


def test_all_errors_reported_at_once_in_file_order() -> None:
    text = (
        "name: a\n"
        "kubernetes_version: 1.3\n"
        "training:\n"
        "  queues:\n"
        "    - {name: q, cpu: lots}\n"
        "monitoring:\n"
        "  retention: forever\n"
        "bogus: 1\n"
    )
    with pytest.raises(SpecError) as caught:
        parse_text(text, "f.yaml")
    lines = [i.line for i in caught.value.issues]
    assert lines == [2, 5, 7, 8]
    assert lines == sorted(lines)


def test_errors_across_files_are_reported_together(tmp_path: Path) -> None:
    first = tmp_path / "a.yaml"
    second = tmp_path / "b.yaml"
    first.write_text("name: Bad\n")
    second.write_text("kind: Project\nname: ok\nframework: julia\n")
    with pytest.raises(SpecError) as caught:
        load_specs([first, second])
    assert [(i.file, i.line) for i in caught.value.issues] == [(str(first), 1), (str(second), 3)]


def test_alias_bomb_is_bounded() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        prev = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([prev] * 10)}]")
    with pytest.raises(SpecError) as caught:
        parse_text("\n".join(lines) + "\n", "bomb.yaml")
    assert any("too large" in i.message for i in caught.value.issues)


@pytest.mark.parametrize("levels", [7, 9, 20])
def test_merge_key_bomb_is_bounded(levels: int) -> None:
    """Merge keys (<<) count against the same limits as aliases: 7 levels took 53 s, 9 ran for hours."""
    import time

    lines = ["m0: &m0 {}"]
    for level in range(1, levels + 1):
        prev = f"*m{level - 1}"
        lines.append(f"m{level}: &m{level} {{<<: [{', '.join([prev] * 10)}]}}")
    started = time.monotonic()
    with pytest.raises(SpecError) as caught:
        parse_text("\n".join(lines) + "\n", "merge-bomb.yaml")
    assert time.monotonic() - started < 5
    assert any("too large" in i.message for i in caught.value.issues)


@pytest.mark.parametrize("field", ["name", "description", "training"])
def test_a_huge_integer_is_one_located_error(field: str) -> None:
    text = f"kind: Project\nname: demo\n{field}: 0x{'f' * 3600}\n" if field != "name" else f"kind: Project\nname: 0x{'f' * 3600}\n"
    with pytest.raises(SpecError) as caught:
        parse_text(text, "huge.yaml")
    (issue,) = caught.value.issues
    assert "is not a valid int" in issue.message
    assert len(str(issue)) < 200


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("name: a\n" + "# pad\n" * (MAX_FILE_BYTES // 6 + 1))
    with pytest.raises(SpecError, match="byte limit"):
        load_spec(big)


def test_invalid_utf8_is_located(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"name: a\ndescription: caf\xe9\n")
    with pytest.raises(SpecError) as caught:
        load_spec(bad)
    assert (caught.value.issues[0].line, caught.value.issues[0].column) == (2, 17)


@pytest.mark.parametrize("make", ["missing", "directory"])
def test_unreadable_paths_are_usage_errors(tmp_path: Path, make: str) -> None:
    target = tmp_path / "spec.yaml"
    if make == "directory":
        target.mkdir()
    with pytest.raises(InputFileError) as caught:
        load_spec(target)
    assert str(caught.value).startswith(str(target))


def test_reused_anchor_is_legal_yaml_and_the_later_one_wins() -> None:
    text = "container_registry: {storage: &s 10Gi}\nmonitoring: {storage: &s 20Gi}\nmodel_registry: {database: {storage: *s}}\nname: demo\n"
    (doc,) = parse_text(text, "anchors.yaml")
    assert isinstance(doc.model, Platform)
    assert doc.model.model_registry.database.storage == "20Gi"
