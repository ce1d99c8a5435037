"""Constrained scalar types shared by the spec models: names, quantities, crons, durations."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

DNS_LABEL_RE = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


def python_pattern(pattern: str) -> str:
    """`pattern` for Python's `re`, with the meaning the spec's validator (Rust's regex) gives it: a
    final `$` ends the text (`\\Z`), where Python's `$` would also admit one trailing newline."""
    return pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith(r"\$") else pattern


@dataclass(frozen=True)
class Checked:
    """A string rule stated once as a pattern: the spec validates with it, and copier.yml's generated
    validator uses the same pattern (`mlops_scaffold.questions`)."""

    pattern: str
    message: str
    """What a value must be, after "must be"."""
    explain: Callable[[str], str | None] | None = None
    """Says more precisely what is wrong with a refused value, where it can."""

    def __call__(self, text: str) -> str:
        if re.search(python_pattern(self.pattern), text) is None:
            reason = self.explain(text) if self.explain is not None else None
            raise ValueError(f"{text!r} must be {self.message}" + (f": {reason}" if reason else ""))
        return text

    def joined(self, separator: str = ", ?") -> str:
        """The pattern of a `separator`-joined list of such values (empty included)."""
        one = self.pattern.removeprefix("^").removesuffix("$")
        return f"^(({one})({separator}({one}))*)?$"


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
_NUMBER = r"(?P<num>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
_SUFFIX = r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?"
_QUANTITY_RE = re.compile(f"^{_NUMBER}{_SUFFIX}$")

QUANTITY = Checked(
    "^" + _NUMBER.replace("[+-]", r"\+").replace("?P<num>", "") + _SUFFIX.replace("?P<suffix>", "") + "$",
    "a non-negative Kubernetes quantity such as 500m, 4 or 16Gi",
)
"""A Kubernetes resource quantity that is not negative (a sign, if any, is `+`)."""


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


Quantity = Annotated[str, AfterValidator(QUANTITY), QUANTITY, Field(examples=["500m", "4", "16Gi"])]
"""A non-negative Kubernetes quantity, kept as the user wrote it."""

# --- cron ------------------------------------------------------------------------------

_CRON_MACROS = ("yearly", "annually", "monthly", "weekly", "daily", "midnight", "hourly")
_MONTH_NAMES = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_DAY_NAMES = "sun|mon|tue|wed|thu|fri|sat"
_CRON_VALUES = (
    "0*([0-9]|[1-5][0-9])",  # minute 0-59 (leading zeros allowed, as Kubernetes' parser does)
    "0*([0-9]|1[0-9]|2[0-3])",  # hour 0-23
    "0*([1-9]|[12][0-9]|3[01])",  # day of month 1-31
    f"0*([1-9]|1[0-2])|(?i:{_MONTH_NAMES})",  # month 1-12 or a name
    f"0*[0-7]|(?i:{_DAY_NAMES})",  # day of week 0-7 (0 and 7 are Sunday) or a name
)


_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES.split("|"), 1)}
_DAYS = {d: i for i, d in enumerate(_DAY_NAMES.split("|"))}
_CRON_BOUNDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)


def _cron_value(token: str, name: str, low: int, high: int, names: dict[str, int]) -> str | None:
    value = names.get(token.lower()) if names else None
    if value is None:
        if not token.isdigit():
            return f"{token!r} is not a valid {name}"
        value = int(token)
    return None if low <= value <= high else f"{name} {value} is outside {low}-{high}"


def _explain_cron(text: str) -> str | None:
    """Which field of a refused cron expression is wrong (the pattern alone decides what is valid)."""
    parts = text.split(" ")
    if len(parts) != 5:
        return f"expected 5 fields separated by single spaces, got {len(text.split())}"
    for part, (name, low, high, names) in zip(parts, _CRON_BOUNDS, strict=True):
        for item in part.split(","):
            base, _, step = item.partition("/")
            if step and (not step.isdigit() or int(step) == 0):
                return f"step {step!r} in the {name} field must be a positive number"
            for token in ([] if base == "*" else base.split("-", 1)):
                reason = _cron_value(token, name, low, high, names)
                if reason:
                    return reason
    return None


def _cron_field(value: str) -> str:
    item = rf"(\*|({value})(-({value}))?)(/0*[1-9][0-9]*)?"
    return f"{item}(,{item})*"


CRON = Checked(
    f"^(@({'|'.join(_CRON_MACROS)})|{' '.join(_cron_field(v) for v in _CRON_VALUES)})$",
    'a cron expression such as "0 3 * * 1" (minute hour day-of-month month day-of-week) or @daily',
    _explain_cron,
)
"""Five cron fields, each a list of values, ranges and steps within the field's bounds, or a macro."""


def check_cron(text: str) -> str:
    """Accept a five-field cron expression or a macro, as Kubernetes CronJobs do."""
    return CRON(text)


Cron = Annotated[str, AfterValidator(CRON), CRON, Field(examples=["0 3 * * 1", "@daily"])]
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

# --- values the template takes that the spec derives --------------------------------------

REGISTRY_HOST_RULE = Checked(
    r"^[a-z0-9][-a-z0-9.]*(:[0-9]+)?(/[a-z0-9][-a-z0-9._/]*)?$", "a registry host such as registry.example.com:5000"
)
"""The container registry a project pushes to (the platform's `registry_host`)."""
ENDPOINT_RULE = Checked(r"^https?://[-A-Za-z0-9.]+(:[0-9]+)?/?$", "an http(s):// URL such as http://s3.example.com:8333")
"""The S3 API endpoint of a DVC remote (the platform's in-cluster object store)."""
