"""Cross-field rule checking that reports every broken rule of a model at its own key path."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic_core import PydanticCustomError

from mlops_scaffold.errors import PathPart

RULE_ERROR_TYPE = "spec_rule"


class Violations:
    """Collects broken cross-field rules, each with a path relative to the model checked."""

    def __init__(self) -> None:
        self.items: list[tuple[tuple[PathPart, ...], str]] = []

    def add(self, path: tuple[PathPart, ...], message: str) -> None:
        self.items.append((path, message))

    def duplicates(self, field: str, names: Iterable[str], what: str) -> None:
        """Flag every entry of a list whose `name` repeats an earlier one."""
        seen: set[str] = set()
        for index, name in enumerate(names):
            if name in seen:
                self.add((field, index, "name"), f"duplicate {what} name {name!r}")
            seen.add(name)

    def raise_if_any(self) -> None:
        """Raise one pydantic error that carries every violation; the loader splits it up."""
        if self.items:
            raise PydanticCustomError(
                RULE_ERROR_TYPE,
                "{message}",
                {"message": "; ".join(m for _, m in self.items), "violations": list(self.items)},
            )
