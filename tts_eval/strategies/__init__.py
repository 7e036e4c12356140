"""Test-time scaling strategies, by name. One file per algorithm family."""

from __future__ import annotations

from tts_eval.strategies.base import Context, Problem, Strategy
from tts_eval.strategies.best_of_n import BestOfN
from tts_eval.strategies.sampling import Greedy, Majority, PlainSampling
from tts_eval.strategies.weighted_majority import WeightedMajority

STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls for cls in (Greedy, PlainSampling, Majority, BestOfN, WeightedMajority)
}


def get_strategy(name: str, **params) -> Strategy:
    """Build a strategy by name; an unknown name is one clear error listing the valid ones."""
    try:
        cls = STRATEGIES[name]
    except KeyError:
        valid = ", ".join(sorted(STRATEGIES))
        raise ValueError(
            f"unknown strategy {name!r}; valid strategies: {valid} "
            "(set it with --model_args strategy=NAME)"
        ) from None
    return cls(**params)


def uses_verifier(name: str) -> bool:
    """Whether the strategy ``name`` reads a verifier (False for unknown names)."""
    cls = STRATEGIES.get(name)
    return bool(cls and cls.uses_verifier)


__all__ = ["STRATEGIES", "Context", "Problem", "Strategy", "get_strategy", "uses_verifier"]
