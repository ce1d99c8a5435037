"""Drift statistics against numbers computed by hand, and the same code in generated projects."""

from __future__ import annotations

import math
import random

import pytest
from conftest import REPO
from hypothesis import given
from hypothesis import strategies as st

from mlops_scaffold.monitoring.drift import drift_report, ks, psi, quantile_edges, shares, to_prometheus

THRESHOLD = 0.2  # the spec's default drift threshold


def test_identical_distributions_give_a_psi_of_about_zero() -> None:
    rng = random.Random(0)
    sample = [rng.gauss(0, 1) for _ in range(5000)]
    assert psi(sample, sample) == pytest.approx(0, abs=1e-12)
    assert ks(sample, sample) == 0
    other = [rng.gauss(0, 1) for _ in range(5000)]  # same distribution, another draw
    assert psi(sample, other) < 0.02


def test_psi_by_hand() -> None:
    # quartile edges of 1..100 are 25.75, 50.5, 75.25: 25% of the reference in each bin.
    # The current sample puts 10%, 20%, 30%, 40% there:
    # PSI = (.1-.25)ln(.1/.25) + (.2-.25)ln(.2/.25) + (.3-.25)ln(.3/.25) + (.4-.25)ln(.4/.25)
    #     = 0.137444 + 0.011157 + 0.009116 + 0.070500 = 0.228217
    reference = [float(v) for v in range(1, 101)]
    current = [10.0] * 10 + [40.0] * 20 + [60.0] * 30 + [90.0] * 40
    assert quantile_edges(reference, 4) == [25.75, 50.5, 75.25]
    assert shares(current, [25.75, 50.5, 75.25]) == [0.1, 0.2, 0.3, 0.4]
    assert psi(reference, current, bins=4) == pytest.approx(0.228217, abs=1e-6)
    assert psi(reference, current, bins=4) > THRESHOLD


def test_an_empty_bin_is_floored_not_infinite() -> None:
    # all current values in the first of two bins: (1-.5)ln(1/.5) + (1e-6-.5)ln(1e-6/.5) = 0.346574 + 6.561168
    value = psi([1.0, 2.0, 3.0, 4.0], [1.0, 1.0], bins=2)
    assert value == pytest.approx(0.5 * math.log(2) + (1e-6 - 0.5) * math.log(1e-6 / 0.5), rel=1e-9)
    assert value == pytest.approx(6.907742, abs=1e-6)


def test_ks_by_hand() -> None:
    # CDFs at 1..6: ref .25 .5 .75 1 1 1, cur 0 0 .25 .5 .75 1: the largest gap is 0.5 (at 2, 3 and 4)
    assert ks([1.0, 2.0, 3.0, 4.0], [3.0, 4.0, 5.0, 6.0]) == 0.5
    assert ks([1.0, 2.0], [3.0, 4.0]) == 1.0


def test_a_shifted_distribution_crosses_the_threshold() -> None:
    rng = random.Random(1)
    reference = [rng.gauss(0, 1) for _ in range(2000)]
    shifted = [rng.gauss(1, 1) for _ in range(2000)]
    assert psi(reference, shifted) > THRESHOLD
    assert ks(reference, shifted) > 0.3  # the population value is 2*Phi(0.5)-1 = 0.383


def test_report_and_exposition() -> None:
    report = drift_report({"age": [1.0, 2.0, 3.0, 4.0]}, {"age": [3.0, 4.0, 5.0, 6.0]})
    assert report["age"]["ks"] == 0.5
    text = to_prometheus(report, 'we"ird')
    assert 'model_drift_score{model="we\\"ird",feature="age",method="ks"} 0.500000' in text
    with pytest.raises(ValueError, match="one side only: income"):
        drift_report({"age": [1.0]}, {"age": [1.0], "income": [2.0]})
    with pytest.raises(ValueError, match="NaN"):
        psi([1.0, float("nan")], [1.0])


@given(
    st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=200), st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=200)
)
def test_properties(reference: list[float], current: list[float]) -> None:
    assert psi(reference, current) >= 0
    assert 0 <= ks(reference, current) <= 1
    assert ks(reference, current) == pytest.approx(ks(current, reference))


def test_generated_projects_ship_the_same_code() -> None:
    shipped = REPO / "templates" / "src" / "{{ package_name }}" / "drift_stats.py"
    library = REPO / "src" / "mlops_scaffold" / "monitoring" / "drift.py"
    assert shipped.read_bytes() == library.read_bytes()
