"""Constrained scalar types shared by the spec models: names, quantities, crons, durations."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

DNS_LABEL_RE = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class SpecModel(BaseModel):
    """Base of every spec model: unknown keys are errors and YAML types are taken as they are."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_default=True)


def _dns_label(max_length: int) -> object:
    return StringConstraints(pattern=DNS_LABEL_RE, min_length=1, max_length=max_length)


DnsLabel = Annotated[str, _dns_label(63)]
"""A Kubernetes DNS-1123 label: lower-case alphanumerics and '-', at most 63 characters."""

ProjectName = Annotated[str, _dns_label(40)]
EnvironmentName = Annotated[str, _dns_label(22)]
"""At most 22 characters, so that a project's namespace `<project>-<environment>` is a DNS-1123 label (63)."""
"""A project name: a DNS-1123 label of at most 40 characters, leaving room for suffixes."""

# --- Kubernetes quantities -------------------------------------------------------------

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
_QUANTITY_RE = re.compile(
    r"^(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+))(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$"
)


def parse_quantity(text: str) -> Decimal:
    """Parse a Kubernetes resource quantity ("500m", "16Gi", "1e3") into a number."""
    match = _QUANTITY_RE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a Kubernetes quantity (examples: 500m, 4, 16Gi)")
    try:
        number = Decimal(match["num"])
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only decimals
        raise ValueError(f"{text!r} is not a Kubernetes quantity") from exc
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    return number * (Decimal(10) ** int(suffix[1:]))


def _check_quantity(text: str) -> str:
    if parse_quantity(text) < 0:
        raise ValueError(f"{text!r} must not be negative")
    return text


Quantity = Annotated[str, AfterValidator(_check_quantity), Field(examples=["500m", "4", "16Gi"])]
"""A non-negative Kubernetes quantity, kept as the user wrote it."""

# --- cron ------------------------------------------------------------------------------

_CRON_MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_MONTHS = {
    m: i for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)
}
_DAYS = {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
_CRON_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)


def _cron_value(token: str, name: str, low: int, high: int, names: dict[str, int]) -> int:
    value = names.get(token.lower()) if names else None
    if value is None:
        if not token.isdigit():
            raise ValueError(f"{token!r} is not a valid {name}")
        value = int(token)
    if not low <= value <= high:
        raise ValueError(f"{name} {value} is outside {low}-{high}")
    return value


def _check_cron_field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> None:
    for item in text.split(","):
        base, _, step = item.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            raise ValueError(f"step {step!r} in the {name} field must be a positive number")
        if base == "*":
            continue
        start, dash, end = base.partition("-")
        first = _cron_value(start, name, low, high, names)
        if dash:
            last = _cron_value(end, name, low, high, names)
            if last < first:
                raise ValueError(f"range {base!r} in the {name} field runs backwards")


def check_cron(text: str) -> str:
    """Accept a five-field cron expression or a macro, as Kubernetes CronJobs do."""
    if text in _CRON_MACROS:
        return text
    parts = text.split()
    if len(parts) != 5:
        raise ValueError(f"{text!r} is not a cron expression: expected 5 fields, got {len(parts)}")
    for part, (name, low, high, names) in zip(parts, _CRON_FIELDS, strict=True):
        _check_cron_field(part, name, low, high, names)
    return text


Cron = Annotated[str, AfterValidator(check_cron), Field(examples=["0 3 * * 1", "@daily"])]
"""A cron schedule: five fields (minute hour day-of-month month day-of-week) or @daily etc."""

# --- durations -------------------------------------------------------------------------

_DURATION_RE = re.compile(r"^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$")


def _check_duration(text: str) -> str:
    if not text or _DURATION_RE.match(text) is None or not any(c in "123456789" for c in text):
        raise ValueError(f"{text!r} is not a duration (examples: 15d, 12h, 30m)")
    return text


Duration = Annotated[str, AfterValidator(_check_duration), Field(examples=["15d", "12h"])]
"""A Prometheus-style duration such as 15d or 12h30m; zero is not allowed."""

KubernetesVersion = Annotated[str, StringConstraints(pattern=r"^1\.(2[5-9]|3[0-7])$")]
"""A Kubernetes minor version, 1.25 to 1.37, written as a string such as "1.33"."""
