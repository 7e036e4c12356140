"""Engines: the only code that talks to vLLM (or, later, to remote servers)."""

from tts_eval.engines.base import (
    Completion,
    Engine,
    Generation,
    Prompt,
    SamplingSpec,
    ScoredSteps,
    Scorer,
    ScoringError,
)

__all__ = ["Completion", "Engine", "Generation", "Prompt", "SamplingSpec", "ScoredSteps",
           "Scorer", "ScoringError"]
