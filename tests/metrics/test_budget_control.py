"""s1's control / scaling / performance from a constructed budget sweep."""

from __future__ import annotations

import pytest

from tts_eval.metrics.budget_control import BudgetPoint, control, performance, scaling


def test_measures_of_a_sweep():
    points = [BudgetPoint(10, [10, 8], 0.2), BudgetPoint(20, [20, 16], 0.4),
              BudgetPoint(40, [30, 42], 0.5)]
    assert control(points) == pytest.approx(5 / 6)  # one run of 42 > 40 overran
    # slopes over mean thinking 9, 18, 36: (0.2/9 + 0.3/27 + 0.1/18) / 3
    assert scaling(points) == pytest.approx((0.2 / 9 + 0.3 / 27 + 0.1 / 18) / 3)
    assert performance(points) == 0.5
    assert scaling(points[:1]) is None
