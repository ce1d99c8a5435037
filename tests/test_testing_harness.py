"""The public mock harness: records parents and inputs, hides secrets, and isolates runs."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from mlops_scaffold.testing import SECRET, run_program, scrub


class Box(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("test:index:Box", name)
        secret = pulumi.Config().require_secret("token")
        k8s.core.v1.Secret(
            "s",
            metadata={"name": "s"},
            string_data={"token": secret, "user": "bob"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        k8s.core.v1.ConfigMap(
            "c", metadata={"name": "c"}, data={"replicas": "3"}, opts=pulumi.ResourceOptions(parent=self)
        )
        self.register_outputs({})


def program() -> None:
    box = Box("box")
    pulumi.export("name", "box")
    pulumi.export("token", pulumi.Config().require_secret("token"))
    pulumi.export("parent", box.urn)


def test_records_resources_with_parents_and_outputs() -> None:
    run = run_program(program, project="p", stack="s", secret_config={"token": "t0p-s3cret"})
    box = run.named("test:index:Box", "box")
    assert {r.name for r in run.children(box)} == {"s", "c"}
    assert all(r.parent_type == "test:index:Box" for r in run.children(box))
    assert run.outputs["name"] == "box"
    assert run.outputs["token"] == SECRET
    secret = run.named("kubernetes:core/v1:Secret", "s")
    assert secret.inputs["stringData"] == {"token": SECRET, "user": SECRET}
    assert "t0p-s3cret" not in repr(run.resources)


def test_runs_are_isolated() -> None:
    first = run_program(program, secret_config={"token": "a"})
    second = run_program(program, secret_config={"token": "b"})
    assert len(first.resources) == len(second.resources) == 3


def test_scrub_turns_protobuf_numbers_back_into_ints() -> None:
    assert scrub({"a": [1.0, 2.5], "b": {"c": 3.0}}) == {"a": [1, 2.5], "b": {"c": 3}}
