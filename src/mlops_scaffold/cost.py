"""What a spec costs per month before any cloud: per environment (each is its own stack and cluster)
and per node pool, at the pools' min and max sizes (GPU pools from zero), from the price table below.

The table holds on-demand list prices in USD per hour, as the providers publish them for
us-east-1 (AWS) and us-central1 (Google Cloud). They were recorded by hand on PRICES_DATE and
change over time; a spec can replace any of them (`cost.prices`) with negotiated or current
prices. On the kubernetes target the nodes are yours: they are priced per vCPU, GiB and GPU hour
at OpenCost's default custom prices, which is also the price sheet the platform's OpenCost uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mlops_scaffold.constants import AWS_DB_INSTANCE_CLASS, GCP_DB_TIER
from mlops_scaffold.spec.fields import parse_quantity
from mlops_scaffold.spec.platform import NodePool, Platform

PRICES_DATE = "2026-12-03"
PRICES_SOURCE = (
    "on-demand list prices, USD per hour: AWS EC2/EKS/RDS us-east-1 (aws.amazon.com/ec2/pricing/on-demand), "
    "Google Compute Engine/GKE/Cloud SQL us-central1 (cloud.google.com/compute/vm-instance-pricing); "
    "kubernetes target: OpenCost's default custom prices"
)
HOURS_PER_MONTH = Decimal(730)
"""The month cloud bills use: 24 x 365 / 12."""

PRICES: dict[str, Decimal] = {
    # AWS EC2, Linux on-demand
    "aws:m7i.large": Decimal("0.1008"),
    "aws:m7i.xlarge": Decimal("0.2016"),
    "aws:m7i.2xlarge": Decimal("0.4032"),
    "aws:m7i.4xlarge": Decimal("0.8064"),
    "aws:m6i.xlarge": Decimal("0.192"),
    "aws:m6i.2xlarge": Decimal("0.384"),
    "aws:c7i.2xlarge": Decimal("0.357"),
    "aws:r7i.2xlarge": Decimal("0.5292"),
    "aws:g4dn.xlarge": Decimal("0.526"),
    "aws:g4dn.2xlarge": Decimal("0.752"),
    "aws:g5.xlarge": Decimal("1.006"),
    "aws:g5.2xlarge": Decimal("1.212"),
    "aws:g5.12xlarge": Decimal("5.672"),
    "aws:g6.xlarge": Decimal("0.8048"),
    "aws:g6.2xlarge": Decimal("0.9776"),
    "aws:g6.12xlarge": Decimal("4.6016"),
    "aws:p4d.24xlarge": Decimal("32.7726"),
    "aws:eks-cluster": Decimal("0.10"),
    "aws:nat-gateway": Decimal("0.045"),
    f"aws:{AWS_DB_INSTANCE_CLASS}": Decimal("0.065"),
    "aws:gp3-gib-month": Decimal("0.08"),
    "aws:s3-gib-month": Decimal("0.023"),
    # Google Compute Engine; g2 and a2 include their GPUs, n1 pays for attached ones
    "gcp:e2-standard-4": Decimal("0.134"),
    "gcp:e2-standard-8": Decimal("0.268"),
    "gcp:n2-standard-4": Decimal("0.1942"),
    "gcp:n2-standard-8": Decimal("0.3885"),
    "gcp:n2-standard-16": Decimal("0.777"),
    "gcp:n1-standard-4": Decimal("0.19"),
    "gcp:n1-standard-8": Decimal("0.38"),
    "gcp:g2-standard-4": Decimal("0.7068"),
    "gcp:g2-standard-8": Decimal("0.8536"),
    "gcp:a2-highgpu-1g": Decimal("3.6733"),
    "gcp:nvidia-tesla-t4": Decimal("0.35"),
    "gcp:nvidia-tesla-v100": Decimal("2.48"),
    "gcp:gke-cluster": Decimal("0.10"),
    f"gcp:{GCP_DB_TIER}": Decimal("0.1383"),
    "gcp:pd-gib-month": Decimal("0.04"),
    "gcp:gcs-gib-month": Decimal("0.02"),
    # kubernetes target (your own nodes): OpenCost's default custom pricing
    "kubernetes:cpu": Decimal("0.031611"),
    "kubernetes:memory-gib": Decimal("0.004237"),
    "kubernetes:gpu": Decimal("0.95"),
    "kubernetes:storage-gib-month": Decimal("0.04"),
    "kubernetes:node-cpu": Decimal(4),
    "kubernetes:node-memory-gib": Decimal(16),
    # spot and preemptible capacity, as a share of on-demand (it varies by hour and zone)
    "spot-share": Decimal("0.4"),
}
GPU_INCLUDED_FAMILIES = ("g2-", "a2-", "a3-")
"""Google machine families whose price includes their GPUs."""


@dataclass
class Line:
    """One priced item of an environment: monthly USD at the low and the high end."""

    item: str
    detail: str
    min: Decimal
    max: Decimal
    pool: str | None = None
    """The node pool this line prices, if it is one."""

    def as_dict(self) -> dict[str, Any]:
        return {"item": self.item, "detail": self.detail, "min": _usd(self.min), "max": _usd(self.max)}


@dataclass
class Estimate:
    """The monthly cost of one environment (stack) and of all of them."""

    environments: list[str]
    lines: list[Line] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)
    """Items the table has no price for (left out of the totals); the spec's `cost.prices` can add them."""

    @property
    def per_environment(self) -> tuple[Decimal, Decimal]:
        return sum((x.min for x in self.lines), Decimal(0)), sum((x.max for x in self.lines), Decimal(0))

    def as_dict(self) -> dict[str, Any]:
        low, high = self.per_environment
        count = len(self.environments)
        return {
            "monthly_usd": {"min": _usd(low * count), "max": _usd(high * count)},
            "per_environment": {"min": _usd(low), "max": _usd(high)},
            "environments": list(self.environments),
            "pools": {x.pool: {"min": _usd(x.min), "max": _usd(x.max)} for x in self.lines if x.pool is not None},
            "lines": [x.as_dict() for x in self.lines],
            "unpriced": list(self.unpriced),
            "source": PRICES_SOURCE,
            "prices_date": PRICES_DATE,
        }


def _usd(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


def _gib(quantity: str) -> Decimal:
    return parse_quantity(quantity) / Decimal(2**30)


def prices_for(platform: Platform) -> dict[str, Decimal]:
    """The table, with the spec's own prices over it."""
    return {**PRICES, **{k: Decimal(str(v)) for k, v in platform.cost.prices.items()}}


def node_hourly(platform: Platform, pool: NodePool, prices: dict[str, Decimal]) -> Decimal | str:
    """What one node of `pool` costs per hour on the spec's target, or the price key that is missing."""
    target = platform.target
    gpus = Decimal(pool.gpu.count) if pool.gpu is not None else Decimal(0)
    if target == "kubernetes":
        price = (
            prices["kubernetes:node-cpu"] * prices["kubernetes:cpu"]
            + prices["kubernetes:node-memory-gib"] * prices["kubernetes:memory-gib"]
            + gpus * prices["kubernetes:gpu"]
        )
    else:
        key = f"{target}:{pool.instance_type}"
        if key not in prices:
            return key
        price = prices[key]
        if target == "gcp" and pool.gpu is not None and not str(pool.instance_type).startswith(GPU_INCLUDED_FAMILIES):
            gpu_key = f"gcp:{pool.gpu.type}"
            if gpu_key not in prices:
                return gpu_key
            price += gpus * prices[gpu_key]
    return price * prices["spot-share"] if pool.spot else price


def estimate(platform: Platform) -> Estimate:
    """The monthly cost of each environment of the platform, line by line."""
    prices = prices_for(platform)
    month = HOURS_PER_MONTH
    result = Estimate([e.name for e in platform.environments])
    for pool in platform.training.node_pools:
        hourly = node_hourly(platform, pool, prices)
        if isinstance(hourly, str):
            result.unpriced.append(f"node pool {pool.name}: no price for {hourly!r} (add it under cost.prices)")
            continue
        kind = f"{pool.gpu.count} x {pool.gpu.type}" if pool.gpu is not None else "cpu"
        size = pool.instance_type or "node"
        detail = f"{size} ({kind}{', spot' if pool.spot else ''}), {pool.min} to {pool.max} nodes"
        result.lines.append(
            Line(f"node pool {pool.name}", detail, hourly * pool.min * month, hourly * pool.max * month, pool.name)
        )
    target = platform.target
    if target != "kubernetes":
        cluster = "aws:eks-cluster" if target == "aws" else "gcp:gke-cluster"
        fee = prices[cluster] * month
        result.lines.append(Line("cluster", "managed control plane", fee, fee))
        if target == "aws" and platform.aws is not None and platform.aws.vpc_id is None:
            nat = prices["aws:nat-gateway"] * month
            result.lines.append(Line("network", "one NAT gateway", nat, nat))
    result.lines.extend(_storage_lines(platform, prices))
    return result


def _storage_lines(platform: Platform, prices: dict[str, Decimal]) -> list[Line]:
    target = platform.target
    volume = {"kubernetes": "kubernetes:storage-gib-month", "aws": "aws:gp3-gib-month", "gcp": "gcp:pd-gib-month"}[
        target
    ]
    lines: list[Line] = []

    def add(item: str, detail: str, monthly: Decimal) -> None:
        lines.append(Line(item, detail, monthly, monthly))

    registry = platform.container_registry
    if platform.registry_type == "zot":
        add("container registry", f"zot volume {registry.storage}", _gib(registry.storage) * prices[volume])
    database = platform.model_registry.database
    if platform.database_type == "managed" and target != "kubernetes":
        instance = f"aws:{AWS_DB_INSTANCE_CLASS}" if target == "aws" else f"gcp:{GCP_DB_TIER}"
        monthly = prices[instance] * HOURS_PER_MONTH + _gib(database.storage) * prices[volume]
        add("model registry database", f"{instance.split(':', 1)[1]}, {database.storage}", monthly)
    else:
        add("model registry database", f"in-cluster volume {database.storage}", _gib(database.storage) * prices[volume])
    store = platform.model_registry.artifact_store
    if platform.artifact_store_type == "managed" and target != "kubernetes":
        bucket = "aws:s3-gib-month" if target == "aws" else "gcp:gcs-gib-month"
        add("model artifacts", f"bucket, {store.storage} stored", _gib(store.storage) * prices[bucket])
    else:
        add("model artifacts", f"in-cluster volume {store.storage}", _gib(store.storage) * prices[volume])
    if platform.monitoring.enabled:
        storage = platform.monitoring.storage
        add("monitoring", f"Prometheus volume {storage}", _gib(storage) * prices[volume])
    return lines


__all__ = ["PRICES", "PRICES_DATE", "PRICES_SOURCE", "Estimate", "Line", "estimate"]
