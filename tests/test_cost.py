"""`plan`'s monthly cost estimate, checked by hand arithmetic from the price table."""

from __future__ import annotations

import json

import pytest
from conftest import CliRunner

from mlops_scaffold.cost import HOURS_PER_MONTH, PRICES, estimate
from mlops_scaffold.spec import SpecSet, parse_text

MONTH = float(HOURS_PER_MONTH)
AWS_GPU = """\
name: acme
target: aws
aws: {region: us-east-1, account_id: "123456789012"}
environments: [{name: dev}, {name: prod, approval: true}]
training:
  queues:
    - {name: default}
    - {name: gpu, gpu: 4, pools: [gpu]}
  node_pools:
    - {name: cpu, instance_type: m7i.xlarge, min: 1, max: 4}
    - {name: gpu, instance_type: g5.xlarge, gpu: {type: nvidia-a10g, count: 1}, min: 0, max: 4}
"""


def _platform(text: str):  # type: ignore[no-untyped-def]
    platform = SpecSet(parse_text(text, "spec.yaml")).platform
    assert platform is not None
    return platform


def _plan_json(cli: CliRunner, tmp_path, text: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    result = cli("plan", "--format", "json", spec)
    assert result.code == 0, result.err
    return json.loads(result.out)["cost"]  # type: ignore[no-any-return]


def p(key: str) -> float:
    return float(PRICES[key])


def test_the_default_spec_costs_its_volumes(cli: CliRunner) -> None:
    result = cli("plan", "--format", "json")
    assert result.code == 0, result.err
    cost = json.loads(result.out)["cost"]
    gib_month = p("kubernetes:storage-gib-month")
    # zot 50Gi, database 20Gi, artifacts 100Gi, Prometheus 50Gi; no node pools, no managed services
    per_env = (50 + 20 + 100 + 50) * gib_month
    assert cost["per_environment"] == {"min": pytest.approx(per_env), "max": pytest.approx(per_env)}
    assert cost["monthly_usd"] == {"min": pytest.approx(3 * per_env), "max": pytest.approx(3 * per_env)}
    assert cost["pools"] == {}
    assert cost["prices_date"]
    assert "source" in cost


def test_an_aws_spec_with_a_gpu_pool(cli: CliRunner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cost = _plan_json(cli, tmp_path, AWS_GPU)
    cpu_node, gpu_node = p("aws:m7i.xlarge") * MONTH, p("aws:g5.xlarge") * MONTH
    assert cost["pools"]["cpu"] == {
        "min": pytest.approx(cpu_node, abs=0.01),
        "max": pytest.approx(4 * cpu_node, abs=0.01),
    }
    assert cost["pools"]["gpu"] == {"min": 0.0, "max": pytest.approx(4 * gpu_node, abs=0.01)}  # GPUs scale from zero
    fixed = (
        p("aws:eks-cluster") * MONTH
        + p("aws:nat-gateway") * MONTH
        + p("aws:db.t4g.medium") * MONTH
        + 20 * p("aws:gp3-gib-month")  # the database volume
        + 100 * p("aws:s3-gib-month")  # the artifact bucket
        + 50 * p("aws:gp3-gib-month")  # Prometheus
    )
    low, high = cpu_node + fixed, 4 * cpu_node + 4 * gpu_node + fixed
    assert cost["per_environment"]["min"] == pytest.approx(low, abs=0.02)
    assert cost["per_environment"]["max"] == pytest.approx(high, abs=0.02)
    assert cost["monthly_usd"]["min"] == pytest.approx(2 * low, abs=0.05)  # two environments, two clusters
    assert cost["monthly_usd"]["max"] == pytest.approx(2 * high, abs=0.05)
    assert cost["unpriced"] == []


def test_spot_gcp_accelerators_and_spec_prices() -> None:
    text = """\
name: g
target: gcp
gcp: {project: acme-ml-123, region: us-central1}
model_registry: {database: {type: in-cluster}, artifact_store: {type: in-cluster}}
training:
  queues: [{name: default}, {name: gpu, gpu: 2, pools: [t4]}]
  node_pools:
    - {name: t4, instance_type: n1-standard-8, gpu: {type: nvidia-tesla-t4, count: 2}, min: 0, max: 2, spot: true}
    - {name: l4, instance_type: g2-standard-8, gpu: {type: nvidia-l4, count: 1}, min: 1, max: 1}
cost:
  prices: {"gcp:g2-standard-8": 0.5}
"""
    result = estimate(_platform(text))
    pools = {line.item: line for line in result.lines if line.item.startswith("node pool")}
    t4 = (p("gcp:n1-standard-8") + 2 * p("gcp:nvidia-tesla-t4")) * p("spot-share") * MONTH
    assert float(pools["node pool t4"].max) == pytest.approx(2 * t4)
    assert float(pools["node pool l4"].min) == pytest.approx(0.5 * MONTH)  # the spec's price; g2 includes its GPU


def test_a_machine_type_without_a_price_is_named_not_guessed() -> None:
    text = AWS_GPU.replace("m7i.xlarge", "x9.mega")
    result = estimate(_platform(text))
    assert result.unpriced == ["node pool cpu: no price for 'aws:x9.mega' (add it under cost.prices)"]
    assert all(line.item != "node pool cpu" for line in result.lines)


def test_kubernetes_pools_use_the_custom_price_sheet() -> None:
    text = """\
name: k
training:
  queues: [{name: default}, {name: gpu, gpu: 1, pools: [gpu]}]
  node_pools: [{name: gpu, gpu: {type: nvidia-l4, count: 1}, min: 0, max: 2}]
"""
    (line,) = [x for x in estimate(_platform(text)).lines if x.item == "node pool gpu"]
    node = 4 * p("kubernetes:cpu") + 16 * p("kubernetes:memory-gib") + p("kubernetes:gpu")
    assert float(line.max) == pytest.approx(2 * node * MONTH)


@pytest.mark.parametrize(
    ("cost", "says"),
    [
        ("{prices: {ec2: 1}}", "is not a price key"),
        ("{prices: {'aws:m7i.large': -1}}", "cannot be negative"),
        ("{budget_monthly_usd: 0}", "greater than 0"),
    ],
)
def test_bad_cost_settings_are_located(cli: CliRunner, tmp_path, cost: str, says: str) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"name: demo\ncost: {cost}\n")
    result = cli("validate", spec)
    assert result.code == 1
    assert result.out.startswith(f"{spec}:2:")
    assert says in result.out


def test_text_plan_shows_the_estimate(cli: CliRunner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "spec.yaml"
    spec.write_text(AWS_GPU)
    out = cli("plan", spec).out
    assert "estimated monthly cost, per environment (dev, prod), USD:" in out
    assert "node pool gpu" in out
    assert "g5.xlarge (1 x nvidia-a10g), 0 to 4 nodes" in out
