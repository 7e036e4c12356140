"""s1's three measures of a method that controls how long a model thinks (Muennighoff et al.
2025, section 3.2), from a sweep of thinking budgets B.

- control: the share of runs whose thinking stayed within their budget (1.0 for a method
  that can never overrun, as budget forcing here);
- scaling: the average slope of accuracy over thinking tokens, over every pair of sweep
  points (how much accuracy each extra thinking token buys; s1 reports it per token);
- performance: the best accuracy of the sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations


@dataclass(frozen=True)
class BudgetPoint:
    """One budget of a sweep: its cap, each run's thinking tokens, and the accuracy."""

    budget: int
    thinking_tokens: Sequence[int]
    accuracy: float

    @property
    def mean_thinking(self) -> float:
        return sum(self.thinking_tokens) / max(1, len(self.thinking_tokens))


def control(points: Sequence[BudgetPoint]) -> float:
    """Share of all runs of the sweep whose thinking did not exceed their budget."""
    runs = [(t, p.budget) for p in points for t in p.thinking_tokens]
    return sum(t <= budget for t, budget in runs) / max(1, len(runs))


def scaling(points: Sequence[BudgetPoint]) -> float | None:
    """Average slope of accuracy over mean thinking tokens across every pair of points
    (None with fewer than two points of different lengths)."""
    slopes = [(b.accuracy - a.accuracy) / (b.mean_thinking - a.mean_thinking)
              for a, b in combinations(sorted(points, key=lambda p: p.mean_thinking), 2)
              if b.mean_thinking != a.mean_thinking]
    return sum(slopes) / len(slopes) if slopes else None


def performance(points: Sequence[BudgetPoint]) -> float:
    """The best accuracy of the sweep."""
    return max(p.accuracy for p in points)
