"""JSON Schema and the Markdown reference, both generated from the spec models."""

from __future__ import annotations

import json
import types
import typing
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from mlops_scaffold.spec.fields import CRON, DNS_LABEL_RE, QUANTITY
from mlops_scaffold.spec.platform import Platform
from mlops_scaffold.spec.project import Project

SchemaKind = Literal["platform", "project"]
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_MODELS: dict[str, type[BaseModel]] = {"platform": Platform, "project": Project}


def json_schema(kind: SchemaKind | None = None) -> dict[str, Any]:
    """The JSON Schema of one kind, or of any document (Platform unless `kind: Project`)."""
    if kind is not None:
        schema = _MODELS[kind].model_json_schema(by_alias=True)
        return {"$schema": SCHEMA_DIALECT, **schema}
    defs: dict[str, Any] = {}
    for name, model in (("Platform", Platform), ("Project", Project)):
        schema = model.model_json_schema(by_alias=True)
        for def_name, definition in schema.pop("$defs", {}).items():
            if defs.setdefault(def_name, definition) != definition:  # pragma: no cover - guards model renames
                raise ValueError(f"two spec models share the schema name {def_name}")
        defs[name] = schema
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "mlops-scaffold spec",
        "description": "A Platform document, or a Project document when kind is Project.",
        "if": {"properties": {"kind": {"const": "Project"}}, "required": ["kind"]},
        "then": {"$ref": "#/$defs/Project"},
        "else": {"$ref": "#/$defs/Platform"},
        "$defs": dict(sorted(defs.items())),
    }


def json_schema_text(kind: SchemaKind | None = None) -> str:
    return json.dumps(json_schema(kind), indent=2, sort_keys=False) + "\n"


# --- Markdown reference -----------------------------------------------------------------

_RULE_NAMES = {QUANTITY: "quantity", CRON: "cron"}


def _type_name(annotation: object, info: FieldInfo | None = None) -> str:
    if info is not None:
        for meta in info.metadata:
            if meta is QUANTITY or meta is CRON:
                return _RULE_NAMES[meta]
            func = getattr(meta, "func", None)
            if func is not None:
                name = getattr(func, "__name__", "")
                if name == "_check_duration":
                    return "duration"
            if getattr(meta, "pattern", None) == DNS_LABEL_RE:
                return "DNS label"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_name(a) for a in args)
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"map of {_type_name(args[1])}"
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    if typing.get_origin(annotation) is typing.Annotated:
        return _type_name(args[0])
    return getattr(annotation, "__name__", str(annotation))


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "see section"
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        names = [getattr(v, "name", "") for v in value]
        return ", ".join(f"`{n}`" for n in names)
    return f"`{json.dumps(value)}`"


def _nested(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _nested(arg)]


def reference_markdown(kind: str | None = None) -> str:
    """A Markdown table per spec model, in the order a reader meets them; of one kind's models, or both."""
    roots: dict[str | None, list[type[BaseModel]]] = {"platform": [Platform], "project": [Project]}
    queue: list[type[BaseModel]] = list(roots.get(kind, [Platform, Project]))
    seen: set[type[BaseModel]] = set()
    out: list[str] = []
    while queue:
        model = queue.pop(0)
        if model in seen:
            continue
        seen.add(model)
        doc = (model.__doc__ or "").strip().splitlines()[0]
        out += [f"#### {model.__name__}", "", doc, "", "| key | type | default | description |", "|---|---|---|---|"]
        for name, info in model.model_fields.items():
            key = info.alias or name
            nested = _nested(info.annotation)
            summary = (nested[0].__doc__ or "").strip().splitlines()[0] if nested else ""
            description = (info.description or summary).replace("|", "\\|")
            out.append(f"| `{key}` | {_type_name(info.annotation, info)} | {_default(info)} | {description} |")
            queue.extend(m for m in nested if m not in seen)
        out.append("")
    return "\n".join(out)
