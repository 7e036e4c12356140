"""Test-time scaling strategies, by name. One file per algorithm family."""

from __future__ import annotations

import difflib

from tts_eval.strategies.adaptive import Adaptive
from tts_eval.strategies.base import Context, Problem, Strategy
from tts_eval.strategies.beam_search import BeamSearch
from tts_eval.strategies.best_of_n import BestOfN
from tts_eval.strategies.budget_forcing import BudgetForcing
from tts_eval.strategies.dvts import DVTS
from tts_eval.strategies.rebase import Rebase
from tts_eval.strategies.revisions import Revisions
from tts_eval.strategies.sampling import Greedy, Majority, PlainSampling
from tts_eval.strategies.weighted_majority import WeightedMajority

STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls for cls in (Greedy, PlainSampling, Majority, BestOfN, WeightedMajority,
                              BeamSearch, DVTS, Rebase, BudgetForcing, Revisions, Adaptive)
}


def get_strategy(name: str, **params) -> Strategy:
    """Build a strategy by name; an unknown name is one clear error listing the valid ones."""
    try:
        cls = STRATEGIES[name]
    except KeyError:
        valid = ", ".join(sorted(STRATEGIES))
        close = difflib.get_close_matches(name, sorted(STRATEGIES), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ValueError(
            f"unknown strategy {name!r}{hint}; valid strategies: {valid} "
            "(set it with --model_args strategy=NAME)"
        ) from None
    return cls(**params)


def strategy_args(name: str) -> tuple[str, ...]:
    """The arguments (beyond ``n`` and the budget) the strategy ``name`` reads."""
    cls = STRATEGIES.get(name)
    return cls.extra_args if cls else ()


def strategies_reading(arg: str) -> list[str]:
    """The strategies that read the argument ``arg``."""
    return sorted(name for name, cls in STRATEGIES.items() if arg in cls.extra_args)


def uses_verifier(name: str) -> bool:
    """Whether the strategy ``name`` reads a verifier (False for unknown names)."""
    cls = STRATEGIES.get(name)
    return bool(cls and cls.uses_verifier)


__all__ = ["STRATEGIES", "Context", "Problem", "Strategy", "get_strategy", "strategies_reading",
           "strategy_args", "uses_verifier"]
