"""Load spec files with ruamel.yaml and report every problem as `file:line:col: key.path: message`.

The loader composes the YAML node graph itself instead of letting a constructor build
objects, so that it can refuse duplicate keys and non-standard tags, bound the work an
alias bomb can cause, and remember where every key came from for error messages.
"""

from __future__ import annotations

import difflib
import io
import math
import typing
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mlops_scaffold.errors import InputFileError, PathPart, SpecError, SpecIssue
from mlops_scaffold.spec.fields import DNS_LABEL_RE
from mlops_scaffold.spec.platform import Platform
from mlops_scaffold.spec.project import Project
from mlops_scaffold.spec.rules import RULE_ERROR_TYPE

MAX_FILE_BYTES = 1024 * 1024
"""Spec files larger than this are refused before parsing."""
MAX_NODES = 100_000
"""Upper bound on values built from one file, counting every alias expansion."""
MAX_DEPTH = 64
"""Upper bound on nesting, which also stops self-referencing aliases."""

Data: TypeAlias = dict[str, "Data"] | list["Data"] | str | int | float | bool | None
Position = tuple[int, int]

_T = "tag:yaml.org,2002:"
PATTERN_HINTS = {
    DNS_LABEL_RE: "is not a DNS-1123 label: use lower-case letters, digits and '-', starting and ending "
    "with a letter or digit",
}
_KINDS: dict[str, type[Platform] | type[Project]] = {"Platform": Platform, "Project": Project}


@dataclass
class Located:
    """Where the keys of one document are in its file."""

    file: str
    positions: dict[tuple[PathPart, ...], Position]

    def position(self, path: Sequence[PathPart]) -> Position:
        return _nearest(self.positions, tuple(path))

    def issue(self, path: Sequence[PathPart], message: str) -> SpecIssue:
        line, column = self.position(path)
        return SpecIssue(self.file, line, column, tuple(path), message)


@dataclass
class SpecDocument(Located):
    """One validated document, with the positions of its keys."""

    model: Platform | Project = field(kw_only=True)


@dataclass
class SpecSet:
    """Every document of one or more spec files: at most one platform and any projects."""

    documents: list[SpecDocument] = field(default_factory=list)

    @property
    def platform(self) -> Platform | None:
        return next((d.model for d in self.documents if isinstance(d.model, Platform)), None)

    @property
    def projects(self) -> list[Project]:
        return [d.model for d in self.documents if isinstance(d.model, Project)]


class _Issues:
    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[SpecIssue] = []

    def add(self, position: Position, path: Sequence[PathPart], message: str) -> None:
        self.items.append(SpecIssue(self.file, position[0], position[1], tuple(path), message))


def _mark(node: Node) -> Position:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _nearest(positions: dict[tuple[PathPart, ...], Position], path: tuple[PathPart, ...]) -> Position:
    for end in range(len(path), -1, -1):
        if path[:end] in positions:
            return positions[path[:end]]
    return (1, 1)


class _Builder:
    """Turns one composed document into plain data plus the position of every key."""

    def __init__(self, issues: _Issues) -> None:
        self.issues = issues
        self.positions: dict[tuple[PathPart, ...], Position] = {}
        self.count = 0
        self.too_big = False
        self.active: set[int] = set()
        self.broken: list[tuple[PathPart, ...]] = []

    def fail(self, node: Node, path: tuple[PathPart, ...], message: str) -> None:
        self.broken.append(path)
        self.issues.add(_mark(node), path, message)

    def build(self, node: Node, path: tuple[PathPart, ...]) -> Data:
        self.count += 1
        if self.count > MAX_NODES or len(path) > MAX_DEPTH:
            if not self.too_big:
                self.too_big = True
                limits = f"limits: {MAX_NODES} values, depth {MAX_DEPTH}"
                self.fail(node, path[:MAX_DEPTH], f"document is too large or too deeply nested ({limits})")
            return None
        if id(node) in self.active:
            self.too_big = True
            self.fail(node, path, "an alias refers to a node that contains it")
            return None
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        self.active.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
            return self._sequence(node, path)
        finally:
            self.active.discard(id(node))

    def _sequence(self, node: Node, path: tuple[PathPart, ...]) -> Data:
        if node.tag != _T + "seq":
            self.fail(node, path, f"tag {_short(node.tag)} is not allowed")
            return None
        items: list[Data] = []
        for index, item in enumerate(node.value):
            self.positions[(*path, index)] = _mark(item)
            items.append(self.build(item, (*path, index)))
        return items

    def _mapping(self, node: MappingNode, path: tuple[PathPart, ...]) -> Data:
        if node.tag != _T + "map":
            self.fail(node, path, f"tag {_short(node.tag)} is not allowed")
            return None
        result: dict[str, Data] = {}
        first_seen: dict[str, Position] = {}
        merged: list[tuple[str, Data, tuple[PathPart, ...]]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _T + "merge":
                merged.extend(self._merge_sources(value_node, path))
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag != _T + "str":
                self.fail(key_node, path, "keys must be plain strings")
                continue
            key = str(key_node.value)
            where = _mark(key_node)
            if key in first_seen:
                line = first_seen[key][0]
                self.fail(key_node, (*path, key), f"duplicate key {key!r} (first defined on line {line})")
                continue
            first_seen[key] = where
            self.positions[(*path, key)] = where
            result[key] = self.build(value_node, (*path, key))
        for key, value, source in merged:
            if key not in result:
                result[key] = value
                self.positions[(*path, key)] = _nearest(self.positions, source)
        return result

    def _merge_sources(self, node: Node, path: tuple[PathPart, ...]) -> list[tuple[str, Data, tuple[PathPart, ...]]]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        out: list[tuple[str, Data, tuple[PathPart, ...]]] = []
        for source in sources:
            if not isinstance(source, MappingNode):
                self.fail(source, path, "a merge key (<<) needs a mapping or a list of mappings")
                continue
            # through build(), as every other value: merges count against the size, depth and alias limits
            built = self.build(source, (*path, "<<"))
            if isinstance(built, dict):
                out.extend((k, v, (*path, "<<", k)) for k, v in built.items())
        return out

    def _scalar(self, node: ScalarNode, path: tuple[PathPart, ...]) -> Data:
        tag = str(node.tag)
        text = str(node.value)
        try:
            if tag in (_T + "str", _T + "timestamp"):
                return text
            if tag == _T + "null":
                return None
            if tag == _T + "bool":
                return text.lower() in ("true", "yes", "on", "y")
            if tag == _T + "int":
                return _to_int(text)
            if tag == _T + "float":
                return _to_float(text)
        except ValueError:
            shown = text if len(text) <= 40 else text[:37] + "..."
            self.fail(node, path, f"{shown!r} is not a valid {tag.removeprefix(_T)}")
            return None
        self.fail(node, path, f"tag {_short(tag)} is not allowed")
        return None


def _short(tag: str | None) -> str:
    tag = tag or "?"
    return "!!" + tag.removeprefix(_T) if tag.startswith(_T) else tag


MAX_INT_DIGITS = 64
"""Digits an integer may have: far beyond any value a spec holds, far below Python's limit (4300)
on turning integers into text, which an error message about a huge one would hit."""


def _to_int(text: str) -> int:
    clean = text.replace("_", "")
    sign = -1 if clean.startswith("-") else 1
    digits = clean.lstrip("+-")
    if len(digits) > MAX_INT_DIGITS:
        raise ValueError(f"more than {MAX_INT_DIGITS} digits")
    if digits[:2].lower() in ("0x", "0o", "0b"):
        return sign * int(digits, 0)
    return sign * int(digits, 10)


def _to_float(text: str) -> float:
    clean = text.replace("_", "").lower()
    if clean.lstrip("+-") in (".inf", "inf"):
        return -math.inf if clean.startswith("-") else math.inf
    if clean in (".nan", "nan"):
        return math.nan
    return float(clean)


def _compose(text: str, issues: _Issues) -> list[Node]:
    yaml = YAML(typ="safe", pure=True)
    try:
        with warnings.catch_warnings():
            # a reused anchor is legal YAML (the later one wins); ruamel only warns about it
            warnings.simplefilter("ignore")
            return [doc for doc in yaml.compose_all(io.StringIO(text)) if doc is not None]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        position = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        issues.add(position, (), f"YAML syntax error: {problem}".strip())
    except YAMLError as exc:
        issues.add((1, 1), (), f"YAML error: {' '.join(str(exc).split())}")
    except RecursionError:
        issues.add((1, 1), (), f"YAML is nested too deeply (limit {MAX_DEPTH})")
    return []


# --- pydantic errors -> located issues ---------------------------------------------------


def _model_of(annotation: object) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as `X | None`, `list[X]` or `dict[str, X]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _allowed_keys(model: type[BaseModel], path: Sequence[PathPart]) -> list[str]:
    current: type[BaseModel] | None = model
    for part in path:
        if current is None:
            return []
        if isinstance(part, int):
            continue
        info = next((f for n, f in current.model_fields.items() if part in (n, f.alias)), None)
        if info is None:
            if current.model_fields:  # a dict key such as charts.overrides.<name>
                continue
            return []
        current = _model_of(info.annotation)
    if current is None:
        return []
    return [f.alias or n for n, f in current.model_fields.items()]


def _data_path(loc: Sequence[PathPart], data: Data) -> tuple[tuple[PathPart, ...], bool]:
    """Map a pydantic `loc` onto the data, dropping union-member names; say if the end exists."""
    path: list[PathPart] = []
    node = data
    exists = True
    for index, part in enumerate(loc):
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and index == len(loc) - 1:
            exists = False
        else:
            continue
        path.append(part)
    return tuple(path), exists


def _message(error: typing.Mapping[str, typing.Any], model: type[BaseModel], path: tuple[PathPart, ...]) -> str:
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, path[:-1])
        close = difflib.get_close_matches(str(path[-1]), allowed, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else (f"; allowed: {', '.join(allowed)}" if allowed else "")
        return f"unknown key {path[-1]!r}{hint}"
    if kind == "missing":
        return "required key is missing"
    if kind == "string_type" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"expected a string, got the number {value!r}; write it in quotes"
    if kind == "string_pattern_mismatch":
        pattern = error["ctx"]["pattern"]
        return f"{value!r} {PATTERN_HINTS.get(pattern, f'does not match the pattern {pattern}')}"
    return str(error["msg"]).removeprefix("Value error, ")


def _model_issues(exc: ValidationError, model: type[BaseModel], data: Data, doc: Located) -> list[SpecIssue]:
    issues: list[SpecIssue] = []
    for error in exc.errors(include_url=False):
        path, exists = _data_path(error["loc"], data)
        if error["type"] == RULE_ERROR_TYPE:
            for sub, message in error["ctx"]["violations"]:
                issues.append(doc.issue((*path, *sub), message))
            continue
        message = _message(error, model, path)
        if not exists:  # a missing key is reported where its parent mapping is
            line, column = doc.position(path[:-1]) if path[:-1] else (1, 1)
            issues.append(SpecIssue(doc.file, line, column, path, message))
        else:
            issues.append(doc.issue(path, message))
    return issues


def _validate(root: Node, data: Data, builder: _Builder, file: str) -> tuple[SpecDocument | None, list[SpecIssue]]:
    start = _mark(root)
    positions = builder.positions
    positions[()] = start
    if not isinstance(data, dict):
        what = "a list" if isinstance(data, list) else "a single value"
        return None, [SpecIssue(file, start[0], start[1], (), f"a spec document must be a mapping, not {what}")]
    kind = data.get("kind", "Platform")
    model = _KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        line, column = positions.get(("kind",), start)
        return None, [SpecIssue(file, line, column, ("kind",), f"unknown kind {kind!r}; expected Platform or Project")]
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        return None, _model_issues(exc, model, data, Located(file, positions))
    return SpecDocument(file, positions, model=parsed), []


def parse_text(text: str, file: str) -> list[SpecDocument]:
    """Validate every document in `text` and the rules between them; raise SpecError with all problems."""
    documents = _parse_file(text, file)
    check_set(documents)
    return documents


def _parse_file(text: str, file: str) -> list[SpecDocument]:
    issues = _Issues(file)
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        issues.add((1, 1), (), f"file is {size} bytes, over the {MAX_FILE_BYTES} byte limit")
        raise SpecError(issues.items)
    roots = _compose(text, issues)
    if not roots and not issues.items:
        issues.add((1, 1), (), "file holds no spec document")
    documents: list[SpecDocument] = []
    for root in roots:
        builder = _Builder(issues)
        try:
            data = builder.build(root, ())
        except RecursionError:
            issues.add(_mark(root), (), f"document is nested too deeply (limit {MAX_DEPTH})")
            continue
        if builder.too_big:
            continue
        document, problems = _validate(root, data, builder, file)
        # a value the builder already refused (bad tag, duplicate key) is not reported twice
        issues.items.extend(p for p in problems if not any(p.path[: len(b)] == b for b in builder.broken))
        if document is not None:
            documents.append(document)
    if issues.items:
        raise SpecError(issues.items)
    return documents


def read_text(path: Path) -> str:
    """Read a spec file as UTF-8, turning every OS or encoding problem into a user error."""
    name = str(path)
    try:
        if path.is_dir():
            raise InputFileError(name, "is a directory, not a spec file")
        if path.stat().st_size > MAX_FILE_BYTES:
            size = path.stat().st_size
            raise SpecError([SpecIssue(name, 1, 1, (), f"file is {size} bytes, over the {MAX_FILE_BYTES} byte limit")])
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(name, "no such file") from None
    except PermissionError:
        raise InputFileError(name, "permission denied") from None
    except OSError as exc:
        raise InputFileError(name, f"cannot read: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SpecError([SpecIssue(name, line, column, (), "file is not valid UTF-8")]) from None


def check_set(documents: list[SpecDocument]) -> None:
    """Rules that span documents: one platform, unique project names, queues that exist."""
    issues: list[SpecIssue] = []
    platforms = [d for d in documents if isinstance(d.model, Platform)]
    for extra in platforms[1:]:
        issues.append(extra.issue(("kind",), "only one Platform document is allowed"))
    platform = platforms[0].model if platforms else None
    seen: dict[str, SpecDocument] = {}
    for doc in documents:
        model = doc.model
        if not isinstance(model, Project):
            continue
        if model.name in seen:
            first = seen[model.name]
            issues.append(doc.issue(("name",), f"duplicate project name {model.name!r} (first in {first.file})"))
        seen.setdefault(model.name, doc)
        if isinstance(platform, Platform):
            queues = {q.name: q for q in platform.training.queues}
            queue = queues.get(model.training.queue)
            if queue is None:
                known = ", ".join(queues)
                issues.append(
                    doc.issue(("training", "queue"), f"queue {model.training.queue!r} is not in the platform ({known})")
                )
            elif model.training.gpus > queue.gpu:
                issues.append(
                    doc.issue(
                        ("training", "gpus"),
                        f"{model.training.gpus} GPUs exceed queue {queue.name!r}'s quota of {queue.gpu}",
                    )
                )
    if issues:
        raise SpecError(issues)


def load_specs(paths: Sequence[Path]) -> SpecSet:
    """Load and validate spec files together; every problem in every file is reported at once."""
    documents: list[SpecDocument] = []
    issues: list[SpecIssue] = []
    for path in paths:
        try:
            documents.extend(_parse_file(read_text(path), str(path)))
        except SpecError as exc:
            issues.extend(exc.issues)
    if issues:
        raise SpecError(issues)
    check_set(documents)
    return SpecSet(documents)


def load_spec(path: Path) -> SpecSet:
    """Load and validate one spec file."""
    return load_specs([path])
