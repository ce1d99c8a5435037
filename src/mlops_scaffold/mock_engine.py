"""Pulumi's own mock engine, driven to record every resource a program registers: what `plan`
runs on, and what `mlops_scaffold.testing` offers users for their tests.

Pulumi's mock API (`pulumi.runtime.set_mocks`) has no public way to run a program to completion
outside `pulumi.runtime.test`'s async wrapper or to read back what was registered, so this module
alone reaches into `pulumi.runtime` internals (the mock monitor, the runtime settings and the
synchronous runner), behind one lock. A Pulumi upgrade that moves them breaks here and only here,
and the tests that run `plan` and the harness show it.

Secret values never leave it in plaintext; they read as `[secret]`. Helm releases are recorded as
`kubernetes:helm.sh/v3:Release` with their values; the mock engine does not expand charts.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as _mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

SECRET = "[secret]"
"""What a secret value reads as in captured inputs and outputs."""

_LOCK = threading.Lock()  # Pulumi's runtime settings are process-global


def _mask(value: Any) -> Any:
    """Keep the shape of a secret (keys, list lengths) but none of its values."""
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return SECRET


def scrub(value: Any) -> Any:
    """Replace secret values with SECRET and integral floats (protobuf numbers) with ints, recursively."""
    if rpc.is_rpc_secret(value):
        return _mask(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass(frozen=True)
class CapturedResource:
    """One resource as the program registered it."""

    urn: str
    type: str
    name: str
    parent: str | None
    inputs: dict[str, Any]
    custom: bool
    dependencies: tuple[str, ...] = ()
    """URNs of the resources this one waits for (`depends_on`)."""

    @property
    def parent_type(self) -> str | None:
        """The type of the parent, read off the URN's type chain."""
        if not self.parent:
            return None
        return self.parent.split("::")[-2].split("$")[-1]

    @property
    def manifest(self) -> dict[str, Any] | None:
        """The Kubernetes object this resource would apply, for `kubernetes:*` object types."""
        if not self.type.startswith("kubernetes:") or "kind" not in self.inputs or "apiVersion" not in self.inputs:
            return None
        return dict(self.inputs)


@dataclass
class MockRun:
    """Everything a program registered, in registration order, and its stack outputs."""

    resources: list[CapturedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[CapturedResource]:
        return [r for r in self.resources if r.type == type_]

    def named(self, type_: str, name: str) -> CapturedResource:
        return next(r for r in self.resources if r.type == type_ and r.name == name)

    def children(self, parent: CapturedResource) -> list[CapturedResource]:
        return [r for r in self.resources if r.parent == parent.urn]

    def manifests(self) -> list[dict[str, Any]]:
        return [m for r in self.resources if (m := r.manifest) is not None]


class RecordingMocks(pulumi.runtime.Mocks):
    """Echo inputs back as outputs, adding the computed outputs that programs commonly read.

    `stack_outputs` maps a stack name to the outputs a StackReference to it should see.
    """

    def __init__(self, stack_outputs: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        super().__init__()
        self.stack_outputs = dict(stack_outputs or {})

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        outputs = dict(args.inputs)
        if args.typ == "pulumi:pulumi:StackReference":
            name = str(args.inputs.get("name", args.name))
            return name, {"name": name, "outputs": dict(self.stack_outputs.get(name, {})), "secretOutputNames": []}
        if args.typ == "random:index/randomPassword:RandomPassword":
            outputs.setdefault("result", f"mock-password-{args.name}")
            outputs.setdefault("bcryptHash", f"$2a$10$mock{args.name}")
        for key, value in _cloud_outputs(args.typ, args.name, outputs).items():
            outputs.setdefault(key, value)
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """Invokes: an existing VPC's subnets; anything else returns nothing (and no failure)."""
        if args.token == "aws:ec2/getSubnets:getSubnets":
            subnets = ["subnet-0mock0000000000a", "subnet-0mock0000000000b"]
            return {"ids": subnets, "filters": args.args.get("filters")}, []
        return {}, []


MOCK_ACCOUNT = "123456789012"
MOCK_REGION = "us-east-1"


def _cloud_outputs(typ: str, name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs the clouds compute (ARNs, endpoints, e-mails) that programs read back."""
    provider, _, rest = typ.partition(":")
    service = rest.split("/", 1)[0]
    out: dict[str, Any] = {}
    if provider == "aws":
        region = "" if service in ("iam", "s3") else MOCK_REGION
        out["arn"] = f"arn:aws:{service}:{region}:{MOCK_ACCOUNT}:{rest.rsplit(':', 1)[-1].lower()}/{name}"
        if typ == "aws:eks/cluster:Cluster":
            issuer = f"https://oidc.eks.mock.amazonaws.com/id/{name.upper()}"
            out |= {
                "endpoint": f"https://{name}.eks.mock.amazonaws.com",
                "certificateAuthority": {"data": "bW9jaw=="},
                "identities": [{"oidcs": [{"issuer": issuer}]}],
            }
        if typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            out["arn"] = (
                f"arn:aws:iam::{MOCK_ACCOUNT}:oidc-provider/{str(inputs.get('url', '')).removeprefix('https://')}"
            )
        if typ == "aws:rds/instance:Instance":
            out["address"] = f"{name}.mock.rds.amazonaws.com"
        if typ == "aws:s3/bucket:Bucket":
            out["arn"] = f"arn:aws:s3:::{inputs.get('bucket', name)}"
    elif provider == "gcp":
        if typ == "gcp:container/cluster:Cluster":
            out |= {"endpoint": "10.0.0.2", "masterAuth": {"clusterCaCertificate": "bW9jaw=="}}
        if typ == "gcp:serviceaccount/account:Account":
            project = inputs.get("project", "mock-project")
            out |= {
                "email": f"{inputs.get('accountId', name)}@{project}.iam.gserviceaccount.com",
                "name": f"projects/{project}/serviceAccounts/{inputs.get('accountId', name)}",
            }
        if typ == "gcp:sql/databaseInstance:DatabaseInstance":
            out["privateIpAddress"] = "10.100.0.3"
        if typ == "gcp:iam/workloadIdentityPool:WorkloadIdentityPool":
            out["name"] = (
                f"projects/000000000000/locations/global/workloadIdentityPools/{inputs.get('workloadIdentityPoolId')}"
            )
        if typ == "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider":
            out["name"] = f"projects/000000000000/locations/global/workloadIdentityPools/ci/providers/{name}"
        if typ == "gcp:artifactregistry/repository:Repository":
            out["name"] = inputs.get("repositoryId", name)
    return out


class _RecordingMonitor(_mocks.MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks, run: MockRun) -> None:
        super().__init__(mocks)
        self.run = run

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self.run.resources.append(
                CapturedResource(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent or None,
                    inputs=scrub(rpc.deserialize_properties(request.object)),
                    custom=bool(request.custom),
                    dependencies=tuple(request.dependencies),
                )
            )
        return response


@contextmanager
def _runtime(
    project: str,
    stack: str,
    config: Mapping[str, str],
    secret_keys: list[str],
    mocks: pulumi.runtime.Mocks,
    run: MockRun,
) -> Iterator[None]:
    with _LOCK:
        settings.SETTINGS.rpc_manager.clear()
        settings.SETTINGS.outputs.clear()
        settings.ROOT.set(None)
        pulumi.runtime.set_all_config({k if ":" in k else f"{project}:{k}": v for k, v in config.items()}, secret_keys)
        pulumi.runtime.set_mocks(
            mocks, project=project, stack=stack, preview=False, monitor=_RecordingMonitor(mocks, run)
        )
        try:
            yield
        finally:
            pulumi.runtime.set_all_config({}, [])
            settings.ROOT.set(None)


def run_program(
    program: Callable[[], object],
    *,
    project: str = "project",
    stack: str = "stack",
    config: Mapping[str, str] | None = None,
    secret_config: Mapping[str, str] | None = None,
    mocks: pulumi.runtime.Mocks | None = None,
) -> MockRun:
    """Run `program` under mocks; config keys without a namespace belong to `project`."""
    run = MockRun()
    values = {**(config or {}), **(secret_config or {})}
    secret_keys = [k if ":" in k else f"{project}:{k}" for k in (secret_config or {})]

    async def resolve_outputs() -> None:
        root = settings.get_root_resource()
        exported: dict[str, Any] = getattr(root, "outputs", {}) or {}
        for key, value in exported.items():
            output = pulumi.Output.from_input(value)
            plain = await output.future(with_unknowns=True)
            run.outputs[key] = SECRET if await output.is_secret() else scrub(plain)

    def body() -> Awaitable[None]:
        program()
        return resolve_outputs()

    # Python's cyclic GC was half of a 100-project plan's time and the part that grew faster than
    # the resources: each full collection walks every live object, and Pulumi's runtime keeps ~30
    # futures and closures per resource alive until the program ends. A plan is a bounded batch,
    # so the collector pauses for it (+41 MB peak at 100 projects) and runs as usual afterwards.
    paused = gc.isenabled()
    gc.disable()
    try:
        with _runtime(project, stack, values, secret_keys, mocks or RecordingMocks(), run):
            _sync_await(run_pulumi_func(body))
    finally:
        if paused:
            gc.enable()
    return run
