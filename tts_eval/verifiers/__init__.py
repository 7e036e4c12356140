"""Verifiers: score a problem's partial or full solutions, step by step.

A verifier sees text and gives a score in [0, 1] per step; how it gets them (a process
reward model on an engine's Scorer, exact labels, ...) is its own business. Strategies
see only this interface.
"""

from tts_eval.verifiers.base import (
    AGGREGATES,
    ProcessRewardVerifier,
    StepFormat,
    Verifier,
    aggregate,
)
from tts_eval.verifiers.presets import PRESETS, TOY_PRM_FORMAT, make_verifier

__all__ = ["AGGREGATES", "PRESETS", "TOY_PRM_FORMAT", "ProcessRewardVerifier", "StepFormat",
           "Verifier", "aggregate", "make_verifier"]
