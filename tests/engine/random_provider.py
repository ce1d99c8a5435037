"""A test-only stand-in for the pulumi-random provider plugin: RandomPassword and nothing else.

The real plugin (Go, from Pulumi's release downloads) cannot be had on the test machines, and
the platform creates its generated passwords with `pulumi_random.RandomPassword`. The engine
runs this file as `pulumi-resource-random` (installed with `pulumi plugin install --file`), so the
real-engine tests exercise the same program users run. It implements the resource provider gRPC
protocol for the one token the platform uses, with the real provider's semantics that the
platform depends on: a password of `length` characters from the classes the inputs allow, its
bcrypt hash, replacement on any input change, and nothing regenerated on refresh. Users keep
the real provider.
"""

from __future__ import annotations

import os
import secrets
import string
from concurrent import futures
from typing import Any

import bcrypt
import grpc  # type: ignore[import-untyped]
from google.protobuf import empty_pb2, json_format, struct_pb2  # type: ignore[import-untyped]
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

TOKEN = "random:index/randomPassword:RandomPassword"
DEFAULTS: dict[str, Any] = {
    "special": True,
    "upper": True,
    "lower": True,
    "numeric": True,
    "minUpper": 0,
    "minLower": 0,
    "minNumeric": 0,
    "minSpecial": 0,
    "overrideSpecial": "!@#$%&*()-_=+[]{}<>:?",
}
CLASSES = {"upper": string.ascii_uppercase, "lower": string.ascii_lowercase, "numeric": string.digits}


def _dict(message: struct_pb2.Struct) -> dict[str, Any]:
    result: dict[str, Any] = json_format.MessageToDict(message)
    return result


def _struct(data: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(data)
    return out


def _inputs(raw: dict[str, Any]) -> dict[str, Any]:
    inputs = {**DEFAULTS, **raw}
    inputs["length"] = int(inputs["length"])
    return inputs


def generate(inputs: dict[str, Any]) -> str:
    """A password with at least the minimum of each allowed class, the rest drawn from all of them."""
    pools = {name: chars for name, chars in CLASSES.items() if inputs[name]}
    if inputs["special"]:
        pools["special"] = inputs["overrideSpecial"]
    minimums = {"upper": "minUpper", "lower": "minLower", "numeric": "minNumeric", "special": "minSpecial"}
    chars = [secrets.choice(pools[name]) for name in pools for _ in range(int(inputs[minimums[name]]))]
    alphabet = "".join(pools.values())
    chars += [secrets.choice(alphabet) for _ in range(inputs["length"] - len(chars))]
    for i in range(len(chars) - 1, 0, -1):  # Fisher-Yates with a CSPRNG
        j = secrets.randbelow(i + 1)
        chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


class RandomPasswordProvider(provider_pb2_grpc.ResourceProviderServicer):
    """CRUD for RandomPassword; every input forces a replacement, as in the real provider."""

    def __init__(self, version: str) -> None:
        self.version = version

    def GetPluginInfo(self, request: Any, context: Any) -> plugin_pb2.PluginInfo:
        return plugin_pb2.PluginInfo(version=self.version)

    def CheckConfig(self, request: Any, context: Any) -> provider_pb2.CheckResponse:
        return provider_pb2.CheckResponse(inputs=request.news)

    def DiffConfig(self, request: Any, context: Any) -> provider_pb2.DiffResponse:
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)

    def Configure(self, request: Any, context: Any) -> provider_pb2.ConfigureResponse:
        return provider_pb2.ConfigureResponse(acceptSecrets=False, supportsPreview=False, acceptResources=False)

    def _check_token(self, urn: str, context: Any) -> None:
        if TOKEN not in urn:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, f"this test provider implements only {TOKEN}")

    def Check(self, request: Any, context: Any) -> provider_pb2.CheckResponse:
        self._check_token(request.urn, context)
        return provider_pb2.CheckResponse(inputs=_struct(_inputs(_dict(request.news))))

    def Diff(self, request: Any, context: Any) -> provider_pb2.DiffResponse:
        olds = _dict(request.old_inputs) if request.HasField("old_inputs") else _dict(request.olds)
        news = _dict(request.news)
        changed = sorted(k for k in set(olds) | set(news) if k in news and olds.get(k) != news.get(k))
        changed = [k for k in changed if k not in ("result", "bcryptHash", "id")]
        if not changed:
            return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME, replaces=changed, diffs=changed, deleteBeforeReplace=False
        )

    def Create(self, request: Any, context: Any) -> provider_pb2.CreateResponse:
        self._check_token(request.urn, context)
        inputs = _inputs(_dict(request.properties))
        password = generate(inputs)
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()
        return provider_pb2.CreateResponse(
            id="none", properties=_struct({**inputs, "result": password, "bcryptHash": hashed})
        )

    def Read(self, request: Any, context: Any) -> provider_pb2.ReadResponse:
        return provider_pb2.ReadResponse(id=request.id, properties=request.properties, inputs=request.inputs)

    def Update(self, request: Any, context: Any) -> provider_pb2.UpdateResponse:
        return provider_pb2.UpdateResponse(properties=request.olds)

    def Delete(self, request: Any, context: Any) -> empty_pb2.Empty:
        return empty_pb2.Empty()

    def Cancel(self, request: Any, context: Any) -> empty_pb2.Empty:
        return empty_pb2.Empty()


def main() -> None:
    """Serve on a loopback port and print it, as the engine expects of a plugin."""
    version = os.environ.get("RANDOM_PROVIDER_VERSION", "4.0.0")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(RandomPasswordProvider(version), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
